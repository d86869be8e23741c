//! Events forged by hand into the audit table: outside every chain, or past a stream's head.
//! Either is named by `audit verify`, though its own hash (if any) is never checked.

use diesel::RunQueryDsl;
use serde_json::json;
use twofold::audit::check;

use crate::helpers::{Backend, TestApp, spawn_app};

pub(crate) async fn insert(app: &TestApp, sql: String) -> i64 {
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

pub(crate) async fn chained_app(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
    app.state.audit.flush().await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert!(report.broken.is_empty() && report.events > 0, "{report:?}");
    app
}

pub(crate) const COLUMNS: &str = "at, tenant, user_id, action, outcome, actor";
pub(crate) const VALUES: &str =
    "CURRENT_TIMESTAMP, 'default', 'alice', 'verify_succeeded', 'success', 'api_key:forged'";

async fn an_event_outside_every_chain_is_named(backend: Backend) {
    let app = chained_app(backend).await;
    // What a plain INSERT gets (an older twofold during a rolling upgrade writes the same): the
    // pre-chain stream of the migration, no MAC. A second one does not collide with the first.
    let id = insert(
        &app,
        format!("INSERT INTO audit_events ({COLUMNS}) VALUES ({VALUES})"),
    )
    .await;
    insert(
        &app,
        format!("INSERT INTO audit_events ({COLUMNS}) VALUES ({VALUES})"),
    )
    .await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].event_id, Some(id));
    assert_eq!(report.broken[0].stream, check::UNCHAINED);
    assert_eq!(report.unchained, 2);
}

/// An id below every real one does not pass for an event from before the chain.
async fn a_backdated_event_is_named(backend: Backend) {
    let app = chained_app(backend).await;
    insert(
        &app,
        format!("INSERT INTO audit_events (id, {COLUMNS}, seq) VALUES (-1, {VALUES}, -1)"),
    )
    .await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].stream, check::UNCHAINED);
}

/// Without the master key a stream was MACed under, it cannot be checked, and says so.
async fn a_stream_under_an_unknown_key_is_reported(backend: Backend) {
    let app = chained_app(backend).await;
    let other = twofold::crypto::generate_master_key().unwrap();
    let other = twofold::crypto::Keys::load(
        &twofold::config::MasterKeySource::Value(other.to_string()),
        &[],
    )
    .unwrap();
    let report = check::verify(&app.state.db, &other).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert!(
        report.broken[0].reason.contains("not configured"),
        "{report:?}"
    );
}

async fn an_event_past_a_streams_head_is_named(backend: Backend) {
    let app = chained_app(backend).await;
    let stream = app.state.audit.stream().id().to_string();
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    let next = report.events as i64 + 1;
    let id = insert(
        &app,
        format!(
            "INSERT INTO audit_events ({COLUMNS}, stream, seq) VALUES ({VALUES}, '{stream}', \
             {next})"
        ),
    )
    .await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
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
    a_backdated_event_is_named,
    a_stream_under_an_unknown_key_is_reported,
    an_event_past_a_streams_head_is_named,
);
