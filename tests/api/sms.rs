//! SMS codes with the development `log` gateway: phone enrollment, login codes, single use,
//! binding, tries, resend and cooldown, revocation, TOTP first (SEC-21, SEC-23..28, SEC-30, SEC-31).
//! Limits, the breaker and the HTTP gateways are in `sms_limits`.
//!
//! Pending codes, cooldowns and limits live in store keys with real TTLs: the ManualClock does not
//! move them. Where a test needs a second send to one device, [`skip_cooldown`] deletes the
//! cooldown key, standing in for the 30 s wait (and failing loudly if the key is renamed).

use chrono::TimeDelta;
use serde_json::{Value, json};
use twofold::sms::Message;

use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with};

pub const PHONE: &str = "+33612345678";
/// Same prefix as [`PHONE`] ("+3361234").
pub const PHONE_2: &str = "+33612345679";

pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// What the `log` gateway sent, oldest first.
pub fn outbox(app: &TestApp) -> Vec<Message> {
    app.state.sms_outbox.as_ref().expect("log gateway").outbox()
}

pub async fn enroll_phone(app: &TestApp, user: &str, phone: &str) -> reqwest::Response {
    let path = format!("/v1/users/{user}/devices/sms");
    app.post(&path, Some(&app.client_key), &json!({ "phone": phone }))
        .await
}

pub async fn send_code(app: &TestApp, user: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/users/{user}/sms");
    app.post(&path, Some(&app.client_key), &body).await
}

/// The last code the outbox holds for `phone`.
fn last_code(app: &TestApp, phone: &str) -> String {
    let sent = outbox(app);
    let msg = sent
        .iter()
        .rev()
        .find(|m| m.to == phone)
        .expect("a message");
    msg.code.clone()
}

/// Enrolls `phone` (201) and returns the device id and the code texted to it.
async fn pending_phone(app: &TestApp, user: &str, phone: &str) -> (String, String) {
    let res = enroll_phone(app, user, phone).await;
    assert_eq!(res.status(), 201, "enroll sms");
    let body: Value = res.json().await.unwrap();
    let id = body["device"]["id"].as_str().unwrap().to_string();
    (id, last_code(app, phone))
}

/// An active phone device, whose enrollment cooldown is already over.
pub(crate) async fn active_phone(app: &TestApp, user: &str, phone: &str) -> String {
    let (id, code) = pending_phone(app, user, phone).await;
    assert_eq!(
        confirm(app, user, &id, &code).await.status(),
        200,
        "confirm"
    );
    skip_cooldown(app, user, &id).await;
    id
}

async fn confirm(app: &TestApp, user: &str, id: &str, code: &str) -> reqwest::Response {
    let path = format!("/v1/users/{user}/devices/{id}/confirm");
    app.post(&path, Some(&app.client_key), &json!({ "code": code }))
        .await
}

/// Stands in for waiting out the resend cooldown (a real-time store TTL) of a device.
pub(crate) async fn skip_cooldown(app: &TestApp, user: &str, id: &str) {
    let key = format!("smscool:{{default/{user}/{id}}}");
    assert!(
        app.state.store.delete(&key).await.unwrap(),
        "no cooldown key {key}"
    );
}

/// A login code (202); returns the answer and the code that reached the outbox.
async fn login_code(app: &TestApp, user: &str, phone: &str) -> (Value, String) {
    let res = send_code(app, user, json!({})).await;
    assert_eq!(res.status(), 202, "send code");
    let text = res.text().await.unwrap();
    let code = last_code(app, phone);
    assert!(!text.contains(&code), "code in the answer: {text}");
    (serde_json::from_str(&text).unwrap(), code)
}

/// SEC-23, SEC-26, SEC-27, SEC-28, SEC-6: a phone is enrolled pending, shown by its last digits
/// only, confirmed by the texted code (WebOTP line included), which cannot be used again.
async fn enroll_confirm_and_no_reuse(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = enroll_phone(&app, "alice", PHONE).await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.unwrap();
    let sent = outbox(&app);
    assert_eq!(sent.len(), 1);
    let (to, body, code) = (&sent[0].to, &sent[0].body, &sent[0].code);
    assert_eq!(to, PHONE);
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    assert!(body.contains(code.as_str()), "{body}");
    assert!(
        body.contains(&format!("@127.0.0.1 #{code}")),
        "WebOTP: {body}"
    );
    for secret in [code.as_str(), "612345678", "12345678"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let enrolled: Value = serde_json::from_str(&text).unwrap();
    let device = &enrolled["device"];
    assert_eq!(device["kind"], "sms");
    assert_eq!(device["status"], "pending");
    assert_eq!(device["phone_last_digits"], "78");
    assert!(enrolled["notice"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(enrolled["expires_in"], 300);

    // SEC-28: an unconfirmed number cannot log in.
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
    let id = device["id"].as_str().unwrap();
    let res = confirm(&app, "alice", id, code).await;
    assert_eq!(res.status(), 200);
    let confirmed: Value = res.json().await.unwrap();
    assert_eq!(confirmed["device"]["status"], "active");
    let claims = assertion_claims(confirmed["assertion"].as_str().unwrap());
    assert_eq!(claims["device_id"], id);
    assert!(claims["amr"].to_string().contains("sms"), "{claims}");
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
}

/// The payload of a JWT, unverified (the assertion tests check signatures).
fn assertion_claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// SEC-30, SEC-12: malformed numbers are 400 `invalid_request`, premium-rate and disallowed
/// countries 400 `phone_not_allowed`; none reaches the gateway or leaves a device.
async fn refused_numbers_send_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_countries = "FR".into()).await;
    let path = "/v1/users/alice/devices/sms";
    for phone in [
        json!("0612345678"),
        json!("+33 6 12 34 56 7a"),
        json!("+3361234567890123"),
        json!(33612345678u64),
    ] {
        let res = app
            .post(path, Some(&app.client_key), &json!({ "phone": phone }))
            .await;
        assert_error(res, 400, "invalid_request").await;
    }
    for phone in ["+33891123456", "+447400123456"] {
        let res = enroll_phone(&app, "alice", phone).await;
        assert_error(res, 400, "phone_not_allowed").await;
    }
    assert!(outbox(&app).is_empty());
    let list: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["devices"], json!([]));
}

/// SEC-23, SEC-26, SEC-27: a login code is 202 with its lifetimes and the notice, verifies once
/// as `method: "sms"`, and is then refused like any wrong code.
async fn login_code_verifies_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_phone(&app, "alice", PHONE).await;
    let (sent, code) = login_code(&app, "alice", PHONE).await;
    assert_eq!(sent["device_id"], id.as_str());
    assert_eq!(sent["expires_in"], 300);
    assert!(sent["resend_after"].as_u64().unwrap() >= 30, "{sent}");
    assert!(sent["notice"].as_str().is_some_and(|n| !n.is_empty()));
    let key = format!("smscode:{{default/alice/{id}}}");
    let ttl = app.state.store.ttl(&key).await.unwrap().expect("code kept");
    assert!(ttl.as_secs() > 290 && ttl.as_secs() <= 300, "{ttl:?}");

    let res = app.verify("alice", json!(code)).await;
    assert_eq!(res.status(), 200);
    let ok: Value = res.json().await.unwrap();
    assert_eq!(
        (&ok["method"], &ok["device_id"]),
        (&json!("sms"), &json!(id))
    );
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
}

/// SEC-24: a code is bound to its user; another user's try does not spend it.
async fn code_is_bound_to_its_user(backend: Backend) {
    let app = spawn_app(backend).await;
    active_phone(&app, "alice", PHONE).await;
    active_phone(&app, "bob", "+447400123456").await;
    let (_, code) = login_code(&app, "alice", PHONE).await;
    assert_error(app.verify("bob", json!(code)).await, 422, "invalid_code").await;
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
}

/// SEC-24, SEC-31: a resend within the cooldown is 429 with a Retry-After; after it, the new
/// code replaces the old one, and the next cooldown is longer.
async fn resend_replaces_and_cooldown_grows(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, first) = pending_phone(&app, "alice", PHONE).await;
    let again = json!({ "device_id": id });
    app.clock.advance(chrono::TimeDelta::seconds(4));
    let res = send_code(&app, "alice", again.clone()).await;
    let wait = retry_after(&res);
    assert!((1..=30).contains(&wait), "Retry-After {wait}");
    // A wait before the next code, said as such: not a limit, not a lockout (issue 16).
    let body = assert_error(res, 429, "sms_resend_too_soon").await;
    assert_eq!(
        body["message"],
        format!("a code was sent 4 s ago; the next can be sent in {wait} s")
    );
    assert_eq!(outbox(&app).len(), 1);

    skip_cooldown(&app, "alice", &id).await;
    let res = send_code(&app, "alice", again.clone()).await;
    assert_eq!(res.status(), 202);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["resend_after"], 60, "the cooldown doubles");
    let second = last_code(&app, PHONE);
    let res = send_code(&app, "alice", again).await;
    assert!(retry_after(&res) > 30, "growing Retry-After");
    assert_error(res, 429, "sms_resend_too_soon").await;

    if first != second {
        assert_error(
            confirm(&app, "alice", &id, &first).await,
            422,
            "invalid_code",
        )
        .await;
    }
    assert_eq!(confirm(&app, "alice", &id, &second).await.status(), 200);
}

/// SEC-25: five wrong tries burn the code, though the user's limiter (10) still has room.
async fn five_wrong_tries_burn_the_code(backend: Backend) {
    let app = spawn_app(backend).await;
    active_phone(&app, "alice", PHONE).await;
    let (_, code) = login_code(&app, "alice", PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_error(app.verify("alice", json!(wrong)).await, 422, "invalid_code").await;
    }
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
}

/// SEC-21: revoking a phone kills its pending code at once.
async fn revoke_kills_the_pending_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_phone(&app, "alice", PHONE).await;
    let (_, code) = login_code(&app, "alice", PHONE).await;
    // The admin's key: a client's would need alice's step-up, which would use up her code.
    let res = app
        .delete(
            &format!("/v1/users/alice/devices/{id}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
}

/// SEC-28, SEC-5: a phone not confirmed within 10 minutes cannot be, even with its code.
async fn pending_phone_expires(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, code) = pending_phone(&app, "alice", PHONE).await;
    app.clock.advance(TimeDelta::minutes(11));
    assert_error(
        confirm(&app, "alice", &id, &code).await,
        422,
        "invalid_code",
    )
    .await;
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
}

/// SEC-23: a texted code is valid for 5 minutes of the server clock (the injected one here).
async fn login_code_expires_after_five_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_phone(&app, "alice", PHONE).await;
    let (_, code) = login_code(&app, "alice", PHONE).await;
    app.clock.advance(TimeDelta::seconds(299));
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);

    skip_cooldown(&app, "alice", &id).await;
    let (_, code) = login_code(&app, "alice", PHONE).await;
    app.clock.advance(TimeDelta::seconds(300));
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
}

/// Metrics: messages sent by gateway and country, and limit hits by limit.
async fn sends_and_limit_hits_are_counted(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |raw| raw.sms_per_number_10min = 1).await;
    assert_eq!(enroll_phone(&app, "alice", PHONE).await.status(), 201);
    assert_eq!(enroll_phone(&app, "bob", PHONE).await.status(), 429);
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains(r#"twofold_sms_sent_total{gateway="log",country="FR"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"twofold_sms_limited_total{limit="number"} 1"#),
        "{text}"
    );
    assert!(!text.contains(PHONE), "no number in the metrics");
}

/// SEC-27: TOTP devices are listed before phones, even older phones.
async fn totp_listed_before_sms(backend: Backend) {
    let app = spawn_app(backend).await;
    active_phone(&app, "alice", PHONE).await;
    app.clock.advance(TimeDelta::seconds(5));
    let res = app
        .post(
            "/v1/users/alice/devices/totp",
            Some(&app.admin_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let list: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["totp", "sms"]);
}

crate::both_backends!(
    enroll_confirm_and_no_reuse,
    refused_numbers_send_nothing,
    login_code_verifies_once,
    code_is_bound_to_its_user,
    resend_replaces_and_cooldown_grows,
    five_wrong_tries_burn_the_code,
    revoke_kills_the_pending_code,
    pending_phone_expires,
    login_code_expires_after_five_minutes,
    sends_and_limit_hits_are_counted,
    totp_listed_before_sms,
);
