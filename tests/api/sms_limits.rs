//! SMS anti-pumping limits and the daily breaker (SEC-29, REL-6), and the HTTP gateways against a
//! stand-in provider: request shape, failures not retried, deadlines (REL-3, REL-4).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};
use twofold::config::RawConfig;
use wiremock::matchers::{basic_auth, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app_with};
use crate::sms::{PHONE, PHONE_2, enroll_phone, outbox, retry_after, send_code};

/// Enrolls each `(user, phone)` in turn: all 201 but the last, which is 429 `rate_limited` with a
/// Retry-After of at most `window` seconds; the refused one sends nothing and leaves no device.
async fn last_is_refused(app: &TestApp, sends: &[(&str, &str)], window: u64) {
    let (last, first) = sends.split_last().unwrap();
    for (user, phone) in first {
        assert_eq!(enroll_phone(app, user, phone).await.status(), 201, "{user}");
    }
    let res = enroll_phone(app, last.0, last.1).await;
    let wait = retry_after(&res);
    assert!((1..=window).contains(&wait), "Retry-After {wait}");
    assert_error(res, 429, "rate_limited").await;
    assert_eq!(outbox(app).len(), first.len());
    let earlier = first.iter().filter(|(u, _)| *u == last.0).count();
    let left = devices(app, last.0).await;
    assert_eq!(left.as_array().unwrap().len(), earlier, "{left}");
}

async fn devices(app: &TestApp, user: &str) -> Value {
    let path = format!("/v1/users/{user}/devices");
    let list: Value = app
        .get(&path, Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    list["devices"].clone()
}

/// SEC-29: the 4th send to one number within 10 minutes is 429, whoever asks.
async fn fourth_send_to_a_number_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_number_10min = 3).await;
    let sends = [("a", PHONE), ("b", PHONE), ("c", PHONE), ("d", PHONE)];
    last_is_refused(&app, &sends, 600).await;
}

/// SEC-29: the daily limit of a number.
async fn number_day_limit(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_number_day = 2).await;
    last_is_refused(&app, &[("a", PHONE), ("b", PHONE), ("c", PHONE)], 86_400).await;
}

/// SEC-29: numbers that differ only in their last 4 digits share a limit.
async fn prefix_limit(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_prefix_hour = 2).await;
    let sends = [("a", PHONE), ("b", PHONE_2), ("c", "+33612340000")];
    last_is_refused(&app, &sends, 3600).await;
    assert_eq!(enroll_phone(&app, "d", "+33612350000").await.status(), 201);
}

/// SEC-29: a user's sends, across numbers.
async fn user_limit(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_user_hour = 2).await;
    let sends = [("u", PHONE), ("u", "+33622345671"), ("u", "+33632345672")];
    last_is_refused(&app, &sends, 3600).await;
    assert_eq!(enroll_phone(&app, "v", "+33642345678").await.status(), 201);
}

/// SEC-29: a country's sends; another country still sends.
async fn country_limit(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_country_hour = 2).await;
    let sends = [("a", PHONE), ("b", "+33622345678"), ("c", "+33632345678")];
    last_is_refused(&app, &sends, 3600).await;
    assert_eq!(enroll_phone(&app, "d", "+447400123456").await.status(), 201);
}

/// SEC-29: a client IP's sends (behind a trusted proxy: another address still sends).
async fn ip_limit(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.sms_per_ip_hour = 2;
        raw.trust_forwarded_for = true;
    })
    .await;
    let sends = [("a", PHONE), ("b", "+33622345678"), ("c", "+33632345678")];
    last_is_refused(&app, &sends, 3600).await;
    let res = app
        .http
        .post(app.url("/v1/users/d/devices/sms"))
        .bearer_auth(&app.client_key)
        .header("x-forwarded-for", "192.0.2.7")
        .json(&json!({ "phone": "+33642345678" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

/// REL-6: 20 parallel enrollments to one number with a limit of 3 → exactly 3 messages.
async fn parallel_sends_respect_the_number_limit(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_number_10min = 3).await;
    let users: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
    let answers = join_all(users.iter().map(|u| enroll_phone(&app, u, PHONE))).await;
    let mut created = 0;
    for res in answers {
        match res.status().as_u16() {
            201 => created += 1,
            _ => drop(assert_error(res, 429, "rate_limited").await),
        }
    }
    assert_eq!((created, outbox(&app).len()), (3, 3));
}

/// SEC-29, SEC-22: the daily budget trips the breaker (503 with Retry-After) for every number
/// and user; an admin sees and resets it; a client key may do neither.
async fn daily_budget_trips_the_breaker(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_daily_budget = 2).await;
    let breaker = "/v1/admin/sms/breaker";
    for (user, phone) in [("a", PHONE), ("b", "+33622345678")] {
        assert_eq!(enroll_phone(&app, user, phone).await.status(), 201);
    }
    for (user, phone) in [("c", "+33632345678"), ("d", "+447400123456")] {
        let res = enroll_phone(&app, user, phone).await;
        let wait = retry_after(&res);
        assert!((1..=86_400).contains(&wait), "Retry-After {wait}");
        assert_error(res, 503, "sms_budget_exhausted").await;
    }
    assert_eq!(outbox(&app).len(), 2);
    let status: Value = app
        .get(breaker, Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["tripped"], true);
    let client = Some(app.client_key.as_str());
    assert_error(app.get(breaker, client).await, 403, "forbidden").await;
    assert_error(app.delete(breaker, client).await, 403, "forbidden").await;
    // The key is judged before the query: a bad query does not tell a client key more.
    let odd = format!("{breaker}?nope=1");
    assert_error(app.get(&odd, client).await, 403, "forbidden").await;
    assert_error(app.delete(&odd, client).await, 403, "forbidden").await;
    assert_error(app.get(&odd, None).await, 401, "invalid_api_key").await;
    assert_error(
        app.get(&odd, Some(&app.admin_key)).await,
        400,
        "invalid_request",
    )
    .await;

    assert_eq!(
        app.delete(breaker, Some(&app.admin_key)).await.status(),
        204
    );
    let status: Value = app
        .get(breaker, Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["tripped"], false);
    assert_eq!(enroll_phone(&app, "e", "+33642345678").await.status(), 201);
    assert_eq!(outbox(&app).len(), 3);
}

fn webhook(server: &MockServer, raw: &mut RawConfig) {
    raw.sms_gateway = "webhook".into();
    raw.sms_webhook_url = Some(format!("{}/sms", server.uri()));
    raw.sms_webhook_body = Some(r#"{"to":"{to}","text":"{message}"}"#.into());
    raw.sms_webhook_headers = Some(r#"{"Authorization":"Bearer t"}"#.into());
}

/// The webhook request: JSON with the number and the message, the auth header; the code in it
/// confirms the device and is nowhere in the answer.
async fn webhook_delivers_a_code_that_verifies(backend: Backend) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .and(header("authorization", "Bearer t"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let app = spawn_app_with(backend, |raw| webhook(&server, raw)).await;
    let res = enroll_phone(&app, "alice", PHONE).await;
    assert_eq!(res.status(), 201);
    let answer = res.text().await.unwrap();
    let received = server.received_requests().await.unwrap();
    let sent: Value = received[0].body_json().unwrap();
    assert_eq!(sent["to"], PHONE);
    let text = sent["text"].as_str().unwrap();
    let code = text.rsplit('#').next().unwrap();
    assert!(code.len() == 6 && text.contains("@127.0.0.1 #"), "{text}");
    assert!(
        !answer.contains(code) && !answer.contains("612345678"),
        "{answer}"
    );
    let id = serde_json::from_str::<Value>(&answer).unwrap()["device"]["id"].clone();
    let confirm = format!("/v1/users/alice/devices/{}/confirm", id.as_str().unwrap());
    let res = app
        .post(&confirm, Some(&app.client_key), &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
}

/// REL-4: a provider 5xx is 502 `sms_failed` after exactly one call; the enrollment is gone.
async fn webhook_error_is_not_retried(backend: Backend) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let app = spawn_app_with(backend, |raw| webhook(&server, raw)).await;
    assert_error(enroll_phone(&app, "alice", PHONE).await, 502, "sms_failed").await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(devices(&app, "alice").await, json!([]));
}

/// REL-3, REL-4: a hung provider gets one call and the answer comes within the timeout + 1 s.
async fn webhook_hang_answers_within_the_timeout(backend: Backend) {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200).set_delay(Duration::from_secs(5));
    Mock::given(method("POST"))
        .respond_with(slow)
        .mount(&server)
        .await;
    let app = spawn_app_with(backend, |raw| {
        webhook(&server, raw);
        raw.sms_timeout_ms = 1000;
    })
    .await;
    let started = Instant::now();
    let res = enroll_phone(&app, "alice", PHONE).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_error(res, 502, "sms_failed").await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// REL-4: a refused connection is retried with backoff: the provider coming up delivers exactly
/// one message.
async fn refused_connection_is_retried(backend: Backend) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let app = spawn_app_with(backend, |raw| {
        raw.sms_gateway = "webhook".into();
        raw.sms_webhook_url = Some(format!("http://{addr}/sms"));
        raw.sms_webhook_body = Some(r#"{"to":"{to}","text":"{message}"}"#.into());
    })
    .await;
    let provider = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let server = MockServer::builder().listener(listener).start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        server
    };
    let (res, server) = tokio::join!(enroll_phone(&app, "alice", PHONE), provider);
    assert_eq!(res.status(), 201);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

fn twilio(server: &MockServer, raw: &mut RawConfig) {
    raw.sms_gateway = "twilio".into();
    raw.twilio_account_sid = Some("AC123".into());
    raw.twilio_auth_token = Some("tok".into());
    raw.twilio_from = Some("+15005550006".into());
    raw.twilio_base_url = Some(server.uri());
}

const TWILIO_PATH: &str = "/2010-04-01/Accounts/AC123/Messages.json";

/// Twilio: form fields To/From/Body with basic auth; a 201 leaves a pending device.
async fn twilio_request_shape(backend: Backend) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TWILIO_PATH))
        .and(basic_auth("AC123", "tok"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM1"})))
        .expect(1)
        .mount(&server)
        .await;
    let app = spawn_app_with(backend, |raw| twilio(&server, raw)).await;
    let res = enroll_phone(&app, "alice", PHONE).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["device"]["status"], "pending");
    let received = server.received_requests().await.unwrap();
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&received[0].body)
            .into_owned()
            .collect();
    assert_eq!(form["To"], PHONE);
    assert_eq!(form["From"], "+15005550006");
    assert!(form["Body"].contains("@127.0.0.1 #"), "{}", form["Body"]);
    assert_eq!(form.len(), 3);
}

/// Twilio: an error document is 502 `sms_failed`, one call, no device left.
async fn twilio_error_is_502(backend: Backend) {
    let server = MockServer::start().await;
    let refusal = json!({"code": 21211, "message": "The 'To' number is not valid.", "status": 400});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refusal))
        .mount(&server)
        .await;
    let app = spawn_app_with(backend, |raw| twilio(&server, raw)).await;
    assert_error(enroll_phone(&app, "alice", PHONE).await, 502, "sms_failed").await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(devices(&app, "alice").await, json!([]));
    let res = send_code(&app, "alice", json!({})).await;
    assert_eq!(res.status(), 404, "no phone to text");
}

crate::both_backends!(
    fourth_send_to_a_number_is_refused,
    number_day_limit,
    prefix_limit,
    user_limit,
    country_limit,
    ip_limit,
    parallel_sends_respect_the_number_limit,
    daily_budget_trips_the_breaker,
    webhook_delivers_a_code_that_verifies,
    webhook_error_is_not_retried,
    webhook_hang_answers_within_the_timeout,
    refused_connection_is_retried,
    twilio_request_shape,
    twilio_error_is_502,
);
