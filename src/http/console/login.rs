//! Signing in to the console with an admin API key, and out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::form_errors::Errors;
use super::session::{self, Console, LOGIN_COOKIE};
use super::{ActionForm, ConsoleError, Nav, page, see_other};
use crate::app::state::AppState;
use crate::app::{admin, api_keys};
use crate::audit::{Action, Actor, Event, Outcome};
use crate::error::Error;
use crate::http::methods::Page;

/// Wrong keys per address in [`LOGIN_WINDOW`]. Past the limit a wrong key is refused with 429,
/// unaudited, so a scripted client cannot flood the audit trail; keys are unguessable, so the
/// limit is no defence of its own. Every presented key is still looked up and a valid admin key
/// signs in whatever the count: addresses are shared (a proxy without
/// `TWOFOLD_TRUST_FORWARDED_FOR` makes every client one address), and wrong keys posted from one
/// must not lock the real admin out. Only wrong keys count.
const LOGIN_LIMIT: u64 = 20;
const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/admin").get(home).finish())
        .service(page("/admin/").get(home).finish())
        .service(page("/admin/login").get(form).post(sign_in).finish())
        .service(page("/admin/logout").post(sign_out).finish());
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    nav: Option<Nav>,
    csrf: String,
    notice: Option<&'static str>,
    errors: Errors,
}

/// Why the previous session ended, when the sign-in page is where it went.
#[derive(Deserialize)]
struct LoginQuery {
    ended: Option<String>,
}

/// `?ended=` of the sign-in page after the session's own key was revoked.
pub const ENDED_KEY_REVOKED: &str = "key_revoked";

fn ended_notice(ended: Option<&str>) -> Option<&'static str> {
    (ended? == ENDED_KEY_REVOKED).then_some(
        "You revoked the API key this session signed in with, so you are signed out. \
         Sign in with another admin key.",
    )
}

async fn home(console: Result<Console, ConsoleError>) -> Result<HttpResponse, ConsoleError> {
    match console {
        Ok(_) => Ok(see_other("/admin/users")),
        // A store or database outage is an error page, not a sign-in form.
        Err(e) => Err(e),
    }
}

/// The form, with a fresh double-submit token in a cookie scoped to this path. The key typed is
/// never shown again, even when it was wrong.
fn login_page(
    state: &AppState,
    status: StatusCode,
    notice: Option<&'static str>,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let csrf = session::random_token()?;
    let body = LoginPage {
        nav: None,
        csrf: csrf.clone(),
        notice,
        errors,
    }
    .render()
    .map_err(Error::internal)?;
    let mut res = page(status, body);
    res.add_cookie(&session::cookie(state, LOGIN_COOKIE, csrf, "/admin/login"))
        .map_err(Error::internal)?;
    Ok(res)
}

async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    let query: LoginQuery = super::query(&req)?;
    let notice = ended_notice(query.ended.as_deref());
    login_page(&state, StatusCode::OK, notice, Errors::default())
}

/// The form again, its one field in error.
fn refused(
    state: &AppState,
    status: StatusCode,
    message: &str,
) -> Result<HttpResponse, ConsoleError> {
    login_page(state, status, None, Errors::one("api_key", message))
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    csrf: String,
}

async fn audit_login(state: &AppState, tenant: String, actor: Actor, ip: Option<String>, ok: bool) {
    let outcome = if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let event = Event::new(tenant, Action::AdminLogin, actor)
        .ip(ip)
        .outcome(outcome);
    state.audit.send(state.clock.now(), event).await;
}

async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let body: SignIn = super::form(&crate::http::body(body).await?)?;
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
    let presented = body.csrf.as_bytes();
    if !expected.is_some_and(|e| !e.is_empty() && bool::from(e.as_bytes().ct_eq(presented))) {
        return Err(ConsoleError::Csrf);
    }
    // An empty form is no guess: neither counted nor audited.
    if body.api_key.trim().is_empty() {
        return refused(&state, StatusCode::BAD_REQUEST, "Enter an admin API key.");
    }
    let ip = crate::http::client_ip(&req, state.config.trust_forwarded_for);
    let key = api_keys::authenticate(&state.db, &state.keys, body.api_key.trim()).await?;
    if !key.as_ref().is_some_and(|k| k.is_admin())
        && let Some(wait) = limit_wrong_key(&state, ip.as_deref()).await?
    {
        let message = format!(
            "Too many wrong keys from this address: try again in {}.",
            super::lock::duration_words(wait)
        );
        let mut res = refused(&state, StatusCode::TOO_MANY_REQUESTS, &message)?;
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(res);
    }
    let key = match key {
        None => {
            audit_login(&state, "*".into(), Actor::Anonymous, ip, false).await;
            let message = "That key is unknown or revoked.";
            return refused(&state, StatusCode::UNAUTHORIZED, message);
        }
        Some(k) if !k.is_admin() => {
            let tenant = k.tenant.clone().unwrap_or_else(|| "*".into());
            audit_login(&state, tenant, k.actor(), ip, false).await;
            let message = "That is a client key: the console takes an admin key \
                           (made with --role admin).";
            return refused(&state, StatusCode::FORBIDDEN, message);
        }
        Some(k) => k,
    };
    let cookie = session::open(&state, &key).await?;
    let tenant = key.tenant.clone().unwrap_or_else(|| "*".into());
    audit_login(&state, tenant, Actor::Console(key.id.clone()), ip, true).await;
    let mut res = see_other("/admin/users");
    res.add_cookie(&cookie).map_err(Error::internal)?;
    res.add_removal_cookie(&session::removal(&state, LOGIN_COOKIE, "/admin/login"))
        .map_err(Error::internal)?;
    Ok(res)
}

/// Counts a wrong key from `ip`; past [`LOGIN_LIMIT`] in the window, the wait before the next
/// one is taken (the key is then refused with 429, unaudited).
async fn limit_wrong_key(
    state: &AppState,
    ip: Option<&str>,
) -> Result<Option<std::time::Duration>, ConsoleError> {
    let per_ip = format!("console-login:{}", ip.unwrap_or("unknown"));
    let failures: u64 = state
        .store
        .get(&per_ip)
        .await
        .map_err(Error::from)?
        .and_then(|v| String::from_utf8(v).ok()?.parse().ok())
        .unwrap_or(0);
    if failures >= LOGIN_LIMIT {
        let wait = state.store.ttl(&per_ip).await.map_err(Error::from)?;
        return Ok(Some(wait.unwrap_or(LOGIN_WINDOW)));
    }
    state
        .store
        .hit(&per_ip, LOGIN_LIMIT, LOGIN_WINDOW)
        .await
        .map_err(Error::from)?;
    Ok(None)
}

async fn sign_out(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let form: ActionForm = super::form(&crate::http::body(body).await?)?;
    console.check_csrf(&form.csrf)?;
    console.close(&state).await?;
    admin::record_logout(&state, &console.key, &console.caller()).await?;
    let mut res = see_other("/admin/login");
    res.add_removal_cookie(&session::removal(&state, session::COOKIE, "/admin"))
        .map_err(Error::internal)?;
    Ok(res)
}
