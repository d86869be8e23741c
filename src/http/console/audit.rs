//! The console's audit page: filters, newest first, a page at a time. A filter that cannot be
//! used comes back beside its field, as typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;

use super::events::EventView;
use super::form_errors::{Errors, about_input};
use super::session::Console;
use super::{ConsoleError, Nav, link, page};
use crate::app::admin;
use crate::app::state::AppState;
use crate::app::users::Subject;
use crate::audit::Action;
use crate::error::Error;
use crate::http::admin_audit::AuditQuery;
use crate::http::methods::Page;

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(Page::new("/admin/audit", super::refuse).get(show).finish());
}

/// The form's fields as typed: every one optional, dates as `YYYY-MM-DD` or RFC 3339.
#[derive(Debug, Default, Deserialize)]
struct Filters {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    /// `*` on this page means every tenant.
    tenant: String,
    user: String,
    since: String,
    until: String,
    /// Every action, and whether it is the one filtered on.
    actions: Vec<(&'static str, bool)>,
    events: Vec<EventView>,
    next_href: Option<String>,
    newest_href: Option<String>,
    errors: Errors,
}

/// A date field: `YYYY-MM-DD` (what a date input sends) or RFC 3339, in the years the database
/// can hold.
fn time(s: &str) -> Result<Option<DateTime<Utc>>, &'static str> {
    if s.is_empty() {
        return Ok(None);
    }
    let t = match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or("Enter a date as YYYY-MM-DD, for example 2026-12-06.")?,
    };
    if !(1970..=9999).contains(&t.year()) {
        return Err("Enter a date in the years 1970 to 9999.");
    }
    Ok(Some(t))
}

/// The filters, each checked on its own so every field in error is named at once.
struct Checked {
    tenant: String,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    errors: Errors,
}

fn check(console: &Console, f: &Filters) -> Result<Checked, ConsoleError> {
    let mut errors = Errors::default();
    let typed = f.tenant.trim();
    let tenant = match (&console.key.tenant, typed) {
        (None, "*") => "*".to_string(),
        (_, t) => match console.key.tenant_for((!t.is_empty()).then_some(t)) {
            Ok(t) => t,
            Err(e) => {
                errors.add("tenant", about_input(&e).ok_or(e)?);
                typed.to_string()
            }
        },
    };
    let user = f.user.trim();
    if !user.is_empty()
        && let Err(e) = Subject::new(String::new(), user.to_string())
    {
        errors.add("user", about_input(&e).ok_or(e)?);
    }
    if !f.action.is_empty() && f.action.parse::<Action>().is_err() {
        errors.add("action", "Pick an action from the list.");
    }
    let mut date = |field: &str, value: &str| {
        time(value.trim()).unwrap_or_else(|message| {
            errors.add(field, message);
            None
        })
    };
    let (since, until) = (date("since", &f.since), date("until", &f.until));
    Ok(Checked {
        tenant,
        since,
        until,
        errors,
    })
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let f: Filters = super::query(&req)?;
    let Checked {
        tenant,
        since,
        until,
        errors,
    } = check(&console, &f)?;
    let (mut events, mut next_href, mut newest_href) = (vec![], None, None);
    if errors.is_empty() {
        let query = AuditQuery {
            tenant: Some(tenant.clone()),
            user: Some(f.user.trim().to_string()),
            action: Some(f.action.clone()),
            since,
            until,
            limit: None,
            before: Some(f.before.clone()),
        };
        let filter = query.filter(&console.key)?;
        let found = admin::audit(&state, filter, admin::DEFAULT_LIMIT).await?;
        let params = |before: &str| {
            link(
                "/admin/audit",
                &[
                    ("tenant", &tenant),
                    ("user", f.user.trim()),
                    ("action", &f.action),
                    ("since", f.since.trim()),
                    ("until", f.until.trim()),
                    ("before", before),
                ],
            )
        };
        next_href = found.next.as_deref().map(params);
        newest_href = (!f.before.is_empty()).then(|| params(""));
        events = found.events.into_iter().map(EventView::from).collect();
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    // The nav's links stay in one tenant: the one filtered on, else (`*`, a typo) the key's own.
    let nav_tenant = match console.key.tenant_for(Some(&tenant)) {
        Ok(t) if tenant != "*" => t,
        _ => console.key.tenant_for(None)?,
    };
    let body = AuditPage {
        nav: Some(Nav::new(&console, &nav_tenant)),
        actions: Action::ALL
            .iter()
            .map(|a| (a.as_str(), a.as_str() == f.action))
            .collect(),
        events,
        next_href,
        newest_href,
        user: f.user.trim().to_string(),
        since: f.since.trim().to_string(),
        until: f.until.trim().to_string(),
        tenant,
        errors,
    };
    Ok(page(status, body.render().map_err(Error::internal)?))
}
