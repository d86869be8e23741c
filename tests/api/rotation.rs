//! `keys rotate`: a new signing key, and secrets re-wrapped from an earlier master key (SEC-20).

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::json;
use twofold::audit::Actor;
use twofold::clock::Clock;
use twofold::db::schema::{devices, signing_keys};

use crate::helpers::{Backend, spawn_app};

async fn key_ids(app: &crate::helpers::TestApp) -> (Vec<String>, Vec<String>) {
    app.state
        .db
        .run(|c| {
            Ok((
                devices::table
                    .select(devices::key_id.assume_not_null())
                    .load(c)?,
                signing_keys::table.select(signing_keys::key_id).load(c)?,
            ))
        })
        .await
        .unwrap()
}

async fn rotation_rewraps_everything_under_the_new_master_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let old_key = app.raw.master_key.clone().unwrap();
    let old_id = app.state.keys.key_id().to_string();
    let new_key = twofold::crypto::generate_master_key().unwrap().to_string();

    // New master key, old one still loaded to open what it sealed.
    let app = app
        .restart_with(|raw| {
            raw.master_key = Some(new_key.clone());
            raw.master_key_previous = Some(old_key.clone());
        })
        .await;
    let jwks_before = app
        .get("/.well-known/jwks.json", None)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let rotated = twofold::app::rotation::rotate(&app.state, Actor::Cli)
        .await
        .unwrap();
    assert_eq!(rotated.devices_rewrapped, 1);
    assert_eq!(rotated.signing_keys_rewrapped, 1);
    let (device_keys, signing) = key_ids(&app).await;
    let new_id = app.state.keys.key_id().to_string();
    assert_ne!(new_id, old_id);
    assert!(
        device_keys.iter().chain(&signing).all(|k| *k == new_id),
        "{device_keys:?} {signing:?}"
    );

    // Without the old master key at all, the device still verifies and both signing keys are
    // published (the retired one until its assertions have expired).
    let app = app.restart_with(|raw| raw.master_key_previous = None).await;
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
    let jwks = app
        .get("/.well-known/jwks.json", None)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&rotated.kid.as_str()));
    let old_kid = jwks_before["keys"][0]["kid"].as_str().unwrap();
    assert!(kids.contains(&old_kid), "the retired key stays published");

    // A second rotation has nothing left to re-wrap.
    let again = twofold::app::rotation::rotate(&app.state, Actor::Cli)
        .await
        .unwrap();
    assert_eq!(
        (again.devices_rewrapped, again.signing_keys_rewrapped),
        (0, 0)
    );
}

/// The kids the JWKS serves now.
async fn served(app: &crate::helpers::TestApp) -> Vec<String> {
    let jwks = app
        .get("/.well-known/jwks.json", None)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// The `kid` of a fresh assertion of `user`.
async fn signing_kid(app: &crate::helpers::TestApp, device: &crate::helpers::Enrollment) -> String {
    let token = crate::enroll::assertion_of(app, "alice", device).await;
    let header = token.split('.').next().unwrap();
    let header = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header);
    let header: serde_json::Value = serde_json::from_slice(&header.unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// Issue 16: after `keys rotate` (another process: this node's keys are not refreshed), the
/// JWKS serves the new key within its 5-second cache; the node signs with it only after its
/// next refresh once the key has been published `SIGN_AFTER_PUBLISHED` (issue 22: longer than a
/// relying party keeps the JWKS). So every kid a relying party sees is in the JWKS it holds.
async fn a_rotated_key_is_published_before_it_signs(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let before = served(&app).await;
    assert_eq!(before.len(), 1);
    let old_kid = before[0].clone();
    // The next time step, so the device's code is not a replay of its confirmation.
    app.clock.advance(TimeDelta::seconds(30));

    let rotated_at = app.clock.now();
    let rotated = twofold::app::rotation::rotate(&app.state, Actor::Cli)
        .await
        .unwrap();
    app.clock.advance(TimeDelta::seconds(5));
    let after = served(&app).await;
    assert!(after.contains(&rotated.kid), "published at once: {after:?}");
    assert!(after.contains(&old_kid), "{after:?}");
    assert_eq!(
        signing_kid(&app, &device).await,
        old_kid,
        "not refreshed yet"
    );

    // A refresh before the key has been published long enough keeps the old key signing.
    let sign_after = TimeDelta::from_std(twofold::app::assertion::SIGN_AFTER_PUBLISHED).unwrap();
    app.clock
        .set(rotated_at + sign_after - TimeDelta::seconds(1));
    app.state
        .assertions
        .refresh(&app.state.db, app.clock.now())
        .await
        .unwrap();
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(signing_kid(&app, &device).await, old_kid);
    app.state
        .assertions
        .refresh(&app.state.db, app.clock.now())
        .await
        .unwrap();
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(signing_kid(&app, &device).await, rotated.kid);
    assert!(served(&app).await.contains(&rotated.kid));
}

crate::both_backends!(
    rotation_rewraps_everything_under_the_new_master_key,
    a_rotated_key_is_published_before_it_signs,
);
