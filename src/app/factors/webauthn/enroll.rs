//! Starting the two ceremonies: registering a security key (a pending device and the options
//! for `navigator.credentials.create`) and signing in with one (the options for
//! `navigator.credentials.get`, listing the user's active keys for that RP ID).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use webauthn_rs::prelude::{
    AttestationCaList, AttestationCaListBuilder, Credential, Passkey, SecurityKey, Uuid,
};

use super::ceremony::{self, Authentication, Registration};
use super::rp::{self, Rp};
use crate::app::devices::{self, Device, PENDING_FOR};
use crate::app::state::AppState;
use crate::app::step_up::Purpose;
use crate::app::users::{Caller, Subject};
use crate::config::WebauthnPolicy;
use crate::crypto;
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::db::security_keys as sk;
use crate::error::Error;
use crate::factor::kind::DeviceKind;

/// What a registration asks for.
#[derive(Debug)]
pub struct Enrollment {
    pub label: Option<String>,
    /// The name the authenticator may show for the account; default: the user id.
    pub display_name: Option<String>,
    pub step_up: Option<String>,
    pub rp: Rp,
}

#[derive(Debug)]
pub struct Enrolled {
    pub device: Device,
    /// `{publicKey: …}` for `navigator.credentials.create`.
    pub options: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

const DEFAULT_LABEL: &str = "Security key";
/// The longest display name: authenticators show a line of it.
const MAX_DISPLAY_NAME_CHARS: usize = 64;

/// The user handle a key stores: derived under the master key, so it names no user to whoever
/// reads the key, and the same for every key of the user.
fn user_handle(state: &AppState, subject: &Subject) -> Result<Uuid, Error> {
    let digest = state.keys.hash(
        "webauthn-user-handle",
        format!("{}/{}", subject.tenant, subject.user).as_bytes(),
    );
    let bytes: [u8; 16] = digest
        .get(..16)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::internal("a keyed hash shorter than 16 bytes"))?;
    Ok(Uuid::from_bytes(bytes))
}

/// The CA crate's error has no `std::error::Error`; its debug form names the cause.
fn ca_error(e: impl std::fmt::Debug) -> Error {
    Error::internal(format!("attestation CA: {e:?}"))
}

/// The tenant's attestation CAs, each restricted to the allowed AAGUIDs when there are any.
pub fn ca_list(policy: &WebauthnPolicy) -> Result<Option<AttestationCaList>, Error> {
    if policy.attestation_cas.is_empty() {
        return Ok(None);
    }
    if policy.aaguids.is_empty() {
        let mut list = AttestationCaList::default();
        for pem in &policy.attestation_cas {
            list.union(&AttestationCaList::try_from(&pem[..]).map_err(ca_error)?);
        }
        return Ok(Some(list));
    }
    let mut builder = AttestationCaListBuilder::new();
    for pem in &policy.attestation_cas {
        for (aaguid, model) in &policy.aaguids {
            let id = Uuid::parse_str(aaguid).map_err(Error::internal)?;
            builder
                .insert_device_pem(pem, id, model.clone(), Default::default())
                .map_err(ca_error)?;
        }
    }
    Ok(Some(builder.build()))
}

/// The first of "Security key", "Security key 2", … that none of the user's devices bears.
async fn free_label(state: &AppState, subject: &Subject) -> Result<String, Error> {
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let now = state.clock.now().naive_utc();
    let taken: Vec<String> = state
        .db
        .run(move |c| {
            let rows = q::list(c, &tenant, &user, &[q::ACTIVE, q::PENDING])?;
            Ok(rows
                .into_iter()
                .filter(|r| r.status == q::ACTIVE || r.expires_at.is_some_and(|e| e > now))
                .map(|r| r.label)
                .collect())
        })
        .await?;
    Ok((1..)
        .map(|n| match n {
            1 => DEFAULT_LABEL.to_string(),
            n => format!("{DEFAULT_LABEL} {n}"),
        })
        .find(|l| !taken.contains(l))
        .unwrap_or_else(|| DEFAULT_LABEL.to_string()))
}

/// Starts registering a security key: a pending device, and the options the browser passes to
/// `navigator.credentials.create`. The user's keys are excluded, so one key is not registered
/// twice.
pub async fn enroll(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: Enrollment,
) -> Result<Enrolled, Error> {
    // A user id may hold up to 128 characters, all printable: its first 64 stand in.
    let display = req
        .display_name
        .unwrap_or_else(|| subject.user.chars().take(MAX_DISPLAY_NAME_CHARS).collect());
    let chars = display.chars().count();
    if chars == 0
        || chars > MAX_DISPLAY_NAME_CHARS
        || !crate::factor::text::is_displayable(&display)
    {
        return Err(Error::InvalidRequest(
            "body field `display_name`: expected 1 to 64 printable characters".into(),
        ));
    }
    let label = match req.label {
        Some(l) => l,
        None => free_label(state, subject).await?,
    };
    let now = state.clock.now();
    let step_up = devices::admit(
        state,
        subject,
        caller,
        &label,
        req.step_up.as_deref(),
        Purpose::AddSecurityKey,
        now,
    )
    .await?;
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let held = state
        .db
        .run(move |c| sk::held_by_user(c, &tenant, &user))
        .await?;
    let exclude: Vec<_> = held
        .iter()
        .filter_map(|id| URL_SAFE_NO_PAD.decode(id).ok())
        .collect();
    let exclude = (!exclude.is_empty()).then_some(exclude);
    let policy = state.config.webauthn.policy_for(&subject.tenant);
    let wa = rp::webauthn(&req.rp, state.config.totp.issuer_for(&subject.tenant))?;
    let handle = user_handle(state, subject)?;
    let cas = ca_list(policy)?;
    let (mut options, registration) = match (policy.user_verification_required, cas) {
        (false, cas) => wa
            .start_securitykey_registration(handle, &subject.user, &display, exclude, cas, None)
            .map(|(o, s)| (o, Registration::Key(s))),
        (true, None) => wa
            .start_passkey_registration(handle, &subject.user, &display, exclude)
            .map(|(o, s)| (o, Registration::Passkey(s))),
        (true, Some(cas)) => wa
            .start_attested_passkey_registration(
                handle,
                &subject.user,
                &display,
                exclude,
                cas,
                None,
            )
            .map(|(o, s)| (o, Registration::Attested(s))),
    }
    .map_err(Error::internal)?;
    // webauthn-rs asks security keys for credProtect "userVerificationRequired" beside
    // user verification "preferred"; Chromium refuses that pair outright ("protection policy is
    // inconsistent", webauthn-rs issue 490), so no Chromium browser could register a key. The
    // extension is not enforced, so it goes: the ceremony state never relies on it.
    if !policy.user_verification_required
        && let Some(ext) = options.public_key.extensions.as_mut()
    {
        ext.cred_protect = None;
    }
    let mut options = serde_json::to_value(&options).map_err(Error::internal)?;
    // An AAGUID allow-list without CAs judges the model the authenticator states: ask for its
    // attestation, or browsers blank the AAGUID and every registration would be refused.
    if !policy.aaguids.is_empty() && policy.attestation_cas.is_empty() {
        options["publicKey"]["attestation"] = serde_json::json!("direct");
    }

    let id = crypto::random_id().map_err(Error::internal)?;
    let row = DeviceRow {
        id,
        tenant: subject.tenant.clone(),
        user_id: subject.user.clone(),
        kind: DeviceKind::Webauthn.as_str().into(),
        label,
        status: q::PENDING.into(),
        secret_sealed: None,
        key_id: None,
        algorithm: String::new(),
        digits: 0,
        period: 0,
        phone: None,
        last_step: -1,
        step_up,
        created_at: now.naive_utc(),
        expires_at: Some((now + PENDING_FOR).naive_utc()),
        confirmed_at: None,
        last_used_at: None,
        revoked_at: None,
        account_name: None,
        token_serial: None,
        public_id: None,
    };
    let detail = serde_json::json!({"kind": DeviceKind::Webauthn, "rp_id": req.rp.id,
                                    "user_verification_required": policy.user_verification_required});
    devices::insert_pending(state, caller, &row, now, detail).await?;
    let ttl = PENDING_FOR.to_std().map_err(Error::internal)?;
    ceremony::put_registration(state, subject, &row.id, &req.rp, registration, ttl).await?;
    Ok(Enrolled {
        device: Device::try_from(&row)?,
        options,
        expires_at: now + PENDING_FOR,
    })
}

/// A stored credential, with the counter its device holds now.
pub fn credential_of(json: &str, counter: i64) -> Result<Credential, Error> {
    let mut cred: Credential = serde_json::from_str(json).map_err(Error::internal)?;
    cred.counter = u32::try_from(counter.max(0)).map_err(Error::internal)?;
    Ok(cred)
}

/// Challenges one user may be given per [`ceremony::SIGN_IN_FOR`]: each is a store key for that
/// long, so a caller asking in a loop (a page reloaded by a script) is stopped well before the
/// store notices, while a person retrying a cancelled prompt never is.
const CHALLENGES_PER_WINDOW: u64 = 30;

/// Starts a sign-in: the options for `navigator.credentials.get`, listing the user's active keys
/// of this RP ID (or the one named). Not found when there is none.
pub async fn challenge(
    state: &AppState,
    subject: &Subject,
    rp: Rp,
    device_id: Option<String>,
) -> Result<serde_json::Value, Error> {
    let key = format!("webauthn:challenges:{}/{}", subject.tenant, subject.user);
    let hit = state
        .store
        .hit(&key, CHALLENGES_PER_WINDOW, ceremony::SIGN_IN_FOR)
        .await?;
    if !hit.allowed {
        return Err(Error::RateLimited {
            retry_after_secs: hit.resets_in.as_secs().max(1),
        });
    }
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let rp_id = rp.id.clone();
    let named_ok = device_id.as_deref().is_none_or(crypto::is_random_id);
    let creds = if named_ok {
        state
            .db
            .run(move |c| {
                let rows: Vec<DeviceRow> = q::active(c, &tenant, &user, device_id.as_deref())?
                    .into_iter()
                    .filter(|r| r.is(DeviceKind::Webauthn))
                    .collect();
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                let keys = sk::of_devices(c, &ids)?;
                Ok(rows
                    .into_iter()
                    .filter_map(|r| {
                        keys.iter()
                            .find(|k| k.device_id == r.id && k.rp_id == rp_id)
                            .map(|k| (k.credential.clone(), r.last_step))
                    })
                    .collect::<Vec<_>>())
            })
            .await?
    } else {
        Vec::new()
    };
    if creds.is_empty() {
        return Err(Error::NotFound);
    }
    let creds = creds
        .iter()
        .map(|(json, counter)| credential_of(json, *counter))
        .collect::<Result<Vec<_>, _>>()?;
    let policy = state.config.webauthn.policy_for(&subject.tenant);
    let wa = rp::webauthn(&rp, state.config.totp.issuer_for(&subject.tenant))?;
    let (options, auth) = if policy.user_verification_required {
        let keys: Vec<Passkey> = creds.into_iter().map(Passkey::from).collect();
        wa.start_passkey_authentication(&keys)
            .map(|(o, s)| (o, Authentication::Passkey(s)))
    } else {
        let keys: Vec<SecurityKey> = creds.into_iter().map(SecurityKey::from).collect();
        wa.start_securitykey_authentication(&keys)
            .map(|(o, s)| (o, Authentication::Key(s)))
    }
    .map_err(Error::internal)?;
    let challenge = URL_SAFE_NO_PAD.encode(&options.public_key.challenge);
    ceremony::put_sign_in(state, subject, &challenge, &rp, auth).await?;
    serde_json::to_value(&options).map_err(Error::internal)
}
