//! Bearer API key extractors: [`ApiKey`] for any role, [`Admin`] for the admin routes.
//!
//! Missing, unknown and revoked keys all get the same 401 `invalid_api_key`; a valid key of the
//! wrong role gets 403 `forbidden`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::api_keys::{self, ApiKey};
use crate::app::state::AppState;
use crate::audit::{Action, Event};
use crate::error::Error;

pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequest for ApiKey {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<ApiKey, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("AppState is not registered"))?;
            let token = token.ok_or(Error::InvalidApiKey)?;
            api_keys::authenticate(&state.db, &state.keys, &token)
                .await?
                .ok_or(Error::InvalidApiKey)
        })
    }
}

/// A bearer key for verify: from this node's [`KeyCache`] when it is there (then its id is
/// `unconfirmed`, and verify re-checks it in the statement that loads the devices), else looked
/// up now and remembered. Every other route takes [`ApiKey`], looked up each time.
///
/// [`KeyCache`]: crate::app::key_cache::KeyCache
#[derive(Debug, Clone)]
pub struct CachedKey {
    pub key: ApiKey,
    /// Set when the key came from the cache.
    pub unconfirmed: Option<String>,
}

impl FromRequest for CachedKey {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<CachedKey, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("AppState is not registered"))?;
            let token = token.ok_or(Error::InvalidApiKey)?;
            if !api_keys::well_formed(&token) {
                return Err(Error::InvalidApiKey);
            }
            let hash = api_keys::cache_hash(&state.keys, &token);
            if let Some(key) = state.key_cache.get(&hash) {
                let unconfirmed = Some(key.id.clone());
                return Ok(CachedKey { key, unconfirmed });
            }
            let key = api_keys::authenticate(&state.db, &state.keys, &token)
                .await?
                .ok_or(Error::InvalidApiKey)?;
            state.key_cache.put(hash, key.clone());
            Ok(CachedKey {
                key,
                unconfirmed: None,
            })
        })
    }
}

/// An authenticated key with the admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub ApiKey);

impl FromRequest for Admin {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Admin, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = ApiKey::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let route = req.match_pattern().unwrap_or_default();
        let method = req.method().to_string();
        let user = req.match_info().get("user").map(str::to_string);
        let requested = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == "tenant")
            .map(|(_, v)| v.into_owned())
            .filter(|t| t == "*" || api_keys::validate_tenant(t).is_ok());
        let ip = state
            .as_ref()
            .and_then(|s| super::client_ip(req, s.config.trust_forwarded_for));
        Box::pin(async move {
            let key = key.await?;
            if !key.is_admin() {
                return Err(Error::Forbidden);
            }
            // SEC-33: every use of an admin key on an admin route, in the background writer,
            // under the tenant and user it concerns, so "what happened to this account" shows it.
            if let Some(state) = state {
                let default = if user.is_some() {
                    api_keys::DEFAULT_TENANT
                } else {
                    "*"
                };
                let tenant = key
                    .tenant
                    .clone()
                    .or(requested)
                    .unwrap_or_else(|| default.to_string());
                let mut event = Event::new(tenant, Action::AdminRequest, key.actor())
                    .ip(ip)
                    .detail(serde_json::json!({"method": method, "route": route}));
                if let Some(user) = user {
                    event = event.user(user);
                }
                state.audit.send(state.clock.now(), event).await;
            }
            Ok(Admin(key))
        })
    }
}
