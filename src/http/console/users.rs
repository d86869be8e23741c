//! Console pages for users: search, one user's page, and its forms (revoke one device, revoke
//! all, unlock).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::Console;
use super::{ActionForm, ConsoleError, Nav, link, render, see_other, when};
use crate::admin;
use crate::db::audit::Filter;
use crate::state::AppState;
use crate::users::Subject;

/// Recent events on a user's page.
const RECENT: i64 = 20;

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(search))
        .route("/admin/users/{user}", web::get().to(show))
        .route(
            "/admin/users/{user}/devices/{id}/revoke",
            web::post().to(revoke),
        )
        .route("/admin/users/{user}/revoke-all", web::post().to(revoke_all))
        .route("/admin/users/{user}/unlock", web::post().to(unlock));
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
    state: web::Data<AppState>,
    console: Console,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
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
            href: link(&format!("/admin/users/{}", u.user), &[("tenant", &tenant)]),
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
    done: Option<String>,
}

struct DeviceView {
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
    /// `/admin/users/{user}`: the forms post below it.
    base: String,
    audit_href: String,
    notice: Option<&'static str>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "revoked" => Some("The device was revoked."),
        "revoked_all" => Some("Every device of this user was revoked."),
        "unlocked" => Some("The user was unlocked; failures start again from zero."),
        _ => None,
    }
}

async fn show(
    state: web::Data<AppState>,
    console: Console,
    user: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = console.key.tenant_for(query.tenant.as_deref())?;
    let subject = Subject::new(tenant.clone(), user.into_inner())?;
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
            revocable: d.status == "active" || d.status == "pending",
            created: when(d.created_at),
            last_used: d.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            id: d.id,
            kind: d.kind,
            label: d.label,
            status: d.status,
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
        base: format!("/admin/users/{}", subject.user),
        audit_href: link(
            "/admin/audit",
            &[("tenant", &tenant), ("user", &subject.user)],
        ),
        notice: notice(query.done.as_deref()),
        user: subject.user,
    })
}

/// Checks the form, then names the user it acts on.
fn subject_of(console: &Console, form: &ActionForm, user: String) -> Result<Subject, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let tenant = console.key.tenant_for(form.tenant.as_deref())?;
    Ok(Subject::new(tenant, user)?)
}

fn back(subject: &Subject, done: &str) -> HttpResponse {
    see_other(&link(
        &format!("/admin/users/{}", subject.user),
        &[("tenant", &subject.tenant), ("done", done)],
    ))
}

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (user, id) = path.into_inner();
    let subject = subject_of(&console, &form, user)?;
    crate::devices::revoke(&state, &subject, &console.caller(), id).await?;
    Ok(back(&subject, "revoked"))
}

async fn revoke_all(
    state: web::Data<AppState>,
    console: Console,
    user: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let subject = subject_of(&console, &form, user.into_inner())?;
    admin::revoke_all(&state, &subject, &console.caller()).await?;
    Ok(back(&subject, "revoked_all"))
}

async fn unlock(
    state: web::Data<AppState>,
    console: Console,
    user: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let subject = subject_of(&console, &form, user.into_inner())?;
    admin::unlock(&state, &subject, &console.caller()).await?;
    Ok(back(&subject, "unlocked"))
}
