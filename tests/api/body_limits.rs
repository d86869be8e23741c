//! Bodies over the limit are answered in the shape of what was asked: the API's JSON envelope,
//! the hosted pages' error page, the console's error page — never actix's own `text/plain` 413.

use reqwest::header::CONTENT_TYPE;

use crate::console::{self, field};
use crate::helpers::{Backend, TestApp, assert_error, spawn_app};
use crate::pages_links::{self, link, open, page};

/// Over the 64 KiB every form and optional JSON body may hold.
fn big() -> String {
    "x".repeat(100 * 1024)
}

async fn post_raw(app: &TestApp, path: &str, key: Option<&str>, body: String) -> reqwest::Response {
    let mut req = app.http.post(app.url(path)).body(body);
    req = req.header(CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn api_bodies_over_the_limit_are_json_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = Some(app.client_key.as_str());
    for path in ["/v1/users/alice/sms", "/v1/users/alice/recovery-codes"] {
        let body = format!("{{\"step_up\": \"{}\"}}", big());
        let res = post_raw(&app, path, key, body).await;
        let body = assert_error(res, 400, "invalid_request").await;
        assert!(
            body["message"].as_str().unwrap().contains("64 KiB"),
            "{body}"
        );
    }
    let body = format!("{{\"code\": \"{}\"}}", big());
    let res = post_raw(&app, "/v1/users/alice/verify", key, body).await;
    assert_error(res, 400, "invalid_request").await;
    // The import takes up to 16 MiB.
    let res = app
        .http
        .post(app.url("/v1/admin/import"))
        .bearer_auth(&app.admin_key)
        .header(CONTENT_TYPE, "application/x-ndjson")
        .body("x".repeat(16 * 1024 * 1024 + 1))
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "invalid_request").await;
}

async fn page_posts_over_the_limit_get_the_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    let l = link(&app, "alice", "verify", None).await;
    let mut b = pages_links::Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let code = big();
    let res = b.post(&l.path, &[("csrf", &csrf), ("code", &code)]).await;
    let html = page(res, 400).await;
    assert!(html.contains("larger than 64 KiB"), "{html}");
    // The flow goes on.
    let res = b
        .post(&l.path, &[("csrf", &csrf), ("code", "000000")])
        .await;
    page(res, 422).await;
}

async fn console_posts_over_the_limit_get_the_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut b = console::Browser::new(&app);
    // The sign-in form too, before any session.
    let login = b.get("/admin/login").await.text().await.unwrap();
    let csrf = field(&login, "csrf");
    let key = big();
    let res = b
        .post("/admin/login", &[("api_key", &key), ("csrf", &csrf)])
        .await;
    assert_html_error(res, 400).await;
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/api-keys").await;
    let csrf = field(&html, "csrf");
    let res = b
        .post("/admin/user/unlock", &[("csrf", &csrf), ("user", &big())])
        .await;
    assert_html_error(res, 400).await;
}

async fn assert_html_error(res: reqwest::Response, status: u16) {
    assert_eq!(res.status(), status);
    let kind = res.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/html"), "{kind}");
    let html = res.text().await.unwrap();
    assert!(html.contains("larger than 64 KiB"), "{html}");
}

crate::both_backends!(
    api_bodies_over_the_limit_are_json_errors,
    page_posts_over_the_limit_get_the_error_page,
    console_posts_over_the_limit_get_the_error_page,
);
