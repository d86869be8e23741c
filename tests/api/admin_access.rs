//! Who may use the admin routes (SEC-22): only admin keys, a tenant-scoped admin key only inside
//! its tenant; a client key is refused before anything happens.

use serde_json::{Value, json};
use twofold::app::api_keys::Role;
use twofold::factor::totp::Params;

use crate::admin::{audit_of, detail, key_id};
use crate::helpers::{
    Backend, Enrollment, TestApp, assert_error, base32_decode, make_key, spawn_app,
};

/// Every admin route, with a path that would act on `alice` or on a real key.
fn admin_routes(key_id: &str) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    vec![
        (Method::GET, "/v1/admin/users".into()),
        (Method::GET, "/v1/admin/users?q=al&limit=5".into()),
        (Method::GET, "/v1/admin/users/alice".into()),
        (Method::POST, "/v1/admin/users/alice/unlock".into()),
        (Method::DELETE, "/v1/admin/users/alice/devices".into()),
        (Method::GET, "/v1/admin/audit".into()),
        (Method::GET, "/v1/admin/audit?tenant=*&limit=5".into()),
        (Method::GET, "/v1/admin/api-keys".into()),
        (Method::DELETE, format!("/v1/admin/api-keys/{key_id}")),
        (Method::GET, "/v1/admin/sms/breaker".into()),
        (Method::DELETE, "/v1/admin/sms/breaker".into()),
    ]
}

async fn call(
    app: &TestApp,
    method: &reqwest::Method,
    path: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = app.http.request(method.clone(), app.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.expect("request")
}

/// A client key gets 403 `forbidden` on each admin route and changes nothing; no key or an
/// unknown one gets 401 `invalid_api_key`. None of it is audited as an admin request.
async fn only_admin_keys_pass(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme_client = make_key(&app.state, Role::Client, Some("acme")).await;
    let device = app.active_device("alice").await;
    for _ in 0..10 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    let admin_id = key_id(&app, &app.admin_key).await;
    for (method, path) in admin_routes(&admin_id) {
        for key in [&app.client_key, &acme_client] {
            let res = call(&app, &method, &path, Some(key)).await;
            assert_eq!(res.status(), 403, "{method} {path}");
            assert_error(res, 403, "forbidden").await;
        }
        for key in [None, Some("tfk_unknown")] {
            let res = call(&app, &method, &path, key).await;
            assert_eq!(res.status(), 401, "{method} {path} with {key:?}");
            assert_error(res, 401, "invalid_api_key").await;
        }
    }

    for action in [
        "admin_request",
        "user_unlocked",
        "device_revoked",
        "api_key_revoked",
        "sms_breaker_reset",
    ] {
        assert_eq!(audit_of(&app, action).await.len(), 0, "{action}");
    }
    // Still locked, the device still active, the admin key still valid.
    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    assert_error(res, 429, "user_locked").await;
    let body = detail(&app, "alice").await;
    assert_eq!(body["devices"][0]["status"], "active");
    assert_eq!(body["lock"]["lock_level"], 1);
    assert!(body["lock"]["locked_until"].is_string(), "{body}");
}

/// A TOTP enrollment with `key` (201), as `TestApp::enroll` does with the default client key.
async fn enroll_as(app: &TestApp, key: &str, user: &str) -> Enrollment {
    let path = format!("/v1/users/{user}/devices/totp");
    let res = app.post(&path, Some(key), &json!({})).await;
    assert_eq!(res.status(), 201, "enroll");
    let json: Value = res.json().await.unwrap();
    let d = &json["device"];
    Enrollment {
        id: d["id"].as_str().unwrap().to_string(),
        secret: base32_decode(json["secret"].as_str().unwrap()),
        params: Params::new(
            d["algorithm"].as_str().unwrap().parse().unwrap(),
            d["digits"].as_u64().unwrap() as u8,
            d["period"].as_u64().unwrap() as u32,
        )
        .unwrap(),
        json,
    }
}

async fn verify_as(app: &TestApp, key: &str, user: &str, code: &str) -> reqwest::Response {
    let path = format!("/v1/users/{user}/verify");
    app.post(&path, Some(key), &json!({ "code": code })).await
}

fn device_ids(body: &Value) -> Vec<&str> {
    body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect()
}

/// SEC-22: a tenant-scoped admin key sees and changes only its own tenant, whatever `?tenant=`
/// says; the same user id in two tenants is two users.
async fn tenant_admin_stays_in_its_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme_admin = make_key(&app.state, Role::Admin, Some("acme")).await;
    let acme_client = make_key(&app.state, Role::Client, Some("acme")).await;
    let home = app.active_device("alice").await;

    for path in [
        "/v1/admin/users/alice",
        "/v1/admin/users/alice?tenant=default",
    ] {
        assert_error(app.get(path, Some(&acme_admin)).await, 404, "not_found").await;
    }
    let res = app
        .delete(
            "/v1/admin/users/alice/devices?tenant=default",
            Some(&acme_admin),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .get("/v1/admin/users?tenant=default", Some(&acme_admin))
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["users"], json!([]), "{page}");
    assert_eq!(
        app.verify("alice", json!(app.code(&home, 0)))
            .await
            .status(),
        200,
        "default's alice keeps her device"
    );

    // acme's alice: another user with the same id.
    let away = enroll_as(&app, &acme_client, "alice").await;
    let path = format!("/v1/users/alice/devices/{}/confirm", away.id);
    let code = app.code(&away, 0);
    let res = app
        .post(&path, Some(&acme_client), &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
    let list: Value = app
        .get("/v1/users/alice/devices", Some(&acme_client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(device_ids(&list), [away.id.as_str()]);
    let res = app
        .get("/v1/admin/users/alice?tenant=default", Some(&acme_admin))
        .await;
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["tenant"], "acme");
    assert_eq!(device_ids(&seen), [away.id.as_str()]);
    assert_eq!(device_ids(&detail(&app, "alice").await), [home.id.as_str()]);

    // acme's alice locked out; default's alice is not.
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let home_code = app.code(&home, 0);
    if home_code != app.code(&away, 0) {
        let res = verify_as(&app, &acme_client, "alice", &home_code).await;
        assert_error(res, 422, "invalid_code").await;
    }
    for _ in 0..10 {
        verify_as(&app, &acme_client, "alice", "000000").await;
    }
    let res = verify_as(&app, &acme_client, "alice", &app.code(&away, 0)).await;
    assert_error(res, 429, "user_locked").await;
    assert_eq!(
        detail(&app, "alice").await["lock"],
        json!({"failures": 0, "locked_until": null, "lock_level": 0})
    );
    assert_eq!(app.verify("alice", json!(home_code)).await.status(), 200);

    // Its unlock acts on acme's alice, whatever ?tenant= says.
    let res = app
        .post(
            "/v1/admin/users/alice/unlock?tenant=default",
            Some(&acme_admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let unlocked = audit_of(&app, "user_unlocked").await;
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0].tenant, "acme");

    // Its audit search: acme's events only, its own admin requests included.
    app.state.audit.flush().await;
    let acme_id = key_id(&app, &acme_admin).await;
    for query in ["", "?tenant=*", "?tenant=default"] {
        let res = app
            .get(&format!("/v1/admin/audit{query}"), Some(&acme_admin))
            .await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let events = page["events"].as_array().unwrap();
        assert!(
            events.iter().all(|e| e["tenant"] == "acme"),
            "{query}: {page}"
        );
        let has = |action: &str| events.iter().any(|e| e["action"] == action);
        for action in [
            "device_enrolled",
            "device_confirmed",
            "user_locked",
            "user_unlocked",
        ] {
            assert!(has(action), "{action} in {query}: {page}");
        }
        assert!(
            events
                .iter()
                .any(|e| e["action"] == "admin_request"
                    && e["actor"] == format!("api_key:{acme_id}")),
            "{page}"
        );
    }
    let res = app
        .get(
            "/v1/admin/audit?user=alice&tenant=default",
            Some(&acme_admin),
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert!(
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant"] == "acme"),
        "{page}"
    );
}

/// SEC-22, SEC-33: the key is judged before the query string. A client key gets 403 even when
/// the query is malformed (not a 400 that describes the admin route's parameters), and an admin
/// key's request with a malformed query is still an audited admin request.
async fn the_key_is_judged_before_the_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let paths = [
        "/v1/admin/users?bogus=1",
        "/v1/admin/users/alice?bogus=1",
        "/v1/admin/audit?since=yesterday",
    ];
    for path in paths {
        assert_error(app.get(path, Some(&app.client_key)).await, 403, "forbidden").await;
    }
    for path in paths {
        let res = app.get(path, Some(&app.admin_key)).await;
        assert_error(res, 400, "invalid_request").await;
    }
    assert_eq!(audit_of(&app, "admin_request").await.len(), paths.len());
}

/// The SMS budget and its breaker are shared by every tenant: a tenant's admin may neither see
/// nor reset them.
async fn only_an_all_tenant_admin_touches_the_sms_breaker(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme_admin = make_key(&app.state, Role::Admin, Some("acme")).await;
    let breaker = "/v1/admin/sms/breaker";
    assert_error(app.get(breaker, Some(&acme_admin)).await, 403, "forbidden").await;
    assert_error(
        app.delete(breaker, Some(&acme_admin)).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(audit_of(&app, "sms_breaker_reset").await.len(), 0);
    assert_eq!(app.get(breaker, Some(&app.admin_key)).await.status(), 200);
    assert_eq!(
        app.delete(breaker, Some(&app.admin_key)).await.status(),
        204
    );
    let reset = audit_of(&app, "sms_breaker_reset").await;
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0].ip.as_deref(), Some("127.0.0.1"));
}

crate::both_backends!(
    only_admin_keys_pass,
    only_an_all_tenant_admin_touches_the_sms_breaker,
    tenant_admin_stays_in_its_tenant,
    the_key_is_judged_before_the_query,
);
