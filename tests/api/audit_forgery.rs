//! Events forged by hand into the audit table: outside every chain, or past a stream's head.
//! Either is named by `audit verify`, though its own hash (if any) is never checked.

use diesel::RunQueryDsl;
use serde_json::json;
use twofold::audit::check;

use crate::helpers::{Backend, TestApp, spawn_app};

async fn insert(app: &TestApp, sql: String) -> i64 {
    app.state
        .db
        .run(move |c| {
            diesel::sql_query(sql).execute(c)?;
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            let last: Id =
                diesel::sql_query("SELECT MAX(id) AS id FROM audit_events").get_result(c)?;
            Ok(last.id)
        })
        .await
        .unwrap()
}

async fn chained_app(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
    app.state.audit.flush().await;
    let report = check::verify(&app.state.db).await.unwrap();
    assert!(report.broken.is_empty() && report.events > 0, "{report:?}");
    app
}

const COLUMNS: &str = "at, tenant, user_id, action, outcome, actor";
const VALUES: &str =
    "CURRENT_TIMESTAMP, 'default', 'alice', 'verify_succeeded', 'success', 'api_key:forged'";

async fn an_event_outside_every_chain_is_named(backend: Backend) {
    let app = chained_app(backend).await;
    // What a plain INSERT gets: the pre-chain stream of the migration, no hash.
    let id = insert(
        &app,
        format!("INSERT INTO audit_events ({COLUMNS}) VALUES ({VALUES})"),
    )
    .await;
    let report = check::verify(&app.state.db).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].event_id, Some(id));
    assert_eq!(report.broken[0].stream, check::UNCHAINED);
}

async fn an_event_past_a_streams_head_is_named(backend: Backend) {
    let app = chained_app(backend).await;
    let stream = app.state.audit.stream().id().to_string();
    let report = check::verify(&app.state.db).await.unwrap();
    let next = report.events as i64 + 1;
    let id = insert(
        &app,
        format!(
            "INSERT INTO audit_events ({COLUMNS}, stream, seq) VALUES ({VALUES}, '{stream}', \
             {next})"
        ),
    )
    .await;
    let report = check::verify(&app.state.db).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    let broken = &report.broken[0];
    assert_eq!(
        (broken.event_id, broken.seq),
        (Some(id), next),
        "{broken:?}"
    );
    assert!(
        broken.reason.contains("beyond the stream's head"),
        "{broken:?}"
    );
}

crate::both_backends!(
    an_event_outside_every_chain_is_named,
    an_event_past_a_streams_head_is_named,
);
