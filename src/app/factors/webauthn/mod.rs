//! Security keys (FIDO2/WebAuthn): a key pair on the authenticator, bound to an RP ID, that
//! signs a fresh challenge. webauthn-rs judges each ceremony (origin, RP ID hash, signature,
//! flags, attestation); this module keeps the state between its two halves ([`ceremony`]),
//! decides whose relying party it is ([`rp`]), applies the tenant's policy and records uses:
//! the signature counter advances in one compare-and-set, and a counter that goes backwards marks
//! the key as cloned.
//!
//! A response presented to verify or confirm is the browser's `PublicKeyCredential` as JSON text;
//! no code has that shape, so verify's dispatch by shape sends it here and nowhere else. Every
//! failure is the caller's `invalid_code`, counted by the one limiter like a wrong code.

pub mod ceremony;
pub mod enroll;
pub mod rp;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::LocalBoxFuture;
use webauthn_rs::prelude::{
    AttestationMetadata, Credential, PublicKeyCredential, RegisterPublicKeyCredential,
    WebauthnError,
};

use self::ceremony::{Authentication, Registration};
use super::{Checked, Context, DeviceFactor, Factor, FirstUse};
use crate::app::assertion::{Method, Proof};
use crate::audit::{self, Action, Event};
use crate::db::models::{DeviceRow, SecurityKeyRow};
use crate::db::security_keys as sk;
use crate::error::Error;
use crate::factor::kind::DeviceKind;
use crate::factor::webauthn::{aaguid_of, challenge_of};

pub use self::enroll::{Enrolled, Enrollment, challenge, enroll};

pub struct SecurityKey;

/// What a browser's response looks like before any field is judged.
#[derive(serde::Deserialize)]
struct Shape {
    #[serde(rename = "type")]
    kind: String,
    #[expect(
        dead_code,
        reason = "required, so that a bare object is not taken for a response"
    )]
    id: String,
    #[expect(
        dead_code,
        reason = "required, so that a bare object is not taken for a response"
    )]
    response: serde_json::Map<String, serde_json::Value>,
}

impl Factor for SecurityKey {
    fn method(&self) -> Method {
        Method::Webauthn
    }

    fn kind(&self) -> Option<DeviceKind> {
        Some(DeviceKind::Webauthn)
    }

    fn shape(&self, presented: &str) -> Option<String> {
        if !presented.trim_start().starts_with('{') {
            return None;
        }
        let shape: Shape = serde_json::from_str(presented).ok()?;
        (shape.kind == "public-key").then(|| presented.to_string())
    }

    fn check<'a>(
        &'a self,
        cx: &'a Context<'a>,
        devices: &'a [DeviceRow],
        value: &'a str,
    ) -> LocalBoxFuture<'a, Result<Checked, Error>> {
        Box::pin(check(cx, devices, value))
    }
}

async fn check(cx: &Context<'_>, devices: &[DeviceRow], value: &str) -> Result<Checked, Error> {
    let Ok(response) = serde_json::from_str::<PublicKeyCredential>(value) else {
        return Ok(Checked::NoMatch);
    };
    let Some(challenge) = challenge_of(&response.response.client_data_json) else {
        return Ok(Checked::NoMatch);
    };
    // Taken before anything else is judged: a response is answered once, right or wrong.
    let Some(stored) = ceremony::take_sign_in(cx.state, cx.subject, &challenge).await? else {
        return Ok(Checked::NoMatch);
    };
    let (tenant, credential_id) = (
        cx.subject.tenant.clone(),
        URL_SAFE_NO_PAD.encode(&response.raw_id),
    );
    let key = cx
        .state
        .db
        .run(move |c| sk::find_active(c, &tenant, &credential_id))
        .await?;
    // Only a key among the active devices verify loaded: the user's own (or the one named).
    let Some((key, device)) =
        key.and_then(|k| devices.iter().find(|d| d.id == k.device_id).map(|d| (k, d)))
    else {
        return Ok(Checked::NoMatch);
    };
    let refused = Checked::Refused {
        device_id: device.id.clone(),
    };
    // A key seen cloned stays refused until an admin revokes it: which copy answers is unknown,
    // and the one that moved the counter ahead may be the attacker's.
    if key.clone_detected_at.is_some() {
        return Ok(refused);
    }
    let seen = device.last_step;
    let wa = rp::webauthn(
        &stored.rp,
        cx.state.config.totp.issuer_for(&cx.subject.tenant),
    )?;
    let result = match &stored.state {
        Authentication::Key(s) => wa.finish_securitykey_authentication(&response, s),
        Authentication::Passkey(s) => wa.finish_passkey_authentication(&response, s),
    };
    let result = match result {
        Ok(r) => r,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            cloned(cx, &device.id, seen).await?;
            return Ok(refused);
        }
        Err(e) => {
            tracing::info!(device = %device.id, error = %e, "security key response refused");
            return Ok(refused);
        }
    };
    let counter = i64::from(result.counter());
    // webauthn-rs judged the counter against the one stored when the challenge was made (and
    // called a regression a clone above). A use accepted since then may have moved it past this
    // one: two challenges answered out of order. That response is stale, not a clone; refused,
    // not marked.
    if (counter > 0 || seen > 0) && counter <= seen {
        return Ok(refused);
    }
    let (id, at) = (device.id.clone(), cx.now.naive_utc());
    let accepted = cx
        .state
        .db
        .run_batched(move |c| sk::accept_counter(c, &id, seen, counter, at))
        .await?;
    Ok(if accepted {
        Checked::Accepted {
            device_id: Some(device.id.clone()),
            proof: Proof {
                user_verified: result.user_verified(),
                // A backup-eligible (synced) credential is a software-secured key.
                hardware: !result.backup_eligible(),
            },
        }
    } else {
        refused
    })
}

/// A signature counter that did not increase: the key was copied, or is broken. The check is
/// refused, the key marked for admins, and the event audited.
async fn cloned(cx: &Context<'_>, device: &str, stored: i64) -> Result<(), Error> {
    let (id, at) = (device.to_string(), cx.now.naive_utc());
    let first = cx.state.db.run(move |c| sk::mark_clone(c, &id, at)).await?;
    tracing::warn!(tenant = %cx.subject.tenant, device, first, "security key counter went backwards: possibly cloned");
    let event = Event::new(
        &cx.subject.tenant,
        Action::SecurityKeyCloneDetected,
        cx.caller.actor.clone(),
    )
    .user(&cx.subject.user)
    .device(device)
    .outcome(audit::Outcome::Failure)
    .ip(cx.caller.ip.clone())
    .detail(serde_json::json!({"stored_counter": stored}));
    cx.state.audit.send(cx.now, event).await;
    Ok(())
}

impl DeviceFactor for SecurityKey {
    fn first_use<'a>(
        &'a self,
        cx: &'a Context<'a>,
        device: &'a DeviceRow,
        value: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<FirstUse>, Error>> {
        Box::pin(register(cx, device, value))
    }
}

/// Finishes a registration: the response to the options the pending device was made with.
async fn register(
    cx: &Context<'_>,
    device: &DeviceRow,
    value: &str,
) -> Result<Option<FirstUse>, Error> {
    let Ok(response) = serde_json::from_str::<RegisterPublicKeyCredential>(value) else {
        return Ok(None);
    };
    let Some(stored) = ceremony::take_registration(cx.state, cx.subject, &device.id).await? else {
        return Ok(None);
    };
    let tenant = &cx.subject.tenant;
    let wa = rp::webauthn(&stored.rp, cx.state.config.totp.issuer_for(tenant))?;
    let finished: Result<Credential, WebauthnError> = match &stored.state {
        Registration::Key(s) => wa
            .finish_securitykey_registration(&response, s)
            .map(Into::into),
        Registration::Passkey(s) => wa.finish_passkey_registration(&response, s).map(Into::into),
        Registration::Attested(s) => wa
            .finish_attested_passkey_registration(&response, s)
            .map(Into::into),
    };
    let credential = match finished {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(device = %device.id, error = %e, "security key registration refused");
            return Ok(None);
        }
    };
    // An attested AAGUID if there is one, else the authenticator's own claim.
    let aaguid = match &credential.attestation.metadata {
        AttestationMetadata::Packed { aaguid } | AttestationMetadata::Tpm { aaguid, .. } => {
            Some(aaguid.hyphenated().to_string())
        }
        _ => aaguid_of(&response.response.attestation_object),
    };
    let policy = cx.state.config.webauthn.policy_for(tenant);
    let model = aaguid.as_ref().and_then(|a| policy.aaguids.get(a)).cloned();
    if !policy.aaguids.is_empty() && model.is_none() {
        tracing::info!(device = %device.id, aaguid = ?aaguid, "security key model not allowed for the tenant");
        return Ok(None);
    }
    let key = SecurityKeyRow {
        device_id: device.id.clone(),
        tenant: tenant.clone(),
        credential_id: URL_SAFE_NO_PAD.encode(&credential.cred_id),
        rp_id: stored.rp.id,
        credential: serde_json::to_string(&credential).map_err(Error::internal)?,
        aaguid,
        model,
        user_verified: credential.user_verified,
        clone_detected_at: None,
    };
    Ok(Some(FirstUse {
        step: i64::from(credential.counter),
        proof: Proof {
            user_verified: credential.user_verified,
            hardware: !credential.backup_eligible,
        },
        key: Some(key),
    }))
}
