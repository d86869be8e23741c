//! `POST /v1/users/{user}/recovery-codes`: a new set of ten single-use codes.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::api_keys::ApiKey;
use crate::app::recovery;
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::error::ErrorBody;
use crate::http::{TenantQuery, subject_and_caller};

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
    tag = "recovery",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = Option<NewRecoveryCodes>, description = "optional"),
    responses(
        (status = 201, body = RecoveryCodes),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
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
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let body: NewRecoveryCodes = crate::http::optional_json(&body)?;
    let codes = recovery::create(&state, &subject, &caller, body.step_up.as_deref()).await?;
    Ok(HttpResponse::Created().json(RecoveryCodes { codes }))
}
