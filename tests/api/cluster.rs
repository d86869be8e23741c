//! The TOTP and SMS journeys on a real Redis Cluster (three masters, started by scripts/test.sh):
//! every multi-key operation stays in one slot, and the limits hold.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::proxy::{Proxy, upstream};
use crate::sms::{PHONE, outbox};

fn nodes() -> String {
    std::env::var("TWOFOLD_TEST_REDIS_CLUSTER")
        .expect("TWOFOLD_TEST_REDIS_CLUSTER: run scripts/test.sh, which starts a cluster")
}

async fn on_cluster() -> TestApp {
    let nodes = nodes();
    spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = None;
        raw.redis_cluster = Some(nodes);
    })
    .await
}

/// The first seed node hangs (a black hole) when the app starts: no request hangs past the
/// deadline + 1 s meanwhile, none succeeds without the store, and the app reaches the cluster
/// through the other seeds by itself.
#[tokio::test]
async fn a_hung_seed_node_at_start_does_not_hang_requests() {
    const DEADLINE_MS: u64 = 500;
    let nodes: Vec<String> = nodes().split(',').map(str::to_string).collect();
    let proxy = Proxy::start(upstream(&nodes[0])).await;
    proxy.block(true);
    let mut seeds = vec![proxy.url(&nodes[0])];
    seeds.extend_from_slice(&nodes[1..]);
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = None;
        raw.redis_cluster = Some(seeds.join(","));
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let started = Instant::now();
        let status = app.get("/readyz", None).await.status();
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(DEADLINE_MS + 1000),
            "took {took:?}"
        );
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        let res = app.verify("nobody", json!("000000")).await;
        assert!(
            matches!(res.status().as_u16(), 503 | 422),
            "{}",
            res.status()
        );
        assert!(Instant::now() < until, "never reached the cluster");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let device = app.active_device("alice").await;
    assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    let code = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
}

#[tokio::test]
async fn totp_journey_with_replay_lockout_and_unlock() {
    let app = on_cluster().await;
    assert_eq!(app.get("/readyz", None).await.status(), 200);
    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    assert_eq!(
        app.verify("alice", json!(code)).await.status(),
        422,
        "replay"
    );
    // That replay of the last accepted code is not counted: ten wrong codes lock.
    for _ in 0..10 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let next = app.code(&device, 0);
    assert_eq!(
        app.verify("alice", json!(next)).await.status(),
        429,
        "locked"
    );
    let unlock = "/v1/admin/users/alice/unlock";
    let res = app.post(unlock, Some(&app.admin_key), &json!({})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.verify("alice", json!(next)).await.status(), 200);
}

#[tokio::test]
async fn sms_journey_with_its_cooldown() {
    let app = on_cluster().await;
    let res = app
        .post(
            "/v1/users/bob/devices/sms",
            Some(&app.client_key),
            &json!({ "phone": PHONE }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.unwrap()["device"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let texted = outbox(&app).last().unwrap().code.clone();
    let confirm = format!("/v1/users/bob/devices/{id}/confirm");
    let res = app
        .post(&confirm, Some(&app.client_key), &json!({ "code": texted }))
        .await;
    assert_eq!(res.status(), 200);
    // A login code right away waits out the cooldown of the confirmation text.
    let res = app
        .post("/v1/users/bob/sms", Some(&app.client_key), &json!({}))
        .await;
    assert_eq!(res.status(), 429);
    // The budgets' counts and breakers share the slot of every SMS limit key: an admin reads
    // them, and a reset deletes a count and its breaker in one command.
    let breaker = "/v1/admin/sms/breaker";
    let tenant = format!("{breaker}?tenant=default");
    let status: serde_json::Value = app
        .get(&tenant, Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    let sent = (&status["sent_today"], &status["tenant"]["sent_today"]);
    assert_eq!(sent, (&json!(1), &json!(1)), "{status}");
    for path in [breaker, tenant.as_str()] {
        let res = app.delete(path, Some(&app.admin_key)).await;
        assert_eq!(res.status(), 204, "{path}");
    }
    let status: serde_json::Value = app
        .get(&tenant, Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    let sent = (&status["sent_today"], &status["tenant"]["sent_today"]);
    assert_eq!(sent, (&json!(0), &json!(0)), "{status}");
}
