//! Integration tests: the real application on port 0, with isolated storage per test, on both
//! backend pairs — embedded (SQLite + in-process store) and production (PostgreSQL + Redis).

mod helpers;

mod api_keys;
mod cli;
mod errors;
mod ops;
mod readiness;
mod store;
