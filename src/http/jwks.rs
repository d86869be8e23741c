//! `/.well-known/jwks.json`: the public keys relying parties verify assertions with, offline.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::state::AppState;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(jwks);
}

/// The public keys that sign assertions, as a JSON Web Key Set.
///
/// RFC 7517 with Ed25519 keys (`kty` OKP, `alg` EdDSA): the active ones and those retired within
/// the last hour; cacheable for 5 minutes. A key `twofold keys rotate` makes is here within 5
/// seconds, and signs only 425 seconds after it was made, so a relying party that keeps to the
/// cache lifetime always knows the `kid` of an assertion it is given.
#[utoipa::path(
    operation_id = "jwks_get",
    tag = "assertions", responses(
    (status = 200, description = "JWK Set of the published signing keys",
     content_type = "application/json", body = Object),
))]
#[get("/.well-known/jwks.json")]
async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    // Public keys are meant to be cached, unlike every other answer (the default is no-store,
    // added only where a header is absent) — but not past the time a key made since they were
    // read may sign, or a relying party that obeys the header would meet a `kid` it lacks.
    let jwks = state
        .assertions
        .published_jwks(&state.db, state.clock.now())
        .await;
    let cache = match jwks.max_age.as_secs() {
        // Keys read too long ago (the database is failing): good for this answer only.
        0 => "no-store".to_string(),
        secs => format!("public, max-age={secs}"),
    };
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, cache))
        .json(jwks.keys)
}
