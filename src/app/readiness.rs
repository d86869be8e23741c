//! Readiness (`/readyz`): the database answers and the store can serve every key, checked at
//! most once per [`FRESH_FOR`]. A storm of probes — a load balancer's, every orchestrator's, a
//! loop in a script — shares one check: probes that arrive while a check runs wait for its
//! outcome, probes just after it get that outcome, so the dependencies see a few checks a
//! second whatever the probe rate, and an outage costs one deadline per check, not one per probe.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::db::Db;
use crate::error::Error;
use crate::store::Store;

/// How long an outcome is answered again. A dependency that fails or returns is seen within this
/// (plus the dependency deadline, for a check that waits it out).
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The last outcome: when it was known, and why not ready if not.
type Outcome = (Instant, Result<(), String>);

#[derive(Default)]
pub struct Readiness {
    last: Mutex<Option<Outcome>>,
}

impl Readiness {
    /// Ready, or 503 `unavailable` with the cause (logged, not shown).
    pub async fn check(&self, db: &Db, store: &Store) -> Result<(), Error> {
        // Held across the check: the probes queued behind it read its outcome.
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = &*last
            && at.elapsed() < FRESH_FOR
        {
            return outcome.clone().map_err(Error::unavailable);
        }
        let (db, store) = tokio::join!(db.ping(), store.ready());
        let outcome = match (db, store) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(e), _) => Err(e.to_string()),
            (Ok(()), Err(e)) => Err(e.to_string()),
        };
        *last = Some((Instant::now(), outcome.clone()));
        outcome.map_err(Error::unavailable)
    }
}
