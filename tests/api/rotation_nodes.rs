//! Issue 22, point 4: key rotation on two nodes behind one URL. A new key is in every node's
//! JWKS for longer than a relying party may keep the JWKS before any node signs with it, and a
//! retired key stays in every node's JWKS while an assertion it signed is unexpired. Two
//! in-process nodes on one database and one hand-moved clock; each refreshes its keys every
//! second of that clock, the earliest any node could switch.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::RunQueryDsl;
use twofold::app::assertion::Method;
use twofold::app::state::AppState;
use twofold::audit::Actor;
use twofold::clock::Clock;

use crate::helpers::{Backend, spawn_app};

/// One node as the load balancer sees it.
struct Node {
    name: &'static str,
    base: String,
    state: AppState,
}

/// One JWKS answer: its node, when, how long it may be cached, and its kids.
struct Served {
    node: &'static str,
    at: DateTime<Utc>,
    max_age: TimeDelta,
    kids: Vec<String>,
}

/// One assertion: its node, when, its kid and its expiry.
struct Signed {
    node: &'static str,
    at: DateTime<Utc>,
    exp: DateTime<Utc>,
    kid: String,
}

/// `max-age` of a Cache-Control value; nothing cacheable is 0.
fn max_age(cache_control: &str) -> TimeDelta {
    let directives: Vec<&str> = cache_control.split(',').map(str::trim).collect();
    if directives
        .iter()
        .any(|d| *d == "no-store" || *d == "no-cache")
    {
        return TimeDelta::zero();
    }
    let secs = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .map_or(0, |s| s.parse::<i64>().unwrap());
    TimeDelta::seconds(secs)
}

async fn fetch(http: &reqwest::Client, node: &Node, at: DateTime<Utc>) -> Served {
    let res = http
        .get(format!("{}/.well-known/jwks.json", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cache = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let jwks: serde_json::Value = res.json().await.unwrap();
    let kids = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    Served {
        node: node.name,
        at,
        max_age: max_age(&cache),
        kids,
    }
}

fn sign(node: &Node, at: DateTime<Utc>) -> Signed {
    let assertions = &node.state.assertions;
    let token = assertions
        .issue(at, "default", "alice", None, Method::Totp)
        .unwrap_or_else(|e| panic!("node {} cannot sign: {e}", node.name));
    let header = token.split('.').next().unwrap();
    let header = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header);
    let header: serde_json::Value = serde_json::from_slice(&header.unwrap()).unwrap();
    Signed {
        node: node.name,
        at,
        exp: at + TimeDelta::from_std(assertions.ttl()).unwrap(),
        kid: header["kid"].as_str().unwrap().to_string(),
    }
}

/// A relying party as the shipped clients behave: it keeps the JWKS `keep` (clients/python: 5
/// minutes, clients/typescript: 10), and fetches it again for an unknown kid at most once a
/// minute; behind one URL, its fetches alternate between the nodes.
struct RelyingParty {
    keep: TimeDelta,
    held: Option<Served>,
    fetches: usize,
}

impl RelyingParty {
    fn new(keep: TimeDelta) -> RelyingParty {
        RelyingParty {
            keep,
            held: None,
            fetches: 0,
        }
    }

    async fn knows(
        &mut self,
        http: &reqwest::Client,
        nodes: &[Node],
        kid: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let stale = self.held.as_ref().is_none_or(|h| now - h.at >= self.keep);
        let unknown = self.held.as_ref().is_some_and(|h| {
            !h.kids.iter().any(|k| k == kid) && now - h.at >= TimeDelta::minutes(1)
        });
        if stale || unknown {
            let node = &nodes[self.fetches % nodes.len()];
            self.fetches += 1;
            self.held = Some(fetch(http, node, now).await);
        }
        self.held
            .as_ref()
            .is_some_and(|h| h.kids.iter().any(|k| k == kid))
    }
}

async fn a_rotated_key_signs_only_once_every_node_has_served_it_longer_than_it_may_be_cached(
    backend: Backend,
) {
    let first = spawn_app(backend).await;
    let a = Node {
        name: "a",
        base: first.base.clone(),
        state: first.state.clone(),
    };
    // Another node on the same database and clock (the first keeps running).
    let second = first.restart().await;
    let b = Node {
        name: "b",
        base: second.base.clone(),
        state: second.state.clone(),
    };
    let (http, clock) = (second.http.clone(), second.clock.clone());
    let nodes = [a, b];
    let mut rps = [
        RelyingParty::new(TimeDelta::minutes(5)),
        RelyingParty::new(TimeDelta::minutes(10)),
    ];
    let (mut served, mut signed, mut refused) = (Vec::new(), Vec::new(), Vec::new());

    let start = clock.now();
    let rotated_at = start + TimeDelta::seconds(10);
    let end = rotated_at + TimeDelta::minutes(15);
    let mut new_kid = None;
    while clock.now() < end {
        let now = clock.now();
        if now == rotated_at {
            // As `twofold keys rotate` does it, from another process.
            let rotated = twofold::app::rotation::rotate(&nodes[1].state, Actor::Cli).await;
            new_kid = Some(rotated.unwrap().kid);
        }
        for node in &nodes {
            node.state
                .assertions
                .refresh(&node.state.db, now)
                .await
                .unwrap();
            served.push(fetch(&http, node, now).await);
            let assertion = sign(node, now);
            for rp in &mut rps {
                if !rp.knows(&http, &nodes, &assertion.kid, now).await {
                    refused.push(format!(
                        "a relying party keeping the JWKS {} min cannot find kid {} that node {} \
                         signed with {} s after the rotation",
                        rp.keep.num_minutes(),
                        assertion.kid,
                        node.name,
                        (now - rotated_at).num_seconds()
                    ));
                }
            }
            signed.push(assertion);
        }
        clock.advance(TimeDelta::seconds(1));
    }

    let new_kid = new_kid.unwrap();
    let since = |t: DateTime<Utc>| (t - rotated_at).num_seconds();
    for name in ["a", "b"] {
        let by = |kid: &str| signed.iter().any(|s| s.node == name && s.kid == kid);
        assert!(by(&new_kid), "node {name} never signed with the new key");
        let old = &signed.iter().find(|s| s.node == name).unwrap().kid;
        assert_ne!(*old, new_kid);
    }
    // A JWKS answer holds every kid signed while it may be cached, and every kid of an assertion
    // not yet expired.
    let mut missing = Vec::new();
    for s in &served {
        for g in &signed {
            let cached = s.at <= g.at && g.at < s.at + s.max_age;
            let unexpired = g.at <= s.at && s.at < g.exp;
            if (cached || unexpired) && !s.kids.contains(&g.kid) {
                missing.push(format!(
                    "node {}'s JWKS at {} s (cacheable {} s) lacks kid {} that node {} signed \
                     with at {} s",
                    s.node,
                    since(s.at),
                    s.max_age.num_seconds(),
                    g.kid,
                    g.node,
                    since(g.at)
                ));
            }
        }
    }
    assert!(
        refused.is_empty(),
        "{} refusals, first: {:?}",
        refused.len(),
        &refused[..refused.len().min(3)]
    );
    assert!(
        missing.is_empty(),
        "{} misses, first: {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
}

/// A node that cannot read the keys serves those it loaded, which may lack a key that another
/// node has begun to sign with since: it must not let a relying party keep that answer past the
/// time a key it has not seen could sign.
async fn a_jwks_served_without_the_database_is_cacheable_only_while_it_is_complete(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let served = |app: &crate::helpers::TestApp| {
        let (http, url) = (app.http.clone(), app.url("/.well-known/jwks.json"));
        async move {
            let res = http.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let cache = res
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let jwks: serde_json::Value = res.json().await.unwrap();
            (max_age(&cache), jwks["keys"].as_array().unwrap().len())
        }
    };
    let (cacheable, n) = served(&app).await;
    assert!(cacheable > TimeDelta::zero());
    assert_eq!(n, 1);

    // The keys can no longer be read (the rest of the database still can).
    let rename = |from: &'static str, to: &'static str| {
        let sql = format!("ALTER TABLE {from} RENAME TO {to}");
        let db = app.state.db.clone();
        async move {
            db.run(move |c| Ok(diesel::sql_query(sql).execute(c)?))
                .await
        }
    };
    rename("signing_keys", "signing_keys_away").await.unwrap();
    let loaded = app.clock.now();
    let sign_after = TimeDelta::from_std(twofold::app::assertion::SIGN_AFTER_PUBLISHED).unwrap();
    for later in [10, 60, 200, 400, 600] {
        app.clock.set(loaded + TimeDelta::seconds(later));
        assert!(
            app.state
                .assertions
                .refresh(&app.state.db, app.clock.now())
                .await
                .is_err()
        );
        let (cacheable, n) = served(&app).await;
        assert_eq!(n, 1, "the keys it loaded");
        // A key made just after the node last read the keys signs `sign_after` later; an answer
        // that may not be kept at all is the best the node has for this request.
        assert!(
            cacheable.is_zero() || TimeDelta::seconds(later) + cacheable < sign_after,
            "read {later} s ago, the answer may be kept {} s more; a key made since may sign \
             {} s after it was made",
            cacheable.num_seconds(),
            sign_after.num_seconds()
        );
    }

    rename("signing_keys_away", "signing_keys").await.unwrap();
    app.clock.advance(TimeDelta::seconds(10));
    let (cacheable, _) = served(&app).await;
    assert_eq!(
        cacheable,
        TimeDelta::from_std(twofold::app::assertion::JWKS_MAX_AGE).unwrap()
    );
}

crate::both_backends!(
    a_rotated_key_signs_only_once_every_node_has_served_it_longer_than_it_may_be_cached,
    a_jwks_served_without_the_database_is_cacheable_only_while_it_is_complete,
);
