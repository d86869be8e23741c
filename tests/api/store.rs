//! One suite for both stores: the same operations, the same semantics, under races (REL-6, REL-8).

use std::sync::Arc;
use std::time::Duration;

use twofold::store::Store;

use crate::helpers::{random_suffix, test_redis_url};

const TIMEOUT: Duration = Duration::from_secs(2);

fn memory() -> Store {
    Store::memory(TIMEOUT)
}

fn redis() -> Store {
    Store::redis(
        &test_redis_url(),
        &format!("twofold-test:{}:", random_suffix()),
        TIMEOUT,
    )
    .expect("redis client")
}

async fn hit_counts_up_to_the_limit_then_refuses_without_counting(store: Store) {
    let w = Duration::from_secs(60);
    for n in 1..=3 {
        let h = store.hit("h", 3, w).await.unwrap();
        assert!(h.allowed);
        assert_eq!(h.count, n);
        assert!(h.resets_in <= w && h.resets_in > Duration::from_secs(50));
    }
    for _ in 0..3 {
        let h = store.hit("h", 3, w).await.unwrap();
        assert!(!h.allowed);
        assert_eq!(h.count, 3, "refused hits are not counted");
    }
    // Another key is another counter.
    assert!(store.hit("other", 3, w).await.unwrap().allowed);
}

async fn hit_window_ends_with_its_ttl(store: Store) {
    let w = Duration::from_millis(300);
    assert!(store.hit("w", 1, w).await.unwrap().allowed);
    assert!(!store.hit("w", 1, w).await.unwrap().allowed);
    let ttl = store
        .ttl("w")
        .await
        .unwrap()
        .expect("the counter has a TTL");
    assert!(ttl <= w);
    tokio::time::sleep(w + Duration::from_millis(100)).await;
    let h = store.hit("w", 1, w).await.unwrap();
    assert!(h.allowed);
    assert_eq!(h.count, 1, "a new window starts from zero");
}

async fn consume_once_is_true_once_until_expiry(store: Store) {
    let ttl = Duration::from_millis(300);
    assert!(store.consume_once("c", ttl).await.unwrap());
    assert!(!store.consume_once("c", ttl).await.unwrap());
    assert!(store.ttl("c").await.unwrap().is_some());
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert!(store.consume_once("c", ttl).await.unwrap());
}

async fn put_get_take_delete(store: Store) {
    let ttl = Duration::from_secs(60);
    assert_eq!(store.get("p").await.unwrap(), None);
    store.put("p", b"one", ttl).await.unwrap();
    assert_eq!(store.get("p").await.unwrap().as_deref(), Some(&b"one"[..]));
    store.put("p", b"two", ttl).await.unwrap();
    assert!(store.ttl("p").await.unwrap().unwrap() > Duration::from_secs(50));
    assert_eq!(store.take("p").await.unwrap().as_deref(), Some(&b"two"[..]));
    assert_eq!(store.take("p").await.unwrap(), None);
    store.put("d", b"x", ttl).await.unwrap();
    assert!(store.delete("d").await.unwrap());
    assert!(!store.delete("d").await.unwrap());
    assert_eq!(store.get("d").await.unwrap(), None);
}

async fn put_expires(store: Store) {
    store
        .put("e", b"x", Duration::from_millis(200))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.get("e").await.unwrap(), None);
    assert_eq!(store.take("e").await.unwrap(), None);
    assert_eq!(store.ttl("e").await.unwrap(), None);
}

/// Many tasks racing on one key get exactly the allowed count (SEC-15, REL-6).
async fn racing_hits_get_exactly_the_limit(store: Store) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.hit("race", 10, Duration::from_secs(60)).await })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

async fn racing_consume_once_has_one_winner(store: Store) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.consume_once("once", Duration::from_secs(60)).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

async fn racing_take_has_one_winner(store: Store) {
    store.put("t", b"v", Duration::from_secs(60)).await.unwrap();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.take("t").await })
        })
        .collect();
    let mut got = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            got += 1;
        }
    }
    assert_eq!(got, 1);
}

/// Delete-if-equal: a replaced value is left alone; of racing takers one wins.
async fn take_if_equal_takes_only_the_value_compared(store: Store) {
    let ttl = Duration::from_secs(60);
    store.put("q", b"old", ttl).await.unwrap();
    store.put("q", b"new", ttl).await.unwrap();
    assert!(!store.take_if_equal("q", b"old").await.unwrap());
    assert_eq!(store.get("q").await.unwrap().as_deref(), Some(&b"new"[..]));
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.take_if_equal("q", b"new").await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.get("q").await.unwrap(), None);
}

fn lockout(threshold: u64, base: Duration, max: Duration) -> twofold::store::Lockout {
    twofold::store::Lockout {
        threshold,
        base,
        max,
        memory: Duration::from_secs(60),
    }
}

/// The limiter's multi-key scripts (begin an attempt, which locks at the threshold; lift; read
/// the state; unlock) on one subject's keys: on a cluster they must all land in the subject's
/// slot.
async fn limiter_scripts_keep_a_subjects_keys_together(store: Store) {
    use twofold::store::{Attempt, HeldLock, LimiterKeys};
    let keys = LimiterKeys::new("acme/alice");
    let base = Duration::from_secs(900);
    let rule = lockout(3, base, base * 4);
    for n in 1..=2 {
        let a = store.begin_attempt(&keys, Some(1_000), rule).await.unwrap();
        assert_eq!(
            a,
            Attempt::Allowed {
                count: n,
                lock: None
            }
        );
    }
    let third = store.begin_attempt(&keys, Some(1_000), rule).await.unwrap();
    let held = HeldLock {
        until_ms: 1_000 + 900_000,
        length: base,
    };
    assert_eq!(
        third,
        Attempt::Allowed {
            count: 3,
            lock: Some(held)
        },
        "the attempt that reaches the threshold locks in advance"
    );
    let refused = store.begin_attempt(&keys, Some(2_000), rule).await.unwrap();
    assert_eq!(
        refused,
        Attempt::Refused {
            retry_after: base - Duration::from_millis(1_000)
        }
    );
    let state = store.limiter_state(&keys, Some(2_000)).await.unwrap();
    assert_eq!(
        (state.failures, state.locked_for, state.level),
        (0, Some(base - Duration::from_millis(1_000)), 1),
        "the lock cleared the failures"
    );
    let deleted = store
        .delete_many(&[&keys.lock, &keys.failures, &keys.level])
        .await
        .unwrap();
    assert_eq!(deleted, 2, "the lock and its level");
    let a = store.begin_attempt(&keys, Some(2_000), rule).await.unwrap();
    assert_eq!(
        a,
        Attempt::Allowed {
            count: 1,
            lock: None
        }
    );
}

/// The lock set in advance, lifted: a give-back puts the failures before it back and lowers the
/// level; a success clears the count; a lock that is no longer this one (an admin unlocked and
/// another came) stays.
async fn a_lock_set_in_advance_is_lifted_by_its_own_attempt_only(store: Store) {
    use twofold::store::{Attempt, Lift, LimiterKeys};
    let keys = LimiterKeys::new("acme/lift");
    let base = Duration::from_secs(60);
    let rule = lockout(3, base, base * 4);
    let begin = |now: i64| {
        let (store, keys) = (store.clone(), keys.clone());
        async move { store.begin_attempt(&keys, Some(now), rule).await.unwrap() }
    };
    let held = |a: Attempt| match a {
        Attempt::Allowed { lock: Some(l), .. } => l,
        other => panic!("no lock set in advance: {other:?}"),
    };
    begin(0).await;
    begin(0).await;
    let lock = held(begin(0).await);
    store.give_back(&keys, Some(lock), rule).await.unwrap();
    let state = store.limiter_state(&keys, Some(0)).await.unwrap();
    assert_eq!(
        (state.failures, state.locked_for, state.level),
        (2, None, 0)
    );
    // The same attempt again reaches the threshold, and the same first lock.
    let lock = held(begin(0).await);
    assert_eq!(lock.length, base);
    store
        .lift(&keys, lock, Lift::Cleared, rule, None)
        .await
        .unwrap();
    let state = store.limiter_state(&keys, Some(0)).await.unwrap();
    assert_eq!(
        (state.failures, state.locked_for, state.level),
        (0, None, 0)
    );

    for _ in 0..2 {
        begin(10).await;
    }
    let old = held(begin(10).await);
    store
        .delete_many(&[&keys.lock, &keys.failures, &keys.level])
        .await
        .unwrap();
    for _ in 0..2 {
        begin(20).await;
    }
    let new = held(begin(20).await);
    store.give_back(&keys, Some(old), rule).await.unwrap();
    let state = store.limiter_state(&keys, Some(20)).await.unwrap();
    assert_eq!(
        (state.failures, state.locked_for, state.level),
        (0, Some(new.length), 1),
        "another attempt's lock stays"
    );
}

/// Without a hand-moved time the store reads its own clock (Redis `TIME`): a lock set so lasts
/// its length from now, whatever the caller's clock says.
async fn lock_time_defaults_to_the_stores_clock(store: Store) {
    use twofold::store::{Attempt, LimiterKeys};
    let keys = LimiterKeys::new("acme/server-time");
    let base = Duration::from_secs(900);
    let rule = lockout(1, base, base);
    let before = chrono::Utc::now().timestamp_millis();
    let Attempt::Allowed {
        lock: Some(lock), ..
    } = store.begin_attempt(&keys, None, rule).await.unwrap()
    else {
        panic!("the first attempt locks at threshold 1");
    };
    let after = chrono::Utc::now().timestamp_millis();
    let from = lock.until_ms - 900_000;
    assert!(
        (before - 1_000..=after + 1_000).contains(&from),
        "locked from {from}, asked between {before} and {after}"
    );
    let Attempt::Refused { retry_after } = store.begin_attempt(&keys, None, rule).await.unwrap()
    else {
        panic!("locked");
    };
    assert!(retry_after <= base && retry_after > base - Duration::from_secs(5));
    let state = store.limiter_state(&keys, None).await.unwrap();
    assert!(state.locked_for.is_some_and(|left| left <= retry_after));
}

/// The lock lengths the store applies, level after level, are those of the one Rust function of
/// the lockout arithmetic: the Redis Lua script computes them itself (atomically with raising
/// the level), so this is what holds the two together. Odd base and max, so that rounding and
/// the cap show too.
async fn lock_lengths_follow_the_lockout_arithmetic(store: Store) {
    use twofold::factor::lockout::lock_length;
    use twofold::store::{Attempt, LimiterKeys};
    async fn lengths(store: &Store, subject: &str, base: Duration, max: Duration, levels: u64) {
        let keys = LimiterKeys::new(subject);
        let rule = lockout(1, base, max);
        let mut now = 1_000i64;
        for level in 1..=levels {
            let a = store.begin_attempt(&keys, Some(now), rule).await.unwrap();
            let Attempt::Allowed {
                lock: Some(lock), ..
            } = a
            else {
                panic!("level {level}: {a:?}");
            };
            assert_eq!(lock.length, lock_length(base, max, level), "level {level}");
            now = lock.until_ms;
        }
    }
    let base = Duration::from_millis(1_337);
    lengths(
        &store,
        "acme/lockout",
        base,
        Duration::from_millis(5_000_003),
        25,
    )
    .await;
    let uncapped = Duration::from_secs(u64::from(u32::MAX));
    lengths(&store, "acme/lockout-uncapped", base, uncapped, 24).await;
}

/// The limiter's one round trip: the attempt and the address's count together (on a cluster,
/// two slots), what a refusal gives back, and what a success clears.
async fn attempt_and_address_count_together_and_give_back(store: Store) {
    use twofold::store::{Attempt, IpLimit, LimiterKeys};
    let keys = LimiterKeys::new("acme/bob");
    let ip_key = "ipfail:{198.51.100.7}";
    let w = Duration::from_secs(60);
    let ip = IpLimit {
        key: ip_key,
        limit: 2,
        window: w,
    };
    for n in 1..=2 {
        let (a, hit) = store
            .begin_attempt_from(&keys, ip, Some(0), lockout(10, w, w))
            .await
            .unwrap();
        assert_eq!(
            a,
            Attempt::Allowed {
                count: n,
                lock: None
            }
        );
        assert!(hit.allowed && hit.count == n);
    }
    // The address is at its limit: refused there, counted for the user, who gets it back.
    let (a, hit) = store
        .begin_attempt_from(&keys, ip, Some(0), lockout(10, w, w))
        .await
        .unwrap();
    assert_eq!(
        a,
        Attempt::Allowed {
            count: 3,
            lock: None
        }
    );
    assert!(!hit.allowed && hit.count == 2);
    store.release(&keys.failures).await.unwrap();
    // A success: the user's count goes, the address gets one back.
    store
        .clear_and_release(&keys.failures, ip_key)
        .await
        .unwrap();
    let (a, hit) = store
        .begin_attempt_from(&keys, ip, Some(0), lockout(10, w, w))
        .await
        .unwrap();
    assert_eq!(
        a,
        Attempt::Allowed {
            count: 1,
            lock: None
        }
    );
    assert!(hit.allowed && hit.count == 2);
    // Given back, the window's end stays; given back to zero, nothing is left.
    store.release(ip_key).await.unwrap();
    let ttl = store.ttl(ip_key).await.unwrap().expect("a TTL");
    assert!(ttl > Duration::ZERO && ttl <= w);
    for _ in 0..5 {
        store.release(ip_key).await.unwrap();
    }
    assert_eq!(store.get(ip_key).await.unwrap(), None);
    let hit = store.hit(ip_key, 2, w).await.unwrap();
    assert_eq!(hit.count, 1);
}

/// One step of several counts and breakers: the first refusal ends it, what came before stays
/// counted, a budget's refusal trips its breaker once, and a tripped breaker counts nothing.
async fn charge_stops_at_the_first_refusal(store: Store) {
    use twofold::store::{Step, Stopped};
    let (w, trip) = (Duration::from_secs(60), Duration::from_secs(30));
    let steps = [
        Step::Breaker("b:{c}"),
        Step::Limit {
            key: "l1:{c}",
            limit: 5,
            window: w,
        },
        Step::Limit {
            key: "l2:{c}",
            limit: 2,
            window: w,
        },
        Step::Budget {
            key: "q:{c}",
            limit: 1,
            window: w,
            breaker: "b:{c}",
            trip_for: trip,
        },
    ];
    assert_eq!(store.charge(&steps).await.unwrap(), None);
    // The budget of 1 is used up: it refuses and trips the breaker; l1 and l2 stay counted.
    let refused = store.charge(&steps).await.unwrap().unwrap();
    assert_eq!((refused.step, refused.tripped), (3, true));
    assert!(refused.resets_in <= w && refused.resets_in > Duration::from_secs(50));
    let breaker_ttl = store
        .ttl("b:{c}")
        .await
        .unwrap()
        .expect("a tripped breaker");
    assert!(breaker_ttl <= trip && breaker_ttl > Duration::from_secs(20));
    // The breaker refuses first: nothing is counted.
    assert_eq!(
        store.charge(&steps).await.unwrap(),
        Some(Stopped {
            step: 0,
            resets_in: Duration::ZERO,
            tripped: false
        })
    );
    for (key, count) in [("l1:{c}", b"2"), ("l2:{c}", b"2"), ("q:{c}", b"1")] {
        assert_eq!(
            store.get(key).await.unwrap().as_deref(),
            Some(&count[..]),
            "{key}"
        );
        let ttl = store.ttl(key).await.unwrap().expect("a TTL");
        assert!(ttl <= w, "{key} {ttl:?}");
    }
    // Without the breaker, l2 (at 2 of 2) refuses; l1 before it is counted, the budget after not.
    assert!(store.delete("b:{c}").await.unwrap());
    let refused = store.charge(&steps).await.unwrap().unwrap();
    assert_eq!((refused.step, refused.tripped), (2, false));
    assert_eq!(
        store.get("l1:{c}").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );
    assert_eq!(store.get("b:{c}").await.unwrap(), None, "no budget refused");
    // A breaker set by someone else is not tripped again by a later refusal.
    let budget_only = [Step::Budget {
        key: "q:{c}",
        limit: 1,
        window: w,
        breaker: "b:{c}",
        trip_for: trip,
    }];
    assert!(store.charge(&budget_only).await.unwrap().unwrap().tripped);
    assert!(!store.charge(&budget_only).await.unwrap().unwrap().tripped);
}

/// N racing charges with a limit of L: exactly L pass.
async fn racing_charges_get_exactly_the_limit(store: Store) {
    use twofold::store::Step;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                let steps = [
                    Step::Limit {
                        key: "rl:{r}",
                        limit: 3,
                        window: Duration::from_secs(60),
                    },
                    Step::Limit {
                        key: "rl2:{r}",
                        limit: 100,
                        window: Duration::from_secs(60),
                    },
                ];
                s.charge(&steps).await.unwrap().is_none()
            })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        passed += u64::from(t.await.unwrap());
    }
    assert_eq!(passed, 3);
    assert_eq!(
        store.get("rl2:{r}").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );
}

/// SET NX whose TTL doubles with a counter; a held key is read back with its TTL.
async fn claim_doubles_its_ttl_with_the_count(store: Store) {
    use twofold::store::{Claim, Doubling, Write};
    let ttl = Doubling {
        base: Duration::from_secs(10),
        doublings: 2,
        max: Duration::from_secs(30),
    };
    assert_eq!(
        store.claim("cl:{d}", b"one", "n:{d}", ttl).await.unwrap(),
        Claim::Claimed {
            ttl: Duration::from_secs(10)
        }
    );
    let Claim::Held { value, ttl: left } =
        store.claim("cl:{d}", b"two", "n:{d}", ttl).await.unwrap()
    else {
        panic!("a held key")
    };
    assert_eq!(value, b"one");
    assert!(left.is_some_and(|t| t <= Duration::from_secs(10) && t > Duration::from_secs(8)));
    for (count, expected) in [(1, 20), (2, 30), (5, 30)] {
        assert!(store.delete("cl:{d}").await.unwrap());
        store.delete("n:{d}").await.unwrap();
        let counts = vec![Write::Count("n:{d}", Duration::from_secs(60)); count];
        store.write_all(&counts).await.unwrap();
        assert_eq!(
            store.claim("cl:{d}", b"x", "n:{d}", ttl).await.unwrap(),
            Claim::Claimed {
                ttl: Duration::from_secs(expected)
            },
            "{count} sends"
        );
        let set = store.ttl("cl:{d}").await.unwrap().unwrap();
        assert!(set <= Duration::from_secs(expected) && set > Duration::from_secs(expected - 2));
    }
}

/// Puts, counts and deletes in one step; a count's window starts with its first count.
async fn write_all_puts_counts_and_deletes(store: Store) {
    use twofold::store::Write;
    let w = Duration::from_secs(60);
    store.put("gone:{e}", b"x", w).await.unwrap();
    store
        .write_all(&[
            Write::Count("n:{e}", w),
            Write::Put("v:{e}", b"value", Duration::from_secs(30)),
            Write::Delete("gone:{e}"),
            Write::Count("n:{e}", Duration::from_secs(1)),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.get("n:{e}").await.unwrap().as_deref(),
        Some(&b"2"[..])
    );
    let n_ttl = store.ttl("n:{e}").await.unwrap().unwrap();
    assert!(
        n_ttl > Duration::from_secs(50),
        "the first count's window: {n_ttl:?}"
    );
    assert_eq!(
        store.get("v:{e}").await.unwrap().as_deref(),
        Some(&b"value"[..])
    );
    let v_ttl = store.ttl("v:{e}").await.unwrap().unwrap();
    assert!(v_ttl <= Duration::from_secs(30) && v_ttl > Duration::from_secs(25));
    assert_eq!(store.get("gone:{e}").await.unwrap(), None);
    // A count counts on past any limit, as a hit without one would.
    store.write_all(&[Write::Count("n:{e}", w)]).await.unwrap();
    assert_eq!(store.hit("n:{e}", u64::MAX, w).await.unwrap().count, 4);
}

fn cluster() -> Store {
    let nodes: Vec<String> = std::env::var("TWOFOLD_TEST_REDIS_CLUSTER")
        .expect("TWOFOLD_TEST_REDIS_CLUSTER: run scripts/test.sh, which starts a cluster")
        .split(',')
        .map(str::to_string)
        .collect();
    Store::redis_cluster(
        &nodes,
        &format!("twofold-test:{}:", random_suffix()),
        TIMEOUT,
    )
    .expect("redis cluster client")
}

/// Runs each suite function against both stores, on a multi-threaded runtime so races are real.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(super::memory()).await })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(super::redis()).await })*
        }
        mod redis_cluster {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(super::cluster()).await })*
        }
    };
}

both_stores!(
    hit_counts_up_to_the_limit_then_refuses_without_counting,
    hit_window_ends_with_its_ttl,
    consume_once_is_true_once_until_expiry,
    put_get_take_delete,
    put_expires,
    racing_hits_get_exactly_the_limit,
    racing_consume_once_has_one_winner,
    racing_take_has_one_winner,
    take_if_equal_takes_only_the_value_compared,
    limiter_scripts_keep_a_subjects_keys_together,
    a_lock_set_in_advance_is_lifted_by_its_own_attempt_only,
    lock_time_defaults_to_the_stores_clock,
    lock_lengths_follow_the_lockout_arithmetic,
    attempt_and_address_count_together_and_give_back,
    charge_stops_at_the_first_refusal,
    racing_charges_get_exactly_the_limit,
    claim_doubles_its_ttl_with_the_count,
    write_all_puts_counts_and_deletes,
);

/// A Redis that does not answer is an error within the deadline, not a hang.
#[tokio::test]
async fn unreachable_redis_is_an_error_within_the_deadline() {
    let store = Store::redis("redis://127.0.0.1:1", "x:", Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    assert!(store.hit("k", 1, Duration::from_secs(1)).await.is_err());
    assert!(store.ready().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// After SCRIPT FLUSH (what a Redis restart does to its script cache), with one of the paired
/// scripts loaded again and the other not: each runs exactly once.
#[tokio::test]
async fn paired_scripts_run_once_after_the_script_cache_is_lost() {
    use twofold::store::{Attempt, IpLimit, LimiterKeys};
    let store = redis();
    let mut raw = ::redis::Client::open(test_redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    ::redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async::<()>(&mut raw)
        .await
        .unwrap();
    let w = Duration::from_secs(60);
    store.hit("warm:{x}", 5, w).await.unwrap();
    let keys = LimiterKeys::new("acme/carol");
    let ip_key = "ipfail:{198.51.100.9}";
    let ip = IpLimit {
        key: ip_key,
        limit: 10,
        window: w,
    };
    let (a, hit) = store
        .begin_attempt_from(&keys, ip, Some(0), lockout(10, w, w))
        .await
        .unwrap();
    assert_eq!(
        a,
        Attempt::Allowed {
            count: 1,
            lock: None
        }
    );
    assert_eq!(hit.count, 1, "the address is counted once");
    ::redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async::<()>(&mut raw)
        .await
        .unwrap();
    store
        .clear_and_release(&keys.failures, ip_key)
        .await
        .unwrap();
    assert_eq!(
        store.get(ip_key).await.unwrap(),
        None,
        "given back once, to zero"
    );
    let (a, _) = store
        .begin_attempt_from(&keys, ip, Some(0), lockout(10, w, w))
        .await
        .unwrap();
    assert_eq!(
        a,
        Attempt::Allowed {
            count: 1,
            lock: None
        },
        "the user's count was cleared"
    );
}
