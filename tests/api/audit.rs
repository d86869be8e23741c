//! SEC-33: the security events of the TOTP journey reach the audit trail, with actor, IP and
//! outcome, and no secret.

use diesel::prelude::*;
use serde_json::json;
use twofold::db::schema::audit_events as a;

use crate::helpers::{Backend, spawn_app};

type Row = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

async fn events(app: &crate::helpers::TestApp) -> Vec<Row> {
    app.state.audit.flush().await;
    app.state
        .db
        .run(|c| {
            Ok(a::table
                .filter(a::tenant.eq("default"))
                .order(a::id.asc())
                .select((
                    a::action,
                    a::outcome,
                    a::user_id,
                    a::device_id,
                    a::actor,
                    a::ip,
                    a::detail,
                ))
                .load(c)?)
        })
        .await
        .unwrap()
}

async fn every_step_of_the_journey_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    // A replay of an older step: a counted failure (the last accepted one, re-sent, is not).
    let older = app.code(&device, -1);
    assert_eq!(app.verify("alice", json!(older)).await.status(), 422);
    for _ in 0..9 {
        app.verify("alice", json!("000000")).await;
    }
    let codes: serde_json::Value = app
        .post(
            "/v1/users/bob/recovery-codes",
            Some(&app.client_key),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.verify("bob", codes["codes"][0].clone()).await.status(),
        200
    );
    // Alice is locked, so no verify of hers can step up: her device goes by an admin's key.
    let res = app
        .delete(
            &format!("/v1/users/alice/devices/{}", device.id),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(res.status(), 204);

    let rows = events(&app).await;
    let count = |action: &str, outcome: &str| {
        rows.iter()
            .filter(|r| r.0 == action && r.1 == outcome)
            .count()
    };
    assert_eq!(count("device_enrolled", "success"), 1);
    assert_eq!(count("device_confirmed", "success"), 1);
    assert_eq!(count("verify_succeeded", "success"), 2, "TOTP and recovery");
    assert_eq!(count("replay", "failure"), 1);
    assert_eq!(count("verify_failed", "failure"), 9);
    assert_eq!(
        count("user_locked", "success"),
        1,
        "the 10th failure (the replay counts) locks"
    );
    assert_eq!(count("recovery_codes_created", "success"), 1);
    assert_eq!(count("recovery_code_used", "success"), 1);
    assert_eq!(count("device_revoked", "success"), 1);

    let secret_b32 = device.json["secret"].as_str().unwrap();
    // The harness made its API keys as "system"; everything after was done with an API key (the
    // client's; the revoke with the admin's).
    for r in rows.iter().filter(|r| !r.0.starts_with("api_key_")) {
        assert!(r.4.starts_with("api_key:"), "actor: {r:?}");
        assert_eq!(r.5.as_deref(), Some("127.0.0.1"), "client IP: {r:?}");
        let detail = r.6.clone().unwrap_or_default();
        assert!(
            !detail.contains(secret_b32) && !detail.contains(&code),
            "no secret: {r:?}"
        );
    }
    let confirmed = rows.iter().find(|r| r.0 == "device_confirmed").unwrap();
    assert_eq!(confirmed.2.as_deref(), Some("alice"));
    assert_eq!(confirmed.3.as_deref(), Some(device.id.as_str()));
}

crate::both_backends!(every_step_of_the_journey_is_audited);
