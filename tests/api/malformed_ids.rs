//! Ids and audit filters are judged at the edge, the same on both backends: an id of another
//! shape than ids have, a NUL in a filter, a date outside 1970–9999 is a 400, never a 500 from a
//! database that refuses it (PostgreSQL does, SQLite does not).

use serde_json::json;

use crate::console::{Browser, field};
use crate::helpers::{Backend, assert_error, spawn_app};

const BAD_IDS: [&str; 3] = [
    "a%00b",
    "a%20b",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
];

async fn device_routes_refuse_ids_of_another_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.enroll("alice", json!({})).await;
    let key = Some(app.client_key.as_str());
    for id in BAD_IDS {
        let base = format!("/v1/users/alice/devices/{id}");
        for path in [format!("{base}/qr.svg"), format!("{base}/qr.png")] {
            assert_error(app.get(&path, key).await, 400, "invalid_request").await;
        }
        assert_error(app.delete(&base, key).await, 400, "invalid_request").await;
        let res = app
            .post(&format!("{base}/confirm"), key, &json!({"code": "123456"}))
            .await;
        assert_error(res, 400, "invalid_request").await;
        let res = app
            .delete(&format!("/v1/admin/api-keys/{id}"), Some(&app.admin_key))
            .await;
        assert_error(res, 400, "invalid_request").await;
    }
    // None of it touched the device, and none of it counted as a failure.
    let detail: serde_json::Value = app
        .get("/v1/admin/users/alice", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["lock"]["failures"], 0, "{detail}");
    assert_eq!(detail["devices"][0]["id"], device.id.as_str());
    assert_eq!(detail["devices"][0]["status"], "pending");
}

async fn verify_with_a_device_id_of_another_shape_is_a_counted_failure(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    for (n, id) in ["a\u{0}b", "a b", "x"].into_iter().enumerate() {
        let body = json!({"code": app.code(&device, 0), "device_id": id});
        let res = app
            .post("/v1/users/alice/verify", Some(&app.client_key), &body)
            .await;
        assert_error(res, 422, "invalid_code").await;
        let detail: serde_json::Value = app
            .get("/v1/admin/users/alice", Some(&app.admin_key))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(detail["lock"]["failures"], n + 1, "{detail}");
    }
    // The right device named rightly still passes.
    let body = json!({"code": app.code(&device, 0), "device_id": device.id});
    let res = app
        .post("/v1/users/alice/verify", Some(&app.client_key), &body)
        .await;
    assert_eq!(res.status(), 200);
}

async fn audit_filters_refuse_nul_and_dates_no_database_stores(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = Some(app.admin_key.as_str());
    for query in [
        "user=%00",
        "user=a%00b",
        "since=-262143-01-01T00:00:00Z",
        "until=-262143-01-01T00:00:00Z",
        "since=1969-12-31T23:59:59Z",
        "since=%2B10000-01-01T00:00:00Z",
        "before=-8000000000000000000.1",
        "before=253402300800000000.1",
    ] {
        let res = app.get(&format!("/v1/admin/audit?{query}"), key).await;
        assert_error(res, 400, "invalid_request").await;
    }
    for query in [
        "user=alice",
        "since=1970-01-01T00:00:00Z",
        "until=9999-12-31T23:59:59Z",
    ] {
        let res = app.get(&format!("/v1/admin/audit?{query}"), key).await;
        assert_eq!(res.status(), 200, "{query}");
    }
}

async fn console_refuses_ids_and_filters_of_another_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/user?tenant=default&user=alice").await;
    let csrf = field(&html, "csrf");
    for id in ["a\u{0}b", "a b"] {
        let form = [
            ("csrf", csrf.as_str()),
            ("tenant", "default"),
            ("user", "alice"),
            ("device", id),
        ];
        let res = b.post("/admin/user/revoke", &form).await;
        assert_eq!(res.status(), 400, "revoke {id:?}");
        assert!(res.text().await.unwrap().contains("an id is 22 characters"));
    }
    for id in BAD_IDS {
        let res = b
            .post(&format!("/admin/api-keys/{id}/revoke"), &[("csrf", &csrf)])
            .await;
        assert_eq!(res.status(), 400, "api key {id}");
    }
    for query in ["user=%00", "since=-262143-01-01", "until=0001-01-01"] {
        let res = b.get(&format!("/admin/audit?{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
    }
}

crate::both_backends!(
    device_routes_refuse_ids_of_another_shape,
    verify_with_a_device_id_of_another_shape_is_a_counted_failure,
    audit_filters_refuse_nul_and_dates_no_database_stores,
    console_refuses_ids_and_filters_of_another_shape,
);
