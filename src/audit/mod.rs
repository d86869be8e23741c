//! The audit trail: who did what to which account, when, from where, and how it ended.
//!
//! Changes are recorded in the same transaction as the change itself ([`Stream::record`] takes the
//! transaction's connection), so an event exists exactly when its change does. High-volume outcomes
//! (verify succeeded or failed) go through the [`Writer`], which batches them in the background so
//! the verify path pays no extra database round trip. Events never hold a secret: no code, key,
//! seed or full phone number.
//!
//! Tamper evidence ([`chain`]): each process appends to a stream of its own, every event hashed
//! over its predecessor in that stream; [`check`] walks the chains (`twofold audit verify`) and
//! writes them out for a SIEM (`twofold audit export`); [`legacy`] sealed the events from before
//! the chain into one, on upgrade.

pub mod chain;
pub mod check;
pub mod legacy;
mod writer;

use chrono::{DateTime, SubsecRound, Utc};

use crate::db::models::NewAuditEvent;

pub use self::chain::Stream;
pub use self::writer::Writer;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A relying party or admin calling the API with this key id.
    ApiKey(String),
    /// An admin signed in to the `/admin` console with this admin key id.
    Console(String),
    /// An operator at the command line.
    Cli,
    /// twofold itself (start-up bootstrap, expiry).
    System,
    /// Someone who presented no valid credential (a refused console sign-in).
    Anonymous,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
            Actor::Console(id) => write!(f, "console:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ApiKeyCreated,
    ApiKeyRevoked,
    DeviceEnrolled,
    DeviceConfirmed,
    DeviceRevoked,
    VerifySucceeded,
    VerifyFailed,
    /// A code that was right once but is being used again (SEC-9).
    Replay,
    UserLocked,
    /// An attempt at a code refused with 429 (a locked user, a limited address or API key); at
    /// most one per refusing counter and minute.
    AttemptRefused,
    UserUnlocked,
    RecoveryCodesCreated,
    RecoveryCodeUsed,
    SigningKeyRotated,
    MasterKeyRewrapped,
    SmsSent,
    SmsBreakerReset,
    /// An admin key called an admin route (SEC-33: API key use by admins).
    AdminRequest,
    /// Sign-in to the `/admin` console, succeeded or refused.
    AdminLogin,
    AdminLogout,
    /// TOTP seeds brought from another server (`twofold import`, `POST /v1/admin/import`): one
    /// event per tenant and import, with the count.
    DevicesImported,
    /// A security key's signature counter did not increase: a cloned key, or a broken one.
    SecurityKeyCloneDetected,
    /// Hardware tokens brought into the inventory (one event per file, with the batch).
    TokensImported,
    TokenAssigned,
    /// A user proved a code of an unassigned token and took it.
    TokenClaimed,
    TokenUnassigned,
    TokenRevoked,
    /// A HOTP token brought back in step with two consecutive codes.
    DeviceResynced,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ApiKeyCreated => "api_key_created",
            Action::ApiKeyRevoked => "api_key_revoked",
            Action::DeviceEnrolled => "device_enrolled",
            Action::DeviceConfirmed => "device_confirmed",
            Action::DeviceRevoked => "device_revoked",
            Action::VerifySucceeded => "verify_succeeded",
            Action::VerifyFailed => "verify_failed",
            Action::Replay => "replay",
            Action::UserLocked => "user_locked",
            Action::AttemptRefused => "attempt_refused",
            Action::UserUnlocked => "user_unlocked",
            Action::RecoveryCodesCreated => "recovery_codes_created",
            Action::RecoveryCodeUsed => "recovery_code_used",
            Action::SigningKeyRotated => "signing_key_rotated",
            Action::MasterKeyRewrapped => "master_key_rewrapped",
            Action::SmsSent => "sms_sent",
            Action::SmsBreakerReset => "sms_breaker_reset",
            Action::AdminRequest => "admin_request",
            Action::AdminLogin => "admin_login",
            Action::AdminLogout => "admin_logout",
            Action::DevicesImported => "devices_imported",
            Action::SecurityKeyCloneDetected => "security_key_clone_detected",
            Action::TokensImported => "tokens_imported",
            Action::TokenAssigned => "token_assigned",
            Action::TokenClaimed => "token_claimed",
            Action::TokenUnassigned => "token_unassigned",
            Action::TokenRevoked => "token_revoked",
            Action::DeviceResynced => "device_resynced",
        }
    }

    /// Every action, for filters and their validation.
    pub const ALL: [Action; 28] = [
        Action::ApiKeyCreated,
        Action::ApiKeyRevoked,
        Action::DeviceEnrolled,
        Action::DeviceConfirmed,
        Action::DeviceRevoked,
        Action::VerifySucceeded,
        Action::VerifyFailed,
        Action::Replay,
        Action::UserLocked,
        Action::AttemptRefused,
        Action::UserUnlocked,
        Action::RecoveryCodesCreated,
        Action::RecoveryCodeUsed,
        Action::SigningKeyRotated,
        Action::MasterKeyRewrapped,
        Action::SmsSent,
        Action::SmsBreakerReset,
        Action::AdminRequest,
        Action::AdminLogin,
        Action::AdminLogout,
        Action::DevicesImported,
        Action::SecurityKeyCloneDetected,
        Action::TokensImported,
        Action::TokenAssigned,
        Action::TokenClaimed,
        Action::TokenUnassigned,
        Action::TokenRevoked,
        Action::DeviceResynced,
    ];
}

impl std::str::FromStr for Action {
    type Err = ();
    fn from_str(s: &str) -> Result<Action, ()> {
        Action::ALL.into_iter().find(|a| a.as_str() == s).ok_or(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One event, before it is written.
#[derive(Debug, Clone)]
pub struct Event {
    pub tenant: String,
    pub user: Option<String>,
    pub device: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
    pub actor: Actor,
    pub ip: Option<String>,
    /// Extra facts as JSON (never a secret).
    pub detail: Option<serde_json::Value>,
}

impl Event {
    pub fn new(tenant: impl Into<String>, action: Action, actor: Actor) -> Event {
        Event {
            tenant: tenant.into(),
            user: None,
            device: None,
            action,
            outcome: Outcome::Success,
            actor,
            ip: None,
            detail: None,
        }
    }

    pub fn user(mut self, user: impl Into<String>) -> Event {
        self.user = Some(user.into());
        self
    }

    pub fn device(mut self, device: impl Into<String>) -> Event {
        self.device = Some(device.into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Event {
        self.outcome = outcome;
        self
    }

    pub fn ip(mut self, ip: Option<String>) -> Event {
        self.ip = ip;
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Event {
        self.detail = Some(detail);
        self
    }
}

/// The row of an event, not yet placed in a stream (the [`Stream`] fills in `stream`, `seq` and
/// `hash`). Times are kept to the microsecond, what both databases store, so the hash computed
/// now is the hash recomputed from the stored row later.
pub(crate) fn row(at: DateTime<Utc>, event: Event) -> NewAuditEvent {
    NewAuditEvent {
        at: at.naive_utc().trunc_subsecs(6),
        tenant: event.tenant,
        user_id: event.user,
        device_id: event.device,
        action: event.action.as_str().to_string(),
        outcome: event.outcome.as_str().to_string(),
        actor: event.actor.to_string(),
        ip: event.ip,
        detail: event.detail.map(|d| d.to_string()),
        stream: String::new(),
        seq: 0,
        hash: None,
    }
}
