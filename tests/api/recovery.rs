//! Recovery codes: ten single-use codes per set, stored only as keyed hashes, subject to the one
//! failure counter (SEC-13, SEC-26, SEC-35).

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use twofold::db::schema::recovery_codes;

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

async fn new_set(app: &TestApp, user: &str) -> Vec<String> {
    new_set_with(app, user, &app.client_key).await
}

/// A new set of recovery codes for `user` of `key`'s tenant.
pub(crate) async fn new_set_with(app: &TestApp, user: &str, key: &str) -> Vec<String> {
    let path = format!("/v1/users/{user}/recovery-codes");
    let res = app.post(&path, Some(key), &json!({})).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// `^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$`
fn well_shaped(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() == 3
        && groups.iter().all(|g| {
            g.len() == 4
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

async fn each_code_works_once_in_any_order(backend: Backend) {
    let app = spawn_app(backend).await;
    // The assertions are checked with jsonwebtoken, which reads the system clock.
    app.clock.set(Utc::now());
    let codes = new_set(&app, "alice").await;
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| well_shaped(c)), "{codes:?}");
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "{codes:?}");

    for (i, code) in codes.iter().enumerate().rev() {
        // Letters in either case are the same code.
        let typed = if i == 0 {
            code.to_uppercase()
        } else {
            code.clone()
        };
        let res = app.verify("alice", json!(typed)).await;
        assert_eq!(res.status(), 200, "code {i}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["verified"], true);
        assert_eq!(body["method"], "recovery");
        assert!(
            body.as_object().unwrap().contains_key("device_id") && body["device_id"].is_null(),
            "{body}"
        );
        let claims = decode_assertion(&app, body["assertion"].as_str().unwrap(), "default")
            .await
            .unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["amr"], json!(["recovery"]));

        assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
    }
}

async fn a_new_set_voids_the_old(backend: Backend) {
    let app = spawn_app(backend).await;
    let old = new_set(&app, "alice").await;
    assert_eq!(app.verify("alice", json!(old[0])).await.status(), 200);
    let new = new_set(&app, "alice").await;
    assert!(new.iter().all(|c| !old.contains(c)));
    assert_error(
        app.verify("alice", json!(old[1])).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(app.verify("alice", json!(new[1])).await.status(), 200);
}

async fn codes_are_stored_only_as_keyed_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    let codes = new_set(&app, "alice").await;
    type Row = (String, String, String, Vec<u8>);
    let rows: Vec<Row> = app
        .state
        .db
        .run(|c| {
            Ok(recovery_codes::table
                .select((
                    recovery_codes::id,
                    recovery_codes::tenant,
                    recovery_codes::user_id,
                    recovery_codes::code_hash,
                ))
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 10);
    for (id, tenant, user, hash) in &rows {
        assert_eq!((tenant.as_str(), user.as_str()), ("default", "alice"));
        assert_eq!(hash.len(), 32);
        for code in &codes {
            let bare = code.replace('-', "");
            for form in [code.as_str(), bare.as_str()] {
                assert!(!id.contains(form));
                assert!(!hash.windows(form.len()).any(|w| w == form.as_bytes()));
            }
            // Keyed: not the plain digest anyone could recompute from a guess.
            assert_ne!(hash.as_slice(), Sha256::digest(code.as_bytes()).as_slice());
            assert_ne!(hash.as_slice(), Sha256::digest(bare.as_bytes()).as_slice());
        }
    }
    let mut hashes: Vec<&Vec<u8>> = rows.iter().map(|r| &r.3).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 10);
}

async fn wrong_recovery_codes_count_toward_the_lockout(backend: Backend) {
    let app = spawn_app(backend).await;
    let codes = new_set(&app, "alice").await;
    // Recovery-shaped (so they reach the recovery check, not the 400 path) but never issued.
    for i in 0..10 {
        let wrong = format!("zzzz-zzzz-zz{i:02}");
        assert!(!codes.contains(&wrong));
        let res = app.verify("alice", json!(wrong)).await;
        assert_error(res, 422, "invalid_code").await;
    }
    let res = app.verify("alice", json!(codes[0])).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, 429, "user_locked").await;

    // The refused attempt did not spend the code: it works once the lock is over.
    app.clock
        .advance(TimeDelta::minutes(15) + TimeDelta::seconds(1));
    assert_eq!(app.verify("alice", json!(codes[0])).await.status(), 200);
}

async fn a_code_works_only_for_its_own_user(backend: Backend) {
    let app = spawn_app(backend).await;
    new_set(&app, "alice").await;
    let bobs = new_set(&app, "bob").await;
    assert_error(
        app.verify("alice", json!(bobs[0])).await,
        422,
        "invalid_code",
    )
    .await;
    assert_eq!(app.verify("bob", json!(bobs[0])).await.status(), 200);
}

crate::both_backends!(
    each_code_works_once_in_any_order,
    a_new_set_voids_the_old,
    codes_are_stored_only_as_keyed_hashes,
    wrong_recovery_codes_count_toward_the_lockout,
    a_code_works_only_for_its_own_user,
);
