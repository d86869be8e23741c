//! The daily SMS budgets (SEC-29, REL-6): one per tenant and one across all tenants, each with a
//! breaker that its exhaustion trips until the next UTC day or an admin reset.
//!
//! A send is counted against its tenant's budget first, then against the global one, and a send
//! its tenant's budget refuses is not counted globally. So a tenant that pumps trips its own
//! breaker and no one else's: the other tenants keep sending until the global ceiling, which
//! protects the operator's bill. Every key expires (REL-8) and holds one hash tag.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreError};

const DAY: Duration = Duration::from_secs(24 * 3600);
/// A budget key is named after its UTC day; it only has to outlive that day.
pub(crate) const BUDGET_WINDOW: Duration = Duration::from_secs(25 * 3600);
pub(crate) const BREAKER_KEY: &str = "sms:breaker";

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

/// Whether a breaker stops `tenant`'s sends: the global one, then the tenant's. A read; nothing
/// is counted.
pub async fn refused(
    store: &Store,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Option<Exhausted>, StoreError> {
    for (budget, is_tenant) in [(Budget::Global, false), (Budget::Tenant(tenant), true)] {
        if tripped(store, budget).await? {
            return Ok(Some(exhausted(is_tenant, now)));
        }
    }
    Ok(None)
}

/// Counts one message against `tenant`'s budget of `tenant_max`, then the global one of
/// `global_max`; the first that is exhausted trips its breaker and refuses.
pub async fn charge(
    store: &Store,
    tenant: &str,
    (tenant_max, global_max): (u64, u64),
    now: DateTime<Utc>,
) -> Result<Option<Exhausted>, StoreError> {
    let budgets = [
        (Budget::Tenant(tenant), tenant_max, true),
        (Budget::Global, global_max, false),
    ];
    for (budget, max, is_tenant) in budgets {
        if store
            .hit(&count_key(budget, now), max, BUDGET_WINDOW)
            .await?
            .allowed
        {
            continue;
        }
        // SET NX: of racing nodes, only the one that trips the breaker logs it.
        if store
            .consume_once(&breaker_key(budget), until_midnight(now))
            .await?
        {
            match budget {
                Budget::Tenant(t) => tracing::error!(
                    tenant = t,
                    tenant_daily_budget = max,
                    "a tenant's SMS daily budget is exhausted; its breaker tripped"
                ),
                Budget::Global => tracing::error!(
                    daily_budget = max,
                    "SMS daily budget exhausted; breaker tripped"
                ),
            }
        }
        return Ok(Some(exhausted(is_tenant, now)));
    }
    Ok(None)
}

/// Admin reset of one budget: clears today's count, then the breaker (in that order, so a send
/// racing the reset cannot re-trip it on the old count).
pub async fn reset(
    store: &Store,
    budget: Budget<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.delete(&count_key(budget, now)).await?;
    store.delete(&breaker_key(budget)).await?;
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
        Budget::Global => format!("sms:budget:{{{day}}}"),
        Budget::Tenant(t) => format!("sms:tbudget:{{{t}/{day}}}"),
    }
}

pub(crate) fn breaker_key(budget: Budget<'_>) -> String {
    match budget {
        Budget::Global => BREAKER_KEY.to_string(),
        Budget::Tenant(t) => format!("sms:tbreaker:{{{t}}}"),
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
