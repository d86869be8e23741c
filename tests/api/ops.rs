//! Operations routes: health, readiness, metrics, OpenAPI.

use crate::helpers::{Backend, spawn_app};

async fn healthz_and_readyz_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
}

async fn responses_carry_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/healthz", None).await;
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
}

async fn metrics_count_requests_by_route_pattern(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/healthz", None).await;
    app.get("/v1/admin/api-keys", Some("tfk_nope")).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains(
            r#"twofold_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/admin/api-keys",method="GET",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("twofold_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

async fn openapi_describes_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: serde_json::Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/admin/api-keys", "get"),
        ("/v1/admin/api-keys/{id}", "delete"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}

crate::both_backends!(
    healthz_and_readyz_answer,
    responses_carry_security_headers,
    metrics_count_requests_by_route_pattern,
    openapi_describes_every_route,
);
