//! The audit trail: who did what to which account, when, from where, and how it ended.
//!
//! Changes are recorded in the same transaction as the change itself ([`record`] takes the
//! transaction's connection), so an event exists exactly when its change does. Events never hold a
//! secret: no code, key, seed or full phone number.

use chrono::{DateTime, Utc};

use crate::db::models::NewAuditEvent;
use crate::db::{DbConnection, DbError};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A relying party or admin calling the API with this key id.
    ApiKey(String),
    /// An operator at the command line.
    Cli,
    /// twofold itself (start-up bootstrap, expiry).
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ApiKeyCreated,
    ApiKeyRevoked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ApiKeyCreated => "api_key_created",
            Action::ApiKeyRevoked => "api_key_revoked",
        }
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

/// Writes the event with the connection (and so inside the transaction) of the change it records.
pub fn record(conn: &mut DbConnection, at: DateTime<Utc>, event: Event) -> Result<(), DbError> {
    crate::db::audit::insert(
        conn,
        &NewAuditEvent {
            at: at.naive_utc(),
            tenant: event.tenant,
            user_id: event.user,
            device_id: event.device,
            action: event.action.as_str().to_string(),
            outcome: event.outcome.as_str().to_string(),
            actor: event.actor.to_string(),
            ip: event.ip,
            detail: event.detail.map(|d| d.to_string()),
        },
    )
}
