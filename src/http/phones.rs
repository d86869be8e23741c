//! `/v1/users/{user}/devices/sms` and `/v1/users/{user}/sms`: enroll a phone, text a code.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::factors::sms::{self, Enrollment, SendRequest};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::devices::DeviceBody;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(enroll_sms).service(send_sms);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = EnrollSms)]
#[serde(deny_unknown_fields)]
pub struct EnrollSmsBody {
    /// `+`, the country code and the number; spaces, hyphens, dots and parentheses between the
    /// digits are ignored, e.g. `+33 6 12 34 56 78`. Stored as E.164 (`+33612345678`). Mobile
    /// numbers of allowed countries only.
    pub phone: String,
    /// Default: the number's calling code and last two digits.
    pub label: Option<String>,
    /// As for a TOTP device (SEC-7).
    pub step_up: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = EnrolledSms)]
pub struct EnrolledSmsBody {
    pub device: DeviceBody,
    /// When the sent code expires, in seconds.
    pub expires_in: u64,
    /// When a new code may be asked for, in seconds.
    pub resend_after: u64,
    pub notice: &'static str,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = SendSms)]
#[serde(deny_unknown_fields)]
pub struct SendSmsBody {
    /// The phone device to text; default: the user's first active one.
    pub device_id: Option<String>,
    /// The end user's IP address, as the relying party saw it: the hourly per-address send
    /// limit then counts it (per tenant) instead of the relying party's own address. 400 if it
    /// is not an IPv4 or IPv6 address.
    #[schema(example = "203.0.113.7")]
    pub client_ip: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SmsSent)]
pub struct SmsSentBody {
    pub device_id: String,
    pub expires_in: u64,
    pub resend_after: u64,
    pub notice: &'static str,
}

/// Enrolls a phone number: a pending device, and a code texted to it to confirm it with.
#[utoipa::path(
    operation_id = "devices_enroll_sms",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = EnrollSmsBody, example = json!({"phone": "+33 6 12 34 56 78", "label": "Work phone"})),
    responses(
        (status = 201, body = EnrolledSmsBody),
        (status = 400, description = "`invalid_request` or `phone_not_allowed`", body = ErrorBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 409, description = "label in use", body = ErrorBody),
        (status = 429, description = "`rate_limited` (an SMS limit), with Retry-After", body = ErrorBody),
        (status = 502, description = "`sms_failed`", body = ErrorBody),
        (status = 503, description = "`unavailable` or `sms_budget_exhausted`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/sms")]
async fn enroll_sms(
    state: web::Data<AppState>,
    scope: Scoped,
    body: crate::http::input::Json<EnrollSmsBody>,
) -> Result<HttpResponse, Error> {
    let b = body.into_inner();
    let want = Enrollment {
        phone: b.phone,
        label: b.label,
        step_up: b.step_up,
    };
    let e = sms::enroll(&state, &scope.subject, &scope.caller, want).await?;
    Ok(HttpResponse::Created().json(EnrolledSmsBody {
        device: e.device.into(),
        expires_in: e.expires_in,
        resend_after: e.resend_after,
        notice: e.notice,
    }))
}

/// Texts a login code to an active phone device (or the one named). TOTP is the stronger
/// factor; offer it first.
#[utoipa::path(
    operation_id = "sms_send",
    tag = "verify",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = Option<SendSmsBody>, description = "optional", example = json!({})),
    responses(
        (status = 202, body = SmsSentBody),
        (status = 400, description = "`invalid_request`: a malformed body or `client_ip`", body = ErrorBody),
        (status = 404, description = "no such phone device", body = ErrorBody),
        (status = 429, description = "`sms_resend_too_soon` (the wait before the next code to this device) or `rate_limited` (an SMS limit), with Retry-After", body = ErrorBody),
        (status = 502, description = "`sms_failed`", body = ErrorBody),
        (status = 503, description = "`unavailable` or `sms_budget_exhausted`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/sms")]
async fn send_sms(
    state: web::Data<AppState>,
    mut scope: Scoped,
    body: web::Payload,
) -> Result<HttpResponse, Error> {
    let body: SendSmsBody = crate::http::optional_json(&crate::http::body(body).await?)?;
    scope.caller.pass_client_ip(body.client_ip.as_deref())?;
    let want = SendRequest {
        device_id: body.device_id,
    };
    let s = sms::send_code(&state, &scope.subject, &scope.caller, want).await?;
    Ok(HttpResponse::Accepted().json(SmsSentBody {
        device_id: s.device_id,
        expires_in: s.expires_in,
        resend_after: s.resend_after,
        notice: s.notice,
    }))
}
