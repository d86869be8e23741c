//! Bearer authentication and the API key admin routes (SEC-22, SEC-26).

use diesel::prelude::*;
use twofold::app::api_keys::Role;
use twofold::db::schema::{api_keys, audit_events};

use crate::helpers::{Backend, assert_error, make_key, spawn_app};

async fn missing_malformed_and_unknown_keys_get_401(backend: Backend) {
    let app = spawn_app(backend).await;
    for key in [None, Some("tfk_unknown"), Some("not-even-a-key"), Some("")] {
        let res = app.get("/v1/admin/api-keys", key).await;
        assert_eq!(
            res.headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer")
        );
        assert_error(res, 401, "invalid_api_key").await;
    }
    // A Basic header with a valid key inside is not a bearer key.
    let res = app
        .http
        .get(app.url("/v1/admin/api-keys"))
        .header("Authorization", format!("Basic {}", app.admin_key))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "invalid_api_key").await;
}

async fn client_key_is_forbidden_on_admin_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/v1/admin/api-keys", Some(&app.client_key)).await;
    assert_error(res, 403, "forbidden").await;
    let res = app
        .delete("/v1/admin/api-keys/whatever", Some(&app.client_key))
        .await;
    assert_error(res, 403, "forbidden").await;
}

async fn admin_lists_keys_without_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/v1/admin/api-keys", Some(&app.admin_key)).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(&app.admin_key) && !text.contains(&app.client_key));
    assert!(!text.contains("key_hash"), "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys = body["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let admin = keys.iter().find(|k| k["role"] == "admin").unwrap();
    let client = keys.iter().find(|k| k["role"] == "client").unwrap();
    assert!(admin["tenant"].is_null());
    assert_eq!(client["tenant"], "default");
    assert_eq!(client["return_url_prefixes"][0], "https://rp.example/");
    assert_eq!(
        client["created_at"], "2026-01-01T12:00:00Z",
        "times come from the injected clock"
    );
}

async fn tenant_admin_sees_and_revokes_only_its_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme_admin = make_key(&app.state, Role::Admin, Some("acme")).await;
    let _acme_client = make_key(&app.state, Role::Client, Some("acme")).await;
    let res = app
        .get("/v1/admin/api-keys?tenant=default", Some(&acme_admin))
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    let keys = body["api_keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        2,
        "its own tenant whatever ?tenant says: {body}"
    );
    assert!(keys.iter().all(|k| k["tenant"] == "acme"));

    // The default tenant's client key is not found for acme's admin.
    let all: serde_json::Value = app
        .get("/v1/admin/api-keys?tenant=default", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    let default_client = all["api_keys"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(all["api_keys"].as_array().unwrap().len(), 1);
    let res = app
        .delete(
            &format!("/v1/admin/api-keys/{default_client}"),
            Some(&acme_admin),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    assert_eq!(
        app.get("/v1/admin/api-keys", Some(&app.admin_key))
            .await
            .status(),
        200
    );
}

async fn revoked_key_gets_401_at_once_and_both_changes_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = |body: serde_json::Value| -> Vec<String> {
        body["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_string())
            .collect()
    };
    let before = ids(app
        .get("/v1/admin/api-keys", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap());
    let victim = make_key(&app.state, Role::Admin, None).await;
    assert_eq!(
        app.get("/v1/admin/api-keys", Some(&victim)).await.status(),
        200
    );
    let after = ids(app
        .get("/v1/admin/api-keys", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap());
    let victim_id = after.into_iter().find(|id| !before.contains(id)).unwrap();
    let res = app
        .delete(
            &format!("/v1/admin/api-keys/{victim_id}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        app.get("/v1/admin/api-keys", Some(&victim)).await,
        401,
        "invalid_api_key",
    )
    .await;
    // Revoking twice: nothing left to revoke.
    let res = app
        .delete(
            &format!("/v1/admin/api-keys/{victim_id}"),
            Some(&app.admin_key),
        )
        .await;
    assert_error(res, 404, "not_found").await;

    let id = victim_id.clone();
    let events: Vec<(String, String, String)> = app
        .state
        .db
        .run(move |c| {
            Ok(audit_events::table
                .filter(audit_events::detail.like(format!("%{id}%")))
                .order(audit_events::id.asc())
                .select((
                    audit_events::action,
                    audit_events::actor,
                    audit_events::outcome,
                ))
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, "api_key_created");
    assert_eq!(events[1].0, "api_key_revoked");
    assert!(
        events[1].1.starts_with("api_key:"),
        "actor is the admin key: {events:?}"
    );
    assert_eq!(events[1].2, "success");
}

async fn keys_are_stored_only_as_keyed_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    let hashes: Vec<Vec<u8>> = app
        .state
        .db
        .run(|c| Ok(api_keys::table.select(api_keys::key_hash).load(c)?))
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    for h in hashes {
        assert_eq!(h.len(), 32);
        for key in [&app.admin_key, &app.client_key] {
            assert!(
                !h.windows(8)
                    .any(|w| key.as_bytes().windows(8).any(|k| k == w))
            );
        }
    }
}

crate::both_backends!(
    missing_malformed_and_unknown_keys_get_401,
    client_key_is_forbidden_on_admin_routes,
    admin_lists_keys_without_secrets,
    tenant_admin_sees_and_revokes_only_its_tenant,
    revoked_key_gets_401_at_once_and_both_changes_are_audited,
    keys_are_stored_only_as_keyed_hashes,
);
