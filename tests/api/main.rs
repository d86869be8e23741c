//! Integration tests: the real application on port 0, with isolated storage per test, on both
//! backend pairs — embedded (SQLite + in-process store) and production (PostgreSQL + Redis).

// Test code: a failed unwrap is a failed test, and the helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests cast small, known figures (steps, digits, counts) the way the RFCs write them.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod helpers;
mod import;
mod labels;
mod proxy;
mod soft_key;

mod admin;
mod admin_access;
mod admin_audit;
mod admin_search;
mod admin_sms;
mod api_keys;
mod architecture;
mod assertions;
mod audit;
mod audit_chain;
mod audit_cli;
mod audit_forgery;
mod audit_legacy;
mod body_limits;
mod cli;
mod cluster;
mod cluster_readiness;
mod concurrent_start;
mod console;
mod console_confirm;
mod console_errors;
mod console_login;
mod console_tokens;
mod db_faults;
mod deploy;
mod docs;
mod enroll;
mod errors;
mod faults;
mod files;
mod hotp;
mod limits;
mod lockout;
mod lockout_faults;
mod malformed_ids;
mod methods;
mod nodes;
mod ops;
mod pages_enroll;
mod pages_language;
mod pages_links;
mod pages_phone_lock;
mod pages_refresh;
mod pages_revoked_key;
mod pages_step_up;
mod pages_tokens;
mod pages_typing;
mod pages_verify;
mod phone_forms;
mod public_url;
mod readiness;
mod readme;
mod recovery;
mod redis_tls;
mod restart;
mod rotation;
mod rotation_nodes;
mod round_trips;
mod shutdown;
mod sms;
mod sms_limits;
mod sms_tenants;
mod step_up;
mod store;
mod tokens;
mod ttl;
mod verify;
mod webauthn;
mod webauthn_policy;
mod webhook_tls;
