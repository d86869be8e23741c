//! `/v1/admin/sms/breaker`: the daily SMS budgets' breakers — the global one and, with
//! `?tenant=`, one tenant's — seen and reset by an admin.

use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::admin;
use crate::app::sms_budget::{self, Budget};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(status).service(reset);
}

/// The budgets and their breakers are the operator's bill: only an admin of every tenant may see
/// or reset them (a tenant resetting its own would undo the cap on it).
fn every_tenant(admin: &crate::app::api_keys::ApiKey) -> Result<(), Error> {
    if admin.tenant.is_none() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BreakerQuery {
    /// A tenant: its own budget and breaker as well (GET), or instead of the global ones
    /// (DELETE).
    pub tenant: Option<String>,
}

impl BreakerQuery {
    /// The tenant asked for, checked like every tenant id.
    fn tenant(&self, key: &crate::app::api_keys::ApiKey) -> Result<Option<String>, Error> {
        match self.tenant.as_deref() {
            None => Ok(None),
            Some(t) => key.tenant_for(Some(t)).map(Some),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BreakerStatus {
    /// True while the global budget's breaker refuses every send with `sms_budget_exhausted`.
    pub tripped: bool,
    /// Messages counted against the global budget today (UTC).
    pub sent_today: u64,
    /// The tenant asked for with `?tenant=`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantBreaker>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TenantBreaker {
    pub id: String,
    /// True while the tenant's own budget's breaker refuses its sends.
    pub tripped: bool,
    /// Messages counted against the tenant's budget today (UTC).
    pub sent_today: u64,
}

/// The global daily SMS budget's breaker and count, and with `?tenant=` that tenant's.
#[utoipa::path(
    operation_id = "sms_breaker_status",
    tag = "admin",
    security(("api_key" = [])),
    params(BreakerQuery),
    responses(
        (status = 200, body = BreakerStatus),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)
    )
)]
#[get("/v1/admin/sms/breaker")]
async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
) -> Result<HttpResponse, Error> {
    every_tenant(&key)?;
    // Read inside the handler, once the key is judged (see `http::query`).
    let query: BreakerQuery = crate::http::query(&req)?;
    let tenant = query.tenant(&key)?;
    let now = state.clock.now();
    let global = sms_budget::status(&state.store, Budget::Global, now).await?;
    let tenant = match tenant {
        None => None,
        Some(id) => {
            let own = sms_budget::status(&state.store, Budget::Tenant(&id), now).await?;
            Some(TenantBreaker {
                id,
                tripped: own.tripped,
                sent_today: own.sent_today,
            })
        }
    };
    Ok(HttpResponse::Ok().json(BreakerStatus {
        tripped: global.tripped,
        sent_today: global.sent_today,
        tenant,
    }))
}

/// Resets the global breaker and today's global count, or with `?tenant=` only that tenant's:
/// sends resume at once.
#[utoipa::path(
    operation_id = "sms_breaker_reset",
    tag = "admin",
    security(("api_key" = [])),
    params(BreakerQuery),
    responses(
        (status = 204, description = "reset"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)
    )
)]
#[delete("/v1/admin/sms/breaker")]
async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
) -> Result<HttpResponse, Error> {
    every_tenant(&key)?;
    let query: BreakerQuery = crate::http::query(&req)?;
    let tenant = query.tenant(&key)?;
    let ip = crate::http::client_ip(&req, state.config.trust_forwarded_for);
    admin::reset_sms_breaker(&state, key.actor(), ip, tenant.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}
