//! SEC-39: the address limit keys on the end user's address a relying party passes as
//! `client_ip`, per tenant; without one, on the API key, with a limit of its own; one key's
//! failures block no other key and no admin. Refusals leave an audit event, one per counter and
//! minute; a verify retried with the code the device last accepted is no counted guess.

use diesel::prelude::*;
use serde_json::{Value, json};
use twofold::app::api_keys::Role;
use twofold::db::schema::audit_events as a;

use crate::helpers::{Backend, TestApp, assert_error, make_key, spawn_app, spawn_app_with};
use crate::sms::{PHONE, PHONE_2, active_phone, enroll_phone, send_code, skip_cooldown};

/// A verify of `user` with `key` and this body.
async fn verify_with(app: &TestApp, key: &str, user: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/users/{user}/verify?tenant=default");
    app.post(&path, Some(key), &body).await
}

/// The audit events of `action` in tenant `default`: (user, detail).
async fn audited(app: &TestApp, action: &'static str) -> Vec<(Option<String>, Value)> {
    app.state.audit.flush().await;
    let rows: Vec<(Option<String>, Option<String>)> = app
        .state
        .db
        .run(move |c| {
            Ok(a::table
                .filter(a::tenant.eq("default").and(a::action.eq(action)))
                .order(a::id.asc())
                .select((a::user_id, a::detail))
                .load(c)?)
        })
        .await
        .unwrap();
    rows.into_iter()
        .map(|(u, d)| (u, serde_json::from_str(&d.unwrap_or_default()).unwrap()))
        .collect()
}

/// The repro of the issue: wrong codes for a few users, through the relying party's server,
/// must not refuse every other user of that relying party.
async fn a_few_users_failures_do_not_lock_out_the_relying_party(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.ip_failure_limit = 5).await;
    let alice = app.active_device("alice").await;
    for i in 0..5 {
        let res = app.verify(&format!("user{i}"), json!("000000")).await;
        assert_eq!(res.status(), 422);
    }
    let res = app.verify("alice", json!(app.code(&alice, 0))).await;
    assert_eq!(res.status(), 200, "alice's right code");
}

/// Without `client_ip` the key is limited on its own counter: a limited key gets 429, another
/// key of the tenant and an admin key do not; with `client_ip` the address limit applies instead.
async fn a_limited_key_blocks_no_other_key(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.key_failure_limit = 3).await;
    let alice = app.active_device("alice").await;
    for i in 0..3 {
        let res = app.verify(&format!("user{i}"), json!("000000")).await;
        assert_eq!(res.status(), 422);
    }
    let res = app.verify("alice", json!(app.code(&alice, 0))).await;
    assert_error(res, 429, "rate_limited").await;

    let other = make_key(&app.state, Role::Client, Some("default")).await;
    let res = verify_with(&app, &other, "alice", json!({"code": app.code(&alice, 0)})).await;
    assert_eq!(res.status(), 200, "another client key");
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let res = verify_with(
        &app,
        &app.admin_key,
        "alice",
        json!({"code": app.code(&alice, 0)}),
    );
    assert_eq!(res.await.status(), 200, "an admin key");
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let res = app
        .verify_from("alice", &app.code(&alice, 0), "203.0.113.7")
        .await;
    assert_eq!(
        res.status(),
        200,
        "the limited key, with the user's address"
    );
}

/// The address counter is per (tenant, address): another address, or the same address passed by
/// another tenant's key, is not limited.
async fn client_ip_is_limited_per_tenant(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.ip_failure_limit = 2).await;
    for i in 0..2 {
        let res = app
            .verify_from(&format!("user{i}"), "000000", "198.51.100.1")
            .await;
        assert_eq!(res.status(), 422);
    }
    let res = app.verify_from("user9", "000000", "198.51.100.1").await;
    assert_error(res, 429, "rate_limited").await;
    // The same address in its IPv4-mapped IPv6 spelling is the same address.
    let res = app
        .verify_from("user9", "000000", "::ffff:198.51.100.1")
        .await;
    assert_error(res, 429, "rate_limited").await;
    let res = app.verify_from("user9", "000000", "198.51.100.2").await;
    assert_error(res, 422, "invalid_code").await;
    let elsewhere = make_key(&app.state, Role::Client, Some("other")).await;
    let body = json!({"code": "000000", "client_ip": "198.51.100.1"});
    let res = verify_with(&app, &elsewhere, "user9", body).await;
    assert_error(res, 422, "invalid_code").await;
}

/// `client_ip` must be an IP address (400), on verify, confirm and SMS send alike; the key is
/// judged first.
async fn client_ip_must_be_an_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let pending = app.enroll("alice", json!({})).await;
    let confirm = format!("/v1/users/alice/devices/{}/confirm", pending.id);
    for bad in [json!("not-an-ip"), json!("192.0.2.1/24"), json!(7)] {
        let body = json!({"code": "000000", "client_ip": bad});
        let res = app.post("/v1/users/alice/verify", Some(&app.client_key), &body);
        assert_error(res.await, 400, "invalid_request").await;
        let res = app.post(&confirm, Some(&app.client_key), &body).await;
        assert_error(res, 400, "invalid_request").await;
        let res = send_code(&app, "alice", json!({"client_ip": bad})).await;
        assert_error(res, 400, "invalid_request").await;
    }
    let body = json!({"code": "000000", "client_ip": "nope"});
    let res = app
        .post("/v1/users/alice/verify", Some("tf_bad"), &body)
        .await;
    assert_eq!(res.status(), 401);
    // A good address on confirm is taken.
    let body = json!({"code": app.code(&pending, 0), "client_ip": "2001:db8::7"});
    assert_eq!(
        app.post(&confirm, Some(&app.client_key), &body)
            .await
            .status(),
        200
    );
}

/// The SMS per-address hourly limit counts `client_ip` (per tenant) when it is passed, and the
/// connection's address otherwise.
async fn sms_address_limit_counts_client_ip(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.sms_per_ip_hour = 2).await;
    // Both enrollments are texted from the test's own address: its allowance is spent.
    let bob = active_phone(&app, "bob", PHONE).await;
    let carol = active_phone(&app, "carol", PHONE_2).await;
    for user in ["bob", "carol"] {
        let res = send_code(&app, user, json!({"client_ip": "203.0.113.1"})).await;
        assert_eq!(res.status(), 202, "{user}");
    }
    skip_cooldown(&app, "bob", &bob).await;
    let res = send_code(&app, "bob", json!({"client_ip": "203.0.113.1"})).await;
    assert_error(res, 429, "rate_limited").await;
    skip_cooldown(&app, "carol", &carol).await;
    let res = send_code(&app, "carol", json!({"client_ip": "203.0.113.2"})).await;
    assert_eq!(res.status(), 202, "another address");
    // Without `client_ip` the connection's address counts, and it is spent.
    let res = enroll_phone(&app, "dave", "+33698765432").await;
    assert_error(res, 429, "rate_limited").await;
}

/// L4: a refused attempt is audited — the locked user's right code too — once per refusing
/// counter and minute, however many are refused.
async fn refusals_are_audited_once_per_counter(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.key_failure_limit = 12;
        raw.ip_failure_limit = 1;
    })
    .await;
    let alice = app.active_device("alice").await;
    for _ in 0..10 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    for _ in 0..5 {
        let res = app.verify("alice", json!(app.code(&alice, 0))).await;
        assert_eq!(res.status(), 429, "locked");
    }
    for i in 0..2 {
        assert_eq!(
            app.verify(&format!("u{i}"), json!("000000")).await.status(),
            422
        );
    }
    for _ in 0..5 {
        assert_eq!(
            app.verify("bob", json!("000000")).await.status(),
            429,
            "key"
        );
    }
    assert_eq!(
        app.verify_from("carol", "000000", "192.0.2.9")
            .await
            .status(),
        422
    );
    for _ in 0..5 {
        let res = app.verify_from("dave", "000000", "192.0.2.9").await;
        assert_eq!(res.status(), 429, "address");
    }
    let events = audited(&app, "attempt_refused").await;
    let limits: Vec<_> = events
        .iter()
        .map(|(u, d)| (u.as_deref().unwrap(), d["limit"].as_str().unwrap()))
        .collect();
    assert_eq!(
        limits,
        [("alice", "user"), ("bob", "key"), ("dave", "address")]
    );
    assert!(events[0].1["retry_after_secs"].as_u64().unwrap() >= 899);
    assert_eq!(events[2].1["client_ip"], "192.0.2.9");
}

/// A relying party retrying a verify whose answer it lost sends the accepted code again: 422 as
/// any replay, audited as one, but no counted guess; every other failure still counts.
async fn retrying_the_accepted_code_does_not_lock_the_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    for _ in 0..9 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    for _ in 0..50 {
        let res = app.verify("alice", json!(code)).await;
        assert_error(res, 422, "invalid_code").await;
    }
    // The 10th counted failure locks.
    assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    let res = app.verify("alice", json!(app.code(&device, 1))).await;
    assert_error(res, 429, "user_locked").await;
    let replays = audited(&app, "replay").await;
    assert_eq!(replays.len(), 50);
    assert!(replays.iter().all(|(_, d)| d["counted"] == false));
}

crate::both_backends!(
    a_few_users_failures_do_not_lock_out_the_relying_party,
    a_limited_key_blocks_no_other_key,
    client_ip_is_limited_per_tenant,
    client_ip_must_be_an_address,
    sms_address_limit_counts_client_ip,
    refusals_are_audited_once_per_counter,
    retrying_the_accepted_code_does_not_lock_the_user,
);
