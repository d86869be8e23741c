//! The admin API on one account: its detail (every device, lock state, no secret), revoking all
//! its devices at once (SEC-21) and unlocking it, each audited with the admin as actor (SEC-33).

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use twofold::clock::Clock;
use twofold::db::models::AuditEventRow;
use twofold::db::schema::audit_events as a;

use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

/// Every stored audit event, oldest first, once the background writer has caught up.
pub async fn audit_rows(app: &TestApp) -> Vec<AuditEventRow> {
    app.state.audit.flush().await;
    app.state
        .db
        .run(|c| {
            Ok(a::table
                .order(a::id.asc())
                .select(AuditEventRow::as_select())
                .load(c)?)
        })
        .await
        .unwrap()
}

/// The stored events of one action, oldest first.
pub async fn audit_of(app: &TestApp, action: &str) -> Vec<AuditEventRow> {
    let mut rows = audit_rows(app).await;
    rows.retain(|r| r.action == action);
    rows
}

/// The id of the key whose secret this is.
pub async fn key_id(app: &TestApp, secret: &str) -> String {
    twofold::app::api_keys::authenticate(&app.state.db, &app.state.keys, secret)
        .await
        .unwrap()
        .expect("an active key")
        .id
}

/// `GET /v1/admin/users/{user}` with the all-tenant admin key; panics unless 200.
pub async fn detail(app: &TestApp, user: &str) -> Value {
    let res = app
        .get(&format!("/v1/admin/users/{user}"), Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 200, "admin user detail");
    res.json().await.unwrap()
}

pub fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("a time: {v}"))
        .parse()
        .unwrap()
}

fn device<'a>(detail: &'a Value, id: &str) -> &'a Value {
    detail["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("device {id} in {detail}"))
}

/// Pending, active and revoked devices all show, with last use and no secret; an expired pending
/// device shows `expired`; unknown users are 404.
async fn detail_shows_every_device_and_no_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let enrolled_at = app.clock.now();
    let used = app.enroll("alice", json!({"label": "used"})).await;
    app.clock.advance(TimeDelta::seconds(1));
    let revoked = app.enroll("alice", json!({"label": "revoked"})).await;
    app.clock.advance(TimeDelta::seconds(1));
    let pending = app.enroll("alice", json!({"label": "pending"})).await;
    let pending_until = app.clock.now() + TimeDelta::minutes(10);
    assert_eq!(
        app.confirm("alice", &used, &app.code(&used, 0))
            .await
            .status(),
        200
    );
    let confirmed_at = app.clock.now();
    app.clock.advance(TimeDelta::seconds(30));
    let path = format!("/v1/users/alice/devices/{}", revoked.id);
    // Beside alice's active device a client key would need her step-up; an admin's needs none.
    assert_eq!(app.delete(&path, Some(&app.admin_key)).await.status(), 204);
    let revoked_at = app.clock.now();
    app.clock.advance(TimeDelta::seconds(30));
    let res = app
        .post(
            "/v1/users/alice/recovery-codes",
            // An admin key needs no step-up.
            Some(&app.admin_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let codes: Value = res.json().await.unwrap();
    assert_eq!(
        app.verify("alice", json!(app.code(&used, 0)))
            .await
            .status(),
        200
    );
    let used_at = app.clock.now();
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        app.verify("alice", codes["codes"][3].clone())
            .await
            .status(),
        200
    );
    for _ in 0..2 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }

    let res = app.get("/v1/admin/users/alice", Some(&app.admin_key)).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    for e in [&used, &revoked, &pending] {
        for field in ["secret", "otpauth_uri", "qr_svg"] {
            let value = e.json[field].as_str().unwrap();
            assert!(!text.contains(value), "{field} of {} in {text}", e.id);
        }
    }
    for code in codes["codes"].as_array().unwrap() {
        assert!(
            !text.contains(code.as_str().unwrap()),
            "recovery code in {text}"
        );
    }
    for word in ["otpauth", "secret", "sealed", "hash"] {
        assert!(!text.contains(word), "{word} in {text}");
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&body["tenant"], &body["user"]),
        (&json!("default"), &json!("alice"))
    );
    assert_eq!(time(&body["created_at"]), enrolled_at);
    assert_eq!(
        body["lock"],
        json!({"failures": 2, "locked_until": null, "lock_level": 0})
    );
    assert_eq!(body["recovery_codes_left"], 9);
    let ids: Vec<&str> = body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [&used.id, &revoked.id, &pending.id], "oldest first");

    let d = device(&body, &used.id);
    assert_eq!(
        (&d["status"], &d["label"]),
        (&json!("active"), &json!("used"))
    );
    assert_eq!(time(&d["confirmed_at"]), confirmed_at);
    assert_eq!(time(&d["last_used_at"]), used_at, "the TOTP verify");
    assert!(d["revoked_at"].is_null());
    let d = device(&body, &revoked.id);
    assert_eq!(d["status"], "revoked");
    assert_eq!(time(&d["revoked_at"]), revoked_at);
    assert!(d["last_used_at"].is_null() && d["confirmed_at"].is_null());
    let d = device(&body, &pending.id);
    assert_eq!(d["status"], "pending");
    assert_eq!(time(&d["expires_at"]), pending_until);
    assert!(d["last_used_at"].is_null());

    // Past its confirmation window, the pending device shows as expired.
    app.clock.advance(TimeDelta::minutes(10));
    let body = detail(&app, "alice").await;
    assert_eq!(device(&body, &pending.id)["status"], "expired");
    assert_eq!(device(&body, &used.id)["status"], "active");
    assert_eq!(device(&body, &revoked.id)["status"], "revoked");

    let res = app
        .get("/v1/admin/users/nobody", Some(&app.admin_key))
        .await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .get("/v1/admin/users/alice?tenant=acme", Some(&app.admin_key))
        .await;
    assert_error(res, 404, "not_found").await;
}

/// SEC-21: revoke-all takes effect on the very next verify, for active and pending devices alike,
/// one `device_revoked` event each with the admin as actor; other users are untouched.
async fn revoke_all_takes_effect_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let active = app.active_device("alice").await;
    // An admin key needs no step-up to add a second device.
    let res = app
        .post(
            "/v1/users/alice/devices/totp",
            Some(&app.admin_key),
            &json!({"label": "second"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let pending: Value = res.json().await.unwrap();
    let pending_id = pending["device"]["id"].as_str().unwrap().to_string();
    let bob = app.active_device("bob").await;
    assert_eq!(
        app.verify("alice", json!(app.code(&active, 0)))
            .await
            .status(),
        200
    );
    app.clock.advance(TimeDelta::seconds(30));

    let res = app
        .delete("/v1/admin/users/alice/devices", Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 204);
    let revoked_at = app.clock.now();
    let res = app.verify("alice", json!(app.code(&active, 0))).await;
    assert_error(res, 422, "invalid_code").await;

    let body = detail(&app, "alice").await;
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    for d in devices {
        assert_eq!(d["status"], "revoked", "{d}");
        assert_eq!(time(&d["revoked_at"]), revoked_at);
    }

    let admin = format!("api_key:{}", key_id(&app, &app.admin_key).await);
    let mut events = audit_of(&app, "device_revoked").await;
    events.sort_by(|x, y| x.device_id.cmp(&y.device_id));
    let mut expected = vec![active.id.clone(), pending_id];
    expected.sort();
    let devices: Vec<String> = events.iter().filter_map(|e| e.device_id.clone()).collect();
    assert_eq!(devices, expected, "one event per device");
    for e in &events {
        assert_eq!(
            (e.tenant.as_str(), e.user_id.as_deref()),
            ("default", Some("alice"))
        );
        assert_eq!(
            (e.actor.as_str(), e.outcome.as_str()),
            (admin.as_str(), "success")
        );
        assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(e.at, revoked_at.naive_utc());
        let detail: Value = serde_json::from_str(e.detail.as_deref().unwrap()).unwrap();
        assert_eq!(detail, json!({"all_devices": true}));
    }

    // Bob keeps his device; nothing is left to revoke for alice; unknown users are 404.
    assert_eq!(
        app.verify("bob", json!(app.code(&bob, 0))).await.status(),
        200
    );
    let res = app
        .delete("/v1/admin/users/alice/devices", Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 204);
    // Asked and done with nothing to revoke: one more event, naming no device.
    let revoked = audit_of(&app, "device_revoked").await;
    assert_eq!(revoked.len(), 3);
    assert_eq!(revoked[2].device_id, None);
    let detail: Value = serde_json::from_str(revoked[2].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail, json!({"all_devices": true, "revoked": 0}));
    let res = app
        .delete("/v1/admin/users/nobody/devices", Some(&app.admin_key))
        .await;
    assert_error(res, 404, "not_found").await;
}

/// Admin unlock ends the lock and clears the failure count and the lock level: the next lock is
/// the first again (15 minutes, not 30). Both the lock and the unlock are audited.
async fn unlock_clears_lock_count_and_level(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    for _ in 0..3 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    assert_eq!(
        detail(&app, "alice").await["lock"],
        json!({"failures": 3, "locked_until": null, "lock_level": 0})
    );
    for _ in 0..7 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    let locked_at = app.clock.now();
    let lock = detail(&app, "alice").await["lock"].clone();
    assert_eq!(
        time(&lock["locked_until"]),
        locked_at + TimeDelta::minutes(15)
    );
    assert_eq!(lock["lock_level"], 1);
    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    assert_error(res, 429, "user_locked").await;

    let res = app
        .post(
            "/v1/admin/users/alice/unlock",
            Some(&app.admin_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        detail(&app, "alice").await["lock"],
        json!({"failures": 0, "locked_until": null, "lock_level": 0})
    );
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );

    let admin = format!("api_key:{}", key_id(&app, &app.admin_key).await);
    let locked = audit_of(&app, "user_locked").await;
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].user_id.as_deref(), Some("alice"));
    let unlocked = audit_of(&app, "user_unlocked").await;
    assert_eq!(unlocked.len(), 1);
    let e = &unlocked[0];
    assert_eq!(
        (e.tenant.as_str(), e.user_id.as_deref()),
        ("default", Some("alice"))
    );
    assert_eq!(
        (e.actor.as_str(), e.ip.as_deref()),
        (admin.as_str(), Some("127.0.0.1"))
    );
    let cleared: Value = serde_json::from_str(e.detail.as_deref().unwrap()).unwrap();
    assert_eq!(
        (&cleared["was_locked"], &cleared["lock_level"]),
        (&json!(true), &json!(1))
    );

    // Lock level 0 again: the next lock lasts the base 15 minutes.
    app.clock.advance(TimeDelta::seconds(30));
    for _ in 0..10 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    let lock = detail(&app, "alice").await["lock"].clone();
    assert_eq!(lock["lock_level"], 1, "{lock}");
    assert_eq!(
        time(&lock["locked_until"]),
        app.clock.now() + TimeDelta::minutes(15)
    );
}

crate::both_backends!(
    detail_shows_every_device_and_no_secret,
    revoke_all_takes_effect_at_once,
    unlock_clears_lock_count_and_level,
);
