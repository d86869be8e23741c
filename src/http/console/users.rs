//! Console pages for users: search, and one user's page (its forms act in [`super::user_actions`]).
//! The user id travels in the query or the form, never in the path: `.` and `..` are valid user
//! ids, and a browser would resolve them as path segments.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::events::{EventView, audit_href};
use super::form_errors::Errors;
use super::lock::LockView;
use super::session::Console;
use super::{ConsoleError, Nav, link, page, when};
use crate::app::admin::{self, AdminError};
use crate::app::state::AppState;
use crate::app::users::Subject;
use crate::db::audit::Filter;
use crate::error::Error;
use crate::factor::kind::DeviceStatus;
use crate::http::methods::Page;

/// Recent events on a user's page.
const RECENT: i64 = 20;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/admin/users").get(search).finish())
        .service(page("/admin/user").get(show).finish());
}

/// The page of `user` in `tenant`.
pub fn user_href(tenant: &str, user: &str) -> String {
    link("/admin/user", &[("tenant", tenant), ("user", user)])
}

#[derive(Deserialize)]
struct SearchQuery {
    tenant: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

struct UserLink {
    user: String,
    created: String,
    href: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    nav: Option<Nav>,
    /// The tenant field as typed.
    tenant: String,
    q: String,
    users: Vec<UserLink>,
    next_href: Option<String>,
    errors: Errors,
}

async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let query: SearchQuery = super::query(&req)?;
    let typed = query.tenant.unwrap_or_default().trim().to_string();
    let q = query.q.unwrap_or_default().trim().to_string();
    let mut errors = Errors::default();
    let tenant = match console
        .key
        .tenant_for((!typed.is_empty()).then_some(&typed))
    {
        Ok(t) => t,
        Err(e) => {
            errors.add("tenant", super::form_errors::about_input(&e).ok_or(e)?);
            console.key.tenant_for(None)?
        }
    };
    let found = if errors.is_empty() {
        let limit = admin::DEFAULT_LIMIT;
        match admin::search_users(&state, tenant.clone(), q.clone(), query.cursor, limit).await {
            Err(AdminError::BadSearch) => {
                errors.add(
                    "q",
                    "A user id has only A-Z a-z 0-9 . _ @ + - (at most 128 characters).",
                );
                None
            }
            other => Some(other?),
        }
    } else {
        None
    };
    let (users, next) = found.map(|f| (f.users, f.next)).unwrap_or_default();
    let users = users
        .into_iter()
        .map(|u| UserLink {
            href: user_href(&tenant, &u.user),
            created: when(u.created_at),
            user: u.user,
        })
        .collect();
    let next_href = next.map(|c| {
        link(
            "/admin/users",
            &[("tenant", &tenant), ("q", &q), ("cursor", &c)],
        )
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = UsersPage {
        nav: Some(Nav::new(&console, &tenant)),
        tenant: if typed.is_empty() { tenant } else { typed },
        q,
        users,
        next_href,
        errors,
    };
    Ok(page(status, body.render().map_err(Error::internal)?))
}

#[derive(Deserialize)]
struct ShowQuery {
    tenant: Option<String>,
    user: String,
    done: Option<String>,
}

struct DeviceView {
    /// A HOTP device: the resync form is offered.
    hotp: bool,
    /// Security keys: the model (or AAGUID), and a warning when the key looked cloned.
    key: Option<String>,
    clone_warning: Option<String>,
    id: String,
    kind: String,
    label: String,
    status: String,
    created: String,
    last_used: String,
    revocable: bool,
    /// The resync codes as typed, and what was wrong with them, when that form came back.
    first: String,
    second: String,
    resync_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    nav: Option<Nav>,
    csrf: String,
    tenant: String,
    user: String,
    created: String,
    lock: LockView,
    recovery_codes_left: i64,
    devices: Vec<DeviceView>,
    events: Vec<EventView>,
    audit_href: String,
    notice: Option<&'static str>,
    errors: Errors,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "revoked" => Some("The device was revoked."),
        "revoked_all" => Some("Every device of this user was revoked."),
        "unlocked" => Some("The user was unlocked; failures start again from zero."),
        "resynced" => Some("The token is back in step: its next code signs in."),
        _ => None,
    }
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let query: ShowQuery = super::query(&req)?;
    let tenant = console.key.tenant_for(query.tenant.as_deref())?;
    let subject = Subject::new(tenant, query.user)?;
    let shown = Shown {
        notice: notice(query.done.as_deref()),
        ..Shown::default()
    };
    user_page(&state, &console, &subject, shown, StatusCode::OK).await
}

/// What the user page shows besides the user: a notice after an act, or a form's errors and the
/// resync codes as typed (device id, first, second).
#[derive(Default)]
pub struct Shown {
    pub notice: Option<&'static str>,
    pub errors: Errors,
    pub resync: Option<(String, String, String)>,
}

/// The user page of `subject`, answered with `status`.
pub async fn user_page(
    state: &AppState,
    console: &Console,
    subject: &Subject,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let detail = admin::user(state, subject).await?;
    let filter = Filter {
        tenant: Some(subject.tenant.clone()),
        user: Some(subject.user.clone()),
        ..Filter::default()
    };
    let events = admin::audit(state, filter, RECENT).await?.events;
    let typed = |id: &str| match &shown.resync {
        Some((device, first, second)) if device == id => (first.clone(), second.clone()),
        _ => Default::default(),
    };
    let devices = detail
        .devices
        .into_iter()
        .map(|d| {
            let (first, second) = typed(&d.id);
            let resync_error = shown.errors.get(&format!("first-{}", d.id));
            DeviceView {
                resync_error: resync_error.map(str::to_string),
                hotp: d.kind == crate::factor::kind::DeviceKind::Hotp
                    && d.status == DeviceStatus::Active,
                key: d.security_key.as_ref().map(|k| {
                    let model = k.model.clone().or_else(|| k.aaguid.clone());
                    let model = model.unwrap_or_else(|| "model not given".into());
                    let uv = if k.user_verified {
                        "PIN or biometric"
                    } else {
                        "presence only"
                    };
                    format!("{model} · {} · {uv}", k.rp_id)
                }),
                clone_warning: d
                    .security_key
                    .as_ref()
                    .and_then(|k| k.clone_detected_at)
                    .map(|t| format!("Possibly cloned: its counter went backwards on {}", when(t))),
                revocable: matches!(d.status, DeviceStatus::Active | DeviceStatus::Pending),
                created: when(d.created_at),
                last_used: d.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                id: d.id,
                kind: d.kind.to_string(),
                label: d.label,
                status: d.status.to_string(),
                first,
                second,
            }
        })
        .collect();
    let lock = super::lock::describe(
        &detail.lock,
        state.clock.now(),
        state.limiter.threshold(),
        state.limiter.next_lock(detail.lock.lock_level),
    );
    let body = UserPage {
        nav: Some(Nav::new(console, &subject.tenant)),
        csrf: console.csrf().to_string(),
        tenant: subject.tenant.clone(),
        created: when(detail.created_at),
        lock,
        recovery_codes_left: detail.recovery_codes_left,
        devices,
        events: events.into_iter().map(EventView::from).collect(),
        audit_href: audit_href(&subject.tenant, &subject.user),
        notice: shown.notice,
        errors: shown.errors,
        user: subject.user.clone(),
    };
    Ok(page(status, body.render().map_err(Error::internal)?))
}
