//! Use cases: what a caller of twofold can do, each a function over [`state::AppState`].

pub mod admin;
pub mod api_keys;
pub mod assertion;
pub mod devices;
pub mod factors;
pub mod import;
pub mod key_cache;
pub mod limiter;
pub mod links;
pub mod readiness;
pub mod rotation;
pub mod sms_budget;
pub mod sms_codes;
pub mod sms_limits;
pub mod state;
pub mod step_up;
pub mod tokens;
pub mod users;
pub mod verify;
