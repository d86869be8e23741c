//! twofold: a self-hosted second-factor service.
//!
//! # Map
//!
//! - [`startup`]: [`startup::Application::build`] wires config, keys, database, store and the
//!   HTTP server; `main` and the tests both use it.
//! - [`config`]: layered configuration (defaults < `twofold.toml` < `TWOFOLD_*`), validated once.
//! - [`cli`]: the `twofold` command (`serve`, `migrate`, `api-key …`, `import`, `audit …`).
//! - [`http`]: one file per resource, each with a `register` for its routes; [`http::auth`] holds
//!   the bearer-key extractors, [`http::middleware`] metrics, access log and opaque 500s;
//!   [`http::console`] the `/admin` pages (askama templates under `templates/`, cookie sessions,
//!   CSRF tokens); [`http::pages`] the hosted `/enroll` and `/verify` pages.
//! - [`links`]: signed, single-use links to the hosted pages, bound to a return URL prefix.
//! - [`admin`]: what an admin does to an account (look, unlock, revoke all, search, audit), shared
//!   by the admin API and the console.
//! - [`import`]: TOTP seeds from another MFA server (`twofold import`, `POST /v1/admin/import`),
//!   one transaction, every bad line named.
//! - [`audit`]: security events, written in the change's transaction or by a batch writer, hash
//!   chained per writer stream; `twofold audit verify|export`.
//! - Domain modules, no HTTP in them: [`api_keys`] (and this node's [`key_cache`]), [`crypto`]
//!   (sealing, keyed hashes, OS randomness), [`clock`].
//! - [`db`]: diesel over SQLite or PostgreSQL (`MultiConnection`), schema, rows and queries;
//!   migrations per backend under `migrations/`.
//! - [`store`]: ephemeral state with atomic operations and a TTL on every key: Redis or in-process.
//! - [`error`]: the one API error enum and its stable codes.
//!
//! # A request's way through
//!
//! actix-web accepts the connection; [`telemetry::RequestSpan`] opens a span with a request id;
//! [`http::middleware`] times it. The route's handler takes [`state::AppState`] and, where it needs
//! a caller, an [`api_keys::ApiKey`] (or [`http::auth::Admin`]) extractor that checks the bearer
//! key's keyed hash against the database — verify's [`http::auth::CachedKey`] takes it from
//! [`key_cache`] and re-checks it in the statement that loads the devices, so a wrong code costs
//! one statement and one store round trip (the limiter). The handler calls domain code, which runs SQL on the
//! blocking pool ([`db::Db::run`]) and store operations under the dependency deadline. Errors
//! become [`error::Error`]: a stable code and status; a dependency outage is a 503, never a
//! success; an unexpected error an opaque 500 whose cause is logged under the request id.

pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod factor;
pub mod http;
pub mod metrics;
pub mod sms;
pub mod startup;
pub mod store;
pub mod telemetry;
