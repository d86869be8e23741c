//! Anti-pumping send limits (SEC-29, REL-6): per number, per number prefix, per user, per IP and
//! per country, then the tenant's and the global daily budgets ([`sms_budget`]), whose exhaustion
//! trips a breaker until the next UTC day or an admin reset.
//!
//! The number and prefix counts are per tenant, like the budgets: one tenant texting a number
//! (or a run of numbers) to its limit does not deny that number to the users of another.
//!
//! A send is charged against all of them in one atomic store operation ([`Store::charge`]: one
//! script, one round trip), so racing nodes never send more than a limit allows. A message is
//! charged *before* it is sent and stays charged whatever the gateway does: an attempted send
//! may have cost money. A refusal stops the charge at the first limit that refuses; the limits
//! before it stay charged, which is the point against pumping. Every key expires (REL-8), and
//! all carry the one hash tag [`sms_budget::TAG`], so that script may touch them all on Redis
//! Cluster.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::sms_budget::{self, TAG};
use crate::app::users::Subject;
use crate::config::SmsLimits;
use crate::factor::phone::Phone;
use crate::store::{Step, Store, StoreError};

const TEN_MIN: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Why a message may not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 429 `rate_limited`. `limit` names the refusing limit for metrics: "number", "prefix",
    /// "user", "ip" or "country".
    RateLimited {
        retry_after: Duration,
        limit: &'static str,
    },
    /// 503 `sms_budget_exhausted`: a breaker is tripped until the next UTC midnight — the
    /// tenant's own (`tenant`) or the global one.
    BudgetExhausted { retry_after: Duration, tenant: bool },
}

impl Refusal {
    /// The wait for `Retry-After` (round up to whole seconds, at least 1).
    pub fn retry_after(&self) -> Duration {
        match *self {
            Refusal::RateLimited { retry_after, .. }
            | Refusal::BudgetExhausted { retry_after, .. } => retry_after,
        }
    }
}

/// The outcome of a failed [`charge`]: a refusal, or a store that failed (fail closed, 503).
#[derive(Debug)]
pub enum ChargeError {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for ChargeError {
    fn from(e: StoreError) -> ChargeError {
        ChargeError::Store(e)
    }
}

/// Charges one message against every limit, in this order: breakers (reads: nothing is charged
/// while the global or the tenant's is tripped), number per 10 min, number per day, prefix (these
/// three per tenant), user, IP (skipped when `None`), country, the tenant's daily budget, the
/// global daily budget. The first refusal is returned. The budgets' day is the UTC day of the
/// application clock `now`. One store round trip.
pub async fn charge(
    store: &Store,
    limits: &SmsLimits,
    phone: &Phone,
    subject: &Subject,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ChargeError> {
    let tenant = subject.tenant.as_str();
    let (l, n, p) = (limits, phone.e164(), phone.prefix());
    let mut counts = vec![
        (
            "number",
            num_10m_key(tenant, n),
            l.per_number_10min,
            TEN_MIN,
        ),
        ("number", num_day_key(tenant, n), l.per_number_day, DAY),
        ("prefix", prefix_key(tenant, p), l.per_prefix_hour, HOUR),
        ("user", user_key(subject), l.per_user_hour, HOUR),
    ];
    if let Some(ip) = ip {
        counts.push(("ip", ip_key(ip), l.per_ip_hour, HOUR));
    }
    let country = country_key(phone.region());
    counts.push(("country", country, l.per_country_hour, HOUR));
    let budgets = sms_budget::ForSend::new(tenant, (l.tenant_daily_budget, l.daily_budget), now);

    let (breakers, counted) = (budgets.breakers(), budgets.budgets());
    let mut steps = Vec::with_capacity(breakers.len() + counts.len() + counted.len());
    steps.extend(breakers);
    steps.extend(counts.iter().map(|(_, key, limit, window)| Step::Limit {
        key,
        limit: *limit,
        window: *window,
    }));
    steps.extend(counted);
    let Some(stopped) = store.charge(&steps).await? else {
        return Ok(());
    };
    let refusal = match stopped.step.checked_sub(breakers.len()) {
        None => budget_exhausted(budgets.breaker_refused(stopped.step)),
        Some(i) => match counts.get(i) {
            Some(&(limit, ..)) => Refusal::RateLimited {
                retry_after: stopped.resets_in,
                limit,
            },
            None => budget_exhausted(budgets.budget_refused(i - counts.len(), stopped.tripped)),
        },
    };
    Err(ChargeError::Refused(refusal))
}

fn budget_exhausted(e: sms_budget::Exhausted) -> Refusal {
    Refusal::BudgetExhausted {
        retry_after: e.retry_after,
        tenant: e.tenant,
    }
}

/// `/` cannot occur in a tenant id, so tenants never share a number's or a prefix's count.
fn num_10m_key(tenant: &str, e164: &str) -> String {
    format!("{TAG}:num:{tenant}/{e164}:10m")
}
fn num_day_key(tenant: &str, e164: &str) -> String {
    format!("{TAG}:num:{tenant}/{e164}:day")
}
fn prefix_key(tenant: &str, prefix: &str) -> String {
    format!("{TAG}:prefix:{tenant}/{prefix}")
}
/// `/` cannot occur in a tenant or user id, so distinct subjects never share a key.
fn user_key(s: &Subject) -> String {
    format!("{TAG}:user:{}/{}", s.tenant, s.user)
}
fn ip_key(ip: &str) -> String {
    format!("{TAG}:ip:{ip}")
}
fn country_key(region: &str) -> String {
    format!("{TAG}:country:{region}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sms_budget::{
        BREAKER_KEY, BUDGET_WINDOW, Budget, count_key, reset, tripped, until_midnight,
    };

    async fn breaker_tripped(s: &Store) -> Result<bool, StoreError> {
        tripped(s, Budget::Global).await
    }

    const IP: Option<&str> = Some("2001:db8::1");

    /// A fresh in-process store and a Redis store under a fresh prefix.
    fn stores() -> Vec<Store> {
        let url = std::env::var("TWOFOLD_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("limits-test:{}:", crate::crypto::random_id().unwrap());
        let redis = Store::redis(&url, &prefix, Duration::from_secs(2)).unwrap();
        vec![Store::memory(Duration::from_secs(2)), redis]
    }

    fn phone(n: &str) -> Phone {
        Phone::parse(n).unwrap()
    }

    fn user(u: &str) -> Subject {
        Subject::new("t1".into(), u.into()).unwrap()
    }

    /// Default limits with one changed.
    fn with(f: impl FnOnce(&mut SmsLimits)) -> SmsLimits {
        let mut l = SmsLimits::default();
        f(&mut l);
        l
    }

    /// Charges one message to number `n` for user `u`, now.
    async fn send(
        s: &Store,
        l: SmsLimits,
        n: &str,
        u: &str,
        ip: Option<&str>,
    ) -> Result<(), ChargeError> {
        charge(s, &l, &phone(n), &user(u), ip, Utc::now()).await
    }

    fn refusal(r: Result<(), ChargeError>) -> Refusal {
        match r {
            Err(ChargeError::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn limit_of(r: Result<(), ChargeError>) -> &'static str {
        match refusal(r) {
            Refusal::RateLimited { limit, .. } => limit,
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn fourth_send_to_a_number_within_10_minutes_is_refused() {
        for s in stores() {
            let l = SmsLimits::default();
            for u in ["a", "b", "c"] {
                send(&s, l, "+33612345678", u, IP).await.unwrap();
            }
            let r = refusal(send(&s, l, "+33612345678", "d", None).await);
            let Refusal::RateLimited { retry_after, limit } = r else {
                panic!("{r:?}")
            };
            assert_eq!(limit, "number", "{}", s.kind());
            assert!(retry_after > Duration::ZERO && retry_after <= TEN_MIN);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn numbers_sharing_a_prefix_share_a_limit() {
        for s in stores() {
            let l = with(|l| l.per_prefix_hour = 2);
            send(&s, l, "+33612345678", "a", None).await.unwrap();
            send(&s, l, "+33612345679", "b", None).await.unwrap();
            let r = send(&s, l, "+33612340000", "c", None).await;
            assert_eq!(limit_of(r), "prefix");
            send(&s, l, "+33612350000", "d", None).await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn user_ip_and_country_limits() {
        for s in stores() {
            let l = with(|l| l.per_user_hour = 2);
            send(&s, l, "+33612345678", "u", None).await.unwrap();
            send(&s, l, "+33612355678", "u", None).await.unwrap();
            let r = send(&s, l, "+33612365678", "u", None).await;
            assert_eq!(limit_of(r), "user");

            let l = with(|l| l.per_ip_hour = 2);
            send(&s, l, "+33612375678", "i1", IP).await.unwrap();
            send(&s, l, "+33612385678", "i2", IP).await.unwrap();
            let r = send(&s, l, "+33612305678", "i3", IP).await;
            assert_eq!(limit_of(r), "ip");
            // Another address, or none at all (the IP limit is skipped), still sends.
            send(&s, l, "+33612315678", "i4", Some("192.0.2.1"))
                .await
                .unwrap();
            send(&s, l, "+33612325678", "i5", None).await.unwrap();

            // FR has 6 sends counted above: the two refused ones stopped at the user and IP
            // limits, before the country one. US has none.
            let l = with(|l| l.per_country_hour = 7);
            send(&s, l, "+33612335678", "c1", None).await.unwrap();
            let r = send(&s, l, "+33612395678", "c2", None).await;
            assert_eq!(limit_of(r), "country");
            send(&s, l, "+12015550123", "c3", None).await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn budget_trips_the_breaker_until_reset() {
        for s in stores() {
            let (l, now) = (with(|l| l.daily_budget = 2), Utc::now());
            assert!(!breaker_tripped(&s).await.unwrap());
            send(&s, l, "+33612345678", "a", None).await.unwrap();
            send(&s, l, "+33612355678", "b", None).await.unwrap();
            // The one that exceeds the budget, then a fresh number and user refused by the breaker.
            for (n, u) in [("+33612365678", "c"), ("+12015550123", "d")] {
                let r = refusal(send(&s, l, n, u, None).await);
                let Refusal::BudgetExhausted { retry_after, .. } = r else {
                    panic!("{r:?}")
                };
                assert!(retry_after > Duration::ZERO && retry_after <= until_midnight(now));
                assert!(breaker_tripped(&s).await.unwrap(), "{}", s.kind());
            }
            reset(&s, Budget::Global, Utc::now()).await.unwrap();
            assert!(!breaker_tripped(&s).await.unwrap());
            send(&s, l, "+33612375678", "e", None).await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn parallel_sends_respect_the_number_limit() {
        for s in stores() {
            let sends: Vec<_> = (0..20)
                .map(|i| {
                    let s = s.clone();
                    let u = format!("u{i}");
                    tokio::spawn(async move {
                        send(&s, SmsLimits::default(), "+33612345678", &u, None).await
                    })
                })
                .collect();
            let mut ok = 0;
            for send in sends {
                match send.await.unwrap() {
                    Ok(()) => ok += 1,
                    r => assert_eq!(limit_of(r), "number"),
                }
            }
            assert_eq!(ok, 3, "{}", s.kind());
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn every_key_has_a_ttl() {
        for s in stores() {
            let (p, u, now) = (phone("+33612345678"), user("a"), Utc::now());
            let l = with(|l| l.daily_budget = 1);
            charge(&s, &l, &p, &u, IP, now).await.unwrap();
            let r = charge(&s, &l, &phone("+33612355678"), &user("b"), None, now).await;
            assert!(matches!(refusal(r), Refusal::BudgetExhausted { .. }));
            let keys = [
                (num_10m_key("t1", p.e164()), TEN_MIN),
                (num_day_key("t1", p.e164()), DAY),
                (prefix_key("t1", p.prefix()), HOUR),
                (user_key(&u), HOUR),
                (ip_key(IP.unwrap()), HOUR),
                (country_key(p.region()), HOUR),
                (count_key(Budget::Tenant("t1"), now), BUDGET_WINDOW),
                (count_key(Budget::Global, now), BUDGET_WINDOW),
                (BREAKER_KEY.to_string(), until_midnight(now)),
            ];
            for (key, window) in keys {
                let ttl = s.ttl(&key).await.unwrap();
                let kind = s.kind();
                assert!(ttl.is_some_and(|t| t <= window), "{key} {ttl:?} {kind}");
                // The one script that charges a send needs every key in one cluster slot.
                assert!(key.starts_with(TAG), "{key} lacks the hash tag {TAG}");
            }
        }
    }
}
