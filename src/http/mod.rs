//! The HTTP surface: one file per resource, each with a `register` that adds its routes (and,
//! through utoipa-actix-web, their OpenAPI description).

pub mod admin_audit;
pub mod admin_import;
pub mod admin_users;
pub mod api_keys;
pub mod auth;
pub mod console;
pub mod devices;
pub mod error;
pub mod extract;
pub mod input;
pub mod jwks;
pub mod links;
pub mod methods;
pub mod middleware;
pub mod ops;
pub mod pages;
pub mod phones;
pub mod recovery;
pub mod schemas;
pub mod security_keys;
pub mod sms_breaker;
pub mod telemetry;
pub mod token_codes;
pub mod tokens;
pub mod verify;

use actix_web::HttpRequest;
use serde::Deserialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::error::Error;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

/// Adds every route of the service.
pub fn register(cfg: &mut ServiceConfig) {
    // Routes are tried in this order, each pattern with a dynamic segment a regex: verify, the
    // request on every login, first.
    verify::register(cfg);
    ops::register(cfg);
    jwks::register(cfg);
    // Phones first: their literal paths (`devices/sms`) before the `devices/{id}` ones, so route
    // patterns (metrics, logs) name the right route.
    phones::register(cfg);
    // Before `devices`: `devices/webauthn` is a literal path beside `devices/{id}`.
    security_keys::register(cfg);
    devices::register(cfg);
    tokens::register(cfg);
    token_codes::register(cfg);
    recovery::register(cfg);
    links::register(cfg);
    admin_users::register(cfg);
    admin_import::register(cfg);
    admin_audit::register(cfg);
    api_keys::register(cfg);
    sms_breaker::register(cfg);
}

/// The OpenAPI document of exactly the routes [`register`] adds.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .configure(register)
        .split_for_parts();
    // The derive inside utoipa-actix-web fills contact and license from utoipa's own manifest.
    api.info.contact = None;
    api.info.license = Some(utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE")));
    api.info.title = "twofold".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "Self-hosted second factor: TOTP, SMS one-time codes, recovery codes and signed \
         assertions. Authenticate with `Authorization: Bearer <api key>`."
            .into(),
    );
    // Every route can also answer the service-wide errors: 400 on a malformed path or query, 401
    // without a valid key (routes that take one), 503 when a dependency is down, an opaque 500.
    // Listed by status (not as `default`), so a status outside the document is still a finding.
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let keyed = op.security.as_ref().is_some_and(|s| !s.is_empty());
            for status in ["400", "401", "500", "503"] {
                if status == "401" && !keyed {
                    continue;
                }
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert_with(|| error_response().into());
            }
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    api
}

fn error_response() -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description("An error: `{error, message}` with a stable code (docs/errors.md lists them)")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The client's IP: the TCP peer, or behind a trusted proxy the last `X-Forwarded-For` hop (the
/// one our proxy appended; earlier entries are whatever the client claimed).
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> Option<String> {
    if trust_forwarded_for
        && let Some(last) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return Some(last.to_string());
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

/// `?tenant=` of the user routes: read only for an admin key of every tenant (SEC-22).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TenantQuery {
    /// For an admin key of every tenant: the tenant to act in (default `default`).
    pub tenant: Option<String>,
}

/// An id named by a path segment or a form: ids have one shape ([`crate::crypto::is_random_id`]),
/// so one of another is a malformed request, refused before it reaches a use case or a database.
pub fn id(id: String) -> Result<String, Error> {
    if crate::crypto::is_random_id(&id) {
        Ok(id)
    } else {
        Err(Error::InvalidRequest(
            "an id is 22 characters of A-Z a-z 0-9 - _".into(),
        ))
    }
}

/// The query string, read inside the handler. Admin routes read theirs this way: actix runs a
/// handler's extractors side by side, and a malformed query must not answer before the key is
/// judged (a client key gets 403 on every admin route, whatever its query).
pub fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> Result<T, Error> {
    input::urlencoded(req.query_string(), input::Place::Query)
}

/// The most a body may hold: JSON bodies, forms and optional JSON bodies alike.
pub const MAX_BODY: usize = 64 * 1024;

/// A body, read whole (by [`input::Json`], or inside the handler). One too large is
/// `invalid_request`, which the API, the pages and the console each answer in their own shape
/// (actix's `web::Bytes` would answer a `text/plain` 413 of its own).
pub async fn body(payload: actix_web::web::Payload) -> Result<actix_web::web::Bytes, Error> {
    match payload.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(Error::InvalidRequest(format!("body: {e}"))),
        Err(_) => Err(Error::InvalidRequest(format!(
            "the body is larger than {} KiB",
            MAX_BODY / 1024
        ))),
    }
}

/// A urlencoded form body into `T`: the pages and the console read theirs inside the handler,
/// once the session or flow has been judged.
pub fn form_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::InvalidRequest("the form is not UTF-8".into()))?;
    input::urlencoded(text, input::Place::Form)
}

/// An optional JSON body: empty means the default; anything else must be a JSON object.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    input::optional_json(body)
}
