//! The console's audit page: filters, newest first, a page at a time.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::session::Console;
use super::users::EventView;
use super::{ConsoleError, Nav, link, render};
use crate::app::admin;
use crate::app::state::AppState;
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
}

fn time(field: &str, s: &str) -> Result<Option<DateTime<Utc>>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| Error::InvalidRequest(format!("{field} is a date (YYYY-MM-DD)")))
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let f: Filters = super::query(&req)?;
    let tenant = match (&console.key.tenant, f.tenant.as_str()) {
        (None, "*") => "*".to_string(),
        (_, t) => console.key.tenant_for((!t.is_empty()).then_some(t))?,
    };
    let query = AuditQuery {
        tenant: Some(tenant.clone()),
        user: Some(f.user.trim().to_string()),
        action: Some(f.action.clone()),
        since: time("since", f.since.trim())?,
        until: time("until", f.until.trim())?,
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
    let next_href = found.next.as_deref().map(params);
    let newest_href = (!f.before.is_empty()).then(|| params(""));
    render(&AuditPage {
        nav: Some(Nav::new(
            &console,
            if tenant == "*" { "default" } else { &tenant },
        )),
        actions: Action::ALL
            .iter()
            .map(|a| (a.as_str(), a.as_str() == f.action))
            .collect(),
        events: found.events.into_iter().map(EventView::from).collect(),
        next_href,
        newest_href,
        user: f.user.trim().to_string(),
        since: f.since.trim().to_string(),
        until: f.until.trim().to_string(),
        tenant,
    })
}
