//! The hardware-token inventory: `/v1/admin/tokens` (import, list, assign, unassign, revoke).
//! Claiming one and resynchronising one are in `token_codes.rs`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::import::pskc::KeySource;
use crate::app::state::AppState;
use crate::app::tokens::{self, import::Source};
use crate::db::tokens::Filter;
use crate::error::Error;
use crate::http::TenantQuery;
use crate::http::auth::Admin;
use crate::http::devices::DeviceBody;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(import_tokens)
        .service(list)
        .service(assign)
        .service(unassign)
        .service(revoke);
}

/// A token as the inventory shows it: never a secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Token)]
pub struct TokenBody {
    pub serial: String,
    /// `hotp`, `totp` or `yubico`.
    pub kind: String,
    /// `unassigned`, `assigned` or `revoked`.
    pub status: String,
    pub manufacturer: Option<String>,
    /// The import that brought it.
    pub batch: String,
    pub algorithm: Option<String>,
    pub digits: Option<i32>,
    pub period: Option<i32>,
    /// Yubico OTP: the public id its OTPs begin with.
    pub public_id: Option<String>,
    pub user: Option<String>,
    pub device_id: Option<String>,
    pub not_before: Option<chrono::DateTime<chrono::Utc>>,
    pub not_after: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub assigned_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<tokens::Token> for TokenBody {
    fn from(t: tokens::Token) -> TokenBody {
        TokenBody {
            serial: t.serial,
            kind: t.kind,
            status: t.status,
            manufacturer: t.manufacturer,
            batch: t.batch,
            algorithm: t.algorithm,
            digits: t.digits,
            period: t.period,
            public_id: t.public_id,
            user: t.user,
            device_id: t.device_id,
            not_before: t.not_before,
            not_after: t.not_after,
            created_at: t.created_at,
            assigned_at: t.assigned_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokensImported {
    /// The import batch: list its tokens with `?batch=`.
    pub batch: String,
    pub imported: usize,
}

/// A pre-shared key and a password, as their headers gave them.
type FileKeys = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The key that opens an encrypted PSKC file: in a header, never in the URL (which logs keep).
fn key_source(req: &HttpRequest) -> Result<FileKeys, Error> {
    let text = |name: &str| req.headers().get(name).map(|v| v.as_bytes().to_vec());
    let psk = text("x-pskc-key")
        .map(|hex| {
            let hex = String::from_utf8(hex).unwrap_or_default();
            base16ct::mixed::decode_vec(hex.trim()).map_err(|_| {
                Error::InvalidRequest("header X-Pskc-Key: the pre-shared key in hex".into())
            })
        })
        .transpose()?;
    Ok((psk, text("x-pskc-password")))
}

/// Imports hardware tokens, unassigned: a PSKC file (RFC 6030; `application/pskc+xml`, with
/// `X-Pskc-Key: <hex>` or `X-Pskc-Password` when it is encrypted) or a YubiKey personalization
/// log (`text/csv`). One bad key package or line and nothing is imported: each is named (by
/// position and serial, never a secret). Up to 16 MiB.
#[utoipa::path(
    operation_id = "tokens_import",
    tag = "admin",
    security(("api_key" = [])),
    params(TenantQuery),
    request_body(content = String, content_type = "application/pskc+xml",
                 description = "a PSKC file, or a YubiKey personalization log as text/csv"),
    responses(
        (status = 201, body = TokensImported),
        (status = 400, body = ErrorBody, description = "bad packages or lines (named in `lines`), a wrong key or password, an unreadable file, another Content-Type"),
        (status = 403, body = ErrorBody),
    )
)]
#[post("/v1/admin/tokens/import")]
async fn import_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    mut payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let query: TenantQuery = crate::http::query(&req)?;
    let tenant = key.tenant_for(query.tenant.as_deref())?;
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::InvalidRequest(format!("body: {e}")))?;
        if body.len() + chunk.len() > crate::app::import::pskc::MAX_BYTES {
            return Err(Error::InvalidRequest(
                "the body is larger than 16 MiB".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let (psk, password) = key_source(&req)?;
    let source = match kind.as_deref() {
        Some("application/pskc+xml" | "application/xml" | "text/xml") => Source::Pskc {
            xml: &body,
            key: match (&psk, &password) {
                (Some(k), _) => KeySource::PreShared(k),
                (None, Some(p)) => KeySource::Password(p),
                (None, None) => KeySource::None,
            },
        },
        Some("text/csv") => Source::YubicoLog(std::str::from_utf8(&body).map_err(|_| {
            Error::InvalidRequest("the personalization log is not UTF-8 text".into())
        })?),
        _ => {
            return Err(Error::InvalidRequest(
                "header Content-Type must be application/pskc+xml (PSKC) or text/csv (a YubiKey \
                 personalization log)"
                    .into(),
            ));
        }
    };
    let ip = crate::http::client_ip(&req, state.config.trust_forwarded_for);
    let done = tokens::import::import(&state, &tenant, source, key.actor(), ip).await?;
    Ok(HttpResponse::Created().json(TokensImported {
        batch: done.batch,
        imported: done.imported,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// For an admin key of every tenant: the tenant to act in (default `default`).
    pub tenant: Option<String>,
    /// `unassigned`, `assigned` or `revoked`.
    pub status: Option<String>,
    /// `hotp`, `totp` or `yubico`.
    pub kind: Option<String>,
    /// An import batch.
    pub batch: Option<String>,
    /// Serials starting with this.
    pub serial: Option<String>,
    /// Tokens assigned to this user.
    pub user: Option<String>,
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
}

/// Lists the tenant's tokens, by serial, filtered.
#[utoipa::path(
    operation_id = "tokens_list",
    tag = "admin",
    security(("api_key" = [])),
    params(ListQuery),
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody))
)]
#[get("/v1/admin/tokens")]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
) -> Result<HttpResponse, Error> {
    let q: ListQuery = crate::http::query(&req)?;
    let tenant = key.tenant_for(q.tenant.as_deref())?;
    let filter = Filter {
        status: q.status,
        kind: q.kind,
        batch: q.batch,
        serial: q.serial,
        user: q.user,
    };
    let found = tokens::list(&state, &tenant, filter, q.limit.unwrap_or(100)).await?;
    Ok(HttpResponse::Ok().json(TokenList {
        tokens: found.into_iter().map(TokenBody::from).collect(),
    }))
}

#[derive(Deserialize)]
struct SerialPath {
    serial: String,
}

fn serial(path: web::Path<SerialPath>) -> Result<String, Error> {
    let s = path.into_inner().serial;
    if tokens::serial_ok(&s) {
        Ok(s)
    } else {
        Err(Error::InvalidRequest(
            "a serial is 1 to 64 of A-Z a-z 0-9 . _ -".into(),
        ))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The user to give the token to.
    pub user: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Assigned {
    pub device: DeviceBody,
}

/// Assigns an unassigned token to a user: one more active device of theirs at once.
#[utoipa::path(
    operation_id = "tokens_assign",
    tag = "admin",
    security(("api_key" = [])),
    params(("serial" = String, Path), TenantQuery),
    request_body(content = AssignBody, example = json!({"user": "alice"})),
    responses(
        (status = 200, body = Assigned),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the token is assigned or revoked", body = ErrorBody),
    )
)]
#[post("/v1/admin/tokens/{serial}/assign")]
async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    path: web::Path<SerialPath>,
    body: crate::http::input::Json<AssignBody>,
) -> Result<HttpResponse, Error> {
    let q: TenantQuery = crate::http::query(&req)?;
    let tenant = key.tenant_for(q.tenant.as_deref())?;
    let serial = serial(path)?;
    let user = body.into_inner().user;
    let device = tokens::assign(&state, &tenant, &serial, &user, key.actor()).await?;
    Ok(HttpResponse::Ok().json(Assigned {
        device: device.into(),
    }))
}

/// Gives an assigned token back to the inventory: its device is revoked, its counter kept.
#[utoipa::path(
    operation_id = "tokens_unassign",
    tag = "admin",
    security(("api_key" = [])),
    params(("serial" = String, Path), TenantQuery),
    responses(
        (status = 200, body = TokenBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the token is not assigned", body = ErrorBody),
    )
)]
#[post("/v1/admin/tokens/{serial}/unassign")]
async fn unassign(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    path: web::Path<SerialPath>,
) -> Result<HttpResponse, Error> {
    let q: TenantQuery = crate::http::query(&req)?;
    let tenant = key.tenant_for(q.tenant.as_deref())?;
    let token = tokens::unassign(&state, &tenant, &serial(path)?, key.actor()).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(token)))
}

/// Takes a token out of service for good (lost, broken): its device, if any, is revoked.
#[utoipa::path(
    operation_id = "tokens_revoke",
    tag = "admin",
    security(("api_key" = [])),
    params(("serial" = String, Path), TenantQuery),
    responses(
        (status = 200, body = TokenBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "revoked already", body = ErrorBody),
    )
)]
#[delete("/v1/admin/tokens/{serial}")]
async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    path: web::Path<SerialPath>,
) -> Result<HttpResponse, Error> {
    let q: TenantQuery = crate::http::query(&req)?;
    let tenant = key.tenant_for(q.tenant.as_deref())?;
    let token = tokens::revoke(&state, &tenant, &serial(path)?, key.actor()).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(token)))
}
