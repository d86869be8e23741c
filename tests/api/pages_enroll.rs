//! The hosted enroll page (`/enroll/{token}`): an authenticator app (QR, key in groups, otpauth
//! link) or a phone, its first code, recovery codes on offer, back to the relying party; and a
//! code of the existing device first when the user has one (SEC-7, SEC-36, SEC-37).

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use twofold::clock::Clock;
use twofold::factor::totp::{self, Params};

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, TestApp, base32_decode, spawn_app};
use crate::pages_links::{Browser, Link, back, field, link, location, open, page, wrong};
use crate::sms::{PHONE, outbox};

pub(crate) const WRONG: &str = "That code is not right. Check it and try again.";
pub(crate) const KEY_SHOWN: &str = "<code class=\"secret\" id=\"secret\">";
pub(crate) const STEP_UP: &str =
    "You already have a device. Enter a code from it before adding another one.";

/// The code of a default (SHA1/6/30) secret at the app's clock, `offset` steps away.
pub(crate) fn code(app: &TestApp, secret: &[u8], offset: i64) -> String {
    let step = totp::step_at(app.clock.now().timestamp(), 30) as i64 + offset;
    totp::code_at_step(secret, Params::default(), step as u64)
}

/// The user's devices, as the API lists them to the client key.
pub(crate) async fn devices(app: &TestApp, user: &str) -> Vec<Value> {
    let path = format!("/v1/users/{user}/devices");
    let res = app.get(&path, Some(&app.client_key)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["devices"].as_array().unwrap().clone()
}

/// The text between `start` and the next `end` in `html`.
fn between<'h>(html: &'h str, start: &str, end: &str) -> &'h str {
    let at = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        + start.len();
    &html[at..at + html[at..].find(end).unwrap()]
}

pub(crate) fn assert_has(html: &str, parts: &[&str]) {
    for part in parts {
        assert!(html.contains(part), "{part} in {html}");
    }
}

/// Posts the form at `path` below the link: a 303 back to the link's page, which is then shown.
pub(crate) async fn step(
    b: &mut Browser<'_>,
    l: &Link,
    path: &str,
    form: &[(&str, &str)],
) -> String {
    let res = b.post(&format!("{}{path}", l.path), form).await;
    if res.status() != 303 {
        let status = res.status();
        panic!("POST {path}: {status} {}", res.text().await.unwrap());
    }
    assert_eq!(location(&res), l.path);
    page(b.get(&l.path).await, 200).await
}

/// The choice page: both forms, nothing else.
pub(crate) fn assert_choice(html: &str, l: &Link) {
    let (app, phone) = (
        format!("action=\"{}/app\"", l.path),
        format!("action=\"{}/phone\"", l.path),
    );
    assert_has(html, &["How do you want to get your codes?", &app, &phone]);
    assert!(
        !html.contains(STEP_UP) && !html.contains("/step-up"),
        "{html}"
    );
}

/// "Authenticator app" from the choice: the page with the QR, the key in groups of four, the
/// otpauth link and the confirm form. Returns the secret.
pub(crate) async fn choose_app(b: &mut Browser<'_>, l: &Link, csrf: &str) -> Vec<u8> {
    let html = step(b, l, "/app", &[("csrf", csrf)]).await;
    // A named image, and no autofocus: a screen reader starts at the steps, not in the field.
    let qr = "<div class=\"qr\" role=\"img\" aria-label=\"QR code to scan with your \
              authenticator app\">";
    assert!(between(&html, qr, "</div>").starts_with("<svg"), "{html}");
    assert!(!html.contains("autofocus"), "{html}");
    assert!(html.contains("viewBox"), "{html}");
    let groups = between(&html, KEY_SHOWN, "</code>");
    let groups: Vec<&str> = groups.split(' ').collect();
    assert_eq!(groups.len(), 8, "160 bits in groups of 4: {groups:?}");
    assert!(groups.iter().all(|g| g.len() == 4), "{groups:?}");
    let key = groups.concat();
    let uri = format!("otpauth://{}", between(&html, "href=\"otpauth://", "\""));
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={key}")), "{uri} has {key}");
    assert!(
        html.contains(&format!("action=\"{}/confirm\"", l.path)),
        "{html}"
    );
    assert_eq!(field(&html, "csrf"), csrf);
    base32_decode(&key)
}

/// [`confirm`] for a user who has recovery codes already: none are made, a new set is offered.
pub(crate) async fn confirm_offered(
    b: &mut Browser<'_>,
    l: &Link,
    csrf: &str,
    right: &str,
) -> String {
    let html = step(b, l, "/confirm", &[("csrf", csrf), ("code", right)]).await;
    let offer = format!("action=\"{}/recovery\"", l.path);
    assert_has(
        &html,
        &["You're all set", "Make new recovery codes", &offer],
    );
    assert!(!html.contains("<li><code>"), "{html}");
    html
}

/// Confirms with a code (a wrong one first), then the done page of a user without recovery
/// codes, which shows a first set; returns its HTML.
pub(crate) async fn confirm(
    b: &mut Browser<'_>,
    l: &Link,
    csrf: &str,
    right: &str,
    shown: &str,
) -> String {
    let confirm = format!("{}/confirm", l.path);
    let res = b
        .post(&confirm, &[("csrf", csrf), ("code", wrong(right))])
        .await;
    let html = page(res, 422).await;
    assert_has(&html, &[WRONG, shown, "aria-invalid=\"true\""]);
    let html = step(b, l, "/confirm", &[("csrf", csrf), ("code", right)]).await;
    let finish = format!("action=\"{}/finish\"", l.path);
    // A first device: recovery codes shown at once, large, with a download, and a box to tick.
    assert_has(
        &html,
        &[
            "You're all set",
            "Save your recovery codes",
            "download=\"recovery-codes.txt\"",
            "href=\"data:text/plain;charset=utf-8,",
            "<input type=\"checkbox\" id=\"saved\" name=\"saved\" value=\"yes\">",
            &finish,
        ],
    );
    assert_eq!(html.matches("<li><code>").count(), 10, "{html}");
    assert!(
        !html.contains("/recovery\""),
        "no offer beside a set on show: {html}"
    );
    html
}

/// Continue: back to the relying party, and the link is used up. Returns the assertion's claims.
pub(crate) async fn finish(
    app: &TestApp,
    b: &mut Browser<'_>,
    l: &Link,
    csrf: &str,
    state: Option<&str>,
) -> Value {
    let res = b
        .post(
            &format!("{}/finish", l.path),
            &[("csrf", csrf), ("saved", "yes")],
        )
        .await;
    let assertion = back(&res, state);
    let html = page(b.get(&l.path).await, 410).await;
    assert!(html.contains("This link was already used"), "{html}");
    decode_assertion(app, &assertion, "default").await.unwrap()
}

/// SEC-36, SEC-37: a new user adds an authenticator app through the page, sees recovery codes
/// once, and goes back with an assertion of the new device.
async fn sec36_enroll_page_adds_an_authenticator_app(backend: Backend) {
    let app = spawn_app(backend).await;
    // jsonwebtoken checks `exp` against the system clock.
    app.clock.set(Utc::now());
    let l = link(&app, "bob", "enroll", Some("e1")).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert_choice(&html, &l);
    let res = b.post(&format!("{}/app", l.path), &[("csrf", "x")]).await;
    page(res, 403).await;
    assert!(
        devices(&app, "bob").await.is_empty(),
        "nothing without the CSRF token"
    );

    let secret = choose_app(&mut b, &l, &csrf).await;
    let listed = devices(&app, "bob").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0]["kind"], &listed[0]["status"]),
        (&json!("totp"), &json!("pending"))
    );
    let id = listed[0]["id"].clone();
    let html = confirm(&mut b, &l, &csrf, &code(&app, &secret, 0), KEY_SHOWN).await;
    assert!(
        !html.contains(KEY_SHOWN) && !html.contains("otpauth"),
        "{html}"
    );
    assert!(
        html.contains(
            "Once you continue they are not shown again, and they replace any codes you had."
        ),
        "{html}"
    );
    let codes: Vec<&str> = between(&html, "<ul class=\"codes\">", "</ul>")
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(codes.len(), 10, "{html}");
    // The download holds the same codes, one a line, under a heading naming the site.
    let file = between(&html, "href=\"data:text/plain;charset=utf-8,", "\"");
    let file: String = url::form_urlencoded::parse(file.replace("%20", "+").as_bytes())
        .map(|(k, v)| format!("{k}{v}"))
        .collect();
    assert!(file.starts_with("Recovery codes for rp.example."), "{file}");
    assert!(
        codes.iter().all(|c| file.contains(&format!("{c}\r\n"))),
        "{file}"
    );
    // Continue without ticking the box: the same codes again, and why.
    let res = b
        .post(&format!("{}/finish", l.path), &[("csrf", &csrf)])
        .await;
    let again = page(res, 422).await;
    assert_has(
        &again,
        &[
            "Tick the box to say you have saved the codes",
            "<a href=\"#saved\">",
            "aria-invalid=\"true\" aria-describedby=\"saved-error\"",
        ],
    );
    assert!(codes.iter().all(|c| again.contains(c)), "{again}");

    let claims = finish(&app, &mut b, &l, &csrf, Some("e1")).await;
    assert_eq!((&claims["sub"], &claims["device_id"]), (&json!("bob"), &id));
    let listed = devices(&app, "bob").await;
    assert_eq!((listed.len(), &listed[0]["status"]), (1, &json!("active")));
    assert_eq!(app.verify("bob", json!(codes[4])).await.status(), 200);
}

/// A phone through the page: a malformed number is asked again, the texted code confirms it.
async fn enroll_page_adds_a_phone(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let l = link(&app, "pat", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let phone = format!("{}/phone", l.path);
    let res = b.post(&phone, &[("csrf", &csrf), ("phone", "0612")]).await;
    let html = page(res, 400).await;
    // In words a person understands, by the field and in the summary, the number kept.
    assert_has(
        &html,
        &[
            "<p id=\"phone-error\" class=\"error\">Enter your mobile number with its country \
             code, like +44 7400 123456.</p>",
            "<a href=\"#phone\">Enter your mobile number",
            "value=\"0612\"",
            "aria-describedby=\"phone-help phone-error\" aria-invalid=\"true\"",
            "<title>Error: ",
        ],
    );
    assert_choice(&html, &l);
    assert!(outbox(&app).is_empty());

    let html = step(
        &mut b,
        &l,
        "/phone",
        &[("csrf", &csrf), ("phone", "+33 6 12 34 56 78")],
    )
    .await;
    let shown = "Enter the code we texted to +33…78.";
    let (resend, another) = (
        format!("action=\"{}/sms\"", l.path),
        format!("action=\"{}/another\"", l.path),
    );
    assert_has(
        &html,
        &[
            shown,
            &format!("action=\"{}/confirm\"", l.path),
            &resend,
            "Send a new code",
            &another,
            "Use another number",
        ],
    );
    let texted = outbox(&app);
    assert_eq!(texted.len(), 1);
    assert_eq!(texted[0].to, PHONE);
    confirm(&mut b, &l, &csrf, &texted[0].code, shown).await;
    let claims = finish(&app, &mut b, &l, &csrf, None).await;
    let listed = devices(&app, "pat").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["kind"], "sms");
    assert_eq!(listed[0]["status"], "active");
    assert_eq!(listed[0]["phone_last_digits"], "78");
    assert_eq!(
        (&claims["sub"], &claims["device_id"]),
        (&json!("pat"), &listed[0]["id"])
    );
}

/// From the step-up form of `l` (whose flow `b` holds): a wrong code of the existing device
/// (`secret`) is asked again, the right one leads to the choice, and an app is added beside it.
async fn add_a_second_app(
    app: &TestApp,
    b: &mut Browser<'_>,
    l: &Link,
    csrf: &str,
    secret: &[u8],
    has_codes: bool,
) {
    let right = code(app, secret, 0);
    let step_up = format!("{}/step-up", l.path);
    let res = b
        .post(&step_up, &[("csrf", csrf), ("code", wrong(&right))])
        .await;
    let html = page(res, 422).await;
    assert_has(&html, &[STEP_UP, WRONG]);
    let html = step(b, l, "/step-up", &[("csrf", csrf), ("code", &right)]).await;
    assert_choice(&html, l);

    let new = choose_app(b, l, csrf).await;
    if has_codes {
        confirm_offered(b, l, csrf, &code(app, &new, 0)).await;
    } else {
        confirm(b, l, csrf, &code(app, &new, 0), KEY_SHOWN).await;
    }
    let claims = finish(app, b, l, csrf, None).await;
    let user = claims["sub"].as_str().unwrap();
    let listed = devices(app, user).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|d| d["status"] == "active"), "{listed:?}");
    assert!(
        listed.iter().any(|d| d["id"] == claims["device_id"]),
        "{listed:?}"
    );
}

/// SEC-7: a user with an active device (added through the API) is asked for its code first; the
/// choice's forms are refused without it (nothing enrolled, nothing texted); then a second
/// device can be added.
async fn sec7_enroll_page_asks_for_a_code_of_the_existing_device(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let old = app.enroll("ivy", json!({ "label": "old app" })).await;
    assert_eq!(
        app.confirm("ivy", &old, &app.code(&old, 0)).await.status(),
        200
    );
    app.clock.advance(TimeDelta::seconds(30));

    let l = link(&app, "ivy", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert_has(
        &html,
        &[
            STEP_UP,
            &format!("action=\"{}/step-up\"", l.path),
            "name=\"code\"",
        ],
    );
    assert!(
        !html.contains("/app\"") && !html.contains("/phone\""),
        "{html}"
    );
    let refused = [("/app", None), ("/phone", Some(PHONE))];
    for (path, phone) in refused {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(phone.map(|p| ("phone", p)));
        let res = b.post(&format!("{}{path}", l.path), &form).await;
        // Refused, and back to the step-up form with a word of why.
        let html = page(res, 403).await;
        assert!(
            html.contains("First a code from your existing device"),
            "{path}: {html}"
        );
        assert!(
            html.contains(&format!("action=\"{}/step-up\"", l.path)),
            "{path}: {html}"
        );
    }
    assert!(outbox(&app).is_empty());
    assert_eq!(devices(&app, "ivy").await.len(), 1);
    add_a_second_app(&app, &mut b, &l, &csrf, &old.secret, false).await;
}

/// SEC-7: beside an app added through the page itself, a second app through the page works just
/// the same. The page names them as a person recognises them, the date in the page's language:
/// "Authenticator app, added 6 Dec", then "… (2)" (labels are unique per user).
async fn sec7_a_second_app_through_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let l = link(&app, "joe", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let first = choose_app(&mut b, &l, &csrf).await;
    confirm(&mut b, &l, &csrf, &code(&app, &first, 0), KEY_SHOWN).await;
    finish(&app, &mut b, &l, &csrf, None).await;
    app.clock.advance(TimeDelta::seconds(30));

    let l = link(&app, "joe", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert!(html.contains(STEP_UP), "{html}");
    add_a_second_app(&app, &mut b, &l, &csrf, &first, true).await;
    let now = twofold::clock::Clock::now(&*app.clock);
    let label = format!("Authenticator app, added {}", now.format("%-d %b"));
    let mut labels: Vec<String> = devices(&app, "joe")
        .await
        .iter()
        .map(|d| d["label"].as_str().unwrap().to_string())
        .collect();
    labels.sort();
    assert_eq!(labels, [label.clone(), format!("{label} (2)")]);
}

/// Issue 16: an enroll link may name the account the app shows; the page's Key URI carries it
/// (the user id otherwise). Only enroll links take one, and it is checked like the API's.
async fn an_enroll_link_names_the_account_the_app_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({"purpose": "enroll", "return_url": crate::pages_links::RETURN_URL,
                      "account_name": "bob@example.com"});
    let res = crate::pages_links::request_link(&app, "bob", Some(&app.client_key), &body).await;
    assert_eq!(res.status(), 201);
    let url = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = url::Url::parse(&url).unwrap().path().to_string();
    let token = path.strip_prefix("/enroll/").unwrap().to_string();
    let l = Link { url, path, token };
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let html = step(&mut b, &l, "/app", &[("csrf", &csrf)]).await;
    let uri = format!("otpauth://{}", between(&html, "href=\"otpauth://", "\""));
    assert!(
        uri.starts_with("otpauth://totp/twofold:bob%40example.com?"),
        "{uri}"
    );

    for (purpose, account) in [("verify", "bob@example.com"), ("enroll", "a\u{202E}b")] {
        let body = json!({"purpose": purpose, "return_url": crate::pages_links::RETURN_URL,
                          "account_name": account});
        let res = crate::pages_links::request_link(&app, "bob", Some(&app.client_key), &body).await;
        crate::helpers::assert_error(res, 400, "invalid_request").await;
    }
}

crate::both_backends!(
    an_enroll_link_names_the_account_the_app_shows,
    sec36_enroll_page_adds_an_authenticator_app,
    enroll_page_adds_a_phone,
    sec7_enroll_page_asks_for_a_code_of_the_existing_device,
    sec7_a_second_app_through_the_page,
);
