//! `POST /v1/users/{user}/verify`: check a code, get a signed assertion.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::assertion::Method;
use crate::app::state::AppState;
use crate::app::verify::{self, Presented};
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::auth::CachedKey;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(verify_code);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = VerifyRequest)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The code as typed: a string of 6 or 8 digits, or a recovery code `xxxx-xxxx-xxxx`.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "present")]
    pub code: Option<serde_json::Value>,
    /// A security key: the browser's answer to the options of `…/webauthn/challenge`, as
    /// `PublicKeyCredential.toJSON()` gives it (binary fields base64url). Give `code` or this.
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "present")]
    pub credential: Option<serde_json::Value>,
    /// Check only this device.
    pub device_id: Option<String>,
    /// The end user's IP address, as the relying party saw it: failures are then limited per
    /// (tenant, address) rather than per API key (see docs/verification.md, Limits). 400 if it is not an
    /// IPv4 or IPv6 address.
    #[schema(example = "203.0.113.7")]
    pub client_ip: Option<String>,
}

/// A field that was sent, `null` included (a `null` code is a malformed code, counted; only an
/// absent one is a request without a code).
pub fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// The value a verify or confirm presents: a code (`None` when it is not a string: malformed,
/// counted) or a security key's response as JSON text, which no code can be mistaken for.
pub fn presented(
    code: Option<serde_json::Value>,
    credential: Option<serde_json::Value>,
) -> Result<Option<String>, Error> {
    match (code, credential) {
        (Some(code), None) => Ok(code.as_str().map(str::to_string)),
        (None, Some(cred)) => Ok(cred.is_object().then(|| cred.to_string())),
        (None, None) => Err(Error::InvalidRequest("missing body field `code`".into())),
        (Some(_), Some(_)) => Err(Error::InvalidRequest(
            "give `code` or `credential`, not both".into(),
        )),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verified {
    pub verified: bool,
    /// The device whose code passed; `null` for a recovery code.
    pub device_id: Option<String>,
    pub method: Method,
    /// A signed JWT (EdDSA) the relying party verifies against `/.well-known/jwks.json`.
    pub assertion: String,
}

/// Checks a TOTP code (against the user's active devices, or the one named), a texted code, a
/// recovery code, or a security key's response to a challenge. Every kind of failure is the same
/// 422 `invalid_code`.
#[utoipa::path(
    operation_id = "codes_verify",
    tag = "verify",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body(content = VerifyBody, example = json!({"code": "123456"})),
    responses(
        (status = 200, body = Verified),
        (status = 400, description = "`invalid_request`: a malformed code (counted as a failure) or `client_ip`", body = ErrorBody),
        (status = 422, description = "`invalid_code`", body = ErrorBody),
        (status = 429, description = "`user_locked` (the user's lockout) or `rate_limited` (an address's or a key's limit), with Retry-After", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/verify")]
async fn verify_code(
    state: web::Data<AppState>,
    mut scope: Scoped<CachedKey>,
    body: crate::http::input::Json<VerifyBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    scope.caller.pass_client_ip(body.client_ip.as_deref())?;
    let presented = Presented {
        code: presented(body.code, body.credential)?,
        device_id: body.device_id,
    };
    let v = verify::verify(&state, &scope.subject, &scope.caller, presented).await?;
    Ok(HttpResponse::Ok().json(Verified {
        verified: true,
        device_id: v.device_id,
        method: v.method,
        assertion: v.assertion,
    }))
}
