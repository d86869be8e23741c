//! `GET /v1/admin/users`: users by id prefix (case-sensitive, `_` a plain character), in id order,
//! a page at a time.

use chrono::TimeDelta;
use serde_json::{Value, json};
use twofold::app::api_keys::Role;

use crate::admin::time;
use crate::helpers::{Backend, TestApp, assert_error, make_key, spawn_app, start_time};

/// Users of `default`, created one second apart in this order.
const USERS: [&str; 11] = [
    "ab3", "ab_1", "abX1", "Ab2", "ab1", "aa1", "abc", "ab_2", "b1", "xab", "ab2",
];

/// Every page of a search, following `next` until it is absent; returns the pages' user ids.
async fn pages(app: &TestApp, query: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/admin/users?{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&path, Some(&app.admin_key)).await;
        assert_eq!(res.status(), 200, "{path}");
        let page: Value = res.json().await.unwrap();
        let users: Vec<String> = page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user"].as_str().unwrap().to_string())
            .collect();
        out.push(users);
        match page.get("next") {
            None | Some(Value::Null) => return out,
            Some(next) => cursor = Some(next.as_str().unwrap().to_string()),
        }
        assert!(out.len() <= USERS.len(), "no end to the pages");
    }
}

async fn all(app: &TestApp, query: &str) -> Vec<String> {
    pages(app, query).await.concat()
}

async fn search_pages_by_prefix_in_id_order(backend: Backend) {
    let app = spawn_app(backend).await;
    for user in USERS {
        app.enroll(user, json!({})).await;
        app.clock.advance(TimeDelta::seconds(1));
    }
    // Another tenant's user with a matching id is not listed.
    let acme = make_key(&app.state, Role::Client, Some("acme")).await;
    let res = app
        .post("/v1/users/ab0/devices/totp", Some(&acme), &json!({}))
        .await;
    assert_eq!(res.status(), 201);

    let matching = ["ab1", "ab2", "ab3", "abX1", "ab_1", "ab_2", "abc"];
    let got = pages(&app, "q=ab&limit=3").await;
    assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(
        got.concat(),
        matching,
        "all and only the matches, in id order"
    );
    // A last page that is exactly full has no `next`.
    assert_eq!(pages(&app, "q=ab&limit=7").await, [matching.to_vec()]);
    assert_eq!(pages(&app, "q=ab&limit=6").await.len(), 2);

    // `_` is not a wildcard; case counts.
    assert_eq!(all(&app, "q=ab_&limit=3").await, ["ab_1", "ab_2"]);
    assert_eq!(all(&app, "q=abX").await, ["abX1"]);
    assert_eq!(all(&app, "q=Ab").await, ["Ab2"]);
    assert_eq!(all(&app, "q=AB").await, Vec::<String>::new());
    assert_eq!(all(&app, "q=ab1").await, ["ab1"]);

    // No prefix: every user of the tenant, in (byte) id order.
    let mut everyone: Vec<&str> = USERS.to_vec();
    everyone.sort();
    assert_eq!(all(&app, "limit=4").await, everyone);
    assert_eq!(all(&app, "q=&limit=2").await, everyone);
    assert_eq!(
        all(&app, "tenant=acme&q=ab").await,
        ["ab0"],
        "?tenant= names the tenant"
    );

    // Each user's creation time.
    let res = app.get("/v1/admin/users?q=ab_", Some(&app.admin_key)).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["users"][0]["user"], "ab_1");
    assert_eq!(
        time(&page["users"][0]["created_at"]),
        start_time() + TimeDelta::seconds(1)
    );
    assert_eq!(
        time(&page["users"][1]["created_at"]),
        start_time() + TimeDelta::seconds(7)
    );
    assert!(page.get("next").is_none_or(Value::is_null), "{page}");

    for query in [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=x",
        "q=a%25",
        "q=a*",
        "q=a%5B",
        "cursor=a%3F",
    ] {
        let res = app
            .get(&format!("/v1/admin/users?{query}"), Some(&app.admin_key))
            .await;
        assert_error(res, 400, "invalid_request").await;
    }
    let res = app
        .get("/v1/admin/users?limit=500", Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["users"].as_array().unwrap().len(), USERS.len());
}

crate::both_backends!(search_pages_by_prefix_in_id_order);
