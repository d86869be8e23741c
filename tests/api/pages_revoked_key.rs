//! A hosted flow lives only as long as the key that asked for its link stands: a key revoked
//! mid-way ends the flow with the error page and no assertion; a link whose key is not of the
//! link's tenant never opens.

use serde_json::Value;
use twofold::app::api_keys;
use twofold::app::links::{self, LinkRequest, Purpose};
use twofold::app::users::Subject;

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::pages_links::{Browser, RETURN_URL, field, link, open, page};

/// Revokes the test app's client key (the one `link` asks with) through the admin API.
async fn revoke_client_key(app: &TestApp) {
    let keys: Value = app
        .get("/v1/admin/api-keys", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    let id = keys["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "client")
        .expect("the client key")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .delete(&format!("/v1/admin/api-keys/{id}"), Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 204);
}

async fn a_key_revoked_mid_verify_ends_the_flow_without_an_assertion(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let l = link(&app, "alice", "verify", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    revoke_client_key(&app).await;
    let code = app.code(&device, 0);
    let res = b.post(&l.path, &[("csrf", &csrf), ("code", &code)]).await;
    assert!(res.headers().get("location").is_none(), "no way back");
    let html = page(res, 404).await;
    assert!(!html.contains("assertion"), "{html}");
    // The flow is over, not merely refused once.
    page(b.get(&l.path).await, 404).await;
    // The code was not used: the device still takes it (through an admin key).
    let res = app
        .post(
            "/v1/users/alice/verify",
            Some(&app.admin_key),
            &serde_json::json!({ "code": code }),
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn a_key_revoked_mid_enroll_ends_the_flow(backend: Backend) {
    let app = spawn_app(backend).await;
    let l = link(&app, "bob", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert_eq!(field(&html, "csrf"), csrf);
    revoke_client_key(&app).await;
    let res = b.post(&format!("{}/app", l.path), &[("csrf", &csrf)]).await;
    page(res, 404).await;
    let res = app.get("/v1/admin/users/bob", Some(&app.admin_key)).await;
    assert_eq!(res.status(), 404, "no device was made, so no user either");
}

async fn a_link_for_another_tenant_than_its_keys_never_opens(backend: Backend) {
    let app = spawn_app(backend).await;
    let state = &app.state;
    let key = api_keys::authenticate(&state.db, &state.keys, &app.client_key)
        .await
        .unwrap()
        .unwrap();
    let subject = Subject::new("other".into(), "alice".into()).unwrap();
    let want = LinkRequest {
        purpose: Purpose::Verify,
        return_url: RETURN_URL.into(),
        state: None,
        account_name: None,
    };
    let now = state.clock.now();
    let made = links::create(&state.keys, &state.public_url, &key, &subject, want, now).unwrap();
    let path = url::Url::parse(&made.url).unwrap().path().to_string();
    let mut b = Browser::new(&app);
    page(b.get(&path).await, 404).await;
}

crate::both_backends!(
    a_key_revoked_mid_verify_ends_the_flow_without_an_assertion,
    a_key_revoked_mid_enroll_ends_the_flow,
    a_link_for_another_tenant_than_its_keys_never_opens,
);
