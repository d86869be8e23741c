//! The round-trip budget of a verify (issue 8), counted, not timed: a wrong code costs one
//! database statement and one store round trip (the limiter: the user's and the address's
//! counts together); the audit trail adds no statement per request, only one batch for many.
//! And of an SMS send: every anti-pumping limit, budget and breaker in one store round trip.
//! Statements are counted by diesel's instrumentation on every pooled connection; store round
//! trips as requests sent to Redis, or operations on the in-process store.

use std::cell::Cell;

use serde_json::{Value, json};
use twofold::app::sms_limits;
use twofold::app::users::Subject;
use twofold::factor::phone::Phone;

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::sms::{PHONE, enroll_phone, send_code, skip_cooldown};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    statements: u64,
    store: u64,
}

/// What `requests` cost, measured again if the audit writer happened to write a batch meanwhile
/// (its statements are not the requests'; they are counted on their own below).
async fn cost<F: Future<Output = ()>>(app: &TestApp, requests: impl Fn() -> F) -> Cost {
    for _ in 0..5 {
        app.state.audit.flush().await;
        let batches = app.state.audit.batches();
        let (db, store) = (app.state.db.statements(), app.state.store.round_trips());
        requests().await;
        if app.state.audit.batches() == batches {
            return Cost {
                statements: app.state.db.statements() - db,
                store: app.state.store.round_trips() - store,
            };
        }
    }
    panic!("the audit writer wrote a batch during every measurement");
}

async fn wrong_codes_cost_one_statement_and_one_store_round_trip(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    // Warm: the client key is in this node's cache, Redis has the scripts.
    assert_eq!(app.verify("alice", json!("111111")).await.status(), 422);

    let wrong = cost(&app, || async {
        for code in ["000000", "12345678"] {
            assert_eq!(app.verify("alice", json!(code)).await.status(), 422);
        }
    })
    .await;
    assert_eq!(
        wrong,
        Cost {
            statements: 2,
            store: 2
        },
        "two wrong codes"
    );

    // Users without a device look the same, and cost the same.
    let unknown = cost(&app, || async {
        for i in 0..20 {
            let res = app.verify(&format!("ghost{i}"), json!("000000")).await;
            assert_eq!(res.status(), 422);
        }
    })
    .await;
    assert_eq!(
        unknown,
        Cost {
            statements: 20,
            store: 20
        }
    );

    // The audit events of all of them: one batch, a handful of statements, whatever their number.
    let before = app.state.db.statements();
    app.state.audit.flush().await;
    let audit = app.state.db.statements() - before;
    assert!(
        (1..=8).contains(&audit),
        "{audit} statements for 20+ audit events"
    );

    // A right code: the device query, the step's compare-and-set; the limiter's begin, then
    // clearing the count.
    let right = cost(&app, || async {
        let code = app.code(&device, 0);
        assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    })
    .await;
    assert_eq!(
        right,
        Cost {
            statements: 2,
            store: 2
        }
    );
}

/// A key revoked after this node cached it: the device query finds it gone, 401, and nothing is
/// counted against the user.
async fn a_cached_key_revoked_elsewhere_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("bob").await;
    assert_eq!(app.verify("bob", json!("000000")).await.status(), 422);
    // Revoked behind this node's back (as the CLI or another node would).
    let id = crate::admin::key_id(&app, &app.client_key).await;
    app.state
        .db
        .run(move |c| {
            use diesel::prelude::*;
            use twofold::db::schema::api_keys::dsl as k;
            diesel::update(k::api_keys.filter(k::id.eq(id)))
                .set(k::revoked_at.eq(chrono::Utc::now().naive_utc()))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    for code in [json!("000000"), json!("aaaa-bbbb-cccc"), json!(7)] {
        let res = app.verify("bob", code).await;
        assert_eq!(res.status(), 401);
    }
    let res = app
        .get("/v1/admin/users/bob", Some(&app.admin_key))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        res["lock"]["failures"], 1,
        "only the first wrong code counted"
    );
}

/// An SMS send: the limits are one store round trip, and a whole send three — the resend
/// cooldown (claimed together with reading the count of recent sends that sets its length), the
/// limits, and the code (stored together with counting the send and resetting the tries).
async fn an_sms_send_charges_every_limit_in_one_store_round_trip(backend: Backend) {
    let app = spawn_app(backend).await;
    // Warm: the client key is in this node's cache, Redis has the scripts.
    assert_eq!(enroll_phone(&app, "warm", PHONE).await.status(), 201);

    // The limits alone: two breakers read, six counts (number ×2, prefix, user, address,
    // country), two budgets.
    let phone = Phone::parse("+33622345678").unwrap();
    let subject = Subject::new("default".into(), "limits".into()).unwrap();
    let (store, limits) = (&app.state.store, &app.state.config.sms.limits);
    let before = store.round_trips();
    let ip = Some("192.0.2.1");
    sms_limits::charge(store, limits, &phone, &subject, ip, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(store.round_trips() - before, 1, "the limits");

    // A measurement is taken again when the audit writer wrote meanwhile (see `cost`), so each
    // try texts a user and a number of its own (another prefix too: no limit is near).
    let tries = Cell::new(0);
    let next = || {
        tries.set(tries.get() + 1);
        tries.get()
    };

    // An enrollment: the key (looked up on every route but verify), the label check, whether the
    // user has an active device (step-up), then one transaction (begin; on SQLite the write lock
    // first; the user, expired pending devices, the device; the audit event: the stream's count
    // and head, the row, the new head; commit); and the send's three store round trips.
    let enroll = cost(&app, || async {
        let n = next();
        let res = enroll_phone(&app, &format!("e{n}"), &format!("+3364{n}{n}45678")).await;
        assert_eq!(res.status(), 201);
    })
    .await;
    assert_eq!(
        enroll,
        Cost {
            statements: if backend == Backend::Embedded { 13 } else { 12 },
            store: 3
        },
        "an enrollment"
    );

    // A new code once the cooldown is over: the key, the device list; the same three.
    let mut pending = Vec::new();
    for n in 0..5 {
        let user = format!("r{n}");
        let res = enroll_phone(&app, &user, &format!("+3365{n}{n}45678")).await;
        let body: Value = res.json().await.unwrap();
        let id = body["device"]["id"].as_str().unwrap().to_string();
        skip_cooldown(&app, &user, &id).await;
        pending.push((user, json!({ "device_id": id })));
    }
    tries.set(0);
    let resend = cost(&app, || async {
        let (user, body) = &pending[next() - 1];
        assert_eq!(send_code(&app, user, body.clone()).await.status(), 202);
    })
    .await;
    assert_eq!(
        resend,
        Cost {
            statements: 2,
            store: 3
        },
        "a resend"
    );

    // Too soon: the cooldown refuses in its one round trip, which also reads what the answer
    // tells (when the last code went, how long to wait); nothing is charged.
    let (user, body) = &pending[0];
    let early = cost(&app, || async {
        assert_eq!(send_code(&app, user, body.clone()).await.status(), 429);
    })
    .await;
    assert_eq!(
        early,
        Cost {
            statements: 2,
            store: 1
        },
        "a resend inside the cooldown"
    );
}

crate::both_backends!(
    wrong_codes_cost_one_statement_and_one_store_round_trip,
    a_cached_key_revoked_elsewhere_is_refused_at_once,
    an_sms_send_charges_every_limit_in_one_store_round_trip,
);
