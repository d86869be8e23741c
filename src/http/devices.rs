//! `/v1/users/{user}/devices`: enroll a TOTP authenticator, its QR code while pending, confirm,
//! list, revoke. Phones are enrolled in `phones.rs`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::devices::{self, Device};
use crate::app::factors::hotp;
use crate::app::factors::totp::{self, Enrolled, Enrollment};
use crate::app::state::AppState;
use crate::app::verify;
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::factor::totp::Algorithm;
use crate::http::TenantQuery;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;

pub fn register(cfg: &mut ServiceConfig) {
    // Literal paths before `{id}` ones, so route patterns (metrics, logs) name the right route.
    cfg.service(enroll_totp)
        .service(enroll_hotp)
        .service(qr_png)
        .service(qr_svg)
        .service(confirm)
        .service(list)
        .service(revoke);
}

/// A device as the API shows it: never a secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Device)]
pub struct DeviceBody {
    pub id: String,
    /// `totp`, `sms`, `webauthn`, `hotp` or `yubico`.
    pub kind: DeviceKind,
    pub label: String,
    /// `pending`, `active` or `revoked`.
    pub status: DeviceStatus,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
    /// Phone devices: the last two digits of the number, never more.
    pub phone_last_digits: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When a pending device stops being confirmable.
    pub expires_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Security keys, once confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_key: Option<SecurityKeyBody>,
    /// A hardware token of the inventory: its serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_serial: Option<String>,
}

/// What is known of a confirmed security key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SecurityKey)]
pub struct SecurityKeyBody {
    /// The authenticator model's id (lowercase UUID): attested, or else the authenticator's own
    /// claim; `null` when it sent none.
    #[schema(example = "cb69481e-8ff7-4039-93ec-0a2729a154a8")]
    pub aaguid: Option<String>,
    /// The model's name, where the tenant's policy names its AAGUID.
    pub model: Option<String>,
    /// The RP ID the credential is scoped to.
    pub rp_id: String,
    /// The key verified its user (PIN or biometric) at registration.
    pub user_verified: bool,
    /// Set when a signature counter went backwards: a cloned or broken key. The check that saw
    /// it was refused; revoke the key unless its owner explains it.
    pub clone_detected_at: Option<DateTime<Utc>>,
}

impl From<Device> for DeviceBody {
    fn from(d: Device) -> DeviceBody {
        DeviceBody {
            id: d.id,
            kind: d.kind,
            label: d.label,
            status: d.status,
            algorithm: d.algorithm,
            digits: d.digits,
            period: d.period,
            phone_last_digits: d.phone_last_digits,
            created_at: d.created_at,
            expires_at: d.expires_at,
            confirmed_at: d.confirmed_at,
            last_used_at: d.last_used_at,
            revoked_at: d.revoked_at,
            token_serial: d.token_serial,
            security_key: d.security_key.map(|k| SecurityKeyBody {
                aaguid: k.aaguid,
                model: k.model,
                rp_id: k.rp_id,
                user_verified: k.user_verified,
                clone_detected_at: k.clone_detected_at,
            }),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = EnrollTotp)]
#[serde(deny_unknown_fields)]
pub struct EnrollTotpBody {
    /// twofold's name for the device (device lists, pages, audit); unique per user; default: the
    /// user id. The authenticator app shows `account_name` instead.
    pub label: Option<String>,
    /// `SHA1` (default; what every app reads), `SHA256` or `SHA512`.
    pub algorithm: Option<Algorithm>,
    /// 6 (default) or 8.
    pub digits: Option<u8>,
    /// 30 (default) or 60 seconds.
    pub period: Option<u32>,
    /// The account the authenticator app shows under the issuer (e.g. an e-mail address): 1–128
    /// characters, no control or format character; default the user id. The `label` stays
    /// twofold's own name for the device.
    #[schema(max_length = 128, example = "alice@example.com")]
    pub account_name: Option<String>,
    /// An assertion of this user from a verify at most 5 minutes old: needed when the user
    /// already has an active device, unless the caller is an admin key (SEC-7).
    pub step_up: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = EnrollHotp)]
#[serde(deny_unknown_fields)]
pub struct EnrollHotpBody {
    /// twofold's name for the device; unique per user; default: the user id.
    pub label: Option<String>,
    /// `SHA1` (default), `SHA256` or `SHA512`.
    pub algorithm: Option<Algorithm>,
    /// 6 (default) or 8.
    pub digits: Option<u8>,
    /// The account the app shows under the issuer; default the user id.
    #[schema(max_length = 128, example = "alice@example.com")]
    pub account_name: Option<String>,
    /// An assertion of this user from a verify at most 5 minutes old: needed when the user
    /// already has an active device, unless the caller is an admin key (SEC-7).
    pub step_up: Option<String>,
}

/// The answer to an enrollment: the only time the secret leaves twofold.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Enrolled)]
pub struct EnrolledBody {
    pub device: DeviceBody,
    /// Base32, no padding: for typing into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as inline SVG.
    pub qr_svg: String,
    pub expires_at: DateTime<Utc>,
}

impl From<Enrolled> for EnrolledBody {
    fn from(e: Enrolled) -> EnrolledBody {
        EnrolledBody {
            device: e.device.into(),
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_svg: e.qr_svg,
            expires_at: e.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ConfirmRequest)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The first code of an authenticator app or phone.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::http::verify::present")]
    pub code: Option<serde_json::Value>,
    /// A security key: the browser's answer to the registration options, as
    /// `PublicKeyCredential.toJSON()` gives it (binary fields base64url).
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "crate::http::verify::present")]
    pub credential: Option<serde_json::Value>,
    /// The end user's IP address, as the relying party saw it: failures are then limited per
    /// (tenant, address) rather than per API key (see docs/verification.md, Limits). 400 if it is not an
    /// IPv4 or IPv6 address.
    #[schema(example = "203.0.113.7")]
    pub client_ip: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    pub device: DeviceBody,
    /// The confirming code was a successful check: an assertion of the user, usable as
    /// `step_up` (e.g. to make recovery codes right after enrollment).
    pub assertion: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceList {
    pub devices: Vec<DeviceBody>,
}

/// The `{id}` segment of a device route.
#[derive(Deserialize)]
struct DevicePath {
    id: String,
}

/// Starts a TOTP enrollment: a pending device, its secret, `otpauth://` URI and QR code. The
/// device becomes active with its first code (`confirm`) and expires after 10 minutes otherwise.
#[utoipa::path(
    operation_id = "devices_enroll_totp",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = EnrollTotpBody, example = json!({"label": "Pixel 8", "account_name": "alice@example.com"})),
    responses(
        (status = 201, body = EnrolledBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 409, description = "label in use", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/totp")]
async fn enroll_totp(
    state: web::Data<AppState>,
    scope: Scoped,
    body: crate::http::input::Json<EnrollTotpBody>,
) -> Result<HttpResponse, Error> {
    let b = body.into_inner();
    let want = Enrollment {
        label: b.label,
        algorithm: b.algorithm,
        digits: b.digits,
        period: b.period,
        account_name: b.account_name,
        step_up: b.step_up,
    };
    let enrolled = totp::enroll(&state, &scope.subject, &scope.caller, want).await?;
    Ok(HttpResponse::Created().json(EnrolledBody::from(enrolled)))
}

/// Starts a soft HOTP enrollment (RFC 4226, an app in counter mode): a pending device, its
/// secret, `otpauth://hotp/…&counter=0` URI and QR code; active with its first code.
#[utoipa::path(
    operation_id = "devices_enroll_hotp",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = EnrollHotpBody, example = json!({"label": "Counter app", "digits": 6})),
    responses(
        (status = 201, body = EnrolledBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 409, description = "label in use", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/hotp")]
async fn enroll_hotp(
    state: web::Data<AppState>,
    scope: Scoped,
    body: crate::http::input::Json<EnrollHotpBody>,
) -> Result<HttpResponse, Error> {
    let b = body.into_inner();
    let want = hotp::Enrollment {
        label: b.label,
        algorithm: b.algorithm,
        digits: b.digits,
        account_name: b.account_name,
        step_up: b.step_up,
    };
    let enrolled = hotp::enroll(&state, &scope.subject, &scope.caller, want).await?;
    Ok(HttpResponse::Created().json(EnrolledBody::from(enrolled)))
}

async fn pending_uri(state: &AppState, scope: &Scoped, id: String) -> Result<String, Error> {
    let row = totp::pending(state, &scope.subject, id).await?;
    totp::otpauth_uri(state, &row)
}

/// A PNG image, as the document describes it (`type: string, format: binary`): generators then
/// hand the caller bytes, not a list of numbers.
pub struct PngImage;

impl utoipa::PartialSchema for PngImage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for PngImage {}

/// The QR code of a pending device as PNG; 404 once it is confirmed (SEC-4).
#[utoipa::path(
    operation_id = "devices_qr_png",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    responses(
        (status = 200, content_type = "image/png", body = inline(PngImage)),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/v1/users/{user}/devices/{id}/qr.png")]
async fn qr_png(
    state: web::Data<AppState>,
    scope: Scoped,
    path: web::Path<DevicePath>,
) -> Result<HttpResponse, Error> {
    let uri = pending_uri(&state, &scope, crate::http::id(path.into_inner().id)?).await?;
    let png = crate::factor::qr::png(&uri).map_err(Error::internal)?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// The QR code of a pending device as SVG; 404 once it is confirmed (SEC-4).
#[utoipa::path(
    operation_id = "devices_qr_svg",
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
    state: web::Data<AppState>,
    scope: Scoped,
    path: web::Path<DevicePath>,
) -> Result<HttpResponse, Error> {
    let uri = pending_uri(&state, &scope, crate::http::id(path.into_inner().id)?).await?;
    let svg = crate::factor::qr::svg(&uri).map_err(Error::internal)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Activates a pending device with its first code (a security key: with its registration
/// response); that code counts as used.
#[utoipa::path(
    operation_id = "devices_confirm",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    request_body(content = ConfirmBody, example = json!({"code": "123456"})),
    responses(
        (status = 200, body = Confirmed),
        (status = 400, description = "`invalid_request`: a malformed code (counted as a failure) or `client_ip`", body = ErrorBody),
        (status = 422, description = "`invalid_code`", body = ErrorBody),
        (status = 429, description = "`user_locked` (the user's lockout) or `rate_limited` (an address's or a key's limit), with Retry-After", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/{id}/confirm")]
async fn confirm(
    state: web::Data<AppState>,
    mut scope: Scoped,
    path: web::Path<DevicePath>,
    body: crate::http::input::Json<ConfirmBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    scope.caller.pass_client_ip(body.client_ip.as_deref())?;
    let code = crate::http::verify::presented(body.code, body.credential)?;
    let id = crate::http::id(path.into_inner().id)?;
    let confirmed = verify::confirm(&state, &scope.subject, &scope.caller, id, code).await?;
    Ok(HttpResponse::Ok().json(Confirmed {
        device: confirmed.device.into(),
        assertion: confirmed.assertion,
    }))
}

/// The user's pending and active devices, TOTP first; never a secret.
#[utoipa::path(
    operation_id = "devices_list",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    responses((status = 200, body = DeviceList))
)]
#[get("/v1/users/{user}/devices")]
async fn list(state: web::Data<AppState>, scope: Scoped) -> Result<HttpResponse, Error> {
    let devices = devices::list(&state, &scope.subject).await?;
    Ok(HttpResponse::Ok().json(DeviceList {
        devices: devices.into_iter().map(DeviceBody::from).collect(),
    }))
}

/// The optional body of a revoke.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// An assertion of this user at most 5 minutes old, used once: needed when the user has an
    /// active device, unless the caller is an admin key (SEC-7). After a lost device: verify a
    /// recovery code, then revoke with its assertion.
    pub step_up: Option<String>,
}

/// Revokes a device at once; its codes stop working on the next verify. Removing a factor is as
/// strong as adding one: a client key needs the user's `step_up` while the user has an active
/// device.
#[utoipa::path(
    operation_id = "devices_revoke",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), ("id" = String, Path), TenantQuery),
    request_body(content = Option<RevokeBody>, description = "optional", example = json!({})),
    responses(
        (status = 204, description = "revoked"),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/v1/users/{user}/devices/{id}")]
async fn revoke(
    state: web::Data<AppState>,
    scope: Scoped,
    path: web::Path<DevicePath>,
    body: web::Payload,
) -> Result<HttpResponse, Error> {
    let body: RevokeBody = crate::http::optional_json(&crate::http::body(body).await?)?;
    let id = crate::http::id(path.into_inner().id)?;
    let step_up = body.step_up.as_deref();
    devices::revoke(&state, &scope.subject, &scope.caller, id, step_up).await?;
    Ok(HttpResponse::NoContent().finish())
}
