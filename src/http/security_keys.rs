//! Security keys (WebAuthn): `POST /v1/users/{user}/devices/webauthn` starts a registration and
//! `POST /v1/users/{user}/webauthn/challenge` a sign-in; the browser's answers go to `confirm`
//! and `verify` like codes do.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::factors::webauthn::{self, Enrollment, rp};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::devices::DeviceBody;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(enroll_key).service(challenge);
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = EnrollWebauthn)]
#[serde(deny_unknown_fields)]
pub struct EnrollKeyBody {
    /// twofold's name for the device; unique per user; default "Security key" (then "Security
    /// key 2", …).
    pub label: Option<String>,
    /// The name the authenticator may show for the account (1–64 characters); default: the user
    /// id.
    pub display_name: Option<String>,
    /// An assertion of this user from a verify at most 5 minutes old: needed when the user
    /// already has an active device, unless the caller is an admin key (SEC-7).
    pub step_up: Option<String>,
    /// The origin of the page that runs the ceremony, when it is the relying party's own
    /// (registered on the API key with `api-key create --webauthn-origin`); default: twofold's
    /// public origin, as the hosted pages use.
    #[schema(example = "https://shop.example")]
    pub origin: Option<String>,
}

/// A pending security key and what the browser needs to register it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = EnrolledWebauthn)]
pub struct EnrolledKeyBody {
    pub device: DeviceBody,
    /// `{publicKey: …}`: pass it to `navigator.credentials.create()` (binary fields are
    /// base64url; `PublicKeyCredential.parseCreationOptionsFromJSON` takes `publicKey`), then
    /// send the result to `…/devices/{id}/confirm` as `credential`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

/// Starts registering a security key: a pending device of kind `webauthn` and the creation
/// options, which exclude the user's keys. The device becomes active with the browser's answer
/// (`confirm` with `credential`) and expires after 10 minutes otherwise.
#[utoipa::path(
    operation_id = "devices_enroll_webauthn",
    tag = "devices",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = EnrollKeyBody, example = json!({"label": "YubiKey 5", "display_name": "Alice Martin"})),
    responses(
        (status = 201, body = EnrolledKeyBody),
        (status = 400, description = "`invalid_request`: an origin not registered for the key, or twofold on an IP address without an `origin`", body = ErrorBody),
        (status = 403, description = "`step_up_required`", body = ErrorBody),
        (status = 409, description = "label in use", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/devices/webauthn")]
async fn enroll_key(
    state: web::Data<AppState>,
    scope: Scoped,
    body: crate::http::input::Json<EnrollKeyBody>,
) -> Result<HttpResponse, Error> {
    let b = body.into_inner();
    let want = Enrollment {
        label: b.label,
        display_name: b.display_name,
        step_up: b.step_up,
        rp: rp::for_call(&state, &scope.key, b.origin.as_deref())?,
    };
    let e = webauthn::enroll(&state, &scope.subject, &scope.caller, want).await?;
    Ok(HttpResponse::Created().json(EnrolledKeyBody {
        device: e.device.into(),
        options: e.options,
        expires_at: e.expires_at,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = WebauthnChallengeRequest)]
#[serde(deny_unknown_fields)]
pub struct ChallengeBody {
    /// Allow only this key.
    pub device_id: Option<String>,
    /// The origin of the page that runs the ceremony, as for registration.
    #[schema(example = "https://shop.example")]
    pub origin: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebauthnChallenge)]
pub struct ChallengeAnswer {
    /// `{publicKey: …}`: pass it to `navigator.credentials.get()`, then send the result to
    /// `…/verify` as `credential` within 5 minutes. Single use.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Starts a security-key sign-in: request options listing the user's active keys of the RP ID
/// (`allowCredentials`). Each challenge is answered once, by this user, within 5 minutes.
#[utoipa::path(
    operation_id = "webauthn_challenge",
    tag = "verify",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = Option<ChallengeBody>, description = "optional", example = json!({})),
    responses(
        (status = 200, body = ChallengeAnswer),
        (status = 400, description = "`invalid_request`: an origin not registered for the key", body = ErrorBody),
        (status = 404, description = "`not_found`: the user has no active security key for this RP ID", body = ErrorBody),
        (status = 429, description = "`rate_limited`: more than 30 challenges for the user in 5 minutes, with Retry-After", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/webauthn/challenge")]
async fn challenge(
    state: web::Data<AppState>,
    scope: Scoped,
    body: web::Payload,
) -> Result<HttpResponse, Error> {
    let b: ChallengeBody = crate::http::optional_json(&crate::http::body(body).await?)?;
    let rp = rp::for_call(&state, &scope.key, b.origin.as_deref())?;
    let device = b.device_id.map(crate::http::id).transpose()?;
    let options = webauthn::challenge(&state, &scope.subject, rp, device).await?;
    Ok(HttpResponse::Ok().json(ChallengeAnswer { options }))
}
