//! Console sessions: a random token in an HttpOnly, SameSite=Strict cookie; the store keeps the
//! session under the token's keyed hash (a store dump opens no session), with a TTL that is the
//! session's lifetime. Every request re-reads the admin key, so revoking it ends its sessions.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::ConsoleError;
use crate::app::api_keys::ApiKey;
use crate::app::state::AppState;
use crate::app::users::Caller;
use crate::audit::Actor;
use crate::crypto;
use crate::error::Error;

pub const COOKIE: &str = "twofold_admin";
/// The login form's double-submit token (before there is a session to hold one).
pub const LOGIN_COOKIE: &str = "twofold_login";
const HASH_DOMAIN: &str = "console-session";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    key_id: String,
    csrf: String,
}

/// A signed-in admin: the session and the admin key it was opened with.
#[derive(Debug, Clone)]
pub struct Console {
    pub key: ApiKey,
    token_hash: String,
    csrf: String,
    pub ip: Option<String>,
}

pub fn random_token() -> Result<String, Error> {
    Ok(URL_SAFE_NO_PAD.encode(crypto::random_bytes::<32>().map_err(Error::internal)?))
}

fn store_key(state: &AppState, token: &str) -> String {
    let hash = state.keys.hash(HASH_DOMAIN, token.as_bytes());
    format!("console:{}", URL_SAFE_NO_PAD.encode(hash))
}

/// Cookies are `Secure` when the service is reached over TLS.
pub fn cookie<'a>(state: &AppState, name: &'a str, value: String, path: &'a str) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.public_url.scheme() == "https")
        .finish()
}

/// The cookie that removes `name`.
pub fn removal<'a>(state: &AppState, name: &'a str, path: &'a str) -> Cookie<'a> {
    let mut c = cookie(state, name, String::new(), path);
    c.make_removal();
    c
}

/// Opens a session for `key`; returns the cookie that carries it.
pub async fn open(state: &AppState, key: &ApiKey) -> Result<Cookie<'static>, Error> {
    let token = random_token()?;
    let stored = Stored {
        key_id: key.id.clone(),
        csrf: random_token()?,
    };
    let value = serde_json::to_vec(&stored).map_err(Error::internal)?;
    let ttl = state.config.admin_session;
    state
        .store
        .put(&store_key(state, &token), &value, ttl)
        .await?;
    let mut c = cookie(state, COOKIE, token, "/admin");
    c.set_max_age(time::Duration::seconds(
        i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
    ));
    Ok(c)
}

impl Console {
    pub fn caller(&self) -> Caller {
        Caller {
            unconfirmed_key: None,
            origin: crate::app::users::Origin::Browser,
            actor: Actor::Console(self.key.id.clone()),
            is_admin: true,
            ip: self.ip.clone(),
        }
    }

    /// The token every form of this session carries.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// A form post must carry this session's token (constant-time compare).
    pub fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        if bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }

    pub async fn close(&self, state: &AppState) -> Result<(), Error> {
        state.store.delete(&self.token_hash).await?;
        Ok(())
    }
}

async fn load(
    state: &AppState,
    token: Option<String>,
    ip: Option<String>,
) -> Result<Console, ConsoleError> {
    let token = token.ok_or(ConsoleError::SignIn)?;
    let key = store_key(state, &token);
    let raw = state.store.get(&key).await.map_err(Error::from)?;
    let stored: Stored = raw
        .and_then(|r| serde_json::from_slice(&r).ok())
        .ok_or(ConsoleError::SignIn)?;
    let id = stored.key_id.clone();
    let row = state
        .db
        .run(move |c| crate::db::api_keys::find(c, &id))
        .await
        .map_err(Error::from)?;
    let api_key = match row {
        Some(r) if r.revoked_at.is_none() => ApiKey::try_from(r)?,
        _ => return Err(ConsoleError::SignIn),
    };
    if !api_key.is_admin() {
        return Err(ConsoleError::SignIn);
    }
    Ok(Console {
        key: api_key,
        token_hash: key,
        csrf: stored.csrf,
        ip,
    })
}

impl FromRequest for Console {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Console, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(COOKIE).map(|c| c.value().to_string());
        let bearer = crate::http::auth::bearer(req);
        let ip = state
            .as_ref()
            .and_then(|s| crate::http::client_ip(req, s.config.trust_forwarded_for));
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("AppState is not registered"))?;
            match load(&state, token, ip).await {
                // A client key presented to a page is refused outright, not sent to sign in.
                Err(ConsoleError::SignIn) if bearer.is_some() => {
                    let presented = bearer.unwrap_or_default();
                    match crate::app::api_keys::authenticate(&state.db, &state.keys, &presented)
                        .await?
                    {
                        Some(k) if !k.is_admin() => Err(Error::Forbidden.into()),
                        _ => Err(ConsoleError::SignIn),
                    }
                }
                other => other,
            }
        })
    }
}
