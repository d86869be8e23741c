//! The `/admin` console: server-rendered pages (askama), no JavaScript. An admin signs in with an
//! admin API key and gets a session cookie ([`session`]); every form carries the session's CSRF
//! token. The pages call the same domain code as the admin API ([`crate::app::admin`]). What
//! cannot be undone is confirmed on a page of its own first ([`confirm`]).

mod api_keys;
mod audit;
mod confirm;
mod events;
mod form_errors;
mod lock;
mod login;
pub mod session;
mod tokens;
mod user_actions;
mod users;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::Error;
use session::Console;

/// No script at all; styles only from our own stylesheet; forms post only to us; never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const STYLESHEET: &str = include_str!("../../../templates/twofold.css");

/// Adds the console's routes (not part of the OpenAPI document: they are pages).
pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::http::methods::Page::new("/static/twofold.css", refuse)
            .get(stylesheet)
            .finish(),
    );
    login::register(cfg);
    users::register(cfg);
    user_actions::register(cfg);
    audit::register(cfg);
    api_keys::register(cfg);
    tokens::register(cfg);
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// What the layout shows of a signed-in admin: who, in which tenant, and the logout form.
pub struct Nav {
    pub key_name: String,
    pub key_id: String,
    pub csrf: String,
    /// The tenant the pages act in.
    pub tenant: String,
    /// Whether the key may pick another tenant.
    pub all_tenants: bool,
}

impl Nav {
    pub fn new(console: &Console, tenant: &str) -> Nav {
        Nav {
            key_name: console.key.name.clone(),
            key_id: console.key.id.clone(),
            csrf: console.csrf().to_string(),
            tenant: tenant.to_string(),
            all_tenants: console.key.tenant.is_none(),
        }
    }
}

/// A failed page request.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session: to the sign-in page.
    #[error("sign in first")]
    SignIn,
    /// A form without this session's CSRF token.
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    #[error(transparent)]
    Api(Error),
}

/// Any failure the API would answer (the shared error, or a use case's own, mapped to it in
/// `http::error`) is a page with the same status and public message.
impl<E: Into<Error>> From<E> for ConsoleError {
    fn from(e: E) -> ConsoleError {
        ConsoleError::Api(e.into())
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage {
    nav: Option<Nav>,
    status: u16,
    title: String,
    message: String,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ConsoleError::SignIn => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/admin/login"))
                    .finish();
            }
            ConsoleError::Csrf => {
                "This form is stale or did not come from this console. Go back, reload the page \
                 and try again."
                    .to_string()
            }
            ConsoleError::Api(e) => {
                // The API's error response logs the cause of 5xx answers; the page shows the
                // same public message.
                let _ = e.error_response();
                crate::http::error::public_message(e)
            }
        };
        let status = self.status_code();
        let body = ErrorPage {
            nav: None,
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            message,
        }
        .render()
        .unwrap_or_else(|_| "error".to_string());
        let mut res = page(status, body);
        if let ConsoleError::Api(Error::RateLimited { retry_after_secs }) = self {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs.max(&1)),
            );
        }
        res
    }
}

/// The console's 405: its error page, and the methods the path takes in `Allow`.
pub fn refuse(req: &actix_web::HttpRequest, allow: &str) -> HttpResponse {
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let body = ErrorPage {
        nav: None,
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        message: crate::http::error::method_not_allowed_message(req.method(), allow),
    }
    .render()
    .unwrap_or_else(|_| "error".to_string());
    let mut res = page(status, body);
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// An HTML answer with the console's security headers.
pub fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .body(body)
}

pub fn render(t: &impl Template) -> Result<HttpResponse, ConsoleError> {
    let body = t.render().map_err(Error::internal)?;
    Ok(page(StatusCode::OK, body))
}

/// 303 to `location` (after a form post).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `path?k=v&…` with the values encoded; empty values left out.
pub fn link(path: &str, params: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    let q = q.finish();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

/// A urlencoded form body, read inside the handler once [`Console`] has judged the session: a
/// malformed body must not answer before a client key gets its 403.
pub fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ConsoleError> {
    Ok(crate::http::form_body(body)?)
}

/// The query string, read the same way.
pub fn query<T: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
) -> Result<T, ConsoleError> {
    Ok(crate::http::query(req)?)
}

/// The body of every state-changing form: its CSRF token and, for an all-tenant key, the tenant.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    pub tenant: Option<String>,
}
