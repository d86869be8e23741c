//! What cannot be undone is confirmed first: the console's revoke buttons (a device, every device
//! of a user, an API key) post to a page that says what will happen, and only that page's post,
//! with the session's CSRF token, acts. Revoking the session's own key says so, and signs out.

use reqwest::header::SET_COOKIE;
use serde_json::Value;
use twofold::app::api_keys::Role;

use crate::console::{Browser, field, location};
use crate::helpers::{Backend, Enrollment, TestApp, make_key, spawn_app};

async fn device_status(app: &TestApp, user: &str) -> Vec<String> {
    let detail: Value = app
        .get(&format!("/v1/admin/users/{user}"), Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    detail["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_string())
        .collect()
}

/// An active TOTP device of `user` labelled "phone".
async fn phone(app: &TestApp, user: &str) -> Enrollment {
    let device = app
        .enroll(user, serde_json::json!({"label": "phone"}))
        .await;
    let res = app.confirm(user, &device, &app.code(&device, 0)).await;
    assert_eq!(res.status(), 200, "confirm");
    app.clock.advance(chrono::TimeDelta::seconds(30));
    device
}

async fn a_device_and_all_devices_are_revoked_only_once_confirmed(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = phone(&app, "alice").await;
    phone(&app, "bob").await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/user?tenant=default&user=alice").await;
    let csrf = field(&html, "csrf");
    let target = [
        ("csrf", csrf.as_str()),
        ("tenant", "default"),
        ("user", "alice"),
        ("device", device.id.as_str()),
    ];

    // The button's post: a page saying what would happen, and nothing done.
    let res = b.post("/admin/user/revoke", &target).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for part in [
        "<title>Revoke device “phone” of alice?",
        "<dt>Device</dt><dd>phone</dd>",
        "<dt>User</dt><dd>alice</dd>",
        "This cannot be undone.",
        "name=\"confirmed\" value=\"yes\"",
        "<button type=\"submit\" class=\"danger\">Revoke</button>",
        "<a href=\"/admin/user?tenant=default&#38;user=alice\">Cancel</a>",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert_eq!(device_status(&app, "alice").await, ["active"]);

    // The confirmation's post needs the token like any other.
    let mut confirmed = target.to_vec();
    confirmed.push(("confirmed", "yes"));
    let forged: Vec<_> = confirmed.iter().filter(|(k, _)| *k != "csrf").collect();
    let forged: Vec<(&str, &str)> = forged.into_iter().copied().collect();
    assert_eq!(b.post("/admin/user/revoke", &forged).await.status(), 403);
    assert_eq!(device_status(&app, "alice").await, ["active"]);

    let res = b.post("/admin/user/revoke", &confirmed).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/user?tenant=default&user=alice&done=revoked")
    );
    assert_eq!(device_status(&app, "alice").await, ["revoked"]);
    // Gone already: nothing left to confirm.
    assert_eq!(b.post("/admin/user/revoke", &target).await.status(), 404);

    // Every device of bob: the page counts them; only the confirmation acts.
    let all = [
        ("csrf", csrf.as_str()),
        ("tenant", "default"),
        ("user", "bob"),
    ];
    let res = b.post("/admin/user/revoke-all", &all).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Revoke every device of bob?")
            && html.contains("<dd>1: phone (totp, active)</dd>")
            && html.contains(">Revoke all devices</button>"),
        "{html}"
    );
    assert_eq!(device_status(&app, "bob").await, ["active"]);
    let mut confirmed = all.to_vec();
    confirmed.push(("confirmed", "yes"));
    assert_eq!(
        b.post("/admin/user/revoke-all", &confirmed).await.status(),
        303
    );
    assert_eq!(device_status(&app, "bob").await, ["revoked"]);
}

/// Every key of `tenant`, through the admin API: (id, revoked).
async fn keys_of(app: &TestApp, tenant: &str) -> Vec<(String, bool)> {
    let keys: Value = app
        .get("/v1/admin/api-keys", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    keys["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["tenant"] == tenant)
        .map(|k| {
            let id = k["id"].as_str().unwrap().to_string();
            (id, !k["revoked_at"].is_null())
        })
        .collect()
}

/// The one key of `tenant`, and whether it is revoked.
async fn key_of(app: &TestApp, tenant: &str) -> (String, bool) {
    let keys = keys_of(app, tenant).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    keys[0].clone()
}

async fn an_api_key_is_revoked_once_confirmed_and_the_own_key_signs_out(backend: Backend) {
    let app = spawn_app(backend).await;
    make_key(&app.state, Role::Client, Some("acme")).await;
    let console_key = make_key(&app.state, Role::Admin, Some("zeta")).await;
    let (acme_id, _) = key_of(&app, "acme").await;
    let (own_id, _) = key_of(&app, "zeta").await;
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in(&console_key).await.status(), 303);
    let csrf = field(&b.page("/admin/api-keys").await, "csrf");

    // zeta's admin sees only zeta's keys: acme's is not there to revoke.
    let path = format!("/admin/api-keys/{acme_id}/revoke");
    assert_eq!(b.post(&path, &[("csrf", &csrf)]).await.status(), 404);

    // An all-tenant admin revokes acme's key: asked first, without a warning.
    let mut admin = Browser::new(&app);
    admin.sign_in(&app.admin_key).await;
    let admin_csrf = field(&admin.page("/admin/api-keys").await, "csrf");
    let res = admin.post(&path, &[("csrf", &admin_csrf)]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("<dt>Id</dt><dd>{acme_id}</dd>"))
            && html.contains("<dt>Tenant</dt><dd>acme</dd>")
            && html.contains("<a href=\"/admin/api-keys\">Cancel</a>")
            && !html.contains("Warning:"),
        "{html}"
    );
    assert_eq!(key_of(&app, "acme").await, (acme_id.clone(), false));
    let res = admin
        .post(&path, &[("csrf", &admin_csrf), ("confirmed", "yes")])
        .await;
    assert_eq!(location(&res), "/admin/api-keys?done=revoked");
    assert_eq!(key_of(&app, "acme").await, (acme_id, true));

    // The session's own key: the page warns that revoking it signs out.
    let own = format!("/admin/api-keys/{own_id}/revoke");
    let html = b.post(&own, &[("csrf", &csrf)]).await.text().await.unwrap();
    assert!(
        html.contains(
            "<strong>Warning:</strong> This is the key this session signed in with: \
                       revoking it signs you out at once."
        ),
        "{html}"
    );
    let session = b.cookies_now();
    let res = b.post(&own, &[("csrf", &csrf), ("confirmed", "yes")]).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/login?ended=key_revoked")
    );
    let removed = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("twofold_admin=;"));
    assert!(removed, "the session cookie is removed");
    let html = b.page("/admin/login?ended=key_revoked").await;
    assert!(
        html.contains(
            "You revoked the API key this session signed in with, so you are signed out."
        ),
        "{html}"
    );
    // The session itself is gone, not only its cookie.
    let mut replay = Browser::with_cookies(&app, session);
    let res = replay.get("/admin/api-keys").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/login")
    );
    assert_eq!(key_of(&app, "zeta").await, (own_id, true));
}

crate::both_backends!(
    a_device_and_all_devices_are_revoked_only_once_confirmed,
    an_api_key_is_revoked_once_confirmed_and_the_own_key_signs_out,
);
