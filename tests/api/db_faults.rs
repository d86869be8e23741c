//! Issue 22, point 1 (the database half): a PostgreSQL connection that stops answering without
//! closing (a partition of that flow, a frozen middlebox) is dropped at its first missed deadline
//! instead of going back to the pool, so the pool opens new connections and the node recovers
//! by itself while the old sockets are still open.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::helpers::{Backend, spawn_app_with, test_database_url};
use crate::proxy::{Proxy, upstream};

const DEADLINE_MS: u64 = 500;
const POOL: u32 = 3;

#[tokio::test]
async fn frozen_postgres_connections_are_dropped_and_new_ones_serve() {
    let proxy = Proxy::start(upstream(&test_database_url())).await;
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.dependency_timeout_ms = DEADLINE_MS;
        raw.database_pool_size = POOL;
        let url = raw.database_url.clone().unwrap();
        raw.database_url = Some(proxy.url(&url));
    })
    .await;
    let device = app.active_device("alice").await;
    // Every connection of the pool is open, and idle, when the freeze comes.
    let busy: Vec<_> = (0..POOL)
        .map(|_| {
            let db = app.state.db.clone();
            tokio::spawn(async move {
                db.run(|c| c.batch_execute("SELECT pg_sleep(0.2)").map_err(Into::into))
                    .await
            })
        })
        .collect();
    for task in busy {
        task.await.unwrap().unwrap();
    }
    proxy.freeze_open();

    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let started = Instant::now();
        let status = app.get("/readyz", None).await.status();
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(DEADLINE_MS + 1000),
            "/readyz took {took:?}"
        );
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < until,
            "still {status} 10 s after the pool's connections froze: they were kept"
        );
    }
    assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
}
