//! `POST /v1/users/{user}/recovery-codes`: a new set of ten single-use codes.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api_keys::ApiKey;
use crate::error::{ApiError, ErrorBody};
use crate::http::{TenantQuery, subject_and_caller};
use crate::recovery;
use crate::state::AppState;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(create);
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten codes `xxxx-xxxx-xxxx`, shown this once; each works once, in any order.
    pub codes: Vec<String>,
}

/// Makes a new set of recovery codes for the user; the previous set stops working.
#[utoipa::path(
    tag = "recovery",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses(
        (status = 201, body = RecoveryCodes),
        (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/recovery-codes")]
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
) -> Result<HttpResponse, ApiError> {
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let codes = recovery::create(&state, &subject, caller.actor, caller.ip).await?;
    Ok(HttpResponse::Created().json(RecoveryCodes { codes }))
}
