//! `/v1/users/{user}/devices`: enroll a TOTP authenticator, its QR code while pending, confirm,
//! list, revoke.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::api_keys::ApiKey;
use crate::app::devices::{self, Device, EnrollTotp, Enrolled};
use crate::app::phone_devices::{self, EnrollSms, EnrolledSms, SendSms, SmsSent};
use crate::app::state::AppState;
use crate::app::verify::{self, ConfirmRequest};
use crate::error::Error;
use crate::http::error::ErrorBody;
use crate::http::{TenantQuery, subject_and_caller};

pub fn register(cfg: &mut ServiceConfig) {
    // Literal paths before `{id}` ones, so route patterns (metrics, logs) name the right route.
    cfg.service(enroll_totp)
        .service(enroll_sms)
        .service(send_sms)
        .service(qr_png)
        .service(qr_svg)
        .service(confirm)
        .service(list)
        .service(revoke);
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    pub device: Device,
    /// The confirming code was a successful check: an assertion of the user, usable as
    /// `step_up` (e.g. to make recovery codes right after enrollment).
    pub assertion: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceList {
    pub devices: Vec<Device>,
}

/// Starts a TOTP enrollment: a pending device, its secret, `otpauth://` URI and QR code. The
/// device becomes active with its first code (`confirm`) and expires after 10 minutes otherwise.
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body = EnrollTotp,
    responses(
        (status = 201, body = Enrolled),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 409, description = "label in use", body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/totp")]
async fn enroll_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
    body: web::Json<EnrollTotp>,
) -> Result<HttpResponse, Error> {
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let enrolled = devices::enroll_totp(&state, &subject, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(enrolled))
}

async fn pending_uri(
    req: &HttpRequest,
    state: &AppState,
    key: &ApiKey,
    path: (String, String),
    query: &TenantQuery,
) -> Result<String, Error> {
    let (user, id) = path;
    let (subject, _) = subject_and_caller(req, state, key, user, query)?;
    let row = devices::pending(state, &subject, id).await?;
    devices::otpauth_uri(state, &row)
}

/// The QR code of a pending device as PNG; 404 once it is confirmed (SEC-4).
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    responses(
        (status = 200, content_type = "image/png", body = Vec<u8>),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/v1/users/{user}/devices/{id}/qr.png")]
async fn qr_png(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
    query: web::Query<TenantQuery>,
) -> Result<HttpResponse, Error> {
    let uri = pending_uri(&req, &state, &key, path.into_inner(), &query).await?;
    let png = crate::factor::qr::png(&uri).map_err(Error::internal)?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// The QR code of a pending device as SVG; 404 once it is confirmed (SEC-4).
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    responses(
        (status = 200, content_type = "image/svg+xml", body = String),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/v1/users/{user}/devices/{id}/qr.svg")]
async fn qr_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
    query: web::Query<TenantQuery>,
) -> Result<HttpResponse, Error> {
    let uri = pending_uri(&req, &state, &key, path.into_inner(), &query).await?;
    let svg = crate::factor::qr::svg(&uri).map_err(Error::internal)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Activates a pending device with its first code; that code counts as used.
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    request_body = ConfirmRequest,
    responses(
        (status = 200, body = Confirmed),
        (status = 400, body = ErrorBody),
        (status = 422, description = "`invalid_code`", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with Retry-After", body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/{id}/confirm")]
async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
    query: web::Query<TenantQuery>,
    body: web::Json<ConfirmRequest>,
) -> Result<HttpResponse, Error> {
    let (user, id) = path.into_inner();
    let (subject, caller) = subject_and_caller(&req, &state, &key, user, &query)?;
    let (device, assertion) =
        verify::confirm(&state, &subject, &caller, id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Confirmed { device, assertion }))
}

/// The user's pending and active devices, TOTP first; never a secret.
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses((status = 200, body = DeviceList), (status = 401, body = ErrorBody))
)]
#[get("/v1/users/{user}/devices")]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
) -> Result<HttpResponse, Error> {
    let (subject, _) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let devices = devices::list(&state, &subject).await?;
    Ok(HttpResponse::Ok().json(DeviceList { devices }))
}

/// Revokes a device at once; its codes stop working on the next verify.
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    responses(
        (status = 204, description = "revoked"),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/v1/users/{user}/devices/{id}")]
async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<(String, String)>,
    query: web::Query<TenantQuery>,
) -> Result<HttpResponse, Error> {
    let (user, id) = path.into_inner();
    let (subject, caller) = subject_and_caller(&req, &state, &key, user, &query)?;
    devices::revoke(&state, &subject, &caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Enrolls a phone number: a pending device, and a code texted to it to confirm it with.
#[utoipa::path(
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body = EnrollSms,
    responses(
        (status = 201, body = EnrolledSms),
        (status = 400, description = "`invalid_request` or `phone_not_allowed`", body = ErrorBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 409, description = "label in use", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with Retry-After", body = ErrorBody),
        (status = 502, description = "`sms_failed`", body = ErrorBody),
        (status = 503, description = "`unavailable` or `sms_budget_exhausted`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/sms")]
async fn enroll_sms(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
    body: web::Json<EnrollSms>,
) -> Result<HttpResponse, Error> {
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let enrolled = phone_devices::enroll(&state, &subject, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(enrolled))
}

/// Texts a login code to an active phone device (or the one named). TOTP is the stronger
/// factor; offer it first.
#[utoipa::path(
    tag = "verify",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = Option<SendSms>, description = "optional"),
    responses(
        (status = 202, body = SmsSent),
        (status = 404, description = "no such phone device", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with Retry-After", body = ErrorBody),
        (status = 502, description = "`sms_failed`", body = ErrorBody),
        (status = 503, description = "`unavailable` or `sms_budget_exhausted`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/sms")]
async fn send_sms(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let (subject, caller) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let body: SendSms = crate::http::optional_json(&body)?;
    let sent = phone_devices::send_code(&state, &subject, &caller, body).await?;
    Ok(HttpResponse::Accepted().json(sent))
}
