//! Console pages for users: search, one user's page, and its forms (revoke one device, revoke
//! all, unlock). The user id travels in the query or the form, never in the path: `.` and `..`
//! are valid user ids, and a browser would resolve them as path segments.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::Console;
use super::{ConsoleError, Nav, link, render, see_other, when};
use crate::app::admin;
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
        .service(page("/admin/user").get(show).finish())
        .service(page("/admin/user/revoke").post(revoke).finish())
        .service(page("/admin/user/revoke-all").post(revoke_all).finish())
        .service(page("/admin/user/unlock").post(unlock).finish())
        .service(page("/admin/user/resync").post(resync).finish());
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
    q: String,
    users: Vec<UserLink>,
    next_href: Option<String>,
}

async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let query: SearchQuery = super::query(&req)?;
    let tenant = console.key.tenant_for(query.tenant.as_deref())?;
    let q = query.q.unwrap_or_default().trim().to_string();
    let found = admin::search_users(
        &state,
        tenant.clone(),
        q.clone(),
        query.cursor,
        admin::DEFAULT_LIMIT,
    )
    .await?;
    let users = found
        .users
        .into_iter()
        .map(|u| UserLink {
            href: user_href(&tenant, &u.user),
            created: when(u.created_at),
            user: u.user,
        })
        .collect();
    let next_href = found.next.map(|c| {
        link(
            "/admin/users",
            &[("tenant", &tenant), ("q", &q), ("cursor", &c)],
        )
    });
    render(&UsersPage {
        nav: Some(Nav::new(&console, &tenant)),
        q,
        users,
        next_href,
    })
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
}

pub struct EventView {
    pub at: String,
    pub tenant: String,
    pub user: String,
    pub user_href: Option<String>,
    pub device: String,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub ip: String,
}

impl EventView {
    pub fn from(e: crate::audit::check::ExportedEvent) -> EventView {
        EventView {
            at: when(e.at),
            user_href: e
                .user
                .as_ref()
                .map(|u| link(&format!("/admin/users/{u}"), &[("tenant", &e.tenant)])),
            tenant: e.tenant,
            user: e.user.unwrap_or_default(),
            device: e.device.unwrap_or_default(),
            action: e.action,
            outcome: e.outcome,
            actor: e.actor,
            ip: e.ip.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    nav: Option<Nav>,
    csrf: String,
    tenant: String,
    user: String,
    created: String,
    locked_until: Option<String>,
    failures: u64,
    lock_level: u64,
    recovery_codes_left: i64,
    devices: Vec<DeviceView>,
    events: Vec<EventView>,
    audit_href: String,
    notice: Option<&'static str>,
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
    let subject = Subject::new(tenant.clone(), query.user)?;
    let detail = admin::user(&state, &subject).await?;
    let filter = Filter {
        tenant: Some(tenant.clone()),
        user: Some(subject.user.clone()),
        ..Filter::default()
    };
    let events = admin::audit(&state, filter, RECENT).await?.events;
    let devices = detail
        .devices
        .into_iter()
        .map(|d| DeviceView {
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
        })
        .collect();
    render(&UserPage {
        nav: Some(Nav::new(&console, &tenant)),
        csrf: console.csrf().to_string(),
        tenant: tenant.clone(),
        created: when(detail.created_at),
        locked_until: detail.lock.locked_until.map(when),
        failures: detail.lock.failures,
        lock_level: detail.lock.lock_level,
        recovery_codes_left: detail.recovery_codes_left,
        devices,
        events: events.into_iter().map(EventView::from).collect(),
        audit_href: link(
            "/admin/audit",
            &[("tenant", &tenant), ("user", &subject.user)],
        ),
        notice: notice(query.done.as_deref()),
        user: subject.user,
    })
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    tenant: Option<String>,
    #[serde(default)]
    user: String,
    /// For revoking one device.
    device: Option<String>,
    /// Resync: two consecutive codes of a HOTP token.
    first: Option<String>,
    second: Option<String>,
}

/// Checks the form's CSRF token, then names the user it acts on.
fn read(console: &Console, body: &[u8]) -> Result<(Subject, Option<String>), ConsoleError> {
    let f: UserForm = super::form(body)?;
    console.check_csrf(&f.csrf)?;
    let tenant = console.key.tenant_for(f.tenant.as_deref())?;
    Ok((Subject::new(tenant, f.user)?, f.device))
}

fn back(subject: &Subject, done: &str) -> HttpResponse {
    see_other(&link(
        "/admin/user",
        &[
            ("tenant", &subject.tenant),
            ("user", &subject.user),
            ("done", done),
        ],
    ))
}

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (subject, device) = read(&console, &crate::http::body(body).await?)?;
    let device = device.ok_or_else(|| Error::InvalidRequest("which device?".into()))?;
    let device = crate::http::id(device)?;
    crate::app::devices::revoke(&state, &subject, &console.caller(), device, None).await?;
    Ok(back(&subject, "revoked"))
}

async fn revoke_all(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (subject, _) = read(&console, &crate::http::body(body).await?)?;
    admin::revoke_all(&state, &subject, &console.caller()).await?;
    Ok(back(&subject, "revoked_all"))
}

async fn unlock(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (subject, _) = read(&console, &crate::http::body(body).await?)?;
    admin::unlock(&state, &subject, &console.caller()).await?;
    Ok(back(&subject, "unlocked"))
}

/// Two consecutive codes of a HOTP token, read off it by the user (on the phone to the help
/// desk): the token back in step. Through the user's limiter, like any code.
async fn resync(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let body = crate::http::body(body).await?;
    let f: UserForm = super::form(&body)?;
    let (subject, device) = read(&console, &body)?;
    let device = device.ok_or_else(|| Error::InvalidRequest("which device?".into()))?;
    let device = crate::http::id(device)?;
    crate::app::verify::resync(
        &state,
        &subject,
        &console.caller(),
        device,
        f.first,
        f.second,
    )
    .await
    .map_err(Error::from)?;
    Ok(back(&subject, "resynced"))
}
