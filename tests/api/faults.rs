//! Hung dependencies (REL-1, REL-2, REL-3, REL-7): Redis or PostgreSQL behind a TCP proxy that
//! starts swallowing traffic. Every request answers within the deadline + 1 s with 503 (never a
//! hang, never a success, never a text sent), `/healthz` stays 200, and once the traffic flows
//! again the service recovers by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{Backend, Storage, TestApp, assert_error, spawn_app_with, test_redis_url};
use crate::sms::outbox;

const DEADLINE_MS: u64 = 500;

/// A TCP proxy that can black-hole: connections stay open, bytes stop moving (in both
/// directions, new connections too) until it is opened again — what a dead switch or a hung
/// server looks like from our side.
struct Proxy {
    port: u16,
    blocked: Arc<AtomicBool>,
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    blocked: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while blocked.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let blocked = Arc::new(AtomicBool::new(false));
        let b = blocked.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (b, upstream) = (b.clone(), upstream.clone());
                tokio::spawn(async move {
                    while b.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pump(cr, sw, b.clone()), pump(sr, cw, b));
                });
            }
        });
        Proxy { port, blocked }
    }

    fn block(&self, on: bool) {
        self.blocked.store(on, Ordering::SeqCst);
    }
}

/// `url` with its host and port replaced by the proxy's.
fn through(url: &str, proxy: &Proxy) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_host(Some("127.0.0.1")).unwrap();
    u.set_port(Some(proxy.port)).unwrap();
    u.to_string()
}

fn upstream(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!(
        "{}:{}",
        u.host_str().unwrap(),
        u.port_or_known_default().unwrap()
    )
}

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
    let until = Instant::now() + Duration::from_secs(15);
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

#[tokio::test]
async fn a_hung_redis_is_503_within_the_deadline_and_recovers() {
    let proxy = Proxy::start(upstream(&test_redis_url())).await;
    let redis = through(&test_redis_url(), &proxy);
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = Some(redis);
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    let device = app.active_device("alice").await;
    let pending = app.enroll("carol", json!({})).await;
    proxy.block(true);
    all_fail_closed(&app, &device, &pending.id).await;
    proxy.block(false);
    recovers(&app, &device).await;
}

#[tokio::test]
async fn a_hung_postgres_is_503_within_the_deadline_and_recovers() {
    let db_url = crate::helpers::test_database_url();
    let proxy = Proxy::start(upstream(&db_url)).await;
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.dependency_timeout_ms = DEADLINE_MS;
        let url = raw.database_url.clone().unwrap();
        raw.database_url = Some(through(&url, &proxy));
    })
    .await;
    assert!(matches!(app.storage, Storage::Production(_)));
    let device = app.active_device("alice").await;
    let pending = app.enroll("carol", json!({})).await;
    proxy.block(true);
    all_fail_closed(&app, &device, &pending.id).await;
    proxy.block(false);
    recovers(&app, &device).await;
}
