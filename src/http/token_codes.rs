//! Codes of hardware tokens outside verify: a relying party's `/v1/users/{user}/tokens/claim`
//! (a token of the inventory taken with its serial and a code) and an admin's
//! `/v1/admin/users/{user}/devices/{id}/resync` (two consecutive codes of a HOTP token). Both
//! accept codes, so both go through the user's limiter.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::state::AppState;
use crate::app::verify;
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::auth::Admin;
use crate::http::devices::DeviceBody;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;
use crate::http::tokens::Assigned;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(resync).service(claim);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResyncBody {
    /// A code of the token…
    #[schema(value_type = String)]
    pub first: serde_json::Value,
    /// …and the next one it shows.
    #[schema(value_type = String)]
    pub second: serde_json::Value,
}

#[derive(Deserialize)]
struct DevicePath {
    id: String,
}

/// Brings a HOTP device pressed far ahead of the look-ahead window back in step with two
/// consecutive codes (within `TWOFOLD_HOTP_RESYNC_WINDOW`). Goes through the user's limiter.
#[utoipa::path(
    operation_id = "devices_resync",
    tag = "admin",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    request_body(content = ResyncBody, example = json!({"first": "123456", "second": "654321"})),
    responses(
        (status = 200, body = Assigned),
        (status = 422, description = "`invalid_code`: the codes are not two consecutive ones of the device", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/v1/admin/users/{user}/devices/{id}/resync")]
async fn resync(
    state: web::Data<AppState>,
    scope: Scoped<Admin>,
    path: web::Path<DevicePath>,
    body: crate::http::input::Json<ResyncBody>,
) -> Result<HttpResponse, Error> {
    let b = body.into_inner();
    let id = crate::http::id(path.into_inner().id)?;
    let text = |v: serde_json::Value| v.as_str().map(str::to_string);
    let device = verify::resync(
        &state,
        &scope.subject,
        &scope.caller,
        id,
        text(b.first),
        text(b.second),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Assigned {
        device: device.into(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The serial printed on the token.
    pub serial: String,
    /// A code it shows now (or, for a YubiKey, an OTP it types).
    #[schema(value_type = String)]
    pub code: serde_json::Value,
    /// An assertion of this user at most 5 minutes old: needed when the user already has an
    /// active device, unless the caller is an admin key (SEC-7).
    pub step_up: Option<String>,
    /// The end user's IP address, as for verify.
    pub client_ip: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClaimedBody {
    pub device: DeviceBody,
    /// The code was a successful check: an assertion of the user, usable as `step_up`.
    pub assertion: String,
}

/// Claims an unassigned token of the inventory for the user, with a code from it. A wrong
/// serial or code is the same 422 and counts like a wrong code.
#[utoipa::path(
    operation_id = "tokens_claim",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = ClaimBody, example = json!({"serial": "PP-0001", "code": "123456"})),
    responses(
        (status = 200, body = ClaimedBody),
        (status = 400, body = ErrorBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 422, description = "`invalid_code`", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/tokens/claim")]
async fn claim(
    state: web::Data<AppState>,
    mut scope: Scoped,
    body: crate::http::input::Json<ClaimBody>,
) -> Result<HttpResponse, Error> {
    let b = body.into_inner();
    scope.caller.pass_client_ip(b.client_ip.as_deref())?;
    let code = b.code.as_str().map(str::to_string);
    let claimed = verify::claim(
        &state,
        &scope.subject,
        &scope.caller,
        b.serial,
        code,
        b.step_up,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ClaimedBody {
        device: claimed.device.into(),
        assertion: claimed.assertion,
    }))
}
