//! HOTP (RFC 4226): event-based codes, one per press of a token's button. The counter a code was
//! made with is found by looking ahead of the last accepted one; the caller then advances the
//! stored counter past it in one compare-and-set, so a code works once.
//!
//! Why a bounded look-ahead: a token counts every press, accepted or not, so it runs ahead of the
//! server. Each counter in the window is one more code a guess can hit: with window `w` and
//! 6 digits, one guess succeeds with probability at most `w / 10^6`, and the lockout's threshold
//! bounds the guesses per lock period. Beyond the window only a resync (two consecutive codes, in
//! a wider window) brings a token back.

use subtle::{ConditionallySelectable, ConstantTimeEq, CtOption};

use super::totp::{self, Algorithm, Params};

/// Codes accepted ahead of the next expected counter, by default.
pub const DEFAULT_WINDOW: u32 = 10;
/// The largest look-ahead a configuration may set.
pub const MAX_WINDOW: u32 = 100;
/// How far a resync looks ahead, by default and at most.
pub const DEFAULT_RESYNC_WINDOW: u32 = 1_000;
pub const MAX_RESYNC_WINDOW: u32 = 10_000;

/// A token's code parameters: the hash and the number of digits (6 or 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hotp {
    pub algorithm: Algorithm,
    pub digits: u8,
}

impl Hotp {
    pub fn new(algorithm: Algorithm, digits: u8) -> Result<Hotp, String> {
        if !matches!(digits, 6 | 8) {
            return Err(format!("digits: 6 or 8, not {digits}"));
        }
        Ok(Hotp { algorithm, digits })
    }

    /// TOTP's generator with the counter as the step (RFC 6238 is HOTP over time steps).
    fn params(self) -> Params {
        Params {
            algorithm: self.algorithm,
            digits: self.digits,
            period: 30,
        }
    }

    /// The code for `counter`, zero-padded.
    pub fn code(self, secret: &[u8], counter: u64) -> String {
        totp::code_at_step(secret, self.params(), counter)
    }

    /// The lowest counter in `next..next + window` whose code is `code`. Every counter of the
    /// window is computed and compared in constant time, so timing says nothing of where (or
    /// whether) it matched.
    pub fn matching_counter(
        self,
        secret: &[u8],
        code: &str,
        next: u64,
        window: u32,
    ) -> Option<u64> {
        if !totp::is_well_formed(code, self.digits) {
            return None;
        }
        let window = window.clamp(1, MAX_RESYNC_WINDOW);
        let mut found = subtle::Choice::from(0);
        let mut matched = 0u64;
        for counter in (next..next.saturating_add(u64::from(window))).rev() {
            let equal = self.code(secret, counter).as_bytes().ct_eq(code.as_bytes());
            // Descending order plus unconditional assignment: the lowest match is kept.
            matched.conditional_assign(&counter, equal);
            found |= equal;
        }
        CtOption::new(matched, found).into()
    }

    /// Resynchronisation: the counter `n` in `next..next + window` with `first` its code and
    /// `second` the code of `n + 1`. Returns `n + 1`, the last counter the two codes used.
    pub fn resync(
        self,
        secret: &[u8],
        first: &str,
        second: &str,
        next: u64,
        window: u32,
    ) -> Option<u64> {
        if !totp::is_well_formed(second, self.digits) {
            return None;
        }
        if !totp::is_well_formed(first, self.digits) {
            return None;
        }
        let window = u64::from(window.clamp(2, MAX_RESYNC_WINDOW));
        // Both codes inside `next..next + window`: every pair is computed and compared, in
        // constant time, and the lowest matching pair wins.
        let codes: Vec<String> = (next..next.saturating_add(window))
            .map(|c| self.code(secret, c))
            .collect();
        let mut found = subtle::Choice::from(0);
        let mut matched = 0u64;
        for (i, pair) in codes.windows(2).enumerate().rev() {
            let equal = pair[0].as_bytes().ct_eq(first.as_bytes())
                & pair[1].as_bytes().ct_eq(second.as_bytes());
            let counter = next
                .saturating_add(u64::try_from(i).unwrap_or(u64::MAX))
                .saturating_add(1);
            matched.conditional_assign(&counter, equal);
            found |= equal;
        }
        CtOption::new(matched, found).into()
    }
}

/// The Key URI of a HOTP token: `otpauth://hotp/ISSUER:ACCOUNT?secret=…&counter=N&…`, `counter`
/// being the next one the app should use.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8], hotp: Hotp, counter: u64) -> String {
    let totp_uri = totp::otpauth_uri(issuer, account, secret, hotp.params());
    let uri = totp_uri
        .replacen("otpauth://totp/", "otpauth://hotp/", 1)
        .replace("&period=30", "");
    format!("{uri}&counter={counter}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: the secret "12345678901234567890" and counters 0 to 9.
    const SECRET: &[u8] = b"12345678901234567890";
    const VECTORS: [&str; 10] = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];

    fn hotp() -> Hotp {
        Hotp::new(Algorithm::Sha1, 6).unwrap()
    }

    #[test]
    fn rfc4226_appendix_d() {
        for (counter, code) in VECTORS.iter().enumerate() {
            assert_eq!(
                hotp().code(SECRET, counter as u64),
                *code,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn the_window_looks_ahead_of_the_next_counter_only() {
        assert_eq!(hotp().matching_counter(SECRET, VECTORS[3], 0, 10), Some(3));
        assert_eq!(hotp().matching_counter(SECRET, VECTORS[3], 3, 10), Some(3));
        // Used already (behind `next`), or beyond the window.
        assert_eq!(hotp().matching_counter(SECRET, VECTORS[3], 4, 10), None);
        assert_eq!(hotp().matching_counter(SECRET, VECTORS[9], 0, 5), None);
        assert_eq!(hotp().matching_counter(SECRET, "12345", 0, 10), None);
    }

    #[test]
    fn resync_needs_two_consecutive_codes() {
        assert_eq!(
            hotp().resync(SECRET, VECTORS[7], VECTORS[8], 0, 1000),
            Some(8)
        );
        assert_eq!(hotp().resync(SECRET, VECTORS[7], VECTORS[9], 0, 1000), None);
        assert_eq!(hotp().resync(SECRET, VECTORS[8], VECTORS[7], 0, 1000), None);
        assert_eq!(hotp().resync(SECRET, VECTORS[7], VECTORS[8], 0, 5), None);
        // Both codes inside the window: the pair (7, 8) needs a window of 9 from 0.
        assert_eq!(hotp().resync(SECRET, VECTORS[7], VECTORS[8], 0, 9), Some(8));
        assert_eq!(hotp().resync(SECRET, VECTORS[7], VECTORS[8], 0, 8), None);
        assert_eq!(hotp().resync(SECRET, VECTORS[7], VECTORS[8], 8, 1000), None);
    }

    #[test]
    fn the_key_uri_is_hotp_with_its_counter() {
        let uri = otpauth_uri("Shop", "alice", SECRET, hotp(), 5);
        assert!(
            uri.starts_with("otpauth://hotp/Shop:alice?secret="),
            "{uri}"
        );
        assert!(uri.ends_with("&counter=5"), "{uri}");
        assert!(!uri.contains("period"), "{uri}");
    }
}
