//! `POST /v1/users/{user}/links`: a signed, single-use link to a hosted page.

use actix_web::{HttpRequest, HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::api_keys::ApiKey;
use crate::app::links::{self, Link, LinkRequest};
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::error::ErrorBody;
use crate::http::{TenantQuery, subject_and_caller};

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(create);
}

/// A link to the hosted enroll or verify page for this user, valid 10 minutes, single use. The
/// browser comes back to `return_url` with `state` and `assertion` in the query.
#[utoipa::path(
    tag = "pages",
    security(("api_key" = [])),
    params(("user" = String, Path), TenantQuery),
    request_body = LinkRequest,
    responses(
        (status = 201, body = Link),
        (status = 400, description = "`invalid_request`, `return_url_not_allowed`", body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/links")]
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKey,
    user: web::Path<String>,
    query: web::Query<TenantQuery>,
    body: web::Json<LinkRequest>,
) -> Result<HttpResponse, Error> {
    let (subject, _) = subject_and_caller(&req, &state, &key, user.into_inner(), &query)?;
    let link = links::create(
        &state.keys,
        &state.public_url,
        &key,
        &subject,
        body.into_inner(),
        state.clock.now(),
    )?;
    Ok(HttpResponse::Created().json(link))
}
