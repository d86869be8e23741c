//! Which relying party a ceremony runs for: twofold's hosted pages on the public origin, or a
//! relying party's own page on an origin registered on its API key (`api-key create
//! --webauthn-origin`). A credential is scoped to an RP ID and a ceremony accepts only its
//! origins, so a response made for another site never passes.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::app::api_keys::ApiKey;
use crate::app::state::AppState;
use crate::error::Error;
use crate::factor::webauthn::{origin_host, parse_origin, rp_id_covers};

/// A ceremony's relying party, kept with its state in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rp {
    pub id: String,
    /// Serialised origins (`https://host[:port]`).
    pub origins: Vec<String>,
}

/// The hosted pages' relying party: the public origin, under `TWOFOLD_WEBAUTHN_RP_ID` or the
/// public host. None when twofold is reached on an IP address (browsers refuse security keys
/// there).
pub fn hosted(state: &AppState) -> Option<Rp> {
    let origin = state.public_url.origin().ascii_serialization();
    let host = origin_host(&origin)?;
    let id = state.config.webauthn.rp_id.clone().unwrap_or(host.clone());
    rp_id_covers(&id, &host).then_some(Rp {
        id,
        origins: vec![origin],
    })
}

/// The relying party of an API call: the hosted pages' when no origin is named (or the public
/// origin is), else the named origin, which the key must have registered.
pub fn for_call(state: &AppState, key: &ApiKey, origin: Option<&str>) -> Result<Rp, Error> {
    let hosted = hosted(state);
    let Some(raw) = origin else {
        return hosted.ok_or_else(no_hosted_rp);
    };
    let origin = parse_origin(raw)
        .map_err(|e| Error::InvalidRequest(format!("body field `origin`: {e}")))?;
    if let Some(rp) = hosted.filter(|rp| rp.origins.contains(&origin)) {
        return Ok(rp);
    }
    if !key.webauthn_origins.contains(&origin) {
        return Err(Error::InvalidRequest(format!(
            "body field `origin`: {origin} is not registered for this API key (api-key create \
             --webauthn-origin)"
        )));
    }
    let id = match &key.webauthn_rp_id {
        Some(id) => id.clone(),
        None => {
            origin_host(&origin).ok_or_else(|| Error::internal("a stored origin has no host"))?
        }
    };
    Ok(Rp {
        id,
        origins: vec![origin],
    })
}

fn no_hosted_rp() -> Error {
    Error::InvalidRequest(
        "security keys need twofold's public URL on a domain name (browsers refuse them on an IP \
         address): set TWOFOLD_PUBLIC_URL, or name the `origin` of your own page"
            .into(),
    )
}

/// The webauthn-rs relying party of a ceremony; `name` is what the authenticator may show.
pub fn webauthn(rp: &Rp, name: &str) -> Result<Webauthn, Error> {
    let mut origins = rp
        .origins
        .iter()
        .map(|o| Url::parse(o).map_err(Error::internal));
    let first = origins
        .next()
        .ok_or_else(|| Error::internal("a relying party without an origin"))??;
    let mut builder = WebauthnBuilder::new(&rp.id, &first)
        .map_err(Error::internal)?
        .rp_name(name);
    for o in origins {
        builder = builder.append_allowed_origin(&o?);
    }
    builder.build().map_err(Error::internal)
}
