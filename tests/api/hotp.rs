//! HOTP devices (RFC 4226), with codes from oathtool (an independent implementation): the
//! look-ahead window, single use, a race, two nodes, and resync with two consecutive codes.

use std::process::Command;

use serde_json::{Value, json};

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

/// oathtool's HOTP code for a base32 secret at `counter`.
pub fn oathtool(base32: &str, counter: u64, digits: u8) -> String {
    let out = Command::new("oathtool")
        .args([
            "--hotp",
            "-b",
            "-d",
            &digits.to_string(),
            "-c",
            &counter.to_string(),
            base32,
        ])
        .output()
        .expect("oathtool runs (apt install oathtool)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn verify(app: &TestApp, user: &str, code: &str) -> reqwest::Response {
    app.verify(user, json!(code)).await
}

/// Enrolls and confirms a soft HOTP device with counter 0's code; its id and base32 secret.
async fn hotp_device(app: &TestApp, user: &str) -> (String, String) {
    let res = app
        .post(
            &format!("/v1/users/{user}/devices/hotp"),
            Some(&app.client_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://hotp/twofold:"), "{uri}");
    assert!(uri.ends_with("&counter=0"), "{uri}");
    assert!(!uri.contains("period"), "{uri}");
    assert!(body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let secret = body["secret"].as_str().unwrap().to_string();
    let id = body["device"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["device"]["kind"], "hotp");
    let res = app
        .post(
            &format!("/v1/users/{user}/devices/{id}/confirm"),
            Some(&app.client_key),
            &json!({"code": oathtool(&secret, 0, 6)}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    (id, secret)
}

async fn codes_work_once_within_the_window(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(chrono::Utc::now());
    let (_, secret) = hotp_device(&app, "alice").await;
    // Counter 0 was the confirmation: used.
    assert_error(
        verify(&app, "alice", &oathtool(&secret, 0, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    let res = verify(&app, "alice", &oathtool(&secret, 1, 6)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["method"], "hotp");
    let claims = decode_assertion(&app, body["assertion"].as_str().unwrap(), "default")
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["otp"]), "an app, not hardware");
    // Presses that never reached us: counter 5 is within the window of 10 after 1.
    assert_eq!(
        verify(&app, "alice", &oathtool(&secret, 5, 6))
            .await
            .status(),
        200
    );
    // Behind the accepted counter: never again.
    assert_error(
        verify(&app, "alice", &oathtool(&secret, 3, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    // Next is 6: 6..=15 is the window; 16 is beyond it.
    assert_error(
        verify(&app, "alice", &oathtool(&secret, 16, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(
        verify(&app, "alice", &oathtool(&secret, 15, 6))
            .await
            .status(),
        200
    );
}

/// Far ahead of the window, a token is brought back with two consecutive codes; a pair that
/// is not consecutive, or an old one, is refused.
async fn resync_takes_two_consecutive_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, secret) = hotp_device(&app, "alice").await;
    let code = |c| oathtool(&secret, c, 6);
    assert_error(verify(&app, "alice", &code(300)).await, 422, "invalid_code").await;
    let path = format!("/v1/admin/users/alice/devices/{id}/resync");
    let res = app
        .post(
            &path,
            Some(&app.admin_key),
            &json!({"first": code(300), "second": code(302)}),
        )
        .await;
    assert_error(res, 422, "invalid_code").await;
    let res = app
        .post(
            &path,
            Some(&app.admin_key),
            &json!({"first": code(300), "second": code(301)}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // In step again: the next code works, the two used do not.
    assert_error(verify(&app, "alice", &code(301)).await, 422, "invalid_code").await;
    assert_eq!(verify(&app, "alice", &code(302)).await.status(), 200);
    // Beyond the resync window (1000) even two consecutive codes do not pass.
    let res = app
        .post(
            &path,
            Some(&app.admin_key),
            &json!({"first": code(2000), "second": code(2001)}),
        )
        .await;
    assert_error(res, 422, "invalid_code").await;
    let res = app
        .post(
            &path,
            Some(&app.admin_key),
            &json!({"first": "12", "second": code(2001)}),
        )
        .await;
    assert_error(res, 400, "invalid_request").await;
    app.state.audit.flush().await;
    let events: Value = app
        .get(
            "/v1/admin/audit?action=device_resynced",
            Some(&app.admin_key),
        )
        .await
        .json()
        .await
        .unwrap();
    let outcomes: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert!(
        outcomes.contains(&"success") && outcomes.contains(&"failure"),
        "{outcomes:?}"
    );
}

/// 50 verifies of one code at once: exactly one succeeds.
async fn one_code_succeeds_once_under_a_race(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, secret) = hotp_device(&app, "alice").await;
    let code = oathtool(&secret, 1, 6);
    let tries = (0..50).map(|_| verify(&app, "alice", &code));
    let statuses: Vec<u16> = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
}

/// A code accepted on one node is used on every node.
async fn a_code_used_on_one_node_is_used_on_another(backend: Backend) {
    let a = spawn_app(backend).await;
    let (_, secret) = hotp_device(&a, "alice").await;
    let key = a.client_key.clone();
    let code = oathtool(&secret, 1, 6);
    assert_eq!(verify(&a, "alice", &code).await.status(), 200);
    let b = a.restart().await;
    let res = b
        .post("/v1/users/alice/verify", Some(&key), &json!({"code": code}))
        .await;
    assert_error(res, 422, "invalid_code").await;
    assert_eq!(
        verify(&b, "alice", &oathtool(&secret, 2, 6)).await.status(),
        200
    );
}

crate::both_backends!(
    codes_work_once_within_the_window,
    resync_takes_two_consecutive_codes,
    one_code_succeeds_once_under_a_race,
    a_code_used_on_one_node_is_used_on_another,
);
