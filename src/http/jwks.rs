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
/// the last hour. A key `twofold keys rotate` makes is here within 5 seconds, and signs only 15
/// seconds after it was made: a relying party that meets an unknown `kid` should fetch this again
/// (past its own cache) before rejecting the assertion.
#[utoipa::path(tag = "assertions", responses(
    (status = 200, description = "JWK Set of the published signing keys",
     content_type = "application/json", body = Object),
))]
#[get("/.well-known/jwks.json")]
async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    // Public keys are meant to be cached, unlike every other answer (the default is no-store,
    // added only where a header is absent). Five minutes keeps a rotation visible quickly.
    let jwks = state
        .assertions
        .published_jwks(&state.db, state.clock.now())
        .await;
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .json(jwks)
}
