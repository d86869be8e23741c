//! The one application state every handler sees.

use std::sync::Arc;

use url::Url;

use crate::app::assertion::Assertions;
use crate::app::limiter::Limiter;
use crate::audit;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keys;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The public base URL, resolved against the bound address when not configured.
    pub public_url: Url,
    pub db: Db,
    pub store: Store,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    /// The failure limiter every code-accepting path goes through.
    pub limiter: Limiter,
    /// Background writer for high-volume audit events.
    pub audit: audit::Writer,
    pub assertions: Assertions,
    /// The configured SMS gateway.
    pub sms: Arc<dyn crate::sms::SmsGateway>,
    /// With the `log` gateway: the messages it "sent" (development and tests).
    pub sms_outbox: Option<Arc<crate::sms::LogGateway>>,
    /// API keys this node authenticated, for verify (which re-checks them in its own query).
    pub key_cache: Arc<crate::app::key_cache::KeyCache>,
    /// The hosted pages' words, in every language shipped.
    pub words: crate::i18n::Catalogue,
    /// `/readyz`'s last check, answered again for a short while.
    pub readiness: Arc<crate::app::readiness::Readiness>,
}
