//! Checking TOTP codes: the window, single use, strict parsing, one answer for every failure.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{Backend, assert_error, spawn_app};

/// SEC-8: T−1, T and T+1 are accepted; T±2 are not. One user per edge, so no step is "older".
async fn window_accepts_one_step_either_side(backend: Backend) {
    let app = spawn_app(backend).await;
    for (user, offset, ok) in [
        ("minus2", -2, false),
        ("minus1", -1, true),
        ("now", 0, true),
        ("plus1", 1, true),
        ("plus2", 2, false),
    ] {
        let device = app.active_device(user).await;
        // Two steps past the confirmation: T−2 is then newer than the confirming step, so only
        // the window can refuse it.
        app.clock.advance(chrono::TimeDelta::seconds(60));
        let res = app.verify(user, json!(app.code(&device, offset))).await;
        if ok {
            assert_eq!(res.status(), 200, "offset {offset}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["verified"], true);
            assert_eq!(body["method"], "totp");
            assert_eq!(body["device_id"], device.id.as_str());
        } else {
            assert_error(res, 422, "invalid_code").await;
        }
    }
}

/// A configured window of 0 accepts only the current step.
async fn window_zero_accepts_only_now(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |raw| raw.totp_window = 0).await;
    let device = app.active_device("alice").await;
    assert_error(
        app.verify("alice", json!(app.code(&device, -1))).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
}

/// SEC-9, SEC-10: a code works once; an older step after a newer one fails; both failures look
/// exactly like a wrong code.
async fn replayed_and_older_codes_get_the_wrong_code_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let now = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(now)).await.status(), 200);
    let wrong = app.verify("alice", json!("000000")).await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());
    let replay = app.verify("alice", json!(now)).await;
    assert_eq!(replay.status(), wrong_status);
    assert_eq!(replay.text().await.unwrap(), wrong_body);
    let older = app.verify("alice", json!(app.code(&device, -1))).await;
    assert_eq!(older.status(), wrong_status);
    assert_eq!(older.text().await.unwrap(), wrong_body);
    assert_eq!(wrong_status, 422);
}

/// SEC-11: 50 parallel verifies of one valid code → exactly one 200.
async fn parallel_verifies_of_one_code_succeed_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    let results = join_all((0..50).map(|_| app.verify("alice", json!(code)))).await;
    let ok = results.iter().filter(|r| r.status() == 200).count();
    assert_eq!(ok, 1);
    assert!(
        results
            .iter()
            .all(|r| [200, 422, 429].contains(&r.status().as_u16()))
    );
}

/// SEC-12: only the canonical form; anything else is 400 and counts as a failure.
async fn malformed_codes_are_400_and_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let malformed = [
        json!(" 123456"),
        json!("123 456"),
        json!("１２３４５６"),
        json!(123456),
        json!("12345"),
        json!("1234567"),
        json!("+12345"),
        json!(null),
        json!(["123456"]),
        json!("12345a"),
    ];
    assert_eq!(malformed.len(), 10);
    for code in malformed {
        assert_error(app.verify("alice", code).await, 400, "invalid_request").await;
    }
    // Ten failures: the user is locked, so even the right code is refused.
    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    assert_error(res, 429, "user_locked").await;
}

/// SEC-32: unknown user, user with only a pending device, user without devices and a wrong code
/// get the same status and body.
async fn failures_are_indistinguishable(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    let pending = app.enroll("bob", json!({})).await;
    app.post(
        "/v1/users/carol/recovery-codes",
        Some(&app.client_key),
        &json!({}),
    )
    .await;
    let mut answers = Vec::new();
    for (user, code) in [
        ("alice", "000000".to_string()),
        ("nobody", "000000".to_string()),
        ("bob", app.code(&pending, 0)),
        ("carol", "000000".to_string()),
    ] {
        let res = app.verify(user, json!(code)).await;
        let headers = res.headers().clone();
        answers.push((
            res.status(),
            headers.get("content-type").cloned(),
            res.text().await.unwrap(),
        ));
    }
    assert_eq!(answers[0].0, 422);
    for a in &answers[1..] {
        assert_eq!(a, &answers[0]);
    }
}

/// `device_id` limits the check to that device.
async fn device_id_narrows_the_check(backend: Backend) {
    let app = spawn_app(backend).await;
    let phone = app.active_device("alice").await;
    let other = app.active_device("bob").await;
    let res = app
        .post(
            "/v1/users/alice/verify",
            Some(&app.client_key),
            &json!({"code": app.code(&phone, 0), "device_id": other.id}),
        )
        .await;
    assert_error(res, 422, "invalid_code").await;
    let res = app
        .post(
            "/v1/users/alice/verify",
            Some(&app.client_key),
            &json!({"code": app.code(&phone, 0), "device_id": phone.id}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// Path and body are checked before anything else.
async fn bad_user_ids_and_bodies_are_invalid_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.verify("a%20b", json!("123456")).await;
    assert_error(res, 400, "invalid_request").await;
    let res = app
        .post(
            "/v1/users/alice/verify",
            Some(&app.client_key),
            &json!({"code": "123456", "time": 1}),
        )
        .await;
    assert_error(res, 400, "invalid_request").await;
    let res = app.verify("alice", json!("123456")).await;
    assert_error(res, 422, "invalid_code").await;
    let res = app
        .post("/v1/users/alice/verify", None, &json!({"code": "123456"}))
        .await;
    assert_error(res, 401, "invalid_api_key").await;
}

crate::both_backends!(
    window_accepts_one_step_either_side,
    window_zero_accepts_only_now,
    replayed_and_older_codes_get_the_wrong_code_answer,
    parallel_verifies_of_one_code_succeed_once,
    malformed_codes_are_400_and_count,
    failures_are_indistinguishable,
    device_id_narrows_the_check,
    bad_user_ids_and_bodies_are_invalid_requests,
);
