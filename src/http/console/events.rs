//! Audit events as the user and audit pages list them, each coloured by what it means: the
//! outcome field alone painted a lockout green (`user_locked` is written as a success).

use super::{link, when};
use crate::audit::Action;

pub struct EventView {
    pub at: String,
    pub tenant: String,
    pub user: String,
    pub user_href: Option<String>,
    pub device: String,
    pub action: String,
    /// `bad`, `ok` or `neutral`: the class of the action's label.
    pub tone: &'static str,
    pub outcome: String,
    pub actor: String,
    pub ip: String,
}

impl EventView {
    pub fn from(e: crate::audit::check::ExportedEvent) -> EventView {
        EventView {
            at: when(e.at),
            user_href: e
                .user
                .as_ref()
                .map(|u| super::users::user_href(&e.tenant, u)),
            tone: tone(&e.action, &e.outcome),
            tenant: e.tenant,
            user: e.user.unwrap_or_default(),
            device: e.device.unwrap_or_default(),
            action: e.action,
            outcome: e.outcome,
            actor: e.actor,
            ip: e.ip.unwrap_or_default(),
        }
    }
}

/// What an event means to an admin: `bad` for what needs a look (a failure of any kind, a lock,
/// a refusal, a replay, a revocation, a possibly cloned key), `ok` for a factor gained or a
/// sign-in that worked, `neutral` for the rest.
pub fn tone(action: &str, outcome: &str) -> &'static str {
    if outcome == "failure" {
        return "bad";
    }
    let Ok(action) = action.parse::<Action>() else {
        return "neutral";
    };
    match action {
        Action::UserLocked
        | Action::AttemptRefused
        | Action::VerifyFailed
        | Action::Replay
        | Action::DeviceRevoked
        | Action::ApiKeyRevoked
        | Action::TokenRevoked
        | Action::SecurityKeyCloneDetected => "bad",
        Action::DeviceEnrolled
        | Action::DeviceConfirmed
        | Action::VerifySucceeded
        | Action::RecoveryCodeUsed
        | Action::TokenAssigned
        | Action::TokenClaimed
        | Action::DeviceResynced => "ok",
        Action::ApiKeyCreated
        | Action::UserUnlocked
        | Action::RecoveryCodesCreated
        | Action::SigningKeyRotated
        | Action::MasterKeyRewrapped
        | Action::SmsSent
        | Action::SmsBreakerReset
        | Action::AdminRequest
        | Action::AdminLogin
        | Action::AdminLogout
        | Action::DevicesImported
        | Action::TokensImported
        | Action::TokenUnassigned => "neutral",
    }
}

/// The audit page's link to the events of one user.
pub fn audit_href(tenant: &str, user: &str) -> String {
    link("/admin/audit", &[("tenant", tenant), ("user", user)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_revocations_and_clones_are_bad_whatever_the_outcome_says() {
        for action in [
            "user_locked",
            "attempt_refused",
            "verify_failed",
            "replay",
            "device_revoked",
            "api_key_revoked",
            "token_revoked",
            "security_key_clone_detected",
        ] {
            assert_eq!(tone(action, "success"), "bad", "{action}");
        }
    }

    #[test]
    fn factors_gained_and_sign_ins_that_worked_are_ok() {
        for action in [
            "device_enrolled",
            "device_confirmed",
            "verify_succeeded",
            "token_claimed",
        ] {
            assert_eq!(tone(action, "success"), "ok", "{action}");
        }
    }

    #[test]
    fn any_failure_is_bad_and_the_rest_is_neutral() {
        assert_eq!(tone("admin_login", "failure"), "bad");
        assert_eq!(tone("device_resynced", "failure"), "bad");
        assert_eq!(tone("admin_login", "success"), "neutral");
        assert_eq!(tone("sms_sent", "success"), "neutral");
        assert_eq!(tone("an_action_of_a_later_version", "success"), "neutral");
    }
}
