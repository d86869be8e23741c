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
    assert!(
        between(&html, "<div class=\"qr\">", "</div>").starts_with("<svg"),
        "{html}"
    );
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

/// Confirms with a code (a wrong one first), then the done page; returns its HTML.
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
    let recovery = format!("action=\"{}/recovery\"", l.path);
    let finish = format!("action=\"{}/finish\"", l.path);
    assert_has(
        &html,
        &[
            "You're all set",
            "Show me recovery codes",
            &recovery,
            &finish,
        ],
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
        .post(&format!("{}/finish", l.path), &[("csrf", csrf)])
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

    let res = b
        .post(&format!("{}/recovery", l.path), &[("csrf", &csrf)])
        .await;
    let html = page(res, 200).await;
    assert!(
        html.contains("Save these now: they are shown only this once"),
        "{html}"
    );
    let codes: Vec<&str> = between(&html, "<ul class=\"codes\">", "</ul>")
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(codes.len(), 10, "{html}");

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
    assert_has(
        &html,
        &[
            "id=\"phone-error\"",
            "a phone number starts with + and the country code",
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
    let shown = "Enter the code we texted you.";
    assert_has(&html, &[shown, &format!("action=\"{}/confirm\"", l.path)]);
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
async fn add_a_second_app(app: &TestApp, b: &mut Browser<'_>, l: &Link, csrf: &str, secret: &[u8]) {
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
    confirm(b, l, csrf, &code(app, &new, 0), KEY_SHOWN).await;
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
    add_a_second_app(&app, &mut b, &l, &csrf, &old.secret).await;
}

/// SEC-7: beside an app added through the page itself (labelled, as the page does, with the user
/// id), a second app through the page works just the same.
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
    add_a_second_app(&app, &mut b, &l, &csrf, &first).await;
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
