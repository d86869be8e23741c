//! `/v1/admin/users…`: find users, look at one, unlock it, revoke all its devices.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::admin::{self, UserDetail, UserPage};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;
use crate::http::{TenantQuery, query, subject_and_caller};

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(search)
        .service(show)
        .service(unlock)
        .service(revoke_all);
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
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
    tag = "admin",
    security(("api_key" = [])),
    params(SearchQuery),
    responses(
        (status = 200, body = UserPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
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
    Ok(HttpResponse::Ok().json(page))
}

/// One user: every device (revoked and pending too, with last use), lock state, failure count.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 200, body = UserDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/v1/admin/users/{user}")]
async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    user: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let query: TenantQuery = query(&req)?;
    let (subject, _) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    Ok(HttpResponse::Ok().json(admin::user(&state, &subject).await?))
}

/// Ends the user's lock and clears the failure count and lock level.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 204, description = "unlocked"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
#[post("/v1/admin/users/{user}/unlock")]
async fn unlock(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    user: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let query: TenantQuery = query(&req)?;
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    admin::unlock(&state, &subject, &caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes every device of the user at once; their pending SMS codes die with them.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
#[delete("/v1/admin/users/{user}/devices")]
async fn revoke_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    user: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let query: TenantQuery = query(&req)?;
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    admin::revoke_all(&state, &subject, &caller).await?;
    Ok(HttpResponse::NoContent().finish())
}
