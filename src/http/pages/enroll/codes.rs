//! Recovery codes on the enroll page: made at once for a user who has none, offered (as a new
//! set) to one who has, shown large with a text-file download, and kept (sealed, in the flow)
//! until the user says they saved them.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::super::words::Words;
use super::super::{Flow, PageError, posted};
use super::again;
use crate::app::assertion::Method;
use crate::app::links::{self, Purpose};
use crate::app::state::AppState;
use crate::app::users::Caller;
use crate::error::Error;
use crate::factor::kind::DeviceKind;

/// The associated data of the sealed codes: they open in this flow only.
fn aad(flow: &Flow) -> Vec<u8> {
    format!("page-recovery-codes:{}", flow.claims.nonce).into_bytes()
}

/// The codes on show in this flow, if any.
pub(super) fn shown(state: &AppState, flow: &Flow) -> Result<Vec<String>, PageError> {
    let Some(sealed) = &flow.codes_sealed else {
        return Ok(vec![]);
    };
    let (key_id, data) = sealed
        .split_once(':')
        .ok_or_else(|| Error::internal("sealed recovery codes without a key id"))?;
    let data = URL_SAFE_NO_PAD.decode(data).map_err(Error::internal)?;
    let plain = state
        .keys
        .open(key_id, &data, &aad(flow))
        .map_err(Error::internal)?;
    Ok(serde_json::from_slice(&plain).map_err(Error::internal)?)
}

fn keep(state: &AppState, flow: &mut Flow, codes: &[String]) -> Result<(), PageError> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(codes).map_err(Error::internal)?);
    let sealed = state
        .keys
        .seal(&plain, &aad(flow))
        .map_err(Error::internal)?;
    flow.codes_sealed = Some(format!(
        "{}:{}",
        state.keys.key_id(),
        URL_SAFE_NO_PAD.encode(sealed)
    ));
    flow.codes_made = true;
    Ok(())
}

/// The codes as a `.txt` file behind a `data:` link: a heading naming the site, one code a line.
pub(super) fn download(t: &Words, codes: &[String]) -> String {
    let mut text = t.site("recovery-file-heading");
    text.push_str("\r\n\r\n");
    for c in codes {
        text.push_str(c);
        text.push_str("\r\n");
    }
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        // form encoding writes spaces as `+`, which a data: URL keeps as a plus sign.
        .replace('+', "%20");
    format!("data:text/plain;charset=utf-8,{encoded}")
}

/// A set for the user's first device: made with the device's own fresh assertion as the step-up
/// (SEC-7) when the user has no codes yet; one who has keeps theirs (a new set replaces them,
/// so it is only offered). Called once the confirmed device is saved in the flow: a failure
/// here is logged and leaves the set on offer, never the enrolment half done.
pub(super) async fn first_set(state: &AppState, caller: &Caller, flow: &mut Flow) {
    let made = async {
        let subject = flow.subject()?;
        let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
        let remaining = state
            .db
            .run(move |c| crate::db::recovery_codes::remaining(c, &tenant, &user))
            .await
            .map_err(Error::from)?;
        if remaining > 0 {
            return Ok::<(), PageError>(());
        }
        make(state, caller, flow).await?;
        flow.save(state).await?;
        Ok(())
    };
    if let Err(e) = made.await {
        tracing::warn!(error = %e, "first recovery codes not made; they stay on offer");
    }
}

async fn make(state: &AppState, caller: &Caller, flow: &mut Flow) -> Result<(), PageError> {
    // One set per flow, even under a double click: the second post must not void the first set.
    let once = format!("flowcodes:{{{}}}", flow.claims.nonce);
    let ttl = links::VALID_FOR.to_std().map_err(Error::internal)?;
    if !state
        .store
        .consume_once(&once, ttl)
        .await
        .map_err(Error::from)?
    {
        return Ok(());
    }
    let subject = flow.subject()?;
    // Its own assertion for the step-up a new set needs: the one for the relying party stays
    // unused (it may want it as a step-up of its own).
    let (device, method) = match &flow.device {
        Some((id, kind)) if kind == DeviceKind::Sms.as_str() => (id.clone(), Method::Sms),
        Some((id, kind)) if kind == DeviceKind::Webauthn.as_str() => (id.clone(), Method::Webauthn),
        Some((id, kind)) if kind == DeviceKind::Hotp.as_str() => (id.clone(), Method::Hotp),
        Some((id, kind)) if kind == DeviceKind::Yubico.as_str() => (id.clone(), Method::YubicoOtp),
        Some((id, _)) => (id.clone(), Method::Totp),
        None => return Ok(()),
    };
    let issued = state
        .assertions
        .issue(
            state.clock.now(),
            &subject.tenant,
            &subject.user,
            Some(&device),
            method,
        )
        .map_err(Error::from);
    let step_up = match issued {
        Ok(s) => s,
        Err(e) => {
            state.store.delete(&once).await.map_err(Error::from)?;
            return Err(e.into());
        }
    };
    let made = crate::app::factors::recovery::create(state, &subject, caller, Some(&step_up));
    match made.await {
        Ok(codes) => keep(state, flow, &codes),
        Err(e) => {
            // Not made: the offer stays open for another try.
            state.store.delete(&once).await.map_err(Error::from)?;
            Err(e.into())
        }
    }
}

/// "Make new recovery codes", for a user who had some: shown on the page it leads back to.
pub(super) async fn recovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.assertion.is_some() && !flow.codes_made {
        let caller = flow.caller(&req, &state);
        make(&state, &caller, &mut flow).await?;
        flow.save(&state).await?;
    }
    again(&state, &req, &token, &flow, None).await
}
