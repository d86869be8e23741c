//! SMS limits between tenants (SEC-29, REL-6): each tenant has its own daily budget and breaker and
//! its own per-number and per-prefix counts, so one tenant's sends cannot deny texts to another's
//! users; the global budget stays the ceiling over all of them.

use serde_json::{Value, json};
use twofold::app::api_keys::Role;

use crate::helpers::{Backend, TestApp, assert_error, make_key, spawn_app_with};
use crate::sms::{PHONE, PHONE_2, outbox, retry_after};

const BREAKER: &str = "/v1/admin/sms/breaker";

/// Enrolls `phone` for `user` with `key` (a client key of the user's tenant).
async fn enroll(app: &TestApp, key: &str, user: &str, phone: &str) -> reqwest::Response {
    let path = format!("/v1/users/{user}/devices/sms");
    app.post(&path, Some(key), &json!({ "phone": phone })).await
}

async fn breaker(app: &TestApp, query: &str) -> Value {
    let res = app
        .get(&format!("{BREAKER}{query}"), Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn is_exhausted(res: reqwest::Response) {
    let wait = retry_after(&res);
    assert!((1..=86_400).contains(&wait), "Retry-After {wait}");
    assert_error(res, 503, "sms_budget_exhausted").await;
}

/// A tenant that spends its daily budget trips its own breaker: another tenant keeps sending, the
/// admin sees and resets each breaker on its own, and the global budget is still the ceiling.
async fn a_tenants_budget_trips_its_own_breaker_first(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.sms_tenant_daily_budget = 2;
        raw.sms_daily_budget = 5;
    })
    .await;
    let (default, acme) = (
        app.client_key.clone(),
        make_key(&app.state, Role::Client, Some("acme")).await,
    );
    for (user, phone) in [("a", "+33622345678"), ("b", "+33632345678")] {
        assert_eq!(enroll(&app, &default, user, phone).await.status(), 201);
    }
    is_exhausted(enroll(&app, &default, "c", "+33642345678").await).await;
    // Another tenant, to another number and to one the first tenant texted: sent.
    assert_eq!(enroll(&app, &acme, "x", "+33652345678").await.status(), 201);
    assert_eq!(enroll(&app, &acme, "y", "+33622345678").await.status(), 201);
    assert_eq!(outbox(&app).len(), 4);

    let status = breaker(&app, "").await;
    assert_eq!(
        (&status["tripped"], &status["sent_today"]),
        (&json!(false), &json!(4))
    );
    assert!(status.get("tenant").is_none(), "{status}");
    let status = breaker(&app, "?tenant=default").await;
    assert_eq!(
        status["tenant"],
        json!({"id": "default", "tripped": true, "sent_today": 2})
    );
    let status = breaker(&app, "?tenant=acme").await;
    assert_eq!(
        status["tenant"],
        json!({"id": "acme", "tripped": false, "sent_today": 2})
    );
    let res = app
        .get(&format!("{BREAKER}?tenant=a/b"), Some(&app.admin_key))
        .await;
    assert_error(res, 400, "invalid_request").await;
    let acme_admin = make_key(&app.state, Role::Admin, Some("acme")).await;
    let res = app
        .get(&format!("{BREAKER}?tenant=acme"), Some(&acme_admin))
        .await;
    assert_error(res, 403, "forbidden").await;
    let res = app
        .delete(&format!("{BREAKER}?tenant=acme"), Some(&acme_admin))
        .await;
    assert_error(res, 403, "forbidden").await;

    // The tenant's reset resumes it, and leaves the global count alone.
    let res = app
        .delete(&format!("{BREAKER}?tenant=default"), Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        breaker(&app, "?tenant=default").await["tenant"]["tripped"],
        false
    );
    assert_eq!(
        enroll(&app, &default, "c", "+33642345678").await.status(),
        201
    );
    assert_eq!(breaker(&app, "").await["sent_today"], 5);

    // 5 sent: the global budget refuses the next, from any tenant, and trips the global breaker.
    let other = make_key(&app.state, Role::Client, Some("other")).await;
    is_exhausted(enroll(&app, &other, "z", "+33672345678").await).await;
    is_exhausted(enroll(&app, &acme, "w", "+33682345678").await).await;
    assert_eq!(breaker(&app, "").await["tripped"], true);
    assert_eq!(outbox(&app).len(), 5);
}

/// One tenant texting a number, or a run of numbers under one prefix, to its limit leaves the
/// number and the prefix to the others.
async fn tenants_do_not_share_number_or_prefix_counts(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.sms_per_number_10min = 1;
        raw.sms_per_prefix_hour = 2;
    })
    .await;
    let (default, acme) = (
        app.client_key.clone(),
        make_key(&app.state, Role::Client, Some("acme")).await,
    );
    assert_eq!(enroll(&app, &default, "a", PHONE).await.status(), 201);
    assert_error(
        enroll(&app, &default, "b", PHONE).await,
        429,
        "rate_limited",
    )
    .await;
    assert_eq!(enroll(&app, &acme, "a", PHONE).await.status(), 201);

    // Same prefix as PHONE: the refused send above stopped at the number, before the prefix.
    assert_eq!(enroll(&app, &default, "c", PHONE_2).await.status(), 201);
    let third = "+33612340000";
    assert_error(
        enroll(&app, &default, "d", third).await,
        429,
        "rate_limited",
    )
    .await;
    assert_eq!(enroll(&app, &acme, "d", third).await.status(), 201);
    assert_eq!(outbox(&app).len(), 4);
}

crate::both_backends!(
    a_tenants_budget_trips_its_own_breaker_first,
    tenants_do_not_share_number_or_prefix_counts,
);
