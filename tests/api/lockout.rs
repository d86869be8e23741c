//! The limiter: ten consecutive failures lock a user for 15 minutes, doubling per lock; every
//! code-accepting path shares the counter; parallel guesses cannot exceed it (SEC-13..17).

use chrono::TimeDelta;
use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{Backend, assert_error, spawn_app, spawn_app_with};

/// A caller from a browser at `ip` (the hosted pages): the address limit counts `ip` itself.
pub fn browser(ip: Option<&str>) -> twofold::app::users::Caller {
    twofold::app::users::Caller {
        actor: twofold::audit::Actor::Anonymous,
        is_admin: false,
        ip: ip.map(str::to_string),
        unconfirmed_key: None,
        origin: twofold::app::users::Origin::Browser,
    }
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// SEC-13, SEC-14: the 10th wrong code is still `invalid_code`; then every attempt, the right
/// code too, gets the same 429 with Retry-After, until the lock ends.
async fn ten_failures_lock_for_fifteen_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    for _ in 0..10 {
        assert_error(
            app.verify("alice", json!("000000")).await,
            422,
            "invalid_code",
        )
        .await;
    }
    let right = app.verify("alice", json!(app.code(&device, 0))).await;
    let wait = retry_after(&right);
    assert!((899..=900).contains(&wait), "Retry-After {wait}");
    let right_body = assert_error(right, 429, "user_locked").await;
    assert_eq!(
        right_body["message"],
        "too many wrong codes: this user is locked for now; try again later"
    );
    let wrong = app.verify("alice", json!("000000")).await;
    assert_eq!(retry_after(&wrong), wait);
    assert_eq!(assert_error(wrong, 429, "user_locked").await, right_body);

    app.clock.advance(TimeDelta::minutes(14));
    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    assert!(retry_after(&res) <= 60);
    assert_error(res, 429, "user_locked").await;
    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
}

/// Each further lock doubles: 15, then 30 minutes.
async fn further_locks_double(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    for round in [900u64, 1800, 3600] {
        for _ in 0..10 {
            assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
        }
        let res = app.verify("alice", json!("000000")).await;
        let wait = retry_after(&res);
        assert!(
            (round - 1..=round).contains(&wait),
            "expected ~{round}, got {wait}"
        );
        app.clock.advance(TimeDelta::seconds(round as i64));
    }
}

/// SEC-17: success resets the count of consecutive failures.
async fn success_resets_the_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    for _ in 0..9 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
    for _ in 0..9 {
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );
}

/// SEC-17: a success evaluated while the lock was being set (attempts in flight together) clears
/// the failure count but leaves the lock in place.
async fn success_does_not_lift_an_active_lock(backend: Backend) {
    use twofold::app::limiter::AfterFailure;
    let app = spawn_app(backend).await;
    let alice = twofold::app::users::Subject::new("default".into(), "alice".into()).unwrap();
    let limiter = &app.state.limiter;
    let nowhere = browser(None);
    let mut in_flight = Vec::new();
    for _ in 0..10 {
        let ticket = limiter.begin(&alice, &nowhere).await.unwrap();
        in_flight.push(ticket.expect("admitted"));
    }
    assert!(
        limiter.begin(&alice, &nowhere).await.unwrap().is_err(),
        "an 11th is not admitted"
    );
    let tenth = in_flight.pop().unwrap();
    let fifth = in_flight.swap_remove(4);
    assert!(matches!(limiter.failed(tenth), AfterFailure::Locked(_)));
    limiter.succeeded(fifth).await.unwrap();
    let refusal = limiter.begin(&alice, &nowhere).await.unwrap();
    let err = twofold::error::Error::from(refusal.unwrap_err());
    assert!(
        matches!(err, twofold::error::Error::UserLocked { retry_after_secs } if retry_after_secs >= 899)
    );
}

/// SEC-15: 100 parallel wrong codes with a limit of 10 → at most 10 evaluated, the rest 429.
async fn parallel_guesses_cannot_exceed_the_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    let results = join_all((0..100).map(|_| app.verify("alice", json!("000000")))).await;
    let evaluated = results.iter().filter(|r| r.status() == 422).count();
    let refused = results.iter().filter(|r| r.status() == 429).count();
    assert!(evaluated <= 10, "{evaluated} evaluated");
    assert_eq!(evaluated + refused, 100);
}

/// SEC-13: one counter across devices and paths: failed confirms and failed verifies add up.
async fn confirm_and_verify_share_the_counter(backend: Backend) {
    let app = spawn_app(backend).await;
    // Both enrolled before either is active, so the second needs no step-up.
    let active = app.enroll("alice", json!({"label": "first"})).await;
    let pending = app.enroll("alice", json!({"label": "second"})).await;
    assert_eq!(
        app.confirm("alice", &active, &app.code(&active, 0))
            .await
            .status(),
        200
    );
    app.clock.advance(TimeDelta::seconds(30));
    for _ in 0..5 {
        assert_eq!(app.confirm("alice", &pending, "000000").await.status(), 422);
        assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    }
    let res = app.confirm("alice", &pending, &app.code(&pending, 0)).await;
    assert_error(res, 429, "user_locked").await;
    let res = app.verify("alice", json!(app.code(&active, 0))).await;
    assert_error(res, 429, "user_locked").await;
}

/// SEC-16: counters are per canonical user: another user is not affected.
async fn lock_is_per_user(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    let bob = app.active_device("bob").await;
    for _ in 0..11 {
        app.verify("alice", json!("000000")).await;
    }
    assert_eq!(app.verify("alice", json!("000000")).await.status(), 429);
    assert_eq!(
        app.verify("bob", json!(app.code(&bob, 0))).await.status(),
        200
    );
}

/// The per-IP limit: failures from one address across many users.
async fn per_ip_failures_are_limited(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.ip_failure_limit = 5).await;
    const FROM: &str = "198.51.100.9";
    for i in 0..5 {
        let res = app.verify_from(&format!("user{i}"), "000000", FROM).await;
        assert_eq!(res.status(), 422);
    }
    let res = app.verify_from("someone-else", "000000", FROM).await;
    assert!(retry_after(&res) > 0);
    // A limit, not a lockout: its own code and words (issue 16).
    let body = assert_error(res, 429, "rate_limited").await;
    assert_eq!(body["message"], "a rate limit was reached; try again later");
}

/// An attempt the per-IP limit refuses does not count against the user: else it could fill the
/// user's counter with no lock to end it.
async fn ip_refusals_do_not_count_against_the_user(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.ip_failure_limit = 2).await;
    const FROM: &str = "198.51.100.9";
    for i in 0..2 {
        let res = app.verify_from(&format!("user{i}"), "000000", FROM).await;
        assert_eq!(res.status(), 422);
    }
    for _ in 0..20 {
        let res = app.verify_from("victim", "000000", FROM).await;
        assert_eq!(res.status(), 429);
    }
    let victim = twofold::app::users::Subject::new("default".into(), "victim".into()).unwrap();
    // Each from an address of its own: an address's limit (2) counts attempts in flight.
    for i in 0..10 {
        let admitted = app
            .state
            .limiter
            .begin(&victim, &browser(Some(&format!("192.0.2.{i}"))))
            .await;
        assert!(
            admitted.is_ok_and(|a| a.is_ok()),
            "from other addresses the user has all ten attempts"
        );
    }
}

crate::both_backends!(
    ip_refusals_do_not_count_against_the_user,
    ten_failures_lock_for_fifteen_minutes,
    further_locks_double,
    success_resets_the_count,
    success_does_not_lift_an_active_lock,
    parallel_guesses_cannot_exceed_the_limit,
    confirm_and_verify_share_the_counter,
    lock_is_per_user,
    per_ip_failures_are_limited,
);
