//! Security keys (WebAuthn): the RP ID of the hosted pages and the policy per tenant.
//!
//! `webauthn_rp_id` may name a registrable parent domain of the public host (a credential made
//! on `mfa.example.com` under RP ID `example.com` also works on `login.example.com`); it must
//! be the host itself or a suffix of it at a label boundary. `webauthn_user_verification` is the
//! default policy (`preferred` or `required`); `webauthn_policies` (a table in `twofold.toml`)
//! overrides it per tenant and may restrict which authenticators register:
//!
//! ```toml
//! [webauthn_policies.bank]
//! user_verification = "required"
//! attestation_ca_files = ["/etc/twofold/yubico-u2f-root.pem"]
//! aaguids = { "cb69481e-8ff7-4039-93ec-0a2729a154a8" = "YubiKey 5 Series" }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{AttestationCaList, Uuid};

use super::RawConfig;
use super::problems::{Problem, Problems};
use crate::factor::webauthn::rp_id_covers;

/// One tenant's policy as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebauthnPolicy {
    #[serde(default)]
    pub user_verification: Option<String>,
    /// PEM files of the CA certificates an authenticator's attestation must chain to.
    #[serde(default)]
    pub attestation_ca_files: Vec<PathBuf>,
    /// Authenticator models (AAGUID = name) allowed to register; empty: any.
    #[serde(default)]
    pub aaguids: BTreeMap<String, String>,
}

/// What a tenant's security keys must be.
#[derive(Debug, Clone, Default)]
pub struct WebauthnPolicy {
    /// The authenticator must verify the user (PIN or biometric) at registration and every use.
    pub user_verification_required: bool,
    /// PEM certificates; non-empty: registration asks for attestation and refuses a key whose
    /// attestation does not chain to one of them.
    pub attestation_cas: Vec<Vec<u8>>,
    /// Allowed AAGUIDs (lowercase, hyphenated) and their model names; empty: any.
    pub aaguids: BTreeMap<String, String>,
}

/// The validated WebAuthn settings.
#[derive(Debug, Clone, Default)]
pub struct WebauthnSettings {
    /// The hosted pages' RP ID; `None`: the public host.
    pub rp_id: Option<String>,
    pub default: WebauthnPolicy,
    pub tenants: BTreeMap<String, WebauthnPolicy>,
}

impl WebauthnSettings {
    pub fn policy_for(&self, tenant: &str) -> &WebauthnPolicy {
        self.tenants.get(tenant).unwrap_or(&self.default)
    }
}

fn user_verification(key: &'static str, value: &str) -> Result<bool, Problem> {
    match value.trim() {
        "preferred" => Ok(false),
        "required" => Ok(true),
        other => Err(Problem::refused(
            key,
            format!("expects `preferred` or `required`, not `{other}`"),
        )),
    }
}

impl RawConfig {
    pub(super) fn webauthn(
        &self,
        public_host: Option<&str>,
        problems: &mut Problems,
    ) -> WebauthnSettings {
        let mut settings = WebauthnSettings::default();
        if let Some(rp_id) = &self.webauthn_rp_id {
            let rp_id = rp_id.trim().to_ascii_lowercase();
            match public_host {
                None => problems.refuse(
                    "webauthn_rp_id",
                    "needs TWOFOLD_PUBLIC_URL: the RP ID must be that host or a parent domain of it",
                ),
                Some(host) if !rp_id_covers(&rp_id, host) => problems.refuse(
                    "webauthn_rp_id",
                    format!(
                        "`{rp_id}` is not the public host `{host}` nor a parent domain of it"
                    ),
                ),
                Some(_) => settings.rp_id = Some(rp_id),
            }
        }
        if let Some(required) = problems.take(user_verification(
            "webauthn_user_verification",
            &self.webauthn_user_verification,
        )) {
            settings.default.user_verification_required = required;
        }
        for (tenant, raw) in self.webauthn_policies.iter().flatten() {
            let mut policy = settings.default.clone();
            if let Some(uv) = &raw.user_verification
                && let Some(required) = problems.take(user_verification("webauthn_policies", uv))
            {
                policy.user_verification_required = required;
            }
            for file in &raw.attestation_ca_files {
                match std::fs::read(file) {
                    Ok(pem) if AttestationCaList::try_from(&pem[..]).is_ok() => {
                        policy.attestation_cas.push(pem);
                    }
                    Ok(_) => problems.refuse(
                        "webauthn_policies",
                        format!(
                            "tenant `{tenant}`: {} is not a PEM CA certificate",
                            file.display()
                        ),
                    ),
                    Err(e) => problems.refuse(
                        "webauthn_policies",
                        format!("tenant `{tenant}`: cannot read {}: {e}", file.display()),
                    ),
                }
            }
            for (aaguid, model) in &raw.aaguids {
                match Uuid::parse_str(aaguid.trim()) {
                    Ok(id) => {
                        policy
                            .aaguids
                            .insert(id.hyphenated().to_string(), model.trim().to_string());
                    }
                    Err(_) => problems.refuse(
                        "webauthn_policies",
                        format!("tenant `{tenant}`: `{aaguid}` is not an AAGUID (a UUID)"),
                    ),
                }
            }
            settings.tenants.insert(tenant.clone(), policy);
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_checked_and_fall_back_to_the_default() {
        let mut raw = RawConfig {
            webauthn_user_verification: "required".into(),
            ..RawConfig::default()
        };
        let mut policies = BTreeMap::new();
        policies.insert(
            "shop".to_string(),
            RawWebauthnPolicy {
                user_verification: Some("preferred".into()),
                aaguids: [(
                    "CB69481E-8FF7-4039-93EC-0A2729A154A8".to_string(),
                    "YubiKey 5".to_string(),
                )]
                .into(),
                ..RawWebauthnPolicy::default()
            },
        );
        raw.webauthn_policies = Some(policies);
        let mut problems = Problems::default();
        let s = raw.webauthn(Some("mfa.example.com"), &mut problems);
        assert!(problems.finish(Some(())).is_ok());
        assert!(s.policy_for("other").user_verification_required);
        let shop = s.policy_for("shop");
        assert!(!shop.user_verification_required);
        assert_eq!(
            shop.aaguids.get("cb69481e-8ff7-4039-93ec-0a2729a154a8"),
            Some(&"YubiKey 5".to_string())
        );

        raw.webauthn_user_verification = "sometimes".into();
        raw.webauthn_rp_id = Some("other.com".into());
        let mut problems = Problems::default();
        let _ = raw.webauthn(Some("mfa.example.com"), &mut problems);
        let text = problems.finish(Some(())).unwrap_err().to_string();
        assert!(text.contains("`sometimes`"), "{text}");
        assert!(text.contains("not the public host"), "{text}");
    }
}
