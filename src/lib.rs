//! twofold: a self-hosted second-factor service.
//!
//! # Map, by layer
//!
//! Imports run one way, down this list; `tests/api/architecture.rs` fails on a cycle, on an
//! import up the list and on a framework outside its layer.
//!
//! 1. Wiring, at the root: `main.rs` is thin and calls [`cli`] (`serve`,
//!    `migrate`, `api-key …`, `import`, `audit …`); [`startup::Application::build`] wires config,
//!    keys, database, store and the HTTP server, for `main` and the tests alike; [`telemetry`]
//!    installs the log subscriber, [`metrics`] the Prometheus recorder; [`config`] reads the
//!    layers (defaults < `twofold.toml` < `TWOFOLD_*`) and validates them once.
//! 2. [`http`], the edge, and the only place actix-web, utoipa and askama appear: one file per
//!    resource, each with a `register` for its routes and its request and response bodies;
//!    [`http::extract::Scoped`] is the one preamble of a user route (the key first, then the user
//!    and tenant); [`http::error`] maps every error to its stable code and status, once;
//!    [`http::pages`] the hosted `/enroll` and `/verify` pages, [`http::console`] the `/admin`
//!    console (askama templates under `templates/`).
//! 3. [`app`], the use cases, each a function over [`app::state::AppState`]:
//!    [`app::verify`] (verify and confirm, through the one [`app::limiter`]),
//!    [`app::factors`] (one module per factor — TOTP, HOTP, Yubico OTP, SMS, recovery codes,
//!    security keys (WebAuthn, with their ceremony state in the store) — with its enrollment and
//!    its checks, behind the `Factor` trait that verify dispatches over), [`app::tokens`] (the
//!    hardware-token inventory and its PSKC and YubiKey imports), [`app::devices`]
//!    (what every kind of device shares), [`app::step_up`] (SEC-7), [`app::sms_codes`],
//!    [`app::sms_limits`] and [`app::sms_budget`] (texted codes, their anti-pumping limits and the
//!    daily budgets per tenant and overall), [`app::assertion`] (signed
//!    JWTs and their keys, a new key published before it signs), [`app::admin`], [`app::import`],
//!    [`app::links`], [`app::rotation`], [`app::readiness`] (`/readyz`: the database and every
//!    store slot, checked at most once a second), [`app::api_keys`] (with this node's
//!    [`app::key_cache`]), [`app::users`].
//! 4. [`factor`], the pure rules: TOTP and HOTP codes with the RFC vectors beside them, Yubico
//!    OTP decryption and the personalization log, phone
//!    numbers, recovery-code shape, QR drawing, the lockout arithmetic, device kinds and statuses,
//!    the RP ID and origin rules of security keys,
//!    the characters a label shown to people may hold.
//!    No I/O, no configuration, no framework; time comes in as a value.
//! 5. The adapters, which know nothing of use cases or HTTP and take plain values: [`db`] (diesel
//!    over SQLite or PostgreSQL through `MultiConnection`; schema, rows, queries; migrations per
//!    backend under `migrations/`), [`store`] (ephemeral state with atomic operations and a TTL on
//!    every key: Redis, Redis Cluster or in-process), [`sms`] (the gateway trait and one file per
//!    gateway), [`audit`] (hash-chained security events over `db`), [`crypto`] (sealing, keyed
//!    hashes, OS randomness).
//! 6. Leaves every layer may use: [`i18n`] (the hosted pages' words in Fluent, per language, and
//!    the choice of a language), [`error`] (the shared error, with causes kept as a source
//!    chain) and [`clock`] (injected, so tests move time without sleeping).
//!
//! Why these cuts: the factor rules are what must be right to the RFCs, so they stand alone and
//! are tested alone; the adapters are what fails (a database down, a store hung), so they answer
//! plain errors that the use cases turn into a fail-closed answer; the frameworks change fastest,
//! so they stay at the edge, where a request becomes a call and an error becomes a status. A new
//! factor is a new file in `factor/` and in `app/factors/`, a `DeviceKind` variant, its place in
//! `app::factors::FACTORS`, and a route file in `http/`.
//!
//! # A request's way through
//!
//! actix-web accepts the connection; [`http::telemetry::RequestSpan`] opens a span with a request
//! id; [`http::middleware`] times it. The handler's extractors judge the bearer key against the
//! database — verify's [`http::auth::CachedKey`] takes it from [`app::key_cache`] and the use case
//! re-checks it in the statement that loads the devices, so a wrong code costs one statement and
//! one store round trip (the limiter) — then read the user and tenant. The handler turns its body
//! into the use case's plain input and calls the use case, which runs SQL on the database threads
//! ([`db::Db::run`]; an accepted step shares its commit with the others of its moment,
//! [`db::Db::run_batched`]) and store operations under the dependency deadline. The use case answers a
//! plain result or its error; [`http::error`] maps the error to a stable code and status: a
//! dependency outage is a 503, never a success; an unexpected error an opaque 500 whose whole
//! cause chain is logged under the request id.

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
pub mod i18n;
pub mod metrics;
pub mod sms;
pub mod startup;
pub mod store;
pub mod telemetry;
