//! The hosted verify page (`/verify/{token}`): a link opens in one browser, once; a code sends the
//! browser back with state and an assertion; codes go through the API's checks and its one
//! failure counter (SEC-13, SEC-36, SEC-37).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};
use twofold::factor::totp::Params;

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, Enrollment, TestApp, assert_error, base32_decode, spawn_app};
use crate::pages_links::{
    Browser, Link, assert_refresh, back, field, link, open, page, set_cookie, wrong,
};
use crate::sms::{PHONE, enroll_phone, outbox};

const WRONG: &str = "<p id=\"code-error\" class=\"error\">That code is not right. Check it and \
                     try again.</p>";

/// Posts `code` with `csrf` to the verify form of `l`.
async fn submit(b: &mut Browser<'_>, l: &Link, csrf: &str, code: &str) -> reqwest::Response {
    b.post(&l.path, &[("csrf", csrf), ("code", code)]).await
}

/// SEC-36, SEC-37: the flow cookie, the code form, a wrong code and a retry, then back to the
/// relying party with its state and an assertion of the user; the link is then used up.
async fn sec36_verify_page_sends_the_browser_back_with_an_assertion(backend: Backend) {
    let app = spawn_app(backend).await;
    // jsonwebtoken checks `exp` against the system clock.
    app.clock.set(Utc::now());
    let device = app.active_device("alice").await;
    let state = "st 1&2=é";
    let l = link(&app, "alice", "verify", Some(state)).await;
    let mut b = Browser::new(&app);
    let res = b.get(&l.path).await;
    let cookie = set_cookie(&res);
    assert_refresh(&page(res, 200).await, &l);
    let html = page(b.get(&l.path).await, 200).await;
    let attrs: Vec<&str> = cookie.split("; ").collect();
    assert!(
        attrs[0].starts_with("twofold_flow=") && attrs[0].len() > 40,
        "{cookie}"
    );
    for attr in ["HttpOnly", "SameSite=Strict", &format!("Path={}", l.path)] {
        assert!(attrs.contains(&attr), "{attr} in {cookie}");
    }
    assert!(!attrs.contains(&"Secure"), "plain http: {cookie}");
    for part in [
        &format!("<form method=\"post\" action=\"{}\"", l.path),
        "<label for=\"code\">Code</label>",
        "<input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\"",
        "aria-describedby=\"code-help\"",
        &format!(
            "<a href=\"{}?recovery=1\">Use a recovery code instead</a>",
            l.path
        ),
        // The device was enrolled through the API without a label: named as a person knows it.
        &format!(
            "Your devices: Authenticator app, added {}</p>",
            twofold::clock::Clock::now(&*app.clock).format("%-d %b")
        ),
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(
        !html.contains("code-error") && !html.contains("/sms"),
        "{html}"
    );
    let csrf = field(&html, "csrf");

    let right = app.code(&device, 0);
    let res = submit(&mut b, &l, &csrf, wrong(&right)).await;
    let html = page(res, 422).await;
    for part in [
        WRONG,
        "aria-describedby=\"code-help code-error\" aria-invalid=\"true\"",
        &format!("<form method=\"post\" action=\"{}\"", l.path),
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert_eq!(field(&html, "csrf"), csrf);

    let res = submit(&mut b, &l, &csrf, &right).await;
    let assertion = back(&res, Some(state));
    let claims = decode_assertion(&app, &assertion, "default").await.unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "default");
    assert_eq!(claims["device_id"], device.id.as_str());

    // The flow is over: the link neither opens nor takes a code again.
    let html = page(b.get(&l.path).await, 410).await;
    assert!(html.contains("This link was already used"), "{html}");
    app.clock.advance(TimeDelta::seconds(30));
    let next = app.code(&device, 0);
    page(submit(&mut b, &l, &csrf, &next).await, 410).await;
}

/// SEC-36: the first browser to open a link claims it; another one (no flow cookie) gets 410,
/// even with the first one's CSRF token, while the first carries on.
async fn sec36_a_link_opens_in_the_first_browser_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let l = link(&app, "alice", "verify", None).await;
    let mut first = Browser::new(&app);
    let (_, csrf) = open(&mut first, &l).await;
    let right = app.code(&device, 0);

    let mut other = Browser::new(&app);
    let res = other.get(&l.path).await;
    assert!(res.headers().get(SET_COOKIE).is_none());
    let html = page(res, 410).await;
    assert!(html.contains("This link was already used"), "{html}");
    let res = submit(&mut other, &l, &csrf, &right).await;
    page(res, 410).await;

    let res = first.get(&l.path).await;
    assert!(res.headers().get(SET_COOKIE).is_none(), "the same flow");
    assert_eq!(field(&page(res, 200).await, "csrf"), csrf);
    back(&submit(&mut first, &l, &csrf, &right).await, None);
}

/// A character in the middle of `s` changed.
fn altered(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// SEC-36: an altered token, one for another user with the old MAC, one of another service, one
/// for the other page: 404, and the genuine links stay unused. After ten minutes: 410, and a
/// flow does not outlive its link.
async fn sec36_altered_foreign_and_expired_links_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = spawn_app(backend).await;
    let v = link(&app, "alice", "verify", None).await;
    let e = link(&app, "alice", "enroll", None).await;
    let foreign = link(&other, "alice", "verify", None).await;
    let (claims, mac) = v.token.split_once('.').unwrap();
    let mut forged: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(forged["user"], "alice", "{forged}");
    forged["user"] = "bob".into();
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
    let refused = [
        format!("/verify/{}.{mac}", altered(claims)),
        format!("/verify/{claims}.{}", altered(mac)),
        format!("/verify/{forged}.{mac}"),
        format!("/verify/{claims}"),
        format!("/verify/{claims}.{mac}.x"),
        format!("/enroll/{}", v.token),
        format!("/verify/{}", e.token),
        foreign.path.clone(),
    ];
    let mut b = Browser::new(&app);
    for path in &refused {
        let html = page(b.get(path).await, 404).await;
        assert!(html.contains("This link is not valid"), "{path}: {html}");
    }
    let res = b
        .post(&format!("/enroll/{}/app", v.token), &[("csrf", "")])
        .await;
    page(res, 404).await;
    open(&mut b, &v).await;
    open(&mut b, &e).await;

    let late = link(&app, "alice", "verify", None).await;
    let edge = link(&app, "alice", "verify", None).await;
    app.clock.advance(TimeDelta::seconds(599));
    let mut early = Browser::new(&app);
    open(&mut early, &edge).await;
    app.clock.advance(TimeDelta::seconds(61));
    for res in [
        Browser::new(&app).get(&late.path).await,
        early.get(&edge.path).await,
    ] {
        let html = page(res, 410).await;
        assert!(html.contains("This link has expired"), "{html}");
    }
}

/// SEC-37: a post without this flow's CSRF token is refused before its code is looked at: such
/// posts do not count as failures, and the right code is not accepted through one.
async fn sec37_posts_without_the_csrf_token_are_refused_unchecked(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let l = link(&app, "alice", "verify", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let right = app.code(&device, 0);
    let (short, long) = (&csrf[..csrf.len() - 1], format!("{csrf}A"));
    let bad = ["", "x", short, &long];
    for i in 0..12 {
        let mut form = vec![("code", wrong(&right))];
        if i % 5 != 4 {
            form.push(("csrf", bad[i % 5]));
        }
        let html = page(b.post(&l.path, &form).await, 403).await;
        assert!(html.contains("This form is stale"), "{html}");
    }
    page(
        b.post(&l.path, &[("csrf", "x"), ("code", &right)]).await,
        403,
    )
    .await;
    let sms = format!("{}/sms", l.path);
    page(b.post(&sms, &[("csrf", "x")]).await, 403).await;
    // One failure so far, not thirteen.
    assert_error(
        app.verify("alice", json!(wrong(&right))).await,
        422,
        "invalid_code",
    )
    .await;
    back(&submit(&mut b, &l, &csrf, &right).await, None);
}

/// SEC-13: the page goes through the API's limiter: ten wrong codes there lock the user, on the
/// page and in the API alike. The last three tries say how many are left; the tenth says when the
/// lock ends (in UTC, and in minutes) and turns the form off; so does opening the page while
/// locked.
async fn sec13_page_and_api_share_the_failure_counter(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let l = link(&app, "alice", "verify", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let right = app.code(&device, 0);
    for n in 1..=9 {
        let html = page(submit(&mut b, &l, &csrf, wrong(&right)).await, 422).await;
        let expected = match 10 - n {
            left @ 2..=3 => format!("{left} more wrong codes lock sign-in for a while."),
            1 => "One more wrong code locks sign-in for a while.".to_string(),
            _ => WRONG.to_string(),
        };
        assert!(html.contains(&expected), "try {n}: {expected} in {html}");
    }
    let until =
        crate::helpers::minute_up(twofold::clock::Clock::now(&*app.clock) + TimeDelta::minutes(15));
    let locked = format!("Too many attempts. Try again at {until} (UTC), in 15 minutes.");
    let html = page(submit(&mut b, &l, &csrf, wrong(&right)).await, 429).await;
    assert!(html.contains(&locked), "{html}");
    assert!(html.contains("<title>Error: Sign in to"), "{html}");
    assert!(html.contains("<button type=\"submit\" disabled>"), "{html}");
    let html = page(submit(&mut b, &l, &csrf, &right).await, 429).await;
    assert!(html.contains(&locked), "{html}");
    let html = page(b.get(&l.path).await, 429).await;
    assert!(
        html.contains(&locked) && html.contains(" disabled"),
        "{html}"
    );
    assert_error(app.verify("alice", json!(right)).await, 429, "user_locked").await;

    app.clock.advance(TimeDelta::minutes(15));
    let l = link(&app, "alice", "verify", None).await;
    let (_, csrf) = open(&mut b, &l).await;
    let res = submit(&mut b, &l, &csrf, &app.code(&device, 0)).await;
    back(&res, None);
}

/// SEC-35: a recovery code in the same field (the recovery variant of the form), single use.
async fn recovery_code_on_the_verify_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    app.active_device("alice").await;
    let codes = crate::recovery::new_set_with(&app, "alice", &app.admin_key).await;
    let l = link(&app, "alice", "verify", Some("r")).await;
    let mut b = Browser::new(&app);
    open(&mut b, &l).await;
    let html = page(b.get(&format!("{}?recovery=1", l.path)).await, 200).await;
    let back_to_codes = format!(
        "<a href=\"{}\">Use a code from your app or phone instead</a>",
        l.path
    );
    for part in ["<label for=\"code\">Recovery code</label>", &back_to_codes] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(!html.contains("inputmode=\"numeric\""), "{html}");
    let csrf = field(&html, "csrf");
    let res = submit(&mut b, &l, &csrf, "aaaa-bbbb-cccc").await;
    let html = page(res, 422).await;
    assert!(
        html.contains(WRONG) && html.contains("Recovery code</label>"),
        "{html}"
    );

    let res = submit(&mut b, &l, &csrf, &codes[3]).await;
    let assertion = back(&res, Some("r"));
    let claims = decode_assertion(&app, &assertion, "default").await.unwrap();
    assert_eq!(
        (&claims["sub"], &claims["amr"]),
        (&json!("alice"), &json!(["recovery"]))
    );
    assert_error(
        app.verify("alice", json!(codes[3])).await,
        422,
        "invalid_code",
    )
    .await;
}

/// An active phone of `user`, its enrollment cooldown over; its id.
pub(crate) async fn active_phone(app: &TestApp, user: &str) -> String {
    let res = enroll_phone(app, user, PHONE).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["device"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = outbox(app).last().unwrap().code.clone();
    let path = format!("/v1/users/{user}/devices/{id}/confirm");
    let res = app
        .post(&path, Some(&app.client_key), &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
    // Stands in for waiting out the 30 s resend cooldown (a real-time store TTL).
    let cooldown = format!("smscool:{{default/{user}/{id}}}");
    assert!(
        app.state.store.delete(&cooldown).await.unwrap(),
        "{cooldown}"
    );
    id
}

/// A TOTP device labelled `label`, added by the admin key (no step-up) and confirmed.
async fn admin_app(app: &TestApp, user: &str, label: &str) -> Enrollment {
    let path = format!("/v1/users/{user}/devices/totp");
    let res = app
        .post(&path, Some(&app.admin_key), &json!({ "label": label }))
        .await;
    assert_eq!(res.status(), 201);
    let json: Value = res.json().await.unwrap();
    let device = Enrollment {
        id: json["device"]["id"].as_str().unwrap().to_string(),
        secret: base32_decode(json["secret"].as_str().unwrap()),
        params: Params::default(),
        json,
    };
    assert_eq!(
        app.confirm(user, &device, &app.code(&device, 0))
            .await
            .status(),
        200
    );
    app.clock.advance(TimeDelta::seconds(30));
    device
}

/// SEC-27: "Text me a code" for a user with an active phone (the app listed first): the page
/// names the phone's last digits, the texted code verifies, and resends wait for the cooldown.
async fn text_me_a_code_on_the_verify_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let phone = active_phone(&app, "sam").await;
    admin_app(&app, "sam", "app").await;
    let l = link(&app, "sam", "verify", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    let sms = format!("{}/sms", l.path);
    for part in [
        "Your devices: app, +33…78</p>",
        &format!("action=\"{sms}\""),
        "Text me a code",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert_eq!(field(&html, "device"), phone);
    let sent = outbox(&app).len();
    let html = page(
        b.post(&sms, &[("csrf", &csrf), ("device", &phone)]).await,
        200,
    )
    .await;
    let notice = "We sent a code to your phone ending in 78. You can ask for another code in 60 \
                  seconds.";
    assert!(html.contains(notice), "{html}");
    let texted = outbox(&app);
    assert_eq!(texted.len(), sent + 1);
    let code = texted.last().unwrap().code.clone();
    assert!(!html.contains(&code));

    let html = page(
        b.post(&sms, &[("csrf", &csrf), ("device", &phone)]).await,
        429,
    )
    .await;
    let wait = html
        .split("You can ask for another code in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next()?.parse::<u64>().ok());
    assert!(wait.is_some_and(|w| (1..=60).contains(&w)), "{html}");
    // Asking too soon is no lock: the form and the other ways in stay.
    assert!(
        !html.contains(" disabled") && !html.contains("support") && html.contains("/sms\""),
        "{html}"
    );
    assert_eq!(
        outbox(&app).len(),
        sent + 1,
        "nothing sent during the cooldown"
    );

    back(&submit(&mut b, &l, &csrf, &code).await, None);
}

crate::both_backends!(
    sec36_verify_page_sends_the_browser_back_with_an_assertion,
    sec36_a_link_opens_in_the_first_browser_only,
    sec36_altered_foreign_and_expired_links_are_refused,
    sec37_posts_without_the_csrf_token_are_refused_unchecked,
    sec13_page_and_api_share_the_failure_counter,
    recovery_code_on_the_verify_page,
    text_me_a_code_on_the_verify_page,
);
