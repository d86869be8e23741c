//! Rows as diesel reads and writes them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_keys, audit_events};

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
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
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
}

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
}
