//! The lockout under faults (issue 22): an outage is no guess, a report the store failed to take
//! leaves no refusal that is not true, and a node whose clock is ahead does not end locks early.
//! These need PostgreSQL and Redis (behind a proxy that can cut them).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use twofold::app::api_keys::Role;
use twofold::app::users::Subject;
use twofold::clock::Clock;
use twofold::startup::Application;

use crate::helpers::{
    Backend, TestApp, assert_error, make_key, spawn_app_with, test_config, test_redis_url,
};
use crate::lockout::browser;
use crate::proxy::{Proxy, upstream};

const DEADLINE_MS: u64 = 500;

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn ready_again(app: &TestApp) {
    let until = Instant::now() + Duration::from_secs(15);
    while app.get("/readyz", None).await.status() != 200 {
        assert!(Instant::now() < until, "did not recover by itself");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issue 22, point 2: with PostgreSQL down, a relying party retrying its user's right code gets
/// 503 each time, and none of those counts: an evaluation a dependency error cut short judged
/// nothing. The nine failures before the outage still count: the next wrong code locks.
#[tokio::test]
async fn attempts_a_database_outage_cut_short_are_not_counted() {
    let proxy = Proxy::start(upstream(&crate::helpers::test_database_url())).await;
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.dependency_timeout_ms = DEADLINE_MS;
        let url = raw.database_url.clone().unwrap();
        raw.database_url = Some(proxy.url(&url));
    })
    .await;
    let device = app.active_device("alice").await;
    for _ in 0..9 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    proxy.stop().await;
    let right = app.code(&device, 0);
    for _ in 0..10 {
        assert_error(app.verify("alice", json!(right)).await, 503, "unavailable").await;
    }
    proxy.restart().await;
    ready_again(&app).await;

    let res = app.verify("alice", json!("000000")).await;
    assert_eq!(
        res.status(),
        422,
        "the outage's 503s were counted: {}",
        res.text().await.unwrap()
    );
    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    let wait = retry_after(&res);
    assert!((899..=900).contains(&wait), "Retry-After {wait}");
    assert_error(res, 429, "user_locked").await;
}

/// Issue 22, point 3: nine wrong codes, then the store connection drops as the tenth is
/// reported. Whatever the user gets afterwards is true: a refusal's `Retry-After` is the lock
/// the admin view shows, and a try once it has passed is evaluated.
#[tokio::test]
async fn a_report_lost_by_the_store_leaves_no_untrue_refusal() {
    let proxy = Proxy::start(upstream(&test_redis_url())).await;
    let redis = proxy.url(&test_redis_url());
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = Some(redis);
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    let device = app.active_device("alice").await;
    for _ in 0..9 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    let alice = Subject::new("default".into(), "alice".into()).unwrap();
    let limiter = &app.state.limiter;
    let tenth = limiter
        .begin(&alice, &browser(None))
        .await
        .unwrap()
        .expect("the tenth is admitted");
    proxy.stop().await;
    let reported = limiter.failed(tenth);
    proxy.restart().await;
    ready_again(&app).await;

    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    assert_eq!(res.status(), 429, "the tenth failure locks");
    let wait = retry_after(&res);
    let lock = crate::admin::detail(&app, "alice").await["lock"].clone();
    assert!(
        lock["locked_until"].is_string(),
        "refused with Retry-After: {wait}, but the admin view shows no lock: {lock} (the \
         report: {reported:?})"
    );
    let until = crate::admin::time(&lock["locked_until"]);
    let promised = app.clock.now() + TimeDelta::seconds(wait as i64);
    assert!(
        (promised - until).num_seconds().abs() <= 1,
        "Retry-After {wait} s, locked until {until}"
    );
    app.clock.advance(TimeDelta::seconds(wait as i64));
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200,
        "a try once Retry-After has passed is evaluated"
    );
}

/// A node whose clock is set ahead of the others' (no NTP).
struct Ahead(TimeDelta);

impl Clock for Ahead {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

/// Issue 22, point 7: one node locks a user; another whose clock is 16 minutes ahead must not see
/// that 15-minute lock as over. Both run on real clocks (no hand-moved time): lock time comes
/// from the store.
#[tokio::test]
async fn a_node_whose_clock_is_ahead_does_not_end_locks_early() {
    let (raw, _storage) = test_config(Backend::Production);
    let node = |clock: Arc<dyn Clock>| {
        let config = raw.clone().validate().expect("valid test config");
        async move {
            let app = Application::build(config, clock).await.expect("starts");
            let base = format!("http://{}", app.addr());
            let state = app.state().clone();
            tokio::spawn(app.run());
            (base, state)
        }
    };
    let (on_time, state) = node(Arc::new(twofold::clock::SystemClock)).await;
    let (ahead, _) = node(Arc::new(Ahead(TimeDelta::minutes(16)))).await;
    let key = make_key(&state, Role::Client, Some("default")).await;
    let http = reqwest::Client::new();
    let verify = |base: &str| {
        http.post(format!("{base}/v1/users/alice/verify"))
            .bearer_auth(&key)
            .json(&json!({"code": "000000"}))
            .send()
    };
    for _ in 0..10 {
        assert_eq!(verify(&on_time).await.unwrap().status(), 422);
    }
    for base in [&on_time, &ahead] {
        let res = verify(base).await.unwrap();
        assert_eq!(res.status(), 429, "{base}: the lock holds");
        let wait = retry_after(&res);
        assert!((899..=900).contains(&wait), "{base}: Retry-After {wait}");
    }
}
