//! Failing closed and recovering: a store or database that goes away turns readiness and
//! authenticated routes into 503s within the deadline, and the service recovers by itself
//! (REL-1, REL-2, REL-3, REL-7).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::helpers::{Backend, Storage, TestApp, assert_error, spawn_app_with, test_database_url};

const DEADLINE_MS: u64 = 500;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private redis-server this test may stop and start.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test (scripts/test.sh installs it)");
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "private redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        PrivateRedis {
            port,
            child: Some(child),
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl PrivateRedis {
    /// A restart with an outage of a second between stop and start, as a real one takes: its
    /// keys are lost and its clients' connections die.
    async fn restart(&mut self) {
        self.stop();
        tokio::time::sleep(Duration::from_secs(1)).await;
        *self = PrivateRedis::start(self.port);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn readyz_within_deadline(app: &TestApp) -> (u16, Duration) {
    let started = Instant::now();
    let status = app.get("/readyz", None).await.status().as_u16();
    (status, started.elapsed())
}

async fn wait_ready(app: &TestApp) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        if app.get("/readyz", None).await.status() == 200 {
            return;
        }
        assert!(
            Instant::now() < until,
            "did not become ready again by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn redis_stopped_makes_readyz_503_fast_and_it_recovers_by_itself() {
    let mut redis = PrivateRedis::start(free_port());
    let port = redis.port;
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = Some(format!("redis://127.0.0.1:{port}"));
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    assert_eq!(app.get("/readyz", None).await.status(), 200);

    redis.stop();
    // The 200 just answered is answered again for a short while: wait that out.
    tokio::time::sleep(twofold::app::readiness::FRESH_FOR).await;
    for _ in 0..3 {
        let (status, took) = readyz_within_deadline(&app).await;
        assert_eq!(status, 503);
        assert!(
            took < Duration::from_millis(DEADLINE_MS + 1000),
            "took {took:?}"
        );
    }
    let res = app.get("/readyz", None).await;
    assert_error(res, 503, "unavailable").await;
    assert_eq!(
        app.get("/healthz", None).await.status(),
        200,
        "liveness is unaffected"
    );

    let _redis = PrivateRedis::start(port);
    wait_ready(&app).await;
}

/// A lost database (here: dropped under the running app) is a 503, never a 401 that would read
/// as "bad key", and never a success.
#[tokio::test]
async fn lost_database_is_503_on_readyz_and_authenticated_routes() {
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    let Storage::Production(db) = &app.storage else {
        unreachable!()
    };
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let mut admin = PgConnection::establish(&test_database_url()).unwrap();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();

    let (status, took) = readyz_within_deadline(&app).await;
    assert_eq!(status, 503);
    assert!(
        took < Duration::from_millis(DEADLINE_MS + 1000),
        "took {took:?}"
    );
    let res = app.get("/v1/admin/api-keys", Some(&app.admin_key)).await;
    assert_error(res, 503, "unavailable").await;
}

/// A Redis restarted under an idle app: the connection the app holds is dead, and the first
/// request of each kind after the restart — a read (`/readyz`'s PING) and a counting script (a
/// verify's limiter) — is answered, not failed with a broken pipe before the reconnection.
#[tokio::test]
async fn first_requests_after_a_redis_restart_succeed() {
    let mut redis = PrivateRedis::start(free_port());
    let port = redis.port;
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = Some(format!("redis://127.0.0.1:{port}"));
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    let device = app.active_device("alice").await;
    assert_eq!(app.get("/readyz", None).await.status(), 200);

    // The restart outlasts the readiness cache: this probe is a fresh PING.
    redis.restart().await;
    assert_eq!(app.get("/readyz", None).await.status(), 200, "first read");

    redis.restart().await;
    let res = app.verify("alice", serde_json::json!("000000")).await;
    assert_eq!(res.status(), 422, "first counting script");
    let res = app
        .verify("alice", serde_json::json!(app.code(&device, 0)))
        .await;
    assert_eq!(res.status(), 200);
}
