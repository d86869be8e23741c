//! The hardware-token inventory: PSKC files written by python-pskc (an independent
//! implementation) and YubiKey OTPs made by the `yubiotp` package imported through the API;
//! assign, claim, unassign, revoke; codes from oathtool.

use serde_json::{Value, json};

use twofold::factor::totp::{self, Params};

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, TestApp, assert_error, spawn_app};
use crate::hotp::oathtool;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
/// The HOTP token of the python-pskc files: seed "12345678901234567890", counter 7.
const HOTP_SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const PSK_HEX: &str = "000102030405060708090a0b0c0d0e0f";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{path}")).unwrap()
}

async fn import(
    app: &TestApp,
    body: Vec<u8>,
    kind: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url("/v1/admin/tokens/import"))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", kind)
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn tokens(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/v1/admin/tokens{query}"), Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["tokens"]
        .as_array()
        .unwrap()
        .clone()
}

async fn verify(app: &TestApp, user: &str, code: &str) -> reqwest::Response {
    app.verify(user, json!(code)).await
}

async fn a_pskc_token_is_assigned_used_and_given_back(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(chrono::Utc::now());
    let xml = fixture("pskc/pypskc-psk-aes128-cbc.xml");
    let res = import(
        &app,
        xml,
        "application/pskc+xml",
        &[("X-Pskc-Key", PSK_HEX)],
    )
    .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let imported: Value = res.json().await.unwrap();
    assert_eq!(imported["imported"], 3);
    let listed = tokens(&app, "?status=unassigned").await;
    assert_eq!(listed.len(), 3);
    let hotp = listed.iter().find(|t| t["serial"] == "PP-0001").unwrap();
    assert_eq!(hotp["kind"], "hotp");
    assert_eq!(hotp["manufacturer"], "Acme");
    assert_eq!(hotp["batch"], imported["batch"]);
    assert!(hotp.get("secret").is_none() && !hotp.to_string().contains("GEZDG"));

    let res = app
        .post(
            "/v1/admin/tokens/PP-0001/assign",
            Some(&app.admin_key),
            &json!({"user": "alice"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let device: Value = res.json::<Value>().await.unwrap()["device"].clone();
    assert_eq!(device["kind"], "hotp");
    assert_eq!(device["status"], "active");
    assert_eq!(device["token_serial"], "PP-0001");
    // PSKC's Counter is the next one the token uses.
    let res = verify(&app, "alice", &oathtool(HOTP_SEED_B32, 7, 6)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let claims = decode_assertion(&app, body["assertion"].as_str().unwrap(), "default")
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "otp"]));
    // Assigned twice: refused.
    let res = app
        .post(
            "/v1/admin/tokens/PP-0001/assign",
            Some(&app.admin_key),
            &json!({"user": "bob"}),
        )
        .await;
    assert_error(res, 409, "conflict").await;

    // Given back: alice's device is revoked, and the counter stays where it was.
    let res = app
        .post(
            "/v1/admin/tokens/PP-0001/unassign",
            Some(&app.admin_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_error(
        verify(&app, "alice", &oathtool(HOTP_SEED_B32, 8, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    let res = app
        .post(
            "/v1/admin/tokens/PP-0001/assign",
            Some(&app.admin_key),
            &json!({"user": "bob"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_error(
        verify(&app, "bob", &oathtool(HOTP_SEED_B32, 7, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(
        verify(&app, "bob", &oathtool(HOTP_SEED_B32, 9, 6))
            .await
            .status(),
        200
    );
    let bobs = tokens(&app, "?user=bob").await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["status"], "assigned");

    // Revoked: out of service, its device with it.
    let res = app
        .delete("/v1/admin/tokens/PP-0001", Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 200);
    assert_error(
        verify(&app, "bob", &oathtool(HOTP_SEED_B32, 10, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    let res = app
        .post(
            "/v1/admin/tokens/PP-0001/assign",
            Some(&app.admin_key),
            &json!({"user": "bob"}),
        )
        .await;
    assert_error(res, 409, "conflict").await;

    app.state.audit.flush().await;
    for action in [
        "tokens_imported",
        "token_assigned",
        "token_unassigned",
        "token_revoked",
    ] {
        let events: Value = app
            .get(
                &format!("/v1/admin/audit?action={action}"),
                Some(&app.admin_key),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(!events["events"].as_array().unwrap().is_empty(), "{action}");
    }
}

/// A file that cannot be imported whole imports nothing, and says why.
async fn a_bad_file_imports_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let xml = fixture("pskc/pypskc-psk-aes128-cbc.xml");
    let wrong = "ffffffffffffffffffffffffffffffff";
    let res = import(
        &app,
        xml.clone(),
        "application/pskc+xml",
        &[("X-Pskc-Key", wrong)],
    )
    .await;
    assert_error(res, 400, "invalid_request").await;
    let res = import(&app, xml.clone(), "application/pskc+xml", &[]).await;
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("pre-shared key"),
        "{body}"
    );
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">&lol2;</KeyContainer>"#;
    let res = import(&app, bomb.to_vec(), "application/pskc+xml", &[]).await;
    assert_error(res, 400, "invalid_request").await;
    let truncated = xml[..xml.len() / 2].to_vec();
    let res = import(
        &app,
        truncated,
        "application/pskc+xml",
        &[("X-Pskc-Key", PSK_HEX)],
    )
    .await;
    assert_error(res, 400, "invalid_request").await;
    assert!(tokens(&app, "").await.is_empty());

    // The same serials again: refused, each named, nothing added.
    let plain = fixture("pskc/pypskc-plain.xml");
    assert_eq!(
        import(&app, plain.clone(), "application/pskc+xml", &[])
            .await
            .status(),
        201
    );
    let res = import(&app, plain, "application/pskc+xml", &[]).await;
    let body = res.json::<Value>().await.unwrap();
    let text = body.to_string();
    assert!(
        text.contains("PP-0001") && text.contains("inventory already"),
        "{text}"
    );
    assert_eq!(tokens(&app, "").await.len(), 3);
    // A password-protected file opens with its password.
    let pbkdf2 = fixture("pskc/pypskc-pbkdf2.xml");
    let res = import(
        &app,
        pbkdf2.clone(),
        "application/pskc+xml",
        &[("X-Pskc-Password", "wrong")],
    )
    .await;
    assert_error(res, 400, "invalid_request").await;
    let res = app
        .http
        .post(app.url("/v1/admin/tokens/import?tenant=other"))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/pskc+xml")
        .header("X-Pskc-Password", "correct horse battery staple")
        .body(pbkdf2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "another tenant's inventory is its own");
}

/// YubiKeys from a personalization log; OTPs from the `yubiotp` package.
async fn yubico_otps_work_once_and_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let log = fixture("yubico/personalization.csv");
    let res = import(&app, log, "text/csv", &[]).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = app
        .post(
            "/v1/admin/tokens/12345678/assign",
            Some(&app.admin_key),
            &json!({"user": "alice"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let otps: Value = serde_json::from_slice(&fixture("yubico/otps.json")).unwrap();
    let list = otps["otps"].as_array().unwrap();
    let otp = |i: usize| list[i]["otp"].as_str().unwrap().to_string();
    let res = verify(&app, "alice", &otp(1)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["method"], "yubico_otp");
    // Replayed, and older than the last accepted: refused.
    assert_error(verify(&app, "alice", &otp(1)).await, 422, "invalid_code").await;
    assert_error(verify(&app, "alice", &otp(0)).await, 422, "invalid_code").await;
    // Forgeries whose counters (9) are ahead of the last accepted one (7/1): only the key, the
    // CRC and the private id refuse them.
    for bad in ["other_key", "other_private_id", "bad_crc"] {
        let forged = otps["bad"][bad].as_str().unwrap();
        assert_error(verify(&app, "alice", forged).await, 422, "invalid_code").await;
    }
    for i in 2..list.len() {
        assert_eq!(
            verify(&app, "alice", &otp(i)).await.status(),
            200,
            "otp {i}"
        );
    }
    // Typed with caps lock (modhex is case-insensitive): the same OTP, used already.
    let last = otp(list.len() - 1).to_uppercase();
    assert_error(verify(&app, "alice", &last).await, 422, "invalid_code").await;
    for bad in ["other_key", "other_private_id", "bad_crc"] {
        let forged = otps["bad"][bad].as_str().unwrap();
        assert_error(verify(&app, "alice", forged).await, 422, "invalid_code").await;
    }
}

/// A user claims an unassigned token with its serial and a code; guessing serials counts.
async fn a_user_claims_a_token_with_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = fixture("pskc/pypskc-plain.xml");
    assert_eq!(
        import(&app, plain, "application/pskc+xml", &[])
            .await
            .status(),
        201
    );
    let claim = |serial: &str, code: String| {
        let body = json!({"serial": serial, "code": code});
        let app = &app;
        async move {
            app.post("/v1/users/alice/tokens/claim", Some(&app.client_key), &body)
                .await
        }
    };
    // A serial that is not in the inventory, or a wrong code: the same 422.
    assert_error(
        claim("PP-9999", oathtool(HOTP_SEED_B32, 7, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    assert_error(
        claim("PP-0001", oathtool(HOTP_SEED_B32, 30, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    let res = claim("PP-0001", oathtool(HOTP_SEED_B32, 8, 6)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["device"]["token_serial"], "PP-0001");
    assert!(body["assertion"].is_string());
    // The claim's code is used; the next one signs in.
    assert_error(
        verify(&app, "alice", &oathtool(HOTP_SEED_B32, 8, 6)).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(
        verify(&app, "alice", &oathtool(HOTP_SEED_B32, 9, 6))
            .await
            .status(),
        200
    );
    // Taken now: another user cannot claim it, even with a right code.
    let res = app
        .post(
            "/v1/users/bob/tokens/claim",
            Some(&app.client_key),
            &json!({"serial": "PP-0001", "code": oathtool(HOTP_SEED_B32, 10, 6)}),
        )
        .await;
    assert_error(res, 422, "invalid_code").await;
    // A user who has a device needs their step-up to add a token (SEC-7): PP-0003 is a TOTP
    // token of the file (seed a0a1…b3, 6 digits, 30 s).
    let device = app.active_device("carol").await;
    let seed: Vec<u8> = (0xa0..=0xb3).collect();
    let step = totp::step_at(app.state.clock.now().timestamp(), 30);
    let token_code = totp::code_at_step(&seed, Params::default(), step);
    let body = json!({"serial": "PP-0003", "code": token_code});
    let res = app
        .post("/v1/users/carol/tokens/claim", Some(&app.client_key), &body)
        .await;
    assert_error(res, 403, "step_up_required").await;
    let res = app.verify("carol", json!(app.code(&device, 0))).await;
    let step_up = res.json::<Value>().await.unwrap()["assertion"].clone();
    // The refused claim used up nothing: the same token code, with the step-up, is accepted.
    let body = json!({"serial": "PP-0003", "code": token_code, "step_up": step_up});
    let res = app
        .post("/v1/users/carol/tokens/claim", Some(&app.client_key), &body)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Serial guesses count like wrong codes: bob is locked at the threshold.
    for n in 0..app.raw.lockout_threshold - 1 {
        let res = app
            .post(
                "/v1/users/bob/tokens/claim",
                Some(&app.client_key),
                &json!({"serial": format!("GUESS-{n}"), "code": "123456"}),
            )
            .await;
        assert_eq!(res.status(), 422);
    }
    let res = app
        .post(
            "/v1/users/bob/tokens/claim",
            Some(&app.client_key),
            &json!({"serial": "PP-0002", "code": "12345678"}),
        )
        .await;
    assert_error(res, 429, "user_locked").await;
}

/// A YubiKey delivered in PSKC (draft-josefsson-keyprov-pskc-yubikey, written by python-pskc,
/// encrypted): the same key as the personalization log's, so the same OTPs verify.
async fn a_yubikey_from_pskc_verifies(backend: Backend) {
    let app = spawn_app(backend).await;
    let xml = fixture("pskc/pypskc-yubico.xml");
    let res = import(
        &app,
        xml,
        "application/pskc+xml",
        &[("X-Pskc-Key", PSK_HEX)],
    )
    .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let listed = tokens(&app, "?kind=yubico").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["public_id"], "vvcijgklnrbf");
    assert_eq!(listed[0]["serial"], "12345680");
    let res = app
        .post(
            "/v1/admin/tokens/12345680/assign",
            Some(&app.admin_key),
            &json!({"user": "alice"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let otps: Value = serde_json::from_slice(&fixture("yubico/otps.json")).unwrap();
    let first = otps["otps"][0]["otp"].as_str().unwrap();
    let res = verify(&app, "alice", first).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_error(verify(&app, "alice", first).await, 422, "invalid_code").await;
    let forged = otps["bad"]["other_private_id"].as_str().unwrap();
    assert_error(verify(&app, "alice", forged).await, 422, "invalid_code").await;
}

crate::both_backends!(
    a_yubikey_from_pskc_verifies,
    a_pskc_token_is_assigned_used_and_given_back,
    a_bad_file_imports_nothing,
    yubico_otps_work_once_and_in_order,
    a_user_claims_a_token_with_a_code,
);
