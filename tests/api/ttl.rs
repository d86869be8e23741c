//! REL-8: every key twofold writes to Redis has a TTL. A workload that touches every kind of key
//! (TOTP replay markers, failure counters of users, addresses and keys, locks and their levels,
//! audited refusals, texted codes, tries, cooldowns, send quotas, the anti-pumping counts and
//! daily budgets (global and per tenant), link claims and page flows, console sessions), then a
//! scan of the app's prefix.

use redis::AsyncCommands;
use serde_json::{Value, json};

use crate::console::Browser;
use crate::helpers::{Backend, spawn_app, test_redis_url};
use crate::pages_verify::active_phone;
use crate::sms::{PHONE_2, enroll_phone};

#[tokio::test]
async fn every_redis_key_has_a_ttl() {
    let app = spawn_app(Backend::Production).await;

    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    assert_eq!(app.verify("alice", json!(code)).await.status(), 200);
    // A failure from a passed client address, then the key's own failures up to the lock.
    assert_eq!(
        app.verify_from("alice", "000000", "203.0.113.5")
            .await
            .status(),
        422
    );
    for _ in 0..10 {
        app.verify("alice", json!("000000")).await;
    }
    assert_eq!(
        app.verify("alice", json!(code)).await.status(),
        429,
        "locked"
    );
    active_phone(&app, "bob").await;
    let res = app
        .post("/v1/users/bob/sms", Some(&app.client_key), &json!({}))
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(enroll_phone(&app, "carol", PHONE_2).await.status(), 201);
    let res = app
        .post(
            "/v1/users/dave/links",
            Some(&app.client_key),
            &json!({"purpose": "enroll", "return_url": "https://rp.example/back"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let link: Value = res.json().await.unwrap();
    let path = url::Url::parse(link["url"].as_str().unwrap()).unwrap();
    assert_eq!(app.get(path.path(), None).await.status(), 200);
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&app.admin_key).await.status(), 303);

    let client = redis::Client::open(test_redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pattern = format!("{}*", app.raw.redis_prefix);
    let keys: Vec<String> = conn.keys(&pattern).await.unwrap();
    // Replay marker, failures/lock/level, codes, tries, cooldowns, quotas, link, flow, session…
    assert!(
        keys.len() >= 12,
        "the workload wrote too few keys: {keys:?}"
    );
    // Every kind the workload writes is there to be checked.
    let prefix = app.raw.redis_prefix.len();
    for kind in [
        "lim:",
        "ipfail:",
        "keyfail:",
        "refused:",
        "smscode:",
        "smscool:",
        "smssends:",
        "{sms}:num:",
        "{sms}:prefix:",
        "{sms}:budget:",
        "{sms}:tbudget:",
        "link",
        "flow",
        "console",
    ] {
        assert!(
            keys.iter().any(|k| k[prefix..].starts_with(kind)),
            "no {kind} key among {keys:?}"
        );
    }
    for key in &keys {
        let ttl: i64 = conn.pttl(key).await.unwrap();
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
    }
}
