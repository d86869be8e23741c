//! The lockout arithmetic: how long the n-th lock of a user lasts.
//!
//! The stores apply it atomically (the in-process store calls [`lock_length`]; Redis runs the same
//! formula in its Lua script, held to this function by the store tests on every backend).

use std::time::Duration;

/// The highest doubling: past it a lock stays at `max` (which is reached long before anyway).
pub const MAX_DOUBLINGS: u64 = 20;

/// `base × 2^(level−1)`, at most `max`: the first lock lasts `base`, each further one twice the
/// last. Level 0 (no lock yet) counts as level 1.
pub fn lock_length(base: Duration, max: Duration, level: u64) -> Duration {
    let doublings = u32::try_from(level.saturating_sub(1).min(MAX_DOUBLINGS)).unwrap_or(0);
    base.saturating_mul(1u32 << doublings).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn the_first_lock_lasts_the_base_time() {
        assert_eq!(lock_length(15 * MIN, 24 * 60 * MIN, 1), 15 * MIN);
        assert_eq!(lock_length(15 * MIN, 24 * 60 * MIN, 0), 15 * MIN);
    }

    #[test]
    fn each_further_lock_doubles_up_to_the_maximum() {
        let (base, max) = (15 * MIN, 24 * 60 * MIN);
        let lengths: Vec<u64> = (1..=9)
            .map(|l| lock_length(base, max, l).as_secs() / 60)
            .collect();
        assert_eq!(lengths, [15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    }

    #[test]
    fn huge_levels_stay_at_the_maximum_without_overflow() {
        let max = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(lock_length(Duration::from_secs(1), max, u64::MAX), max);
        assert_eq!(
            lock_length(Duration::from_secs(1), Duration::MAX, 1_000),
            Duration::from_secs(1 << MAX_DOUBLINGS)
        );
    }
}
