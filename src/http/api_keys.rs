//! `/v1/admin/api-keys`: list and revoke API keys (keys are made with the CLI).

use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::api_keys;
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

// What a key may do (mirrors `app::api_keys::Role`, which has no schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A relying party: acts on the users of its tenant.
    Client,
    /// Also the admin routes; without a tenant, on every tenant.
    Admin,
}

impl From<api_keys::Role> for Role {
    fn from(r: api_keys::Role) -> Role {
        match r {
            api_keys::Role::Client => Role::Client,
            api_keys::Role::Admin => Role::Admin,
        }
    }
}

/// A key as listed and as attached to an authenticated request; never the key itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// `null` for an admin key that acts on every tenant.
    pub tenant: Option<String>,
    pub return_url_prefixes: Vec<String>,
    /// Origins of the relying party's pages that run security-key ceremonies.
    pub webauthn_origins: Vec<String>,
    /// Their RP ID; `null`: each origin's host.
    pub webauthn_rp_id: Option<String>,
    /// What its hosted pages call the site; `null`: the tenant's name.
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_keys::ApiKey> for ApiKey {
    fn from(k: api_keys::ApiKey) -> ApiKey {
        ApiKey {
            id: k.id,
            name: k.name,
            role: k.role.into(),
            tenant: k.tenant,
            return_url_prefixes: k.return_url_prefixes,
            webauthn_origins: k.webauthn_origins,
            webauthn_rp_id: k.webauthn_rp_id,
            display_name: k.display_name,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// Lists API keys (never the keys themselves). A tenant's admin key sees its tenant's keys.
#[utoipa::path(
    operation_id = "api_keys_list",
    tag = "admin",
    params(TenantQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ApiKeyList),
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
    Ok(HttpResponse::Ok().json(ApiKeyList {
        api_keys: keys.into_iter().map(ApiKey::from).collect(),
    }))
}

/// Revokes an API key at once.
#[utoipa::path(
    operation_id = "api_keys_revoke",
    tag = "admin",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses(
        (status = 204, description = "revoked"),
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
    let id = crate::http::id(id.into_inner())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_written_as_the_domain_spells_them() {
        for r in [api_keys::Role::Client, api_keys::Role::Admin] {
            let written = serde_json::to_value(Role::from(r)).unwrap();
            assert_eq!(written, r.as_str());
            assert_eq!(r.as_str().parse::<api_keys::Role>().unwrap(), r);
        }
    }
}
