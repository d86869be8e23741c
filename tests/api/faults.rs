//! Dependencies that hang or go away (REL-1, REL-2, REL-3, REL-7): Redis or PostgreSQL behind a
//! TCP proxy that starts swallowing traffic, freezes its connections for good, or stops (port
//! refused, connections cut). Every request answers within the deadline + 1 s with 503 (never a
//! hang, never a success, never a text sent), `/healthz` stays 200, and once the dependency is
//! back the service recovers by itself.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, Storage, TestApp, assert_error, spawn_app_with, test_redis_url};
use crate::proxy::{Proxy, upstream};
use crate::sms::outbox;

const DEADLINE_MS: u64 = 500;

/// Status and time taken of a request.
async fn timed(fut: impl Future<Output = reqwest::Response>) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let res = fut.await;
    (res, started.elapsed())
}

fn in_time(took: Duration) {
    assert!(
        took < Duration::from_millis(DEADLINE_MS + 1000),
        "took {took:?}"
    );
}

/// Every code-accepting and texting path fails closed, fast, and nothing is sent.
async fn all_fail_closed(app: &TestApp, device: &crate::helpers::Enrollment, pending: &str) {
    let right = app.code(device, 0);
    for code in [right.as_str(), "000000"] {
        let (res, took) = timed(app.verify("alice", json!(code))).await;
        in_time(took);
        assert_error(res, 503, "unavailable").await;
    }
    let confirm = format!("/v1/users/alice/devices/{pending}/confirm");
    let (res, took) =
        timed(app.post(&confirm, Some(&app.client_key), &json!({"code": "123456"}))).await;
    in_time(took);
    assert_error(res, 503, "unavailable").await;
    let texts = outbox(app).len();
    let phone = json!({"phone": "+33612345678"});
    let (res, took) =
        timed(app.post("/v1/users/bob/devices/sms", Some(&app.admin_key), &phone)).await;
    in_time(took);
    assert_error(res, 503, "unavailable").await;
    assert_eq!(outbox(app).len(), texts, "nothing texted");
    let (res, took) = timed(app.get("/readyz", None)).await;
    in_time(took);
    assert_eq!(res.status(), 503);
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

async fn recovers(app: &TestApp, device: &crate::helpers::Enrollment) {
    recovers_within(app, device, Duration::from_secs(15)).await;
}

async fn recovers_within(app: &TestApp, device: &crate::helpers::Enrollment, bound: Duration) {
    let until = Instant::now() + bound;
    while app.get("/readyz", None).await.status() != 200 {
        assert!(Instant::now() < until, "did not recover by itself");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    assert_eq!(
        app.verify("alice", json!(app.code(device, 0)))
            .await
            .status(),
        200
    );
}

async fn on_redis(proxy: &Proxy) -> TestApp {
    let redis = proxy.url(&test_redis_url());
    spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = Some(redis);
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await
}

async fn on_postgres(proxy: &Proxy) -> TestApp {
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.dependency_timeout_ms = DEADLINE_MS;
        let url = raw.database_url.clone().unwrap();
        raw.database_url = Some(proxy.url(&url));
    })
    .await;
    assert!(matches!(app.storage, Storage::Production(_)));
    app
}

/// What an app does before its dependency fails. The phone-number metadata loads on first use,
/// which takes a second in a debug build: loaded first, it is not counted against the deadline.
async fn before_the_fault(app: &TestApp) -> (crate::helpers::Enrollment, String) {
    let phone = json!({"phone": "+33612345679"});
    let res = app
        .post("/v1/users/dave/devices/sms", Some(&app.admin_key), &phone)
        .await;
    assert_eq!(res.status(), 201);
    let device = app.active_device("alice").await;
    let pending = app.enroll("carol", json!({})).await;
    (device, pending.id)
}

/// A dependency that fails (`down`) then comes back (`up`): everything fails closed meanwhile,
/// then the app recovers by itself.
async fn fault_and_recovery<D: Future<Output = ()>, U: Future<Output = ()>>(
    app: TestApp,
    down: impl FnOnce() -> D,
    up: impl FnOnce() -> U,
) {
    let (device, pending) = before_the_fault(&app).await;
    down().await;
    all_fail_closed(&app, &device, &pending).await;
    up().await;
    recovers(&app, &device).await;
}

#[tokio::test]
async fn a_hung_redis_is_503_within_the_deadline_and_recovers() {
    let proxy = Proxy::start(upstream(&test_redis_url())).await;
    let app = on_redis(&proxy).await;
    let (down, up) = (
        || async { proxy.block(true) },
        || async { proxy.block(false) },
    );
    fault_and_recovery(app, down, up).await;
}

#[tokio::test]
async fn a_stopped_redis_is_503_and_recovers_when_it_returns() {
    let proxy = Proxy::start(upstream(&test_redis_url())).await;
    let app = on_redis(&proxy).await;
    fault_and_recovery(app, || proxy.stop(), || proxy.restart()).await;
}

#[tokio::test]
async fn a_hung_postgres_is_503_within_the_deadline_and_recovers() {
    let proxy = Proxy::start(upstream(&crate::helpers::test_database_url())).await;
    let app = on_postgres(&proxy).await;
    let (down, up) = (
        || async { proxy.block(true) },
        || async { proxy.block(false) },
    );
    fault_and_recovery(app, down, up).await;
}

#[tokio::test]
async fn a_stopped_postgres_is_503_and_recovers_when_it_returns() {
    let proxy = Proxy::start(upstream(&crate::helpers::test_database_url())).await;
    let app = on_postgres(&proxy).await;
    fault_and_recovery(app, || proxy.stop(), || proxy.restart()).await;
}

/// Redis's connections freeze (a partition, or a NAT that lost their state: the sockets stay
/// open and nothing crosses them again), then Redis takes new connections. Everything fails
/// closed meanwhile; then the connection that stopped answering is abandoned for a new one within
/// seconds, not kept until TCP gives up on it (~15 min).
#[tokio::test]
async fn a_frozen_redis_connection_is_abandoned_for_a_new_one() {
    let proxy = Proxy::start(upstream(&test_redis_url())).await;
    let app = on_redis(&proxy).await;
    let (device, pending) = before_the_fault(&app).await;
    proxy.block(true);
    proxy.freeze_open();
    all_fail_closed(&app, &device, &pending).await;
    proxy.block(false);
    recovers_within(&app, &device, Duration::from_secs(5)).await;
}
