//! `/v1/admin/users…`: find users, look at one, unlock it, revoke all its devices.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::admin;

use crate::app::limiter::LockState;
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::devices::DeviceBody;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;
use crate::http::{TenantQuery, query};

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(search)
        .service(show)
        .service(unlock)
        .service(revoke_all);
}

/// One account as an admin sees it: every device, whatever its status; never a secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserDetail {
    pub tenant: String,
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub lock: LockState,
    /// Oldest first; a pending device past its confirmation window shows `expired`.
    pub devices: Vec<DeviceBody>,
    pub recovery_codes_left: i64,
}

impl From<admin::UserDetail> for UserDetail {
    fn from(d: admin::UserDetail) -> UserDetail {
        UserDetail {
            tenant: d.tenant,
            user: d.user,
            created_at: d.created_at,
            lock: d.lock,
            devices: d.devices.into_iter().map(DeviceBody::from).collect(),
            recovery_codes_left: d.recovery_codes_left,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    pub user: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next: Option<String>,
}

impl From<admin::UserPage> for UserPage {
    fn from(p: admin::UserPage) -> UserPage {
        UserPage {
            users: p
                .users
                .into_iter()
                .map(|u| UserSummary {
                    user: u.user,
                    created_at: u.created_at,
                })
                .collect(),
            next: p.next,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// For an admin key of every tenant: the tenant (default `default`).
    pub tenant: Option<String>,
    /// A user id prefix (case-sensitive); empty or absent lists every user.
    pub q: Option<String>,
    /// 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next` of the previous page.
    pub cursor: Option<String>,
}

/// Users whose id starts with `q`, in id order, a page at a time.
#[utoipa::path(
    operation_id = "users_search",
    tag = "admin",
    security(("api_key" = [])),
    params(SearchQuery),
    responses(
        (status = 200, body = UserPage),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/v1/admin/users")]
async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
) -> Result<HttpResponse, Error> {
    let query: SearchQuery = query(&req)?;
    let tenant = key.tenant_for(query.tenant.as_deref())?;
    let page = admin::search_users(
        &state,
        tenant,
        query.q.unwrap_or_default(),
        query.cursor,
        query.limit.unwrap_or(admin::DEFAULT_LIMIT),
    )
    .await?;
    Ok(HttpResponse::Ok().json(UserPage::from(page)))
}

/// One user: every device (revoked and pending too, with last use), lock state, failure count.
#[utoipa::path(
    operation_id = "users_show",
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 200, body = UserDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/v1/admin/users/{user}")]
async fn show(state: web::Data<AppState>, scope: Scoped<Admin>) -> Result<HttpResponse, Error> {
    let detail = admin::user(&state, &scope.subject).await?;
    Ok(HttpResponse::Ok().json(UserDetail::from(detail)))
}

/// Ends the user's lock and clears the failure count and lock level.
#[utoipa::path(
    operation_id = "users_unlock",
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 204, description = "unlocked"),
        (status = 403, body = ErrorBody),
    )
)]
#[post("/v1/admin/users/{user}/unlock")]
async fn unlock(state: web::Data<AppState>, scope: Scoped<Admin>) -> Result<HttpResponse, Error> {
    admin::unlock(&state, &scope.subject, &scope.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes every device of the user at once; their pending SMS codes die with them.
#[utoipa::path(
    operation_id = "users_revoke_devices",
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 204, description = "revoked"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/v1/admin/users/{user}/devices")]
async fn revoke_all(
    state: web::Data<AppState>,
    scope: Scoped<Admin>,
) -> Result<HttpResponse, Error> {
    admin::revoke_all(&state, &scope.subject, &scope.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}
