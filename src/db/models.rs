//! Rows as diesel reads and writes them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::factor::kind::{DeviceKind, DeviceStatus, UnknownValue};

use super::schema::{api_keys, audit_events, devices, recovery_codes, security_keys, tokens};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub tenant: Option<String>,
    pub return_url_prefixes: String,
    pub key_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Newline-separated origins where the relying party runs WebAuthn ceremonies itself.
    pub webauthn_origins: String,
    /// The RP ID of those ceremonies; `None`: each origin's host.
    pub webauthn_rp_id: Option<String>,
    /// What its hosted pages call the site; `None`: the tenant's name.
    pub display_name: Option<String>,
}

/// A security key's credential, beside its device row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = security_keys, treat_none_as_default_value = false)]
pub struct SecurityKeyRow {
    pub device_id: String,
    pub tenant: String,
    /// base64url.
    pub credential_id: String,
    pub rp_id: String,
    /// webauthn-rs's `Credential`, as JSON.
    pub credential: String,
    pub aaguid: Option<String>,
    pub model: Option<String>,
    pub user_verified: bool,
    pub clone_detected_at: Option<NaiveDateTime>,
}

/// `None` is written as NULL (no column of it has a default), which lets SQLite take a batch in
/// one multi-row INSERT rather than one statement per row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct NewAuditEvent {
    pub at: NaiveDateTime,
    pub tenant: String,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub stream: String,
    pub seq: i64,
    pub hash: Option<Vec<u8>>,
}

/// A stored event, as the admin API, `audit verify` and `audit export` read it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub tenant: String,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub stream: String,
    pub seq: i64,
    pub hash: Option<Vec<u8>>,
}

impl AuditEventRow {
    /// The row as it was written, for recomputing its hash.
    pub fn written(&self) -> NewAuditEvent {
        NewAuditEvent {
            at: self.at,
            tenant: self.tenant.clone(),
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            actor: self.actor.clone(),
            ip: self.ip.clone(),
            detail: self.detail.clone(),
            stream: self.stream.clone(),
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

/// `None` is written as NULL (no nullable column has a default): SQLite then takes an import's
/// rows in one multi-row INSERT.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = devices, treat_none_as_default_value = false)]
pub struct DeviceRow {
    pub id: String,
    pub tenant: String,
    pub user_id: String,
    pub kind: String,
    pub label: String,
    pub status: String,
    pub secret_sealed: Option<Vec<u8>>,
    pub key_id: Option<String>,
    pub algorithm: String,
    pub digits: i32,
    pub period: i32,
    pub phone: Option<String>,
    pub last_step: i64,
    pub step_up: bool,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// TOTP: the account name of the Key URI, as passed at enrollment; `None`: the user id.
    pub account_name: Option<String>,
    /// The serial of the inventory token behind the device; `None`: a soft device.
    pub token_serial: Option<String>,
    /// Yubico OTP: the public id its OTPs begin with.
    pub public_id: Option<String>,
}

/// A hardware token of the inventory, assigned or not.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens, treat_none_as_default_value = false)]
pub struct TokenRow {
    pub id: String,
    pub tenant: String,
    pub serial: String,
    pub kind: String,
    pub manufacturer: Option<String>,
    pub batch: String,
    pub secret_sealed: Vec<u8>,
    pub key_id: String,
    pub algorithm: String,
    pub digits: i32,
    pub period: i32,
    pub last_step: i64,
    pub public_id: Option<String>,
    pub not_before: Option<NaiveDateTime>,
    pub not_after: Option<NaiveDateTime>,
    pub status: String,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub assigned_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl DeviceRow {
    pub fn kind(&self) -> Result<DeviceKind, UnknownValue> {
        self.kind.parse()
    }

    pub fn is(&self, kind: DeviceKind) -> bool {
        self.kind == kind.as_str()
    }

    pub fn is_in(&self, status: DeviceStatus) -> bool {
        self.status == status.as_str()
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = recovery_codes)]
pub struct NewRecoveryCode {
    pub id: String,
    pub tenant: String,
    pub user_id: String,
    pub code_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
}
