//! The error contract: JSON bodies with stable codes, and fail-closed 503s. A malformed request
//! is 400 `invalid_request` whose message names the body field, query parameter or header at
//! fault and what it expects (issue 16).

use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

async fn unknown_route_is_a_json_404(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_error(app.get("/no/such/route", None).await, 404, "not_found").await;
}

async fn bad_query_is_invalid_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .get("/v1/admin/api-keys?tenant=a%20b", Some(&app.admin_key))
        .await;
    assert_error(res, 400, "invalid_request").await;
    let res = app
        .get("/v1/admin/api-keys?bogus=1", Some(&app.admin_key))
        .await;
    let body = assert_error(res, 400, "invalid_request").await;
    assert_eq!(
        body["message"],
        "unknown query parameter `bogus`; expected `tenant`"
    );
}

/// A raw body with the client key, and the Content-Type given (none if `None`).
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.client_key)
        .body(body.to_string());
    if let Some(kind) = content_type {
        req = req.header(CONTENT_TYPE, kind);
    }
    req.send().await.unwrap()
}

/// The message of a 400 `invalid_request`.
async fn refusal(res: reqwest::Response) -> String {
    let body = assert_error(res, 400, "invalid_request").await;
    body["message"].as_str().unwrap().to_string()
}

const TOTP: &str = "/v1/users/alice/devices/totp";
const VERIFY: &str = "/v1/users/alice/verify";

async fn a_body_that_is_not_an_object_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    let json = Some("application/json");
    // The issue's example: serde said "invalid length 0, expected struct EnrollTotp with 5
    // elements".
    let res = post_raw(&app, TOTP, json, "[]").await;
    assert_eq!(refusal(res).await, "the body must be a JSON object");
    let res = post_raw(&app, VERIFY, json, "\"123456\"").await;
    assert_eq!(refusal(res).await, "the body must be a JSON object");
    let res = post_raw(&app, TOTP, json, "").await;
    assert_eq!(
        refusal(res).await,
        "the body is empty; it must be a JSON object"
    );
    let res = post_raw(&app, TOTP, json, "{\"a\"}").await;
    assert_eq!(
        refusal(res).await,
        "the body is not valid JSON: expected `:` at line 1 column 5"
    );
}

async fn a_body_without_a_json_content_type_names_the_header(backend: Backend) {
    let app = spawn_app(backend).await;
    for kind in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let res = post_raw(&app, TOTP, kind, "{}").await;
        assert_eq!(
            refusal(res).await,
            "header Content-Type must be application/json",
            "{kind:?}"
        );
    }
    // The import takes JSON lines or CSV, and says so the same way.
    let res = app
        .http
        .post(app.url("/v1/admin/import"))
        .bearer_auth(&app.admin_key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(res).await,
        "header Content-Type must be application/x-ndjson (JSON lines) or text/csv"
    );
    // Parameters and `+json` types are JSON.
    for kind in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ] {
        // A label of its own each: the default one is taken by the first.
        let body = format!("{{\"label\": \"{kind}\"}}");
        let res = post_raw(&app, TOTP, Some(kind), &body).await;
        assert_eq!(res.status(), 201, "{kind}");
    }
}

async fn body_fields_are_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = Some(app.client_key.as_str());
    // Missing.
    let res = app.post(VERIFY, key, &json!({})).await;
    assert_eq!(refusal(res).await, "missing body field `code`");
    // Unknown, with what is taken instead.
    let res = app
        .post(VERIFY, key, &json!({"code": "123456", "devcie_id": "x"}))
        .await;
    assert_eq!(
        refusal(res).await,
        "unknown body field `devcie_id`; expected one of `code`, `credential`, `device_id`, \
         `client_ip`"
    );
    let res = app.post(TOTP, key, &json!({"lable": "x"})).await;
    let message = refusal(res).await;
    assert!(
        message.starts_with("unknown body field `lable`; expected one of `label`"),
        "{message}"
    );
    // Of the wrong type: what it expects, not the value sent.
    let res = app.post(TOTP, key, &json!({"label": 5})).await;
    assert_eq!(refusal(res).await, "body field `label`: expected a string");
    let res = app
        .post(VERIFY, key, &json!({"code": "1", "device_id": ["x"]}))
        .await;
    assert_eq!(
        refusal(res).await,
        "body field `device_id`: expected a string"
    );
    let res = app.post(TOTP, key, &json!({"digits": "six"})).await;
    assert_eq!(
        refusal(res).await,
        "body field `digits`: expected a whole number, 0 or more"
    );
    // Optional bodies too.
    let res = app
        .post("/v1/users/alice/sms", key, &json!({"device": "x"}))
        .await;
    let message = refusal(res).await;
    assert!(
        message.starts_with("unknown body field `device`; expected `device_id` or `client_ip`"),
        "{message}"
    );
}

async fn query_parameters_are_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Some(app.admin_key.as_str());
    // The example: chrono said "input contains invalid characters".
    let res = app.get("/v1/admin/audit?since=yesterday", admin).await;
    assert_eq!(
        refusal(res).await,
        "query parameter `since`: expected an RFC 3339 date-time such as 2026-12-06T09:30:00Z"
    );
    let res = app.get("/v1/admin/audit?limit=ten", admin).await;
    assert_eq!(
        refusal(res).await,
        "query parameter `limit`: expected a whole number"
    );
    let res = app
        .get("/v1/admin/audit?since=2026-12-06T09:30:00Z", admin)
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .get(
            "/v1/users/alice/devices?tenant=a&tenant=b",
            Some(&app.client_key),
        )
        .await;
    assert_eq!(
        refusal(res).await,
        "query parameter `tenant` is given twice"
    );
}

crate::both_backends!(
    unknown_route_is_a_json_404,
    bad_query_is_invalid_request,
    a_body_that_is_not_an_object_says_so,
    a_body_without_a_json_content_type_names_the_header,
    body_fields_are_named,
    query_parameters_are_named,
);
