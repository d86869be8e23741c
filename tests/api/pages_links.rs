//! Signed links to the hosted pages (SEC-36), and what every page test shares: a browser that
//! keeps the flow cookie, the checks every page answer passes (SEC-37), fields read from the HTML.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use twofold::app::api_keys::{self, NewApiKey, Role};
use twofold::audit::Actor;

use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with, start_time};

/// Under the prefix `make_key` registers (`https://rp.example/`).
pub const RETURN_URL: &str = "https://rp.example/back";

/// A link as the relying party gets it, and the path to open it at on the test app.
pub struct Link {
    pub url: String,
    pub path: String,
    pub token: String,
}

pub async fn request_link(
    app: &TestApp,
    user: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    app.post(&format!("/v1/users/{user}/links"), key, body)
        .await
}

/// A link of the client key for `user`, back to [`RETURN_URL`]; panics unless 201.
pub async fn link(app: &TestApp, user: &str, purpose: &str, state: Option<&str>) -> Link {
    let mut body = json!({ "purpose": purpose, "return_url": RETURN_URL });
    if let Some(s) = state {
        body["state"] = s.into();
    }
    let res = request_link(app, user, Some(&app.client_key), &body).await;
    assert_eq!(res.status(), 201, "link");
    let answer: Value = res.json().await.unwrap();
    let url = answer["url"].as_str().unwrap().to_string();
    let path = url::Url::parse(&url).unwrap().path().to_string();
    let token = path
        .strip_prefix(&format!("/{purpose}/"))
        .unwrap_or_else(|| panic!("{url} is a {purpose} link"))
        .to_string();
    Link { url, path, token }
}

/// One browser: the cookies it was given, sent back on the paths they were set for.
pub struct Browser<'a> {
    app: &'a TestApp,
    /// (name, value, path)
    cookies: Vec<(String, String, String)>,
    /// Its `Accept-Language`, if it sends one.
    language: Option<String>,
}

/// RFC 6265 path-match.
fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: vec![],
            language: None,
        }
    }

    /// A browser that asks for pages in `accept_language`.
    pub fn speaking(app: &'a TestApp, accept_language: &str) -> Browser<'a> {
        Browser {
            language: Some(accept_language.to_string()),
            ..Browser::new(app)
        }
    }

    fn headers(&self, req: reqwest::RequestBuilder, path: &str) -> reqwest::RequestBuilder {
        let req = req.header(COOKIE, self.cookie_header(path));
        match &self.language {
            Some(l) => req.header(reqwest::header::ACCEPT_LANGUAGE, l),
            None => req,
        }
    }

    fn remember(&mut self, res: &reqwest::Response) {
        for c in res.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let mut parts = c.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let path = parts
                .find_map(|a| a.strip_prefix("Path="))
                .unwrap_or("/")
                .to_string();
            self.cookies
                .retain(|(n, _, p)| (n.as_str(), p) != (name, &path));
            self.cookies
                .push((name.to_string(), value.to_string(), path));
        }
    }

    fn cookie_header(&self, path: &str) -> String {
        let path = path.split('?').next().unwrap();
        self.cookies
            .iter()
            .filter(|(_, _, p)| path_matches(path, p))
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let req = self.headers(self.app.http.get(self.app.url(path)), path);
        let res = req.send().await.unwrap();
        self.remember(&res);
        res
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let req = self.headers(self.app.http.post(self.app.url(path)).form(form), path);
        let res = req.send().await.unwrap();
        self.remember(&res);
        res
    }
}

/// HTML text with its character references decoded (askama escapes `'`, `"`, `&`, `<`, `>`).
fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The HTML (references decoded) of a page answer, which must have `status` and pass the SEC-37
/// checks every page answer passes: CSP without scripts, no framing, no referrer, no caching,
/// no `<script`.
pub async fn page(res: reqwest::Response, status: u16) -> String {
    let got = res.status().as_u16();
    let headers = res.headers().clone();
    let raw = res.text().await.unwrap();
    assert_eq!(got, status, "status of {raw}");
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(header("content-type").starts_with("text/html"));
    let csp = header("content-security-policy");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script") && !csp.contains("unsafe"), "{csp}");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    assert!(!raw.to_ascii_lowercase().contains("<script"), "{raw}");
    unescape(&raw)
}

/// A well-formed code other than `right`.
pub fn wrong(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// The answer to the opening that claims a link: a refresh to the same page (a navigation of
/// twofold's own, so that reloads carry the SameSite=Strict flow cookie).
pub fn assert_refresh(html: &str, l: &Link) {
    let refresh = format!(
        "<meta http-equiv=\"refresh\" content=\"0; url={}\">",
        l.path
    );
    assert!(html.contains(&refresh), "{html}");
    assert!(
        !html.contains("name=\"csrf\""),
        "no form before the refresh: {html}"
    );
}

/// Opens `l` in `b`: the claiming refresh, then the page (a 200): its HTML and its CSRF token.
pub async fn open(b: &mut Browser<'_>, l: &Link) -> (String, String) {
    assert_refresh(&page(b.get(&l.path).await, 200).await, l);
    let html = page(b.get(&l.path).await, 200).await;
    let csrf = field(&html, "csrf");
    (html, csrf)
}

/// The `value` of `<input … name="name" value="…">` (the first such input).
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

pub fn location(res: &reqwest::Response) -> String {
    let value = res.headers().get(LOCATION).expect("a Location header");
    value.to_str().unwrap().to_string()
}

/// The first Set-Cookie of an answer.
pub fn set_cookie(res: &reqwest::Response) -> String {
    let value = res.headers().get(SET_COOKIE).expect("a Set-Cookie header");
    value.to_str().unwrap().to_string()
}

/// The assertion of a 303 back to [`RETURN_URL`], whose query is exactly `state` (when the link
/// had one) and `assertion`.
pub fn back(res: &reqwest::Response, state: Option<&str>) -> String {
    assert_eq!(res.status(), 303, "back to the relying party");
    let to = url::Url::parse(&location(res)).unwrap();
    assert_eq!(&to[..url::Position::AfterPath], RETURN_URL, "{to}");
    let mut pairs: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    let (name, assertion) = pairs.pop().expect("an assertion");
    assert_eq!(name, "assertion", "{to}");
    let expected: Vec<(String, String)> = state
        .map(|s| ("state".to_string(), s.to_string()))
        .into_iter()
        .collect();
    assert_eq!(pairs, expected, "{to}");
    assertion
}

async fn key_with_prefix(app: &TestApp, prefix: &str) -> String {
    let state = &app.state;
    let new = NewApiKey {
        name: "prefixed".into(),
        role: Role::Client,
        tenant: Some("default".into()),
        return_url_prefixes: vec![prefix.into()],
        webauthn_origins: vec![],
        webauthn_rp_id: None,
        display_name: None,
    };
    let now = state.clock.now();
    let created = api_keys::create(
        &state.db,
        state.audit.stream(),
        &state.keys,
        now,
        new,
        Actor::System,
    );
    created.await.expect("make key").1.to_string()
}

/// SEC-36: a link is a page URL of this service for the purpose asked, valid ten minutes; each
/// link is another one.
async fn sec36_links_point_at_the_pages_for_ten_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    for purpose in ["verify", "enroll"] {
        let mut urls = vec![];
        for state in [json!("abc"), json!("x".repeat(512)), Value::Null] {
            let body = json!({ "purpose": purpose, "return_url": RETURN_URL, "state": state });
            let res = request_link(&app, "alice", Some(&app.client_key), &body).await;
            assert_eq!(res.status(), 201);
            let answer: Value = res.json().await.unwrap();
            assert_eq!(answer.as_object().unwrap().len(), 2, "{answer}");
            let url = answer["url"].as_str().unwrap().to_string();
            let token = url
                .strip_prefix(&format!("{}/{purpose}/", app.base))
                .unwrap_or_else(|| panic!("{url} under {}", app.base));
            let (claims, mac) = token.split_once('.').unwrap();
            assert!(!claims.is_empty() && !mac.is_empty() && !mac.contains('.'));
            let expires: DateTime<Utc> = answer["expires_at"].as_str().unwrap().parse().unwrap();
            assert_eq!(expires, start_time() + TimeDelta::minutes(10));
            urls.push(url);
        }
        urls.dedup();
        assert_eq!(urls.len(), 3, "{urls:?}");
    }
    let body = json!({ "purpose": "verify", "return_url": "https://rp.example/back?x=1" });
    let res = request_link(&app, "alice", Some(&app.client_key), &body).await;
    assert_eq!(res.status(), 201, "a query of its own is fine");
}

/// SEC-36: no open redirect: the return URL must lie under a prefix registered on the key, as a
/// parsed URL (scheme, host, port, path); no userinfo.
async fn sec36_return_url_must_lie_under_a_registered_prefix(backend: Backend) {
    let app = spawn_app(backend).await;
    let refused = [
        "https://evil.example/back",
        "https://rp.example.evil.com/back",
        "https://rp.example@evil.example/back",
        "http://rp.example/back",
        "https://user:pw@rp.example/back",
        "https://user@rp.example/back",
        "https://rp.example:8443/back",
        "javascript:alert(1)",
        "/back",
        "rp.example/back",
        "",
    ];
    for url in refused {
        let body = json!({ "purpose": "verify", "return_url": url });
        let res = request_link(&app, "alice", Some(&app.client_key), &body).await;
        assert_eq!(res.status(), 400, "{url}");
        assert_error(res, 400, "return_url_not_allowed").await;
    }
    let key = key_with_prefix(&app, "https://rp.example/app/").await;
    let cases = [
        ("https://rp.example/app/done", 201),
        ("https://rp.example/app/", 201),
        ("https://rp.example/other", 400),
        ("https://rp.example/application", 400),
        ("https://rp.example/app/../other", 400),
    ];
    for (url, status) in cases {
        let body = json!({ "purpose": "enroll", "return_url": url });
        let res = request_link(&app, "alice", Some(&key), &body).await;
        assert_eq!(res.status().as_u16(), status, "{url}");
        if status == 400 {
            assert_error(res, 400, "return_url_not_allowed").await;
        }
    }
}

/// A state over 512 characters, an unknown purpose or field, no key: refused.
async fn links_refuse_bad_requests_and_missing_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = Some(app.client_key.as_str());
    let long = json!({ "purpose": "verify", "return_url": RETURN_URL, "state": "x".repeat(513) });
    assert_error(
        request_link(&app, "alice", key, &long).await,
        400,
        "invalid_request",
    )
    .await;
    let login = json!({ "purpose": "login", "return_url": RETURN_URL });
    assert_error(
        request_link(&app, "alice", key, &login).await,
        400,
        "invalid_request",
    )
    .await;
    let extra = json!({ "purpose": "verify", "return_url": RETURN_URL, "user": "bob" });
    assert_error(
        request_link(&app, "alice", key, &extra).await,
        400,
        "invalid_request",
    )
    .await;
    let ok = json!({ "purpose": "verify", "return_url": RETURN_URL });
    for key in [None, Some("tf_not_a_key")] {
        let res = request_link(&app, "alice", key, &ok).await;
        assert_error(res, 401, "invalid_api_key").await;
    }
}

/// SEC-37: the pages and their error pages (403, 404, 410) send the security headers and no
/// script (checked by [`page`]), and say what went wrong.
async fn sec37_pages_and_error_pages_send_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let v = link(&app, "alice", "verify", None).await;
    let e = link(&app, "alice", "enroll", None).await;
    let mut b = Browser::new(&app);
    page(b.get(&v.path).await, 200).await;
    page(b.get(&format!("{}?recovery=1", v.path)).await, 200).await;
    page(b.get(&e.path).await, 200).await;
    let stale = page(b.post(&v.path, &[("code", "123456")]).await, 403).await;
    assert!(stale.contains("This form is stale"), "{stale}");
    let used = page(Browser::new(&app).get(&v.path).await, 410).await;
    assert!(used.contains("This link was already used"), "{used}");
    for path in [
        "/verify/nonsense",
        "/enroll/a.b",
        &format!("/verify/{}", e.token),
    ] {
        let invalid = page(b.get(path).await, 404).await;
        assert!(invalid.contains("This link is not valid"), "{invalid}");
    }
    let late = link(&app, "alice", "verify", None).await;
    app.clock.advance(TimeDelta::minutes(11));
    let expired = page(b.get(&late.path).await, 410).await;
    assert!(expired.contains("This link has expired"), "{expired}");
}

/// SEC-37: behind TLS the flow cookie is Secure too.
async fn sec37_flow_cookie_is_secure_behind_tls(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.public_url = Some("https://mfa.example".into());
    })
    .await;
    let l = link(&app, "alice", "verify", None).await;
    assert!(
        l.url.starts_with("https://mfa.example/verify/"),
        "{}",
        l.url
    );
    let res = Browser::new(&app).get(&l.path).await;
    let cookie = set_cookie(&res);
    assert_refresh(&page(res, 200).await, &l);
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        &format!("Path={}", l.path),
    ] {
        assert!(cookie.split("; ").any(|a| a == attr), "{attr} in {cookie}");
    }
}

crate::both_backends!(
    sec36_links_point_at_the_pages_for_ten_minutes,
    sec36_return_url_must_lie_under_a_registered_prefix,
    links_refuse_bad_requests_and_missing_keys,
    sec37_pages_and_error_pages_send_security_headers,
    sec37_flow_cookie_is_secure_behind_tls,
);
