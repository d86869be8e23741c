//! The audit hash chain: a mixed workload verifies; an edited, a deleted and a truncated event are
//! each named; two writers on one database keep two chains that both verify.

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::json;
use twofold::audit::chain::{GENESIS, link};
use twofold::audit::check::{self, Report};
use twofold::db::models::AuditEventRow;
use twofold::db::schema::{audit_events as a, audit_streams as s};

use crate::admin::audit_rows;
use crate::helpers::{Backend, TestApp, spawn_app};

/// Enroll, confirm, verify (good, replayed, wrong), lock, unlock, recovery codes, revoke one
/// device and then all, admin reads: every kind of writer the chain has. Returns the secrets it
/// saw (seeds, codes, keys), none of which may reach the audit trail.
pub async fn workload(app: &TestApp) -> Vec<String> {
    let alice = app.active_device("alice").await;
    let code = app.code(&alice, 0);
    let mut secrets = vec![app.admin_key.clone(), app.client_key.clone(), code.clone()];
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 422);
    // That replay of the last accepted code is not counted: ten wrong codes lock.
    for _ in 0..10 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    let unlock = "/v1/admin/users/alice/unlock";
    assert_eq!(
        app.post(unlock, Some(&app.admin_key), &json!({}))
            .await
            .status(),
        204
    );
    app.clock.advance(TimeDelta::seconds(30));
    secrets.push(app.code(&alice, 0));
    assert_eq!(
        app.verify("alice", json!(app.code(&alice, 0)))
            .await
            .status(),
        200
    );
    let res = app
        .post(
            "/v1/users/alice/recovery-codes",
            // An admin key needs no step-up.
            Some(&app.admin_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let codes: serde_json::Value = res.json().await.unwrap();
    for c in codes["codes"].as_array().unwrap() {
        secrets.push(c.as_str().unwrap().to_string());
    }
    let bob = app.enroll("bob", json!({})).await;
    for e in [&alice, &bob] {
        secrets.push(e.json["secret"].as_str().unwrap().to_string());
    }
    let path = format!("/v1/users/bob/devices/{}", bob.id);
    assert_eq!(app.delete(&path, Some(&app.client_key)).await.status(), 204);
    assert_eq!(
        app.get("/v1/admin/users/alice", Some(&app.admin_key))
            .await
            .status(),
        200
    );
    let all = "/v1/admin/users/alice/devices";
    assert_eq!(app.delete(all, Some(&app.admin_key)).await.status(), 204);
    app.state.audit.flush().await;
    secrets
}

async fn verify_chain(app: &TestApp) -> Report {
    check::verify(&app.state.db, &app.state.keys)
        .await
        .expect("audit verify runs")
}

/// Checks the stored chain of `stream` independently of `check`: seq 1..n without a gap, every
/// hash linked over its predecessor, the head row at the newest event.
pub async fn assert_chained(app: &TestApp, stream: &str) -> usize {
    let rows: Vec<AuditEventRow> = audit_rows(app)
        .await
        .into_iter()
        .filter(|r| r.stream == stream)
        .collect();
    let mut by_seq = rows.clone();
    by_seq.sort_by_key(|r| r.seq);
    let mut prev = GENESIS.to_vec();
    for (i, r) in by_seq.iter().enumerate() {
        assert_eq!(r.seq, i as i64 + 1, "consecutive seq in {stream}");
        let hash = r.hash.clone().expect("every event is hashed");
        assert_eq!(
            hash,
            link(
                &app.state.keys,
                app.state.keys.key_id(),
                &prev,
                &r.written()
            )
            .unwrap(),
            "event {}",
            r.id
        );
        prev = hash;
    }
    let s2 = stream.to_string();
    let head: (i64, Vec<u8>) = app
        .state
        .db
        .run(move |c| Ok(s::table.find(s2).select((s::seq, s::head)).first(c)?))
        .await
        .unwrap();
    assert_eq!(head, (by_seq.len() as i64, prev), "head of {stream}");
    by_seq.len()
}

/// The chain verifies after a mixed workload; every event is in the app's stream, hashed, in
/// consecutive order.
async fn chain_verifies_after_a_mixed_workload(backend: Backend) {
    let app = spawn_app(backend).await;
    workload(&app).await;
    let rows = audit_rows(&app).await;
    let actions: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.action.as_str()).collect();
    for action in [
        "api_key_created",
        "device_enrolled",
        "device_confirmed",
        "verify_succeeded",
        "verify_failed",
        "replay",
        "user_locked",
        "user_unlocked",
        "recovery_codes_created",
        "device_revoked",
        "admin_request",
    ] {
        assert!(actions.contains(action), "{action} in {actions:?}");
    }
    let stream = app.state.audit.stream().id();
    assert!(
        rows.iter().all(|r| r.stream == stream),
        "one writer: {rows:?}"
    );

    let report = verify_chain(&app).await;
    assert!(report.broken.is_empty(), "{:?}", report.broken);
    assert_eq!((report.streams, report.unchained), (1, 0));
    assert_eq!(report.events, rows.len() as u64);
    assert_eq!(assert_chained(&app, stream).await, rows.len());
}

/// A fresh app with a workload, and its events.
async fn audited_app(backend: Backend) -> (TestApp, Vec<AuditEventRow>) {
    let app = spawn_app(backend).await;
    workload(&app).await;
    let rows = audit_rows(&app).await;
    assert!(verify_chain(&app).await.broken.is_empty());
    (app, rows)
}

fn only_broken(report: &Report) -> &check::Broken {
    assert_eq!(report.broken.len(), 1, "{:?}", report.broken);
    &report.broken[0]
}

/// An edited field of one event (its outcome, or its IP) is named by event id; putting it back
/// heals the chain.
async fn an_edited_event_is_named(backend: Backend) {
    for field in ["outcome", "ip"] {
        let (app, rows) = audited_app(backend).await;
        let target = rows
            .iter()
            .find(|r| r.action == "verify_failed")
            .unwrap()
            .clone();
        let (id, old_outcome, old_ip) = (target.id, target.outcome.clone(), target.ip.clone());
        let edit = field.to_string();
        let changed = app
            .state
            .db
            .run(move |c| {
                let row = a::table.find(id);
                Ok(match edit.as_str() {
                    "outcome" => diesel::update(row)
                        .set(a::outcome.eq("success"))
                        .execute(c)?,
                    _ => diesel::update(row).set(a::ip.eq("10.9.8.7")).execute(c)?,
                })
            })
            .await
            .unwrap();
        assert_eq!(changed, 1);

        let report = verify_chain(&app).await;
        let b = only_broken(&report);
        assert_eq!(
            (b.stream.as_str(), b.event_id, b.seq),
            (target.stream.as_str(), Some(id), target.seq),
            "{field}"
        );
        assert!(b.reason.contains("MAC mismatch"), "{}", b.reason);

        app.state
            .db
            .run(move |c| {
                diesel::update(a::table.find(id))
                    .set((a::outcome.eq(old_outcome), a::ip.eq(old_ip)))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(report_is_intact(&app).await, "{field} restored");
    }
}

async fn report_is_intact(app: &TestApp) -> bool {
    verify_chain(app).await.broken.is_empty()
}

async fn delete_event(app: &TestApp, id: i64) {
    let n = app
        .state
        .db
        .run(move |c| Ok(diesel::delete(a::table.find(id)).execute(c)?))
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// A deleted event in the middle of a stream: its successor is named, with the gap.
async fn a_deleted_middle_event_is_named(backend: Backend) {
    let (app, rows) = audited_app(backend).await;
    assert!(rows.len() > 6);
    delete_event(&app, rows[3].id).await;
    let report = verify_chain(&app).await;
    let b = only_broken(&report);
    assert_eq!((b.event_id, b.seq), (Some(rows[4].id), rows[4].seq));
    assert_eq!(rows[4].seq, rows[3].seq + 1);
    assert!(b.reason.contains("missing"), "{}", b.reason);
}

/// The newest event of a stream deleted: the head row is ahead of what is left.
async fn a_deleted_newest_event_is_noticed(backend: Backend) {
    let (app, rows) = audited_app(backend).await;
    let newest = rows.last().unwrap();
    delete_event(&app, newest.id).await;
    let report = verify_chain(&app).await;
    let b = only_broken(&report);
    assert_eq!(b.stream, newest.stream);
    assert_eq!((b.event_id, b.seq), (None, newest.seq));
    assert!(b.reason.contains("missing"), "{}", b.reason);
    assert_eq!(report.events, rows.len() as u64 - 1);
}

/// The head row deleted: the stream's events are orphans, and that is reported too.
async fn a_deleted_head_row_is_noticed(backend: Backend) {
    let (app, rows) = audited_app(backend).await;
    let stream = rows[0].stream.clone();
    let s2 = stream.clone();
    let n = app
        .state
        .db
        .run(move |c| Ok(diesel::delete(s::table.find(s2)).execute(c)?))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let report = verify_chain(&app).await;
    let b = only_broken(&report);
    assert_eq!((b.stream.as_str(), b.event_id), (stream.as_str(), None));
}

/// Two nodes on one database: two streams, written at the same time, that both verify; a
/// tampered event of one names that stream only.
async fn two_writers_keep_two_chains(backend: Backend) {
    let first = spawn_app(backend).await;
    let (first_state, first_base) = (first.state.clone(), first.base.clone());
    let second = first.restart().await;
    let second_base = second.base.clone();
    let (one, two) = (
        first_state.audit.stream().id(),
        second.state.audit.stream().id(),
    );
    assert_ne!(one, two);

    // Wrong codes for twenty users, half through each node, all at once.
    let attempts = (0..20).map(|i| {
        let base = if i % 2 == 0 {
            &first_base
        } else {
            &second_base
        };
        second
            .http
            .post(format!("{base}/v1/users/user{i}/verify"))
            .bearer_auth(&second.client_key)
            .json(&json!({"code": "000000"}))
            .send()
    });
    for res in futures_util::future::join_all(attempts).await {
        assert_eq!(res.unwrap().status(), 422);
    }
    let enroll = second
        .http
        .post(format!("{first_base}/v1/users/carol/devices/totp"))
        .bearer_auth(&second.client_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(enroll.status(), 201);
    second.enroll("dave", json!({})).await;
    first_state.audit.flush().await;
    second.state.audit.flush().await;

    let rows = audit_rows(&second).await;
    let in_stream = |s: &str| rows.iter().filter(|r| r.stream == s).count();
    assert_eq!(in_stream(one) + in_stream(two), rows.len());
    let failed = |s: &str| {
        rows.iter()
            .filter(|r| r.stream == s && r.action == "verify_failed")
            .count()
    };
    assert_eq!((failed(one), failed(two)), (10, 10));
    let report = verify_chain(&second).await;
    assert!(report.broken.is_empty(), "{:?}", report.broken);
    assert_eq!((report.streams, report.events), (2, rows.len() as u64));
    assert_eq!(assert_chained(&second, one).await, in_stream(one));
    assert_eq!(assert_chained(&second, two).await, in_stream(two));

    let target = rows
        .iter()
        .find(|r| r.stream == one && r.seq == 2)
        .unwrap()
        .id;
    let n = second
        .state
        .db
        .run(move |c| {
            Ok(diesel::update(a::table.find(target))
                .set(a::actor.eq("cli"))
                .execute(c)?)
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    let report = verify_chain(&second).await;
    let b = only_broken(&report);
    assert_eq!((b.stream.as_str(), b.event_id), (one, Some(target)));
}

/// A new writer's first events, recorded by several transactions at the same moment (a node's
/// first requests after its start), all land in one chain: none fails on making the stream row.
async fn a_new_streams_first_writers_may_race(backend: Backend) {
    use diesel::Connection;
    use std::sync::{Arc, Barrier};
    use twofold::audit::{Action, Actor, Event, Stream};
    use twofold::clock::Clock;
    const WRITERS: usize = 4;
    let app = spawn_app(backend).await;
    for round in 0..5 {
        let stream = Stream::new(app.state.keys.clone()).unwrap();
        let barrier = Arc::new(Barrier::new(WRITERS));
        let now = app.clock.now();
        let writes = (0..WRITERS).map(|i| {
            let (stream, barrier) = (stream.clone(), barrier.clone());
            let event =
                Event::new("default", Action::UserUnlocked, Actor::Cli).user(format!("u{i}"));
            app.state.db.run(move |conn| {
                barrier.wait();
                conn.transaction(|c| stream.record(c, now, event))
            })
        });
        for res in futures_util::future::join_all(writes).await {
            res.unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        assert_eq!(assert_chained(&app, stream.id()).await, WRITERS);
    }
    let report = verify_chain(&app).await;
    assert!(report.broken.is_empty(), "{:?}", report.broken);
    assert_eq!(report.streams, 6);
}

crate::both_backends!(
    a_new_streams_first_writers_may_race,
    chain_verifies_after_a_mixed_workload,
    an_edited_event_is_named,
    a_deleted_middle_event_is_named,
    a_deleted_newest_event_is_noticed,
    a_deleted_head_row_is_noticed,
    two_writers_keep_two_chains,
);
