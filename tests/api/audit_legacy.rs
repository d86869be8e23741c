//! Events from before the audit chain (SEC-44). The record of how many there were is no proof:
//! whoever writes the tables can rewrite it, so an event that claims to predate the chain is
//! reported unless it was sealed into an authenticated stream when the chain's successor
//! migration ran.

use diesel::RunQueryDsl;
use twofold::audit::check;
use twofold::crypto::Keys;

use crate::admin::audit_rows;
use crate::audit_cli::twofold;
use crate::audit_forgery::{COLUMNS, VALUES, chained_app, insert};
use crate::helpers::{Backend, TestApp, spawn_app};

async fn exec(app: &TestApp, statements: Vec<String>) {
    app.state
        .db
        .run(move |c| {
            for sql in statements {
                diesel::sql_query(sql).execute(c)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// `audit_legacy` as migration 000002 made it (the fixed schema drops it; a forger with the
/// tables' owner rights can make it again), holding `(events, max_id)`.
fn legacy_record(events: &str, max_id: &str) -> Vec<String> {
    vec![
        "CREATE TABLE IF NOT EXISTS audit_legacy (events BIGINT NOT NULL, max_id BIGINT NOT NULL)"
            .into(),
        "DELETE FROM audit_legacy".into(),
        format!("INSERT INTO audit_legacy (events, max_id) SELECT {events}, {max_id}"),
    ]
}

/// M2: the legacy record raised to cover one back-dated event with `seq = id`, the shape of a
/// pre-chain event. Neither the check, nor the CLI, nor a restart (which runs the migrations)
/// accepts it.
async fn a_forged_pre_chain_event_is_reported(backend: Backend) {
    let app = chained_app(backend).await;
    let id = audit_rows(&app).await.last().unwrap().id + 93;
    exec(&app, legacy_record("1", &id.to_string())).await;
    insert(
        &app,
        format!(
            "INSERT INTO audit_events (id, {COLUMNS}, stream, seq) VALUES ({id}, {}, \
             'unchained', {id})",
            VALUES.replace("CURRENT_TIMESTAMP", "'2020-01-01 00:00:00'")
        ),
    )
    .await;

    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].stream, check::UNCHAINED);
    assert_eq!(report.broken[0].event_id, Some(id), "{report:?}");

    let out = twofold(&app, &["audit", "verify"]).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("event id {id}")), "{stdout}");
    assert!(!stderr.contains("intact"), "{stderr}");

    let app = app.restart().await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].event_id, Some(id), "{report:?}");
}

/// Puts the database back to what an older twofold left: `n` events from before the chain in
/// stream `unchained` with their id as seq, `audit_legacy` counting `recorded` of them, and the
/// migration that seals them not yet applied. Returns their ids.
async fn pre_chain_events(app: &TestApp, n: usize, recorded: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let at = format!("'2020-01-0{} 00:00:00'", i + 1);
        ids.push(
            insert(
                app,
                format!(
                    "INSERT INTO audit_events ({COLUMNS}) VALUES ({})",
                    VALUES.replace("CURRENT_TIMESTAMP", &at)
                ),
            )
            .await,
        );
    }
    let mut sql = vec!["UPDATE audit_events SET seq = id WHERE stream = 'unchained'".to_string()];
    sql.extend(legacy_record(
        recorded,
        "(SELECT MAX(id) FROM audit_events WHERE stream = 'unchained')",
    ));
    // Exactly that migration (2026-11-29-000003_audit_legacy_sealed): later ones end in 000003 too.
    sql.push("DELETE FROM __diesel_schema_migrations WHERE version = '20261129000003'".into());
    exec(app, sql).await;
    ids
}

/// Upgrading a database that holds events from before the chain seals them, once, into stream
/// `legacy` under the master key: they verify, an edit of one is named, and after a master key
/// rotation they verify with the previous key listed, like every stream.
async fn pre_chain_events_are_sealed_on_upgrade(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = pre_chain_events(&app, 3, "3").await;
    // Without the master key the migrations stop short of dropping the record.
    let refused = app.state.db.migrate().await.unwrap_err();
    assert!(refused.to_string().contains("master key"), "{refused}");
    let app = app.restart().await;

    let rows = audit_rows(&app).await;
    let sealed: Vec<_> = rows.iter().filter(|r| ids.contains(&r.id)).collect();
    assert_eq!(sealed.len(), 3);
    for (i, r) in sealed.iter().enumerate() {
        assert_eq!(
            (r.stream.as_str(), r.seq),
            ("legacy", i as i64 + 1),
            "{r:?}"
        );
        assert!(r.hash.is_some(), "{r:?}");
    }
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert!(report.broken.is_empty(), "{report:?}");
    assert_eq!((report.legacy, report.unchained), (3, 0), "{report:?}");
    let out = twofold(&app, &["audit", "verify"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("3 from before the chain"), "{stderr}");

    // The seal is no standing offer: a restart seals nothing more.
    let late = insert(
        &app,
        format!("INSERT INTO audit_events ({COLUMNS}, seq) VALUES ({VALUES}, 0)"),
    )
    .await;
    exec(
        &app,
        vec![format!(
            "UPDATE audit_events SET seq = id WHERE id = {late}"
        )],
    )
    .await;
    exec(&app, legacy_record("4", &late.to_string())).await;
    let app = app.restart().await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].event_id, Some(late), "{report:?}");
    exec(
        &app,
        vec![format!("DELETE FROM audit_events WHERE id = {late}")],
    )
    .await;

    // Sealed events are checked like any: an edited one is named.
    exec(
        &app,
        vec![format!(
            "UPDATE audit_events SET actor = 'cli' WHERE id = {}",
            ids[1]
        )],
    )
    .await;
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(
        (report.broken[0].stream.as_str(), report.broken[0].event_id),
        ("legacy", Some(ids[1])),
        "{report:?}"
    );
    exec(
        &app,
        vec![format!(
            "UPDATE audit_events SET actor = 'api_key:forged' WHERE id = {}",
            ids[1]
        )],
    )
    .await;

    // Master key rotation: the stream stays under the key that sealed it.
    let old = app.raw.master_key.clone().unwrap();
    let new = twofold::crypto::generate_master_key().unwrap().to_string();
    let source = twofold::config::MasterKeySource::Value(new);
    let rotated = Keys::load(&source, std::slice::from_ref(&old)).unwrap();
    let report = check::verify(&app.state.db, &rotated).await.unwrap();
    assert!(report.broken.is_empty(), "{report:?}");
    assert_eq!(report.legacy, 3);
    let without_old = Keys::load(&source, &[]).unwrap();
    let report = check::verify(&app.state.db, &without_old).await.unwrap();
    assert!(
        report
            .broken
            .iter()
            .any(|b| b.stream == "legacy" && b.reason.contains("not configured")),
        "{report:?}"
    );
}

/// More events claim to predate the chain than the record counted: which are forged is unknown,
/// so none is sealed and every one is reported.
async fn an_overfull_legacy_record_seals_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = pre_chain_events(&app, 3, "2").await;
    let app = app.restart().await;
    let rows = audit_rows(&app).await;
    assert!(
        rows.iter()
            .filter(|r| ids.contains(&r.id))
            .all(|r| r.stream == check::UNCHAINED && r.hash.is_none()),
        "{rows:?}"
    );
    let report = check::verify(&app.state.db, &app.state.keys).await.unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    assert_eq!(report.broken[0].event_id, Some(ids[0]), "{report:?}");
    assert_eq!((report.legacy, report.unchained), (0, 3), "{report:?}");
}

crate::both_backends!(
    a_forged_pre_chain_event_is_reported,
    pre_chain_events_are_sealed_on_upgrade,
    an_overfull_legacy_record_seals_nothing,
);
