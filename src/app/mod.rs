//! Use cases: what a caller of twofold can do, each a function over [`state::AppState`].

pub mod admin;
pub mod api_keys;
pub mod assertion;
pub mod devices;
pub mod import;
pub mod key_cache;
pub mod limiter;
pub mod links;
pub mod phone_devices;
pub mod recovery;
pub mod rotation;
pub mod sms_codes;
pub mod sms_limits;
pub mod state;
pub mod users;
pub mod verify;
