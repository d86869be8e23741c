//! The one preamble of every user route: who is acting and on whom.
//!
//! [`Scoped`] judges the bearer key first (a bad key is 401 whatever else is wrong), then reads
//! the `{user}` path segment and `?tenant=`, and yields the [`Subject`] and the [`Caller`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use crate::app::api_keys::ApiKey;
use crate::app::state::AppState;
use crate::app::users::{Caller, Origin, Subject};
use crate::error::Error;
use crate::http::auth::{Admin, CachedKey};
use crate::http::{TenantQuery, client_ip, query};

/// A key extractor [`Scoped`] can start from.
pub trait KeySource: FromRequest<Error = Error> + 'static {
    fn api_key(&self) -> &ApiKey;
    /// A key taken from this node's cache, which the use case re-checks (see [`CachedKey`]).
    fn unconfirmed(&self) -> Option<String> {
        None
    }
}

impl KeySource for ApiKey {
    fn api_key(&self) -> &ApiKey {
        self
    }
}

impl KeySource for CachedKey {
    fn api_key(&self) -> &ApiKey {
        &self.key
    }
    fn unconfirmed(&self) -> Option<String> {
        self.unconfirmed.clone()
    }
}

/// Admin user routes are [`Scoped`] from an admin key: the role is judged before the path.
impl KeySource for Admin {
    fn api_key(&self) -> &ApiKey {
        &self.0
    }
}

/// The caller's key, the user the route acts on and who is acting.
pub struct Scoped<K = ApiKey> {
    pub key: K,
    pub subject: Subject,
    pub caller: Caller,
}

#[derive(Deserialize)]
struct UserSegment {
    user: String,
}

impl<K: KeySource> FromRequest for Scoped<K> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Scoped<K>, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = K::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let key = key.await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| Error::internal("AppState is not registered"))?;
            let user = web::Path::<UserSegment>::extract(&req)
                .await
                .map_err(|e| Error::InvalidRequest(e.to_string()))?
                .into_inner()
                .user;
            let tenant: TenantQuery = query(&req)?;
            let api_key = key.api_key();
            let subject = Subject::new(api_key.tenant_for(tenant.tenant.as_deref())?, user)?;
            let caller = Caller {
                unconfirmed_key: key.unconfirmed(),
                actor: api_key.actor(),
                is_admin: api_key.is_admin(),
                ip: client_ip(&req, state.config.trust_forwarded_for),
                origin: Origin::Api {
                    key_id: api_key.id.clone(),
                    client_ip: None,
                },
            };
            Ok(Scoped {
                key,
                subject,
                caller,
            })
        })
    }
}
