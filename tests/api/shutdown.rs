//! Issue 22, point 6: stopping a node. SIGTERM and SIGINT both stop gracefully (in-flight
//! requests finish), a second signal stops at once, and the exit comes within the grace period
//! (`TWOFOLD_SHUTDOWN_GRACE_SECS`) even with PostgreSQL stalled: audit events that could not be
//! written by then are logged as lost and counted in `twofold_audit_events_lost_total`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Backend, base32_decode, spawn_app_with};
use crate::nodes::{Cluster, Node, code, post};
use crate::proxy::{Proxy, upstream};

const GRACE_SECS: u64 = 2;

/// An SMS gateway that answers after `delay`, and the settings of a node that texts through it.
async fn slow_gateway(delay: Duration) -> (MockServer, Vec<(&'static str, String)>) {
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(delay))
        .mount(&gateway)
        .await;
    let env = vec![
        ("TWOFOLD_SMS_GATEWAY", "webhook".into()),
        ("TWOFOLD_SMS_WEBHOOK_URL", format!("{}/sms", gateway.uri())),
        (
            "TWOFOLD_SMS_WEBHOOK_BODY",
            r#"{"to":"{to}","text":"{message}"}"#.into(),
        ),
    ];
    (gateway, env)
}

/// A request that texts a code, started and waiting on the gateway when this returns.
async fn text_in_flight(
    node: &Node,
    key: &str,
    gateway: &MockServer,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let (base, key) = (node.base.clone(), key.to_string());
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/v1/users/dave/devices/sms"))
            .bearer_auth(key)
            .json(&json!({"phone": "+33612345678"}))
            .send()
            .await
    });
    let until = Instant::now() + Duration::from_secs(10);
    while gateway
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty()
    {
        assert!(Instant::now() < until, "the text never reached the gateway");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    in_flight
}

#[tokio::test]
async fn sigint_lets_the_request_in_flight_finish() {
    let (gateway, env) = slow_gateway(Duration::from_millis(1500)).await;
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let mut node = cluster.node(&env).await;
    let in_flight = text_in_flight(&node, &key, &gateway).await;
    node.signal("INT");
    let res = tokio::time::timeout(Duration::from_secs(20), in_flight)
        .await
        .expect("the answer arrives in time")
        .unwrap()
        .expect("the request in flight is answered, not cut");
    assert_eq!(res.status(), 201, "the normal answer");
    let status = node.exit_within(Duration::from_secs(10)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "a clean exit: {status:?}"
    );
}

#[tokio::test]
async fn a_second_signal_stops_at_once() {
    let (gateway, env) = slow_gateway(Duration::from_secs(8)).await;
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let mut node = cluster.node(&env).await;
    let in_flight = text_in_flight(&node, &key, &gateway).await;
    node.signal("INT");
    assert_eq!(
        node.exit_within(Duration::from_millis(500)).await,
        None,
        "the first SIGINT waits for the request in flight"
    );
    node.signal("INT");
    let started = Instant::now();
    let status = node.exit_within(Duration::from_secs(5)).await;
    assert!(status.is_some(), "still running 5 s after a second SIGINT");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let answer = in_flight.await.unwrap();
    assert!(answer.is_err(), "the request in flight was cut: {answer:?}");
}

#[tokio::test]
async fn sigterm_with_postgres_stalled_exits_within_the_grace_period() {
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let proxy = Proxy::start(upstream(cluster.database_url())).await;
    let mut node = cluster
        .node(&[
            ("TWOFOLD_DATABASE_URL", proxy.url(cluster.database_url())),
            ("TWOFOLD_DEPENDENCY_TIMEOUT_MS", "500".into()),
            ("TWOFOLD_SHUTDOWN_GRACE_SECS", GRACE_SECS.to_string()),
        ])
        .await;
    let res = post(&node, &key, "/v1/users/alice/devices/totp", json!({})).await;
    assert_eq!(res.status(), 201);
    let enrolled: Value = res.json().await.unwrap();
    let id = enrolled["device"]["id"].as_str().unwrap();
    let secret = base32_decode(enrolled["secret"].as_str().unwrap());
    let confirm = format!("/v1/users/alice/devices/{id}/confirm");
    let res = post(&node, &key, &confirm, json!({"code": code(&secret, 0)})).await;
    assert_eq!(res.status(), 200);
    // Three wrong codes queue three events in the batch writer (written half a second later);
    // PostgreSQL stalls before that.
    for _ in 0..3 {
        let res = post(
            &node,
            &key,
            "/v1/users/alice/verify",
            json!({"code": "000000"}),
        )
        .await;
        assert_eq!(res.status(), 422);
    }
    proxy.block(true);

    node.signal("TERM");
    let started = Instant::now();
    let status = node.exit_within(Duration::from_secs(GRACE_SECS + 8)).await;
    let log = node.log();
    assert!(
        status.is_some(),
        "still running {:?} after SIGTERM (grace {GRACE_SECS} s): {log}",
        started.elapsed()
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(GRACE_SECS * 1000 + 1500),
        "exited {took:?} after SIGTERM (grace {GRACE_SECS} s)"
    );
    assert!(
        log.contains("audit events lost") && log.contains("events=3"),
        "the events not written are logged: {log}"
    );
}

/// The writer's deadline and its count, in process: what it could not write by the deadline is
/// counted as lost and published as a metric.
#[tokio::test]
async fn audit_events_not_written_by_the_deadline_are_counted_lost() {
    let proxy = Proxy::start(upstream(&crate::helpers::test_database_url())).await;
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.dependency_timeout_ms = 500;
        let url = raw.database_url.clone().unwrap();
        raw.database_url = Some(proxy.url(&url));
    })
    .await;
    app.active_device("alice").await;
    for _ in 0..3 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    proxy.block(true);
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    let lost = app.state.audit.close_by(deadline).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(lost, 3);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("twofold_audit_events_lost_total 3"),
        "{metrics}"
    );
}
