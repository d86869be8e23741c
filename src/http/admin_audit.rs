//! `/v1/admin/audit`: the audit trail, newest first, with filters and a cursor.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::admin;
use crate::app::api_keys::ApiKey;
use crate::app::state::AppState;
use crate::app::users::Subject;
use crate::audit::check;
use crate::db::audit::Filter;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(search);
}

/// One event as exported and as the admin API shows it. Never a secret: events hold none.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportedEvent {
    pub id: String,
    pub at: DateTime<Utc>,
    pub tenant: String,
    pub user: Option<String>,
    pub device: Option<String>,
    pub action: String,
    pub outcome: String,
    /// `api_key:<id>`, `console:<admin key id>`, `cli` or `system`.
    pub actor: String,
    pub ip: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    /// The writer stream, the event's place in it and its chained hash (hex).
    pub stream: String,
    pub seq: i64,
    pub hash: Option<String>,
}

impl From<check::ExportedEvent> for ExportedEvent {
    fn from(e: check::ExportedEvent) -> ExportedEvent {
        ExportedEvent {
            id: e.id,
            at: e.at,
            tenant: e.tenant,
            user: e.user,
            device: e.device,
            action: e.action,
            outcome: e.outcome,
            actor: e.actor,
            ip: e.ip,
            detail: e.detail,
            stream: e.stream,
            seq: e.seq,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<ExportedEvent>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next: Option<String>,
}

impl From<admin::AuditPage> for AuditPage {
    fn from(p: admin::AuditPage) -> AuditPage {
        AuditPage {
            events: p.events.into_iter().map(ExportedEvent::from).collect(),
            next: p.next,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// For an admin key of every tenant: the tenant (default `default`; `*` for every tenant and
    /// the events that belong to none, such as key rotation).
    pub tenant: Option<String>,
    pub user: Option<String>,
    /// An action such as `verify_failed`, `device_revoked`, `user_locked`.
    pub action: Option<String>,
    /// RFC 3339, years 1970 to 9999; events at or after it.
    #[serde(default, deserialize_with = "crate::http::input::rfc3339")]
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339, years 1970 to 9999; events before it.
    #[serde(default, deserialize_with = "crate::http::input::rfc3339")]
    pub until: Option<DateTime<Utc>>,
    /// 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next` of the previous page: events older than it.
    pub before: Option<String>,
}

impl AuditQuery {
    /// The filter this query asks for, inside what `key` may see.
    pub fn filter(self, key: &ApiKey) -> Result<Filter, Error> {
        let tenant = match (&key.tenant, self.tenant.as_deref()) {
            (None, Some("*")) => None,
            (_, requested) => Some(key.tenant_for(requested)?),
        };
        let before = match self.before.as_deref() {
            None | Some("") => None,
            Some(b) => Some(admin::parse_cursor(b)?),
        };
        // Refused here, the same on both backends: PostgreSQL would fail on NUL or on a year
        // outside its range, where SQLite merely finds nothing.
        let user = match self.user.filter(|u| !u.is_empty()) {
            Some(u) => Some(Subject::new(String::new(), u)?.user),
            None => None,
        };
        let times = [self.since, self.until, before.map(|(at, _)| at.and_utc())];
        if times
            .iter()
            .flatten()
            .any(|t| !(1970..=9999).contains(&t.year()))
        {
            return Err(Error::InvalidRequest(
                "since, until and before lie in the years 1970 to 9999".into(),
            ));
        }
        Ok(Filter {
            tenant,
            user,
            action: self.action.filter(|a| !a.is_empty()),
            since: self.since.map(|t| t.naive_utc()),
            until: self.until.map(|t| t.naive_utc()),
            before,
        })
    }
}

/// Audit events, newest first; follow `next` (as `before`) for older ones.
#[utoipa::path(
    operation_id = "audit_search",
    tag = "admin",
    security(("api_key" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/v1/admin/audit")]
async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
) -> Result<HttpResponse, Error> {
    let query: AuditQuery = crate::http::query(&req)?;
    let limit = query.limit.unwrap_or(admin::DEFAULT_LIMIT);
    let filter = query.filter(&key)?;
    let page = admin::audit(&state, filter, limit).await?;
    Ok(HttpResponse::Ok().json(AuditPage::from(page)))
}
