//! Unit tests of when a node stops signing: never with a key that may leave the JWKS before the
//! assertion expires (issue 22, point 4).

use chrono::TimeDelta;

use super::tests::{header_of, keys, load, test_db};
use super::*;

/// A node whose refreshes fail (here: a database without the table) keeps the key it loaded,
/// which a rotation elsewhere may have retired at once. Every assertion it signs must verify at a node that did
/// refresh until it expires; so the node stops signing before that key may leave the JWKS, and
/// signs again once it reads the keys.
#[tokio::test]
async fn a_node_that_cannot_refresh_stops_signing_before_its_key_may_leave_the_jwks() {
    let (_dir, db) = test_db().await;
    let t0 = Utc::now();
    let stuck = load(&db, t0).await;
    let other = load(&db, t0).await;
    let (_gone, unreadable) = unmigrated_db();
    let new_kid = rotate(&db, &keys(), t0).await.unwrap();
    let ttl = TimeDelta::from_std(stuck.ttl()).unwrap();

    let mut stopped = None;
    let mut t = t0;
    while t < t0 + TimeDelta::from_std(PUBLISH_AFTER_RETIRE).unwrap() + TimeDelta::minutes(10) {
        assert!(stuck.refresh(&unreadable, t).await.is_err());
        match stuck.issue(t, "acme", "alice", None, Method::Totp) {
            Ok(token) => {
                assert!(
                    stopped.is_none(),
                    "signed again at {t} without reading the keys"
                );
                let last_moment = t + ttl - TimeDelta::seconds(1);
                other.refresh(&db, last_moment).await.unwrap();
                assert!(
                    other.verify(&token, last_moment).is_ok(),
                    "signed {} min after the rotation with {}, no longer published when it expires",
                    (t - t0).num_minutes(),
                    header_of(&token)["kid"]
                );
            }
            Err(AssertionError::KeysStale) => stopped = stopped.or(Some(t)),
            Err(e) => panic!("{e}"),
        }
        t += TimeDelta::minutes(1);
    }
    assert!(stopped.is_some(), "never stopped signing");

    stuck.refresh(&db, t).await.unwrap();
    let token = stuck.issue(t, "acme", "alice", None, Method::Totp).unwrap();
    assert_eq!(header_of(&token)["kid"], new_kid.as_str());
}

fn unmigrated_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    let url = crate::config::DatabaseUrl::Sqlite(path);
    (dir, Db::new(&url, 1, Duration::from_secs(5)).unwrap())
}
