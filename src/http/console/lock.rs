//! A user's lock in words, as the user page shows it: when it ends and how soon, how often the
//! user was locked lately; the failure count only while not locked (a lock resets it to zero,
//! which read as "0 failed attempts" beside a lock).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::limiter::LockState;

pub struct LockView {
    /// "Locked until 03:30 UTC (in 15 minutes)", while locked.
    pub locked: Option<String>,
    /// "2 failed attempts in a row; 10 lock the user", while not locked.
    pub failures: Option<String>,
    /// "Locked once in the last day; a further lock would last 30 minutes", after a lock.
    pub history: Option<String>,
}

/// `next_lock` is how long the user's next lock would last.
pub fn describe(
    lock: &LockState,
    now: DateTime<Utc>,
    threshold: u32,
    next_lock: Duration,
) -> LockView {
    let locked = lock.locked_until.map(|until| {
        let left = (until - now).to_std().unwrap_or_default();
        format!(
            "Locked until {} (in {})",
            clock_time(until, now),
            duration_words(left)
        )
    });
    let failures = locked.is_none().then(|| {
        let n = lock.failures;
        let attempts = if n == 1 { "attempt" } else { "attempts" };
        format!("{n} failed {attempts} in a row; {threshold} lock the user")
    });
    let history = (lock.lock_level > 0).then(|| {
        format!(
            "Locked {} in the last day; a further lock would last {}",
            times(lock.lock_level),
            duration_words(next_lock)
        )
    });
    LockView {
        locked,
        failures,
        history,
    }
}

/// `t` rounded up to the minute (never earlier than it is), with the date when it is not today.
fn clock_time(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = t.timestamp();
    let up = secs + (60 - secs.rem_euclid(60)) % 60;
    let t = DateTime::from_timestamp(up, 0).unwrap_or(t);
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

fn times(n: u64) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// "less than a minute", "15 minutes", "2 hours 5 minutes": minutes rounded up, so a wait is
/// never said to be shorter than it is.
pub fn duration_words(d: Duration) -> String {
    if d.is_zero() {
        return "less than a minute".into();
    }
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    let minutes = secs.div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, m) => plural(m, "minute"),
        (h, 0) => plural(h, "hour"),
        (h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_locked_user_reads_when_the_lock_ends_and_how_soon() {
        let lock = LockState {
            failures: 0,
            locked_until: Some(at("2026-12-06T03:30:00Z")),
            lock_level: 1,
        };
        let v = describe(&lock, at("2026-12-06T03:15:00Z"), 10, 30 * MIN);
        assert_eq!(
            v.locked.as_deref(),
            Some("Locked until 03:30 UTC (in 15 minutes)")
        );
        assert_eq!(v.failures, None, "no '0 failed attempts' beside a lock");
        assert_eq!(
            v.history.as_deref(),
            Some("Locked once in the last day; a further lock would last 30 minutes")
        );
    }

    #[test]
    fn a_lock_ending_on_another_day_names_the_date_and_rounds_up() {
        let lock = LockState {
            failures: 0,
            locked_until: Some(at("2026-12-07T01:00:30Z")),
            lock_level: 3,
        };
        let v = describe(&lock, at("2026-12-06T23:00:00Z"), 10, 120 * MIN);
        assert_eq!(
            v.locked.as_deref(),
            Some("Locked until 2026-12-07 01:01 UTC (in 2 hours 1 minute)")
        );
        assert_eq!(
            v.history.as_deref(),
            Some("Locked 3 times in the last day; a further lock would last 2 hours")
        );
    }

    #[test]
    fn an_unlocked_user_reads_its_failures() {
        let lock = LockState {
            failures: 1,
            locked_until: None,
            lock_level: 0,
        };
        let v = describe(&lock, at("2026-12-06T03:15:00Z"), 10, 15 * MIN);
        assert_eq!(v.locked, None);
        assert_eq!(
            v.failures.as_deref(),
            Some("1 failed attempt in a row; 10 lock the user")
        );
        assert_eq!(v.history, None);
    }

    #[test]
    fn waits_are_never_said_shorter_than_they_are() {
        assert_eq!(duration_words(Duration::ZERO), "less than a minute");
        assert_eq!(duration_words(Duration::from_millis(500)), "1 minute");
        assert_eq!(duration_words(Duration::from_secs(60)), "1 minute");
        assert_eq!(duration_words(Duration::from_secs(61)), "2 minutes");
        assert_eq!(duration_words(60 * MIN), "1 hour");
        assert_eq!(duration_words(24 * 60 * MIN), "24 hours");
    }
}
