//! A path that exists under other methods is 405 `method_not_allowed` with `Allow`, in the shape
//! of what was asked: the JSON envelope on the API, the error page on the hosted pages and the
//! console. A path that exists under no method stays 404 (issue 16).

use reqwest::Method;
use reqwest::header::{ALLOW, CONTENT_TYPE};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

async fn send(app: &TestApp, method: Method, path: &str) -> reqwest::Response {
    app.http
        .request(method, app.url(path))
        .bearer_auth(&app.client_key)
        .send()
        .await
        .unwrap()
}

fn allow(res: &reqwest::Response) -> String {
    res.headers()[ALLOW].to_str().unwrap().to_string()
}

async fn api_routes_answer_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    for (method, path, allowed) in [
        (Method::PUT, "/v1/users/alice/devices", "GET"),
        (Method::GET, "/v1/users/alice/verify", "POST"),
        (Method::POST, "/healthz", "GET"),
        // Both the SMS enrollment and the device route match this path.
        (Method::GET, "/v1/users/alice/devices/sms", "DELETE, POST"),
    ] {
        let res = send(&app, method.clone(), path).await;
        assert_eq!(allow(&res), allowed, "{method} {path}");
        let body = assert_error(res, 405, "method_not_allowed").await;
        assert_eq!(
            body["message"],
            format!("method {method} is not allowed on this path; it takes {allowed}")
        );
    }
    // Unknown paths stay 404, without Allow.
    let res = send(&app, Method::PUT, "/v1/no/such/route").await;
    assert!(res.headers().get(ALLOW).is_none());
    assert_error(res, 404, "not_found").await;
}

async fn pages_and_console_answer_405_with_their_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    for (method, path, allowed) in [
        (Method::GET, "/enroll/some-token/phone", "POST"),
        (Method::DELETE, "/verify/some-token", "GET, POST"),
        (Method::DELETE, "/admin/login", "GET, POST"),
        (Method::POST, "/admin/users", "GET"),
    ] {
        let res = send(&app, method.clone(), path).await;
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(allow(&res), allowed, "{method} {path}");
        let kind = res.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("method {method} is not allowed on this path")),
            "{html}"
        );
    }
}

crate::both_backends!(
    api_routes_answer_405_with_allow,
    pages_and_console_answer_405_with_their_error_page,
);
