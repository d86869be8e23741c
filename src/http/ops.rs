//! Operations routes: liveness, readiness, metrics and the OpenAPI document.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::state::AppState;
use crate::error::Error;
use crate::http::error::ErrorBody;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics)
        .service(openapi_json);
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `ok` (alive) or `ready` (dependencies answer).
    pub status: &'static str,
}

/// The process is up. Says nothing about dependencies, so an orchestrator does not restart a
/// healthy node because the database blinked.
#[utoipa::path(
    operation_id = "health_live",
    tag = "ops", responses((status = 200, body = Status)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

// What "answer" means for the store, and the short cache: src/app/readiness.rs. The doc comment
// below is the OpenAPI description the generated clients carry.
/// The database and the store both answer within the dependency deadline (REL-7).
#[utoipa::path(
    operation_id = "health_ready",
    tag = "ops", responses(
    (status = 200, body = Status),
    (status = 503, description = "database or store unavailable", body = ErrorBody),
))]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    state.readiness.check(&state.db, &state.store).await?;
    Ok(HttpResponse::Ok().json(Status { status: "ready" }))
}

/// Prometheus text exposition.
#[utoipa::path(
    operation_id = "metrics_get",
    tag = "ops", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // The audit writer counts what it gives up; the figure is published when asked for.
    let lost = state.audit.lost();
    state.metrics.with(|| {
        ::metrics::counter!("twofold_audit_events_lost_total").absolute(lost);
    });
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// The OpenAPI 3.1 description of every route.
#[utoipa::path(
    operation_id = "openapi_get",
    tag = "ops", responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(doc.0.clone())
}

/// The serialized OpenAPI document, made once at start.
pub struct OpenApiJson(pub String);
