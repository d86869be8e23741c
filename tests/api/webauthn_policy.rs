//! A tenant's security-key policy: user verification required, and only allowed models.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use twofold::config::RawWebauthnPolicy;

use crate::helpers::{Backend, TestApp, assert_error, spawn_app_with};
use crate::soft_key::SoftKey;
use crate::webauthn::{ORIGIN, confirm, options, start, verify};

const YUBIKEY: [u8; 16] = [
    0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8,
];

async fn app_with(backend: Backend, policy: RawWebauthnPolicy) -> TestApp {
    spawn_app_with(backend, |raw| {
        raw.public_url = Some(ORIGIN.into());
        raw.webauthn_policies = Some(BTreeMap::from([("default".to_string(), policy)]));
    })
    .await
}

async fn user_verification_can_be_required(backend: Backend) {
    let policy = RawWebauthnPolicy {
        user_verification: Some("required".into()),
        ..RawWebauthnPolicy::default()
    };
    let app = app_with(backend, policy).await;
    let started = start(&app, &app.client_key, "alice", json!({})).await;
    assert_eq!(
        started["options"]["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    // A key that cannot verify its user does not register.
    let mut plain = SoftKey::without_uv();
    let cred = plain.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    let res = confirm(&app, &app.client_key, "alice", id, &cred).await;
    assert_error(res, 422, "invalid_code").await;

    let mut soft = SoftKey::new();
    let started = start(&app, &app.client_key, "alice", json!({})).await;
    let cred = soft.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    assert_eq!(
        confirm(&app, &app.client_key, "alice", id, &cred)
            .await
            .status(),
        200
    );
    let opts = options(&app, "alice").await;
    assert_eq!(opts["publicKey"]["userVerification"], "required");
    // User presence alone is refused, verification passes.
    let signed = soft.sign_without_uv(&opts, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_eq!(verify(&app, "alice", &signed).await.status(), 200);
}

async fn only_allowed_models_register(backend: Backend) {
    let policy = RawWebauthnPolicy {
        aaguids: BTreeMap::from([(
            "cb69481e-8ff7-4039-93ec-0a2729a154a8".to_string(),
            "YubiKey 5 Series".to_string(),
        )]),
        ..RawWebauthnPolicy::default()
    };
    let app = app_with(backend, policy).await;
    let mut other = SoftKey::new();
    let started = start(&app, &app.client_key, "alice", json!({})).await;
    let cred = other.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    assert_error(
        confirm(&app, &app.client_key, "alice", id, &cred).await,
        422,
        "invalid_code",
    )
    .await;

    let mut yubikey = SoftKey::new().with_aaguid(YUBIKEY);
    let started = start(&app, &app.client_key, "alice", json!({})).await;
    let cred = yubikey.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    assert_eq!(
        confirm(&app, &app.client_key, "alice", id, &cred)
            .await
            .status(),
        200
    );
    let listed: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    // The refused key's device stays pending (until it expires); the allowed one is active.
    let key = listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|d| d.get("security_key"))
        .unwrap();
    assert_eq!(key["aaguid"], "cb69481e-8ff7-4039-93ec-0a2729a154a8");
    assert_eq!(key["model"], "YubiKey 5 Series");
}

crate::both_backends!(
    user_verification_can_be_required,
    only_allowed_models_register
);
