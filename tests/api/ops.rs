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

/// A storm of readiness probes (a load balancer's, every orchestrator's) checks the store and the
/// database once per short while, not once per probe: concurrent probes share one check, and
/// probes just after it get its outcome.
async fn a_readiness_probe_storm_checks_the_dependencies_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = app.state.store.round_trips();
    let probes = (0..20).map(|_| app.get("/readyz", None));
    for res in futures_util::future::join_all(probes).await {
        assert_eq!(res.status(), 200);
    }
    for _ in 0..10 {
        assert_eq!(app.get("/readyz", None).await.status(), 200);
    }
    let trips = app.state.store.round_trips() - before;
    // Two: the cache may have expired once between the storm and the probes after it.
    assert!(trips <= 2, "{trips} store round trips for 30 probes");
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

/// What client generators need of the document (issue 21): each operation has an
/// `operationId`, unique and named `resource_action`; every `{name}` of a path template is a
/// parameter `in: path` (required), and every `in: path` parameter is in the template; the PNG
/// is binary (a generator would otherwise hand out a list of numbers).
async fn openapi_is_what_client_generators_need(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: serde_json::Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let template: std::collections::BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: no operationId"));
            let named = id.split('_').count() >= 2
                && id.split('_').all(|w| {
                    !w.is_empty()
                        && w.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
            assert!(named, "{at}: operationId `{id}` is not resource_action");
            if let Some(other) = seen.insert(id.to_string(), at.clone()) {
                panic!("operationId `{id}` of {at} repeats {other}");
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: std::collections::BTreeSet<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{at}: path parameter {p}");
                    p["name"].as_str().unwrap()
                })
                .collect();
            assert_eq!(
                in_path, template,
                "{at}: path parameters against the template"
            );
            for p in &params {
                assert!(
                    ["path", "query", "header"].contains(&p["in"].as_str().unwrap()),
                    "{at}: {p}"
                );
            }
        }
    }
    assert!(seen.len() >= 36, "{} operations", seen.len());
    let png = &doc["paths"]["/v1/users/{user}/devices/{id}/qr.png"]["get"]["responses"]["200"]["content"]
        ["image/png"]["schema"];
    assert_eq!(
        (&png["type"], &png["format"]),
        (&serde_json::json!("string"), &serde_json::json!("binary")),
        "{png}"
    );
}

crate::both_backends!(
    healthz_and_readyz_answer,
    a_readiness_probe_storm_checks_the_dependencies_once,
    responses_carry_security_headers,
    metrics_count_requests_by_route_pattern,
    openapi_describes_every_route,
    openapi_is_what_client_generators_need,
);
