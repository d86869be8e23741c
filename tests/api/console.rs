//! The `/admin` console: sign in with an admin key, CSRF on every form, revoke and unlock through
//! the pages, sign out; client keys refused; security headers; no page shows a secret. The
//! confirmation step before a revoke: tests/api/console_confirm.rs.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use twofold::app::api_keys::Role;

use crate::helpers::{Backend, TestApp, make_key, spawn_app};

/// A browser of one: the cookies it was given, sent back on every request.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
}

/// The `value` of `<input … name="name" value="…">` (the first such input).
pub(crate) fn field(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: vec![],
        }
    }

    /// A browser holding `cookies` (another's, say, to replay a session that should be gone).
    pub(crate) fn with_cookies(app: &'a TestApp, cookies: Vec<(String, String)>) -> Browser<'a> {
        Browser { app, cookies }
    }

    /// The cookies held now.
    pub(crate) fn cookies_now(&self) -> Vec<(String, String)> {
        self.cookies.clone()
    }

    fn remember(&mut self, res: &reqwest::Response) {
        for c in res.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !attrs.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn get(&mut self, path: &str) -> reqwest::Response {
        let res = self
            .app
            .http
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.remember(&res);
        res
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let res = self
            .app
            .http
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.remember(&res);
        res
    }

    /// Signs in with `key`; returns the answer to the form post.
    pub(crate) async fn sign_in(&mut self, key: &str) -> reqwest::Response {
        let form = self.get("/admin/login").await.text().await.unwrap();
        let csrf = field(&form, "csrf");
        self.post("/admin/login", &[("api_key", key), ("csrf", &csrf)])
            .await
    }

    /// A page's HTML, which must be a 200.
    pub(crate) async fn page(&mut self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }
}

/// An admin API answer (as the all-tenant admin), after the audit writer has caught up.
async fn admin_json(app: &TestApp, path: &str) -> serde_json::Value {
    app.state.audit.flush().await;
    let res = app.get(path, Some(&app.admin_key)).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

pub(crate) fn location(res: &reqwest::Response) -> &str {
    res.headers().get(LOCATION).unwrap().to_str().unwrap()
}

async fn sign_in_then_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut b = Browser::new(&app);
    let res = b.get("/admin/users").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/login")
    );
    let login = b.get("/admin/login").await;
    let set = login.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let res = b.sign_in(&app.admin_key).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/users")
    );
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("twofold_admin="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=3600"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP here: {session}");
    let html = b.page("/admin/users").await;
    assert!(html.contains("Sign out"));

    // Signing out needs the session's token, then ends the session for good.
    let stolen = b.cookies.clone();
    assert_eq!(
        b.post("/admin/logout", &[("csrf", "nope")]).await.status(),
        403
    );
    let csrf = field(&html, "csrf");
    let res = b.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/login")
    );
    assert!(b.cookies.iter().all(|(n, _)| n != "twofold_admin"));
    b.cookies = stolen;
    let res = b.get("/admin/users").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/login")
    );

    let events = admin_json(&app, "/v1/admin/audit?tenant=*&limit=50").await;
    let actions: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"admin_login") && actions.contains(&"admin_logout"),
        "{actions:?}"
    );
}

async fn sign_in_is_refused_without_csrf_or_with_a_bad_or_client_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut b = Browser::new(&app);
    // No login cookie at all: a forged cross-site post.
    let res = b
        .post(
            "/admin/login",
            &[("api_key", &app.admin_key), ("csrf", "x")],
        )
        .await;
    assert_eq!(res.status(), 403);
    // The cookie, but another token.
    b.get("/admin/login").await;
    let res = b
        .post(
            "/admin/login",
            &[("api_key", &app.admin_key), ("csrf", "x")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(b.cookies.iter().all(|(n, _)| n != "twofold_admin"));

    let res = b.sign_in("tfk_not-a-key").await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("unknown or revoked"));
    let res = b.sign_in(&app.client_key).await;
    assert_eq!(res.status(), 403);
    assert!(b.cookies.iter().all(|(n, _)| n != "twofold_admin"));

    // A client key presented straight to a page is refused too, on every page.
    // Malformed queries and bodies too: the key is judged first.
    for path in [
        "/admin/users",
        "/admin/users?q=a&q=b",
        "/admin/user?user=alice",
        "/admin/user",
        "/admin/audit",
        "/admin/audit?user=a&user=b",
        "/admin/api-keys",
    ] {
        let res = app.get(path, Some(&app.client_key)).await;
        assert_eq!(res.status(), 403, "{path}");
    }
    for path in [
        "/admin/user/revoke",
        "/admin/user/revoke-all",
        "/admin/user/unlock",
        "/admin/api-keys/x/revoke",
        "/admin/logout",
    ] {
        let res = app
            .http
            .post(app.url(path))
            .bearer_auth(&app.client_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let failed = admin_json(&app, "/v1/admin/audit?tenant=*&action=admin_login").await;
    let failed = failed["events"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .all(|e| e["outcome"] == "failure" && e["ip"] == "127.0.0.1")
    );
}

async fn forms_need_the_csrf_token_then_revoke_and_unlock_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    for _ in 0..10 {
        app.verify("alice", json!("000000")).await;
    }
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/user?tenant=default&user=alice").await;
    assert!(html.contains("Locked until"), "{html}");
    let csrf = field(&html, "csrf");
    let target = [
        ("tenant", "default"),
        ("user", "alice"),
        ("device", device.id.as_str()),
    ];

    // Without the token (or with another session's) nothing happens, confirmed or not.
    for token in [None, Some("forged")] {
        let mut form = target.to_vec();
        form.extend(token.map(|t| ("csrf", t)));
        form.push(("confirmed", "yes"));
        for action in ["revoke", "unlock", "revoke-all"] {
            let res = b.post(&format!("/admin/user/{action}"), &form).await;
            assert_eq!(res.status(), 403, "{action} with {token:?}");
        }
    }
    let mut form = target.to_vec();
    form.push(("csrf", &csrf));
    let detail = admin_json(&app, "/v1/admin/users/alice").await;
    assert_eq!(detail["devices"][0]["status"], "active");
    assert!(detail["lock"]["locked_until"].is_string());

    let res = b.post("/admin/user/unlock", &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res),
        "/admin/user?tenant=default&user=alice&done=unlocked"
    );
    let html = b.page(location(&res).to_string().as_str()).await;
    assert!(
        html.contains("Not locked") && html.contains("was unlocked"),
        "{html}"
    );
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        200
    );

    app.clock.advance(chrono::TimeDelta::seconds(30));
    form.push(("confirmed", "yes"));
    let res = b.post("/admin/user/revoke", &form).await;
    assert_eq!(res.status(), 303);
    let html = b.page(location(&res).to_string().as_str()).await;
    assert!(html.contains("The device was revoked."));
    // SEC-21: the very next code of the revoked device fails.
    assert_eq!(
        app.verify("alice", json!(app.code(&device, 0)))
            .await
            .status(),
        422
    );

    let events = admin_json(&app, "/v1/admin/audit?user=alice").await;
    let admin_id = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "device_revoked")
        .expect("revoke audited")["actor"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(admin_id.starts_with("console:"), "{admin_id}");
}

async fn pages_send_security_headers_and_never_a_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    // A second device needs step-up from a client key; an admin key may add it outright.
    let pending: serde_json::Value = app
        .post(
            "/v1/users/alice/devices/totp",
            Some(&app.admin_key),
            &json!({"label": "spare"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = pending["secret"].as_str().unwrap().to_string();
    let uri = pending["otpauth_uri"].as_str().unwrap().to_string();
    let codes: serde_json::Value = app
        .post(
            "/v1/users/alice/recovery-codes",
            Some(&app.admin_key),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let session = b.cookies[0].1.clone();
    let mut secrets = vec![
        secret,
        uri,
        app.admin_key.clone(),
        app.client_key.clone(),
        session,
    ];
    secrets.extend(
        codes["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string()),
    );
    let paths = [
        "/admin/login",
        "/admin/users",
        "/admin/users?q=al",
        "/admin/user?user=alice",
        "/admin/audit",
        "/admin/audit?tenant=*",
        "/admin/api-keys",
    ];
    for path in paths {
        let res = b.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
        assert_eq!(h.get("cache-control").unwrap(), "no-store");
        assert!(
            h.get(CONTENT_TYPE)
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script"), "{path} has a script");
        for s in &secrets {
            assert!(!html.contains(s.as_str()), "{path} shows a secret");
        }
    }
    // The user page lists every device, the spare one still pending.
    let html = b.page("/admin/user?user=alice").await;
    assert!(html.contains("spare") && html.contains("pending") && html.contains("active"));
}

async fn a_revoked_key_ends_its_sessions_and_scoped_admins_stay_in_their_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    let acme_admin = make_key(&app.state, Role::Admin, Some("acme")).await;
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in(&acme_admin).await.status(), 303);
    // alice lives in `default`: not found from acme, even when asked for by name.
    assert_eq!(
        b.get("/admin/user?tenant=default&user=alice")
            .await
            .status(),
        404
    );
    let html = b.page("/admin/users?tenant=default&q=al").await;
    assert!(html.contains("No user matches"), "{html}");

    // The key is revoked elsewhere: the session dies with it.
    let keys = admin_json(&app, "/v1/admin/api-keys").await;
    let id = keys["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["tenant"] == "acme")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .delete(&format!("/v1/admin/api-keys/{id}"), Some(&app.admin_key))
        .await;
    assert_eq!(res.status(), 204);
    let res = b.get("/admin/users").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/login")
    );
}

/// Behind TLS (the public URL is https) the cookies are `Secure`.
async fn cookies_are_secure_behind_tls(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |raw| {
        raw.public_url = Some("https://mfa.example".into());
    })
    .await;
    let mut b = Browser::new(&app);
    let login = b.get("/admin/login").await;
    let set = login.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.contains("; Secure"), "{set}");
    let res = b.sign_in(&app.admin_key).await;
    let session: Vec<&str> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap())
        .filter(|c| c.starts_with("twofold_admin="))
        .collect();
    assert!(
        session.len() == 1 && session[0].contains("; Secure"),
        "{session:?}"
    );
}

/// `.` and `..` are valid user ids; in a path a browser would resolve them away.
async fn dot_user_ids_work_in_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    // An HTTP client normalizes `..` out of a path too: enroll it through the domain code.
    let subject = twofold::app::users::Subject::new("default".into(), "..".into()).unwrap();
    let caller = twofold::app::users::Caller {
        actor: twofold::audit::Actor::Cli,
        is_admin: true,
        ip: None,
        unconfirmed_key: None,
        origin: twofold::app::users::Origin::Browser,
    };
    twofold::app::factors::totp::enroll(&app.state, &subject, &caller, Default::default())
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/users?q=.").await;
    assert!(
        html.contains("href=\"/admin/user?tenant=default&#38;user=..\""),
        "{html}"
    );
    let html = b.page("/admin/user?tenant=default&user=..").await;
    let csrf = field(&html, "csrf");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("tenant", "default"),
        ("user", ".."),
    ];
    let html = b
        .post("/admin/user/revoke-all", &form)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Revoke every device of ..?")
            && html.contains("href=\"/admin/user?tenant=default&#38;user=..\""),
        "the confirmation, and the way back: {html}"
    );
    form.push(("confirmed", "yes"));
    let res = b.post("/admin/user/revoke-all", &form).await;
    assert_eq!(
        location(&res),
        "/admin/user?tenant=default&user=..&done=revoked_all"
    );
    let html = b
        .page("/admin/user?tenant=default&user=..&done=revoked_all")
        .await;
    assert!(
        html.contains("Every device of this user was revoked."),
        "{html}"
    );
    assert!(
        html.contains(">revoked<") && !html.contains(">active<"),
        "{html}"
    );
}

crate::both_backends!(
    sign_in_then_out,
    dot_user_ids_work_in_the_console,
    cookies_are_secure_behind_tls,
    sign_in_is_refused_without_csrf_or_with_a_bad_or_client_key,
    forms_need_the_csrf_token_then_revoke_and_unlock_work,
    pages_send_security_headers_and_never_a_secret,
    a_revoked_key_ends_its_sessions_and_scoped_admins_stay_in_their_tenant,
);
