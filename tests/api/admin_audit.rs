//! `GET /v1/admin/audit`: newest first, a page at a time through `next`/`before`, filtered by
//! tenant, user, action and time; admin requests are themselves audited (SEC-33).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::admin::{audit_rows, key_id, time};
use crate::helpers::{Backend, TestApp, assert_error, spawn_app, start_time};
use twofold::db::models::AuditEventRow;

/// Audit searches with the all-tenant admin key, counted (each is an audited admin request).
struct Audit<'a> {
    app: &'a TestApp,
    calls: usize,
}

impl Audit<'_> {
    async fn get(&mut self, query: &str) -> reqwest::Response {
        self.calls += 1;
        let path = format!("/v1/admin/audit?{query}");
        self.app.get(&path, Some(&self.app.admin_key)).await
    }

    async fn page(&mut self, query: &str) -> Value {
        let res = self.get(query).await;
        assert_eq!(res.status(), 200, "{query}");
        res.json().await.unwrap()
    }

    /// Every page, following `next` as `before`; returns the events and the number of pages.
    async fn all(&mut self, query: &str) -> (Vec<Value>, usize) {
        let (mut events, mut pages, mut before) = (Vec::new(), 0, None::<String>);
        loop {
            let q = match &before {
                Some(b) => format!("{query}&before={b}"),
                None => query.to_string(),
            };
            let page = self.page(&q).await;
            pages += 1;
            events.extend(page["events"].as_array().unwrap().iter().cloned());
            match page.get("next") {
                None | Some(Value::Null) => return (events, pages),
                Some(next) => before = Some(next.as_str().unwrap().to_string()),
            }
            assert!(pages < 100, "no end to the pages");
        }
    }
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// The stored rows that pass `keep`, newest first, as the API names them.
fn expected(rows: &[AuditEventRow], keep: impl Fn(&AuditEventRow) -> bool) -> Vec<String> {
    rows.iter()
        .rev()
        .filter(|r| keep(r))
        .map(|r| r.id.to_string())
        .collect()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An event as the API shows it is its stored row, field for field.
fn assert_shows(e: &Value, r: &AuditEventRow) {
    assert_eq!(e["id"], r.id.to_string());
    assert_eq!(time(&e["at"]).naive_utc(), r.at);
    assert_eq!(e["tenant"], r.tenant);
    assert_eq!(e["user"], json!(r.user_id));
    assert_eq!(e["device"], json!(r.device_id));
    assert_eq!(
        (&e["action"], &e["outcome"]),
        (&json!(r.action), &json!(r.outcome))
    );
    assert_eq!((&e["actor"], &e["ip"]), (&json!(r.actor), &json!(r.ip)));
    let detail: Option<Value> = r
        .detail
        .as_deref()
        .map(|d| serde_json::from_str(d).unwrap());
    assert_eq!(e["detail"], json!(detail));
    assert_eq!((&e["stream"], &e["seq"]), (&json!(r.stream), &json!(r.seq)));
    let hash: String = r
        .hash
        .as_ref()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(e["hash"], hash);
}

async fn audit_pages_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = |minutes: i64| start_time() + TimeDelta::minutes(minutes);
    // t0: the harness's keys. t1: alice enrolls and confirms. t2: a failed and a good verify.
    // t3: bob enrolls and confirms. t4: bob's device is revoked. t5: alice's recovery codes.
    app.clock.advance(TimeDelta::minutes(1));
    let alice = app.enroll("alice", json!({})).await;
    assert_eq!(
        app.confirm("alice", &alice, &app.code(&alice, 0))
            .await
            .status(),
        200
    );
    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(app.verify("alice", json!("000000")).await.status(), 422);
    assert_eq!(
        app.verify("alice", json!(app.code(&alice, 0)))
            .await
            .status(),
        200
    );
    app.state.audit.flush().await;
    app.clock.advance(TimeDelta::minutes(1));
    let bob = app.enroll("bob", json!({})).await;
    assert_eq!(
        app.confirm("bob", &bob, &app.code(&bob, 0)).await.status(),
        200
    );
    app.clock.advance(TimeDelta::minutes(1));
    let path = format!("/v1/users/bob/devices/{}", bob.id);
    // An admin key needs no step-up to remove a factor either.
    assert_eq!(app.delete(&path, Some(&app.admin_key)).await.status(), 204);
    app.clock.advance(TimeDelta::minutes(1));
    let res = app
        .post(
            "/v1/users/alice/recovery-codes",
            // An admin key needs no step-up.
            Some(&app.admin_key),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let rows = audit_rows(&app).await;
    let default = |r: &AuditEventRow| r.tenant == "default";
    let mut audit = Audit {
        app: &app,
        calls: 0,
    };

    // Newest first, two at a time, complete and without duplicates; the default tenant only.
    let (events, pages) = audit.all("limit=2").await;
    let want = expected(&rows, default);
    assert_eq!(want.len(), 9, "{rows:?}");
    assert_eq!(ids(&events), want);
    assert_eq!(pages, 5);
    for e in &events {
        let id: i64 = e["id"].as_str().unwrap().parse().unwrap();
        let row = rows.iter().find(|r| r.id == id).unwrap();
        assert_shows(e, row);
    }
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "recovery_codes_created",
            "device_revoked",
            "device_confirmed",
            "device_enrolled",
            "verify_succeeded",
            "verify_failed",
            "device_confirmed",
            "device_enrolled",
            "api_key_created",
        ]
    );
    let (same, _) = audit.all("tenant=default&limit=500").await;
    assert_eq!(ids(&same), want);

    // Filters, alone and together.
    let user =
        |u: &'static str| move |r: &AuditEventRow| default(r) && r.user_id.as_deref() == Some(u);
    let (bobs, _) = audit.all("user=bob&limit=2").await;
    assert_eq!(ids(&bobs), expected(&rows, user("bob")));
    assert_eq!(bobs.len(), 3);
    let (failed, _) = audit.all("action=verify_failed").await;
    assert_eq!(
        ids(&failed),
        expected(&rows, |r| default(r) && r.action == "verify_failed")
    );
    assert_eq!((failed.len(), &failed[0]["user"]), (1, &json!("alice")));
    let (ok, _) = audit.all("user=alice&action=verify_succeeded").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["at"], json!(t(2)));
    let (none, _) = audit.all("user=bob&action=verify_failed").await;
    assert!(none.is_empty());

    // `since` is inclusive, `until` exclusive.
    let between = |from: DateTime<Utc>, to: DateTime<Utc>| {
        move |r: &AuditEventRow| default(r) && r.at >= from.naive_utc() && r.at < to.naive_utc()
    };
    let q = format!("since={}&until={}&limit=3", rfc3339(t(2)), rfc3339(t(4)));
    let (window, _) = audit.all(&q).await;
    assert_eq!(ids(&window), expected(&rows, between(t(2), t(4))));
    let actions: Vec<&str> = window
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "device_confirmed",
            "device_enrolled",
            "verify_succeeded",
            "verify_failed"
        ]
    );
    let (late, _) = audit.all(&format!("since={}", rfc3339(t(4)))).await;
    assert_eq!(ids(&late), expected(&rows, between(t(4), t(6))));
    assert_eq!(late.len(), 2);
    let (early, _) = audit.all(&format!("until={}", rfc3339(t(1)))).await;
    assert_eq!(early.len(), 1);
    assert_eq!(early[0]["action"], "api_key_created");

    for query in ["action=verify_bogus", "limit=0", "limit=501", "before=x"] {
        assert_error(audit.get(query).await, 400, "invalid_request").await;
    }
    let res = app.get("/v1/admin/users/alice", Some(&app.admin_key)).await;
    assert_eq!(res.status(), 200);
    let calls = audit.calls + 1;

    // Every tenant with `*`: the tenant-less admin key's creation and the admin requests too.
    app.state.audit.flush().await;
    app.clock.advance(TimeDelta::minutes(1));
    let rows = audit_rows(&app).await;
    let until = format!("tenant=*&until={}", rfc3339(t(6)));
    let (everything, pages) = audit.all(&format!("{until}&limit=4")).await;
    assert_eq!(ids(&everything), expected(&rows, |_| true));
    assert_eq!(pages, everything.len().div_ceil(4));
    let admin_id = key_id(&app, &app.admin_key).await;
    let created: Vec<&Value> = everything
        .iter()
        .filter(|e| e["action"] == "api_key_created" && e["tenant"] == "*")
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["detail"]["api_key_id"], admin_id);
    assert_eq!(created[0]["detail"]["role"], "admin");

    let (requests, _) = audit
        .all(&format!("{until}&action=admin_request&limit=500"))
        .await;
    assert_eq!(requests.len(), calls, "one per admin request");
    for e in &requests {
        assert_eq!(e["outcome"], "success");
        assert_eq!(e["actor"], format!("api_key:{admin_id}"));
        assert_eq!(e["ip"], "127.0.0.1");
        assert!(e["device"].is_null());
        // Filed under the account it concerns: a user route under that user (the all-tenant key
        // acts in `default`), a search under the tenant it asked for, else under `*`.
        if e["detail"]["route"] == "/v1/admin/users/{user}" {
            assert_eq!(
                (&e["tenant"], &e["user"]),
                (&json!("default"), &json!("alice"))
            );
        } else {
            let asked_default = e["tenant"] == "default";
            assert!(asked_default || e["tenant"] == "*", "{e}");
            assert!(e["user"].is_null(), "{e}");
        }
    }
    let filed_under_default = requests.iter().filter(|e| e["tenant"] == "default").count();
    // The user route, and the one search that named `tenant=default`.
    assert_eq!(filed_under_default, 2);
    let routes = |route: &str| {
        requests
            .iter()
            .filter(|e| e["detail"] == json!({"method": "GET", "route": route}))
            .count()
    };
    assert_eq!(routes("/v1/admin/users/{user}"), 1);
    assert_eq!(routes("/v1/admin/audit"), calls - 1);
}

crate::both_backends!(audit_pages_and_filters);
