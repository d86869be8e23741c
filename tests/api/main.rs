//! Integration tests: the real application on port 0, with isolated storage per test, on both
//! backend pairs — embedded (SQLite + in-process store) and production (PostgreSQL + Redis).

mod helpers;

mod api_keys;
mod assertions;
mod audit;
mod cli;
mod enroll;
mod errors;
mod lockout;
mod ops;
mod readiness;
mod recovery;
mod restart;
mod rotation;
mod sms;
mod sms_limits;
mod step_up;
mod store;
mod verify;
