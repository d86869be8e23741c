//! `/v1/admin/audit`: the audit trail, newest first, with filters and a cursor.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::admin::{self, AuditPage};
use crate::app::api_keys::ApiKey;
use crate::app::state::AppState;
use crate::db::audit::Filter;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(search);
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// For an admin key of every tenant: the tenant (default `default`; `*` for every tenant and
    /// the events that belong to none, such as key rotation).
    pub tenant: Option<String>,
    pub user: Option<String>,
    /// An action such as `verify_failed`, `device_revoked`, `user_locked`.
    pub action: Option<String>,
    /// RFC 3339; events at or after it.
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339; events before it.
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
        Ok(Filter {
            tenant,
            user: self.user.filter(|u| !u.is_empty()),
            action: self.action.filter(|a| !a.is_empty()),
            since: self.since.map(|t| t.naive_utc()),
            until: self.until.map(|t| t.naive_utc()),
            before,
        })
    }
}

/// Audit events, newest first; follow `next` (as `before`) for older ones.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
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
    Ok(HttpResponse::Ok().json(admin::audit(&state, filter, limit).await?))
}
