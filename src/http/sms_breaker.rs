//! `/v1/admin/sms/breaker`: the daily SMS budget's breaker, seen and reset by an admin.

use actix_web::{HttpRequest, HttpResponse, delete, get, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::admin;
use crate::app::sms_limits as limits;
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(status).service(reset);
}

/// The budget and its breaker are shared by every tenant: only an admin of every tenant may see
/// or reset them.
fn every_tenant(admin: &crate::app::api_keys::ApiKey) -> Result<(), Error> {
    if admin.tenant.is_none() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BreakerStatus {
    /// True while sends are refused with `sms_budget_exhausted`.
    pub tripped: bool,
}

/// Whether the daily SMS budget has tripped the breaker.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    responses((status = 200, body = BreakerStatus), (status = 403, body = ErrorBody))
)]
#[get("/v1/admin/sms/breaker")]
async fn status(state: web::Data<AppState>, Admin(key): Admin) -> Result<HttpResponse, Error> {
    every_tenant(&key)?;
    let tripped = limits::breaker_tripped(&state.store).await?;
    Ok(HttpResponse::Ok().json(BreakerStatus { tripped }))
}

/// Resets the breaker and today's budget count: sends resume at once.
#[utoipa::path(
    tag = "admin",
    security(("api_key" = [])),
    responses((status = 204, description = "reset"), (status = 403, body = ErrorBody))
)]
#[delete("/v1/admin/sms/breaker")]
async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
) -> Result<HttpResponse, Error> {
    every_tenant(&key)?;
    let ip = crate::http::client_ip(&req, state.config.trust_forwarded_for);
    admin::reset_sms_breaker(&state, key.actor(), ip).await?;
    Ok(HttpResponse::NoContent().finish())
}
