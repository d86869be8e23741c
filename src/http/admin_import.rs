//! `POST /v1/admin/import`: TOTP seeds from another MFA server, all lines or none.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::import::{self, Context, Format};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;

/// Larger imports go through `twofold import`, which streams its file.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(import_devices);
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Devices imported, all active.
    pub imported: u64,
}

impl From<import::Imported> for Imported {
    fn from(i: import::Imported) -> Imported {
        Imported {
            imported: i.imported,
        }
    }
}

fn format_of(req: &HttpRequest) -> Result<Format, Error> {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match kind.as_deref() {
        Some("application/x-ndjson" | "application/jsonl" | "application/json-lines") => {
            Ok(Format::Jsonl)
        }
        Some("text/csv") => Ok(Format::Csv),
        _ => Err(Error::InvalidRequest(
            "header Content-Type must be application/x-ndjson (JSON lines) or text/csv".into(),
        )),
    }
}

/// Imports TOTP devices, active at once: one per line, as JSON lines
/// (`{"tenant","user","label","secret","algorithm","digits","period"}`) or CSV with that header.
/// A bad line and nothing is imported: the answer names each bad line (the first 100). Up to
/// 16 MiB per request; `twofold import` takes any size.
#[utoipa::path(
    operation_id = "devices_import",
    tag = "admin",
    security(("api_key" = [])),
    request_body(content = String, content_type = "application/x-ndjson",
                 description = "JSON lines (or text/csv with a header row)",
                 example = json!(r#"{"tenant":"default","user":"alice","label":"Work phone","secret":"JBSWY3DPEHPK3PXP","algorithm":"SHA1","digits":6,"period":30}"#)),
    responses(
        (status = 201, body = Imported),
        (status = 400, body = ErrorBody,
         description = "bad lines (named in `lines`), no line, too large, another Content-Type"),
        (status = 403, body = ErrorBody),
    )
)]
#[post("/v1/admin/import")]
async fn import_devices(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(key): Admin,
    mut payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let format = format_of(&req)?;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::InvalidRequest(format!("body: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::InvalidRequest(
                "the body is larger than 16 MiB: split it, or use `twofold import`".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let cx = Context {
        keys: state.keys.clone(),
        stream: state.audit.stream().clone(),
        scope: key.tenant.clone(),
        actor: key.actor(),
        ip: crate::http::client_ip(&req, state.config.trust_forwarded_for),
        now: state.clock.now(),
    };
    let body = std::io::Cursor::new(body.freeze());
    let imported = import::import(&state.db, body, format, cx).await?;
    Ok(HttpResponse::Created().json(Imported::from(imported)))
}
