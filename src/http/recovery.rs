//! `POST /v1/users/{user}/recovery-codes`: a new set of ten single-use codes.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::factors::recovery;
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(create);
}

/// The optional body of a new set.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecoveryCodes {
    /// An assertion of this user at most 5 minutes old, used once: needed when the user has an
    /// active device, unless the caller is an admin key (SEC-7).
    pub step_up: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten codes `xxxx-xxxx-xxxx`, shown this once; each works once, in any order.
    pub codes: Vec<String>,
}

/// Makes a new set of recovery codes for the user; the previous set stops working.
#[utoipa::path(
    operation_id = "recovery_codes_create",
    tag = "recovery",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = Option<NewRecoveryCodes>, description = "optional", example = json!({})),
    responses(
        (status = 201, body = RecoveryCodes),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/recovery-codes")]
async fn create(
    state: web::Data<AppState>,
    scope: Scoped,
    body: web::Payload,
) -> Result<HttpResponse, Error> {
    let body: NewRecoveryCodes = crate::http::optional_json(&crate::http::body(body).await?)?;
    let step_up = body.step_up.as_deref();
    let codes = recovery::create(&state, &scope.subject, &scope.caller, step_up).await?;
    Ok(HttpResponse::Created().json(RecoveryCodes { codes }))
}
