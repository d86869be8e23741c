//! REL-9: with PostgreSQL and Redis, the last accepted step and a lock survive a restart of
//! twofold (nothing of either lives in the process).

use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{Backend, assert_error, spawn_app};

#[tokio::test]
async fn last_accepted_step_and_lock_survive_a_restart() {
    let app = spawn_app(Backend::Production).await;
    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    app.active_device("bob").await;
    for _ in 0..10 {
        assert_eq!(app.verify("bob", json!("000000")).await.status(), 422);
    }

    let app = app.restart().await;
    assert_error(app.verify("alice", json!(code)).await, 422, "invalid_code").await;
    assert_error(app.verify("bob", json!("000000")).await, 429, "user_locked").await;
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
}
