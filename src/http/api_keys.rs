//! `/v1/admin/api-keys`: list and revoke API keys (keys are made with the CLI).

use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::api_keys::{self, ApiKey};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(list).service(revoke);
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKey>,
}

/// Lists API keys (never the keys themselves). A tenant's admin key sees its tenant's keys.
#[utoipa::path(
    tag = "admin",
    params(TenantQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ApiKeyList),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/v1/admin/api-keys")]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(caller): Admin,
) -> Result<HttpResponse, Error> {
    let query: TenantQuery = crate::http::query(&req)?;
    let tenant = match (&caller.tenant, query.tenant) {
        (Some(own), _) => Some(own.clone()),
        (None, Some(t)) => {
            api_keys::validate_tenant(&t)?;
            Some(t)
        }
        (None, None) => None,
    };
    let keys = api_keys::list(&state.db, tenant).await?;
    Ok(HttpResponse::Ok().json(ApiKeyList { api_keys: keys }))
}

/// Revokes an API key at once.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/v1/admin/api-keys/{id}")]
async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let now = state.clock.now();
    let id = id.into_inner();
    state.key_cache.evict(&id);
    api_keys::revoke(
        &state.db,
        state.audit.stream(),
        now,
        id,
        caller.tenant.clone(),
        caller.actor(),
        crate::http::client_ip(&req, state.config.trust_forwarded_for),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
