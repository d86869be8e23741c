//! `POST /v1/users/{user}/links`: a signed, single-use link to a hosted page.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::links;
use crate::app::state::AppState;
use crate::error::Error;
use crate::http::error::ErrorBody;
use crate::http::extract::Scoped;

pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(create);
}

// The hosted page a link opens (mirrors `app::links::Purpose`, which has no schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Enroll,
    Verify,
}

impl From<Purpose> for links::Purpose {
    fn from(p: Purpose) -> links::Purpose {
        match p {
            Purpose::Enroll => links::Purpose::Enroll,
            Purpose::Verify => links::Purpose::Verify,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub purpose: Purpose,
    /// Where the browser goes back to; must start with a prefix registered on the API key.
    pub return_url: String,
    /// Handed back unchanged with the assertion (at most 512 characters).
    pub state: Option<String>,
    /// Enroll links only: the account the authenticator app shows under the issuer (e.g. an
    /// e-mail address), 1-128 printable characters; default the user id.
    #[schema(max_length = 128, example = "alice@example.com")]
    pub account_name: Option<String>,
}

impl From<LinkRequest> for links::LinkRequest {
    fn from(r: LinkRequest) -> links::LinkRequest {
        links::LinkRequest {
            purpose: r.purpose.into(),
            return_url: r.return_url,
            state: r.state,
            account_name: r.account_name,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

impl From<links::Link> for Link {
    fn from(l: links::Link) -> Link {
        Link {
            url: l.url,
            expires_at: l.expires_at,
        }
    }
}

/// A link to the hosted enroll or verify page for this user, valid 10 minutes, single use. The
/// browser comes back to `return_url` with `state` and `assertion` in the query.
#[utoipa::path(
    operation_id = "links_create",
    tag = "pages",
    security(("api_key" = [])),
    // Spelled out: `TenantQuery` alone is taken for a path parameter (only the `web::Query`
    // extractor this handler no longer has told utoipa otherwise).
    params(
        ("user" = String, Path),
        ("tenant" = Option<String>, Query, nullable,
         description = "For an admin key of every tenant: the tenant to act in (default `default`)."),
    ),
    request_body(content = LinkRequest, example = json!({"purpose": "verify", "return_url": "https://shop.example/mfa/done", "state": "k3y"})),
    responses(
        (status = 201, body = Link),
        (status = 400, description = "`invalid_request`, `return_url_not_allowed`", body = ErrorBody),
    )
)]
#[post("/v1/users/{user}/links")]
async fn create(
    state: web::Data<AppState>,
    scope: Scoped,
    body: crate::http::input::Json<LinkRequest>,
) -> Result<HttpResponse, Error> {
    let link = links::create(
        &state.keys,
        &state.public_url,
        &scope.key,
        &scope.subject,
        body.into_inner().into(),
        state.clock.now(),
    )?;
    Ok(HttpResponse::Created().json(Link::from(link)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_read_as_the_domain_spells_them() {
        for p in [Purpose::Enroll, Purpose::Verify] {
            let domain = links::Purpose::from(p);
            let read: Purpose = serde_json::from_value(domain.as_str().into()).unwrap();
            assert_eq!(read, p);
            assert_eq!(serde_json::to_value(domain).unwrap(), domain.as_str());
        }
    }
}
