//! The enroll page's step-up, beyond the happy path: a stale one sends the user back to the form,
//! a phone-only user is texted a code for it, and the recovery codes made on the done page leave
//! the relying party's assertion unused (SEC-7).

use chrono::{TimeDelta, Utc};
use serde_json::json;

use crate::helpers::{Backend, spawn_app};
use crate::pages_enroll::{KEY_SHOWN, STEP_UP, assert_choice, choose_app, code, confirm, step};
use crate::pages_links::{Browser, back, link, open, page};
use crate::pages_verify::active_phone;
use crate::sms::outbox;

/// A step-up older than five minutes is refused, and the page asks for a new code.
async fn a_stale_step_up_asks_again(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let old = app.active_device("kim").await;
    let l = link(&app, "kim", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let html = step(
        &mut b,
        &l,
        "/step-up",
        &[("csrf", &csrf), ("code", &app.code(&old, 0))],
    )
    .await;
    assert_choice(&html, &l);

    app.clock.advance(TimeDelta::minutes(6));
    let res = b.post(&format!("{}/app", l.path), &[("csrf", &csrf)]).await;
    let html = page(res, 403).await;
    assert!(
        html.contains("First a code from your existing device"),
        "{html}"
    );
    assert!(html.contains(STEP_UP), "{html}");
    let html = step(
        &mut b,
        &l,
        "/step-up",
        &[("csrf", &csrf), ("code", &app.code(&old, 0))],
    )
    .await;
    assert_choice(&html, &l);
    choose_app(&mut b, &l, &csrf).await;
}

/// A user whose only device is a phone gets a texted code for the step-up.
async fn a_phone_only_user_is_texted_a_step_up_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let phone = active_phone(&app, "lee").await;
    let l = link(&app, "lee", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert!(
        html.contains(STEP_UP) && html.contains("Text me a code"),
        "{html}"
    );
    let sent = outbox(&app).len();
    let res = b
        .post(
            &format!("{}/sms", l.path),
            &[("csrf", &csrf), ("device", &phone)],
        )
        .await;
    let html = page(res, 200).await;
    assert!(
        html.contains("We sent a code to your phone ending in 78"),
        "{html}"
    );
    assert_eq!(outbox(&app).len(), sent + 1);
    let texted = outbox(&app).last().unwrap().code.clone();
    let html = step(
        &mut b,
        &l,
        "/step-up",
        &[("csrf", &csrf), ("code", &texted)],
    )
    .await;
    assert_choice(&html, &l);
}

/// Recovery codes on the done page need a step-up of their own: the assertion handed back to the
/// relying party stays unused, so it can still serve as its step-up.
async fn recovery_codes_leave_the_assertion_unused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let l = link(&app, "max", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let secret = choose_app(&mut b, &l, &csrf).await;
    let done = confirm(&mut b, &l, &csrf, &code(&app, &secret, 0), KEY_SHOWN).await;
    // Made once: reloading shows the same set, and asking for one makes no new set.
    let html = page(b.get(&l.path).await, 200).await;
    assert_eq!(html, done);
    let res = b
        .post(&format!("{}/recovery", l.path), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(page(b.get(&l.path).await, 200).await, done);

    let res = b
        .post(
            &format!("{}/finish", l.path),
            &[("csrf", &csrf), ("saved", "yes")],
        )
        .await;
    let assertion = back(&res, None);
    // The relying party uses it as the step-up for another device: accepted, once.
    let body = json!({ "label": "spare", "step_up": assertion });
    let res = app
        .post("/v1/users/max/devices/totp", Some(&app.client_key), &body)
        .await;
    assert_eq!(res.status(), 201);
}

/// SEC-36: a link dies with the API key that asked for it.
async fn a_revoked_keys_links_do_not_open(backend: Backend) {
    let app = spawn_app(backend).await;
    let l = link(&app, "ned", "verify", None).await;
    let keys: serde_json::Value = app
        .get("/v1/admin/api-keys", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    let client = keys["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "client")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/admin/api-keys/{client}");
    assert_eq!(app.delete(&path, Some(&app.admin_key)).await.status(), 204);
    let html = page(Browser::new(&app).get(&l.path).await, 404).await;
    assert!(html.contains("This link is not valid"), "{html}");
}

crate::both_backends!(
    a_revoked_keys_links_do_not_open,
    a_stale_step_up_asks_again,
    a_phone_only_user_is_texted_a_step_up_code,
    recovery_codes_leave_the_assertion_unused,
);
