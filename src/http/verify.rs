//! `POST /v1/users/{user}/verify`: check a code, get a signed assertion.

use actix_web::{HttpRequest, HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::state::AppState;
use crate::app::verify::{self, Verified, VerifyRequest};
use crate::error::Error;
use crate::http::auth::CachedKey;
use crate::http::error::ErrorBody;
use crate::http::{TenantQuery, subject_and_caller};

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(verify_code);
}

/// Checks a TOTP code (against the user's active devices, or the one named) or a recovery
/// code. Every kind of failure is the same 422 `invalid_code`.
#[utoipa::path(
    tag = "verify",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body = VerifyRequest,
    responses(
        (status = 200, body = Verified),
        (status = 400, description = "`invalid_request`: a malformed code (counted as a failure)", body = ErrorBody),
        (status = 422, description = "`invalid_code`", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with Retry-After", body = ErrorBody),
        (status = 503, description = "`unavailable`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/verify")]
async fn verify_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: CachedKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, Error> {
    let (subject, mut caller) =
        subject_and_caller(&req, &state, &key.key, user.into_inner(), &query)?;
    caller.unconfirmed_key = key.unconfirmed;
    let verified = verify::verify(&state, &subject, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(verified))
}
