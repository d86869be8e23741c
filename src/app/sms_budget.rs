//! The daily SMS budgets (SEC-29, REL-6): one per tenant and one across all tenants, each with a
//! breaker that its exhaustion trips until the next UTC day or an admin reset.
//!
//! A send is counted against its tenant's budget first, then against the global one, and a send
//! its tenant's budget refuses is not counted globally. So a tenant that pumps trips its own
//! breaker and no one else's: the other tenants keep sending until the global ceiling, which
//! protects the operator's bill. Every key expires (REL-8).
//!
//! A send reads the breakers and counts the budgets in the one store operation that also counts
//! its limits ([`crate::app::sms_limits::charge`]); this module names the keys and says what a
//! refusal means. All of them, the limits' too, carry the hash tag [`TAG`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Step, Store, StoreError};

const DAY: Duration = Duration::from_secs(24 * 3600);
/// A budget key is named after its UTC day; it only has to outlive that day.
pub(crate) const BUDGET_WINDOW: Duration = Duration::from_secs(25 * 3600);
/// The one hash tag of every SMS limit, budget and breaker key. The store operation that charges
/// a send is one script, and on Redis Cluster a script's keys must share a slot; SMS volume is
/// small (every send costs money), so one slot carries it all.
pub(crate) const TAG: &str = "{sms}";
pub(crate) const BREAKER_KEY: &str = "{sms}:breaker";

/// Which budget: one tenant's, or the one across all tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget<'a> {
    Tenant(&'a str),
    Global,
}

/// A budget refused the send: its breaker is tripped until the next UTC midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// Whether it was the tenant's own budget (else the global one).
    pub tenant: bool,
    pub retry_after: Duration,
}

/// A budget as the admin view shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub tripped: bool,
    /// Messages counted against it today (UTC).
    pub sent_today: u64,
}

/// One send's budgets and breakers: the steps of [`Store::charge`] that read and count them, and
/// what their refusals mean.
pub(crate) struct ForSend<'a> {
    tenant: &'a str,
    /// The tenant's, then the global one.
    max: [u64; 2],
    counts: [String; 2],
    breakers: [String; 2],
    now: DateTime<Utc>,
}

impl<'a> ForSend<'a> {
    pub(crate) fn new(
        tenant: &'a str,
        (tenant_max, global_max): (u64, u64),
        now: DateTime<Utc>,
    ) -> ForSend<'a> {
        let budgets = [Budget::Tenant(tenant), Budget::Global];
        ForSend {
            tenant,
            max: [tenant_max, global_max],
            counts: budgets.map(|b| count_key(b, now)),
            breakers: budgets.map(breaker_key),
            now,
        }
    }

    /// Read first, before anything is counted: the global breaker, then the tenant's.
    pub(crate) fn breakers(&self) -> [Step<'_>; 2] {
        [
            Step::Breaker(&self.breakers[1]),
            Step::Breaker(&self.breakers[0]),
        ]
    }

    /// Counted last: the tenant's budget, then the global one; the first exhausted trips its
    /// breaker.
    pub(crate) fn budgets(&self) -> [Step<'_>; 2] {
        let trip_for = until_midnight(self.now);
        [0, 1].map(|i| Step::Budget {
            key: &self.counts[i],
            limit: self.max[i],
            window: BUDGET_WINDOW,
            breaker: &self.breakers[i],
            trip_for,
        })
    }

    /// What a refusal of [`ForSend::breakers`]' step `i` means.
    pub(crate) fn breaker_refused(&self, i: usize) -> Exhausted {
        exhausted(i == 1, self.now)
    }

    /// What a refusal of [`ForSend::budgets`]' step `i` means; `tripped`: this send set the
    /// breaker. Of racing nodes only that one logs it.
    pub(crate) fn budget_refused(&self, i: usize, tripped: bool) -> Exhausted {
        let tenant = i == 0;
        if tripped {
            let max = self.max[usize::from(!tenant)];
            if tenant {
                tracing::error!(
                    tenant = self.tenant,
                    tenant_daily_budget = max,
                    "a tenant's SMS daily budget is exhausted; its breaker tripped"
                );
            } else {
                tracing::error!(
                    daily_budget = max,
                    "SMS daily budget exhausted; breaker tripped"
                );
            }
        }
        exhausted(tenant, self.now)
    }
}

/// Admin reset of one budget: clears today's count and the breaker in one atomic step, so a send
/// racing the reset cannot re-trip the breaker on the old count.
pub async fn reset(
    store: &Store,
    budget: Budget<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (count, breaker) = (count_key(budget, now), breaker_key(budget));
    store.delete_many(&[&count, &breaker]).await?;
    Ok(())
}

/// Whether the budget's breaker is tripped.
pub async fn tripped(store: &Store, budget: Budget<'_>) -> Result<bool, StoreError> {
    Ok(store.get(&breaker_key(budget)).await?.is_some())
}

/// The budget's breaker and today's count.
pub async fn status(
    store: &Store,
    budget: Budget<'_>,
    now: DateTime<Utc>,
) -> Result<Status, StoreError> {
    let sent_today = store
        .get(&count_key(budget, now))
        .await?
        .and_then(|v| String::from_utf8(v).ok()?.parse().ok())
        .unwrap_or(0);
    Ok(Status {
        tripped: tripped(store, budget).await?,
        sent_today,
    })
}

fn exhausted(tenant: bool, now: DateTime<Utc>) -> Exhausted {
    Exhausted {
        tenant,
        retry_after: until_midnight(now),
    }
}

/// Time from `now` to the next UTC midnight (a full day at midnight itself).
pub(crate) fn until_midnight(now: DateTime<Utc>) -> Duration {
    now.date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|midnight| (midnight.and_utc() - now).to_std().ok())
        .unwrap_or(DAY)
}

/// `/` cannot occur in a tenant id, so a tenant's keys never meet another's.
pub(crate) fn count_key(budget: Budget<'_>, now: DateTime<Utc>) -> String {
    let day = now.format("%Y-%m-%d");
    match budget {
        Budget::Global => format!("{TAG}:budget:{day}"),
        Budget::Tenant(t) => format!("{TAG}:tbudget:{t}/{day}"),
    }
}

pub(crate) fn breaker_key(budget: Budget<'_>) -> String {
    match budget {
        Budget::Global => BREAKER_KEY.to_string(),
        Budget::Tenant(t) => format!("{TAG}:tbreaker:{t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh in-process store and a Redis store under a fresh prefix.
    fn stores() -> Vec<Store> {
        let url = std::env::var("TWOFOLD_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("budget-test:{}:", crate::crypto::random_id().unwrap());
        let redis = Store::redis(&url, &prefix, Duration::from_secs(2)).unwrap();
        vec![Store::memory(Duration::from_secs(2)), redis]
    }

    /// Counts one message against `tenant`'s budget of `tenant_max`, then the global one of
    /// `global_max`, as a send does after its limits.
    async fn charge(
        store: &Store,
        tenant: &str,
        max: (u64, u64),
        now: DateTime<Utc>,
    ) -> Result<Option<Exhausted>, StoreError> {
        let send = ForSend::new(tenant, max, now);
        let stopped = store.charge(&send.budgets()).await?;
        Ok(stopped.map(|s| send.budget_refused(s.step, s.tripped)))
    }

    /// Whether a breaker stops `tenant`'s sends, as a send reads them before its limits.
    async fn refused(
        store: &Store,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Exhausted>, StoreError> {
        let send = ForSend::new(tenant, (0, 0), now);
        let stopped = store.charge(&send.breakers()).await?;
        Ok(stopped.map(|s| send.breaker_refused(s.step)))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_tenant_budget_refuses_first_and_the_global_one_stays_the_ceiling() {
        for s in stores() {
            let (now, max) = (Utc::now(), (1, 2));
            assert_eq!(charge(&s, "t1", max, now).await.unwrap(), None);
            let refused = charge(&s, "t1", max, now).await.unwrap();
            assert!(refused.is_some_and(|e| e.tenant), "{}", s.kind());
            assert!(tripped(&s, Budget::Tenant("t1")).await.unwrap());
            assert!(!tripped(&s, Budget::Global).await.unwrap());
            // Refused by its own budget, t1's second send was not counted globally.
            assert_eq!(charge(&s, "t2", max, now).await.unwrap(), None);
            let refused = charge(&s, "t3", max, now).await.unwrap();
            assert!(refused.is_some_and(|e| !e.tenant), "{}", s.kind());
            assert!(tripped(&s, Budget::Global).await.unwrap());
            let t3 = refused.map(|e| e.retry_after);
            assert!(t3.is_some_and(|r| r > Duration::ZERO && r <= until_midnight(now)));

            let keys = [
                count_key(Budget::Tenant("t1"), now),
                count_key(Budget::Tenant("t2"), now),
                count_key(Budget::Global, now),
                breaker_key(Budget::Tenant("t1")),
                breaker_key(Budget::Global),
            ];
            for key in keys {
                let ttl = s.ttl(&key).await.unwrap();
                assert!(ttl.is_some_and(|t| t <= BUDGET_WINDOW), "{key} {ttl:?}");
            }
            let global = status(&s, Budget::Global, now).await.unwrap();
            assert_eq!((global.tripped, global.sent_today), (true, 2));

            reset(&s, Budget::Tenant("t1"), now).await.unwrap();
            assert!(!tripped(&s, Budget::Tenant("t1")).await.unwrap());
            assert!(tripped(&s, Budget::Global).await.unwrap(), "a tenant reset");
            assert_eq!(refused_now(&s, "t1", now).await, Some(false));
        }
    }

    async fn refused_now(s: &Store, tenant: &str, now: DateTime<Utc>) -> Option<bool> {
        refused(s, tenant, now).await.unwrap().map(|e| e.tenant)
    }
}
