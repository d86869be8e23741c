//! Revoking all of a user's devices kills their texted codes at once (SEC-21), with the `log`
//! gateway.

use serde_json::{Value, json};

use crate::admin::detail;
use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

const PHONE: &str = "+33612345678";
const PHONE_2: &str = "+33698765432";

fn texted(app: &TestApp, phone: &str) -> String {
    let sent = app.state.sms_outbox.as_ref().expect("log gateway").outbox();
    sent.iter()
        .rev()
        .find(|m| m.to == phone)
        .expect("a message")
        .code
        .clone()
}

async fn sms_device(app: &TestApp, key: &str, phone: &str) -> String {
    let res = app
        .post(
            "/v1/users/alice/devices/sms",
            Some(key),
            &json!({ "phone": phone }),
        )
        .await;
    assert_eq!(res.status(), 201, "enroll sms");
    let body: Value = res.json().await.unwrap();
    body["device"]["id"].as_str().unwrap().to_string()
}

/// SEC-21: revoke-all kills the texted codes of every phone: a login code of an active phone and
/// the confirmation code of a pending one both die with their devices.
async fn revoke_all_kills_pending_sms_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let active = sms_device(&app, &app.client_key, PHONE).await;
    let path = format!("/v1/users/alice/devices/{active}/confirm");
    let code = texted(&app, PHONE);
    let res = app
        .post(&path, Some(&app.client_key), &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200, "confirm");
    // Stands in for the 30 s resend cooldown (a real-time store TTL).
    let cooldown = format!("smscool:{{default/alice/{active}}}");
    assert!(app.state.store.delete(&cooldown).await.unwrap());
    let res = app
        .post("/v1/users/alice/sms", Some(&app.client_key), &json!({}))
        .await;
    assert_eq!(res.status(), 202);
    let login_code = texted(&app, PHONE);
    let pending = sms_device(&app, &app.admin_key, PHONE_2).await;
    let confirm_code = texted(&app, PHONE_2);
    let code_keys = [&active, &pending].map(|id| format!("smscode:{{default/alice/{id}}}"));
    for k in &code_keys {
        assert!(
            app.state.store.get(k).await.unwrap().is_some(),
            "{k} before"
        );
    }

    let res = app
        .delete("/v1/admin/users/alice/devices", Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 204);
    for k in &code_keys {
        assert!(
            app.state.store.get(k).await.unwrap().is_none(),
            "{k} killed"
        );
    }
    let res = app.verify("alice", json!(login_code)).await;
    assert_error(res, 422, "invalid_code").await;
    let path = format!("/v1/users/alice/devices/{pending}/confirm");
    let res = app
        .post(
            &path,
            Some(&app.client_key),
            &json!({ "code": confirm_code }),
        )
        .await;
    assert_error(res, 422, "invalid_code").await;
    let body = detail(&app, "alice").await;
    assert!(
        body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "revoked"),
        "{body}"
    );
}

crate::both_backends!(revoke_all_kills_pending_sms_codes);
