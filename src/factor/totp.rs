//! TOTP codes (RFC 6238 over RFC 4226 HOTP) and the `otpauth://` key URI that enrolls them.
//!
//! Pure: no I/O, no clock, no randomness. The caller passes the server's time (SEC-19) and the
//! secret (160 bits from the OS CSPRNG, SEC-3); this module only computes and compares.
//!
//! - HMAC and dynamic truncation (RFC 4226 §5.3) come from `totp-rs`; its own `check` is not used
//!   because it stops at the first matching step, which makes the answer time depend on where in
//!   the window the code sat (SEC-18; totp-rs CVE-2022-29185 was a timing leak in its comparison).
//! - [`matching_step`] therefore computes the code of every step of the window and compares each
//!   with `subtle` in constant time, remembering the match branch-free: a wrong code, a code of
//!   T−1 and a code of T+1 all cost the same.
//! - Only the canonical code syntax is accepted (SEC-12): anything but exactly 6 (or 8) ASCII
//!   digits never reaches the comparison.
//! - Replay protection (SEC-6, SEC-9) is the caller's: [`matching_step`] returns the step so the
//!   caller can accept it only if it is later than the device's last accepted step, with an atomic
//!   compare-and-set in the database.

use std::str::FromStr;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

/// Secret length in bytes: 160 bits, RFC 4226's recommendation (SEC-3).
pub const SECRET_LEN: usize = 20;

/// SEC-8: the accepted window is configurable up to T±2, never wider.
const MAX_WINDOW: u8 = 2;

/// The HMAC of an OTP (RFC 6238 §1.2 allows SHA-256 and SHA-512 besides SHA-1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The spelling of the `algorithm` parameter of the key URI and of the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    fn to_totp_rs(self) -> totp_rs::Algorithm {
        match self {
            Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
            Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
            Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        }
    }
}

impl FromStr for Algorithm {
    type Err = String;

    /// Exact spelling only, unlike totp-rs which ignores case: the API has one canonical form.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SHA1" => Ok(Algorithm::Sha1),
            "SHA256" => Ok(Algorithm::Sha256),
            "SHA512" => Ok(Algorithm::Sha512),
            _ => Err("algorithm must be SHA1, SHA256 or SHA512".to_owned()),
        }
    }
}

/// A device's code parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub algorithm: Algorithm,
    /// 6 or 8.
    pub digits: u8,
    /// Seconds per step: 30 or 60.
    pub period: u32,
}

impl Default for Params {
    /// SHA1 / 6 / 30: the only combination every authenticator app honours (SEC-1).
    fn default() -> Self {
        Params {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

impl Params {
    pub fn new(algorithm: Algorithm, digits: u8, period: u32) -> Result<Params, String> {
        if !matches!(digits, 6 | 8) {
            return Err("digits must be 6 or 8".to_owned());
        }
        if !matches!(period, 30 | 60) {
            return Err("period must be 30 or 60".to_owned());
        }
        Ok(Params {
            algorithm,
            digits,
            period,
        })
    }

    /// The fields are public, so a `Params` may not have come through [`Params::new`]; totp-rs
    /// panics on 10 digits or more, so every entry point re-checks.
    fn is_valid(self) -> bool {
        matches!(self.digits, 6 | 8) && matches!(self.period, 30 | 60)
    }
}

/// The time step containing `unix_secs` (RFC 6238 T0 = 0). Negative times → 0.
pub fn step_at(unix_secs: i64, period: u32) -> u64 {
    let secs = u64::try_from(unix_secs).unwrap_or(0);
    // A zero period is refused by `Params::new`; answering step 0 beats a division panic.
    secs.checked_div(u64::from(period)).unwrap_or(0)
}

/// totp-rs divides the time it is given by its step duration: with a duration of 1 the "time" is
/// the step itself, so no `step * period` multiplication can overflow. `build_noncompliant`
/// because the checked builder's rules (≥ 128-bit secret) are the caller's policy, not an error
/// this pure function should invent; HMAC accepts any key length, so nothing here can fail.
fn generator(secret: &[u8], params: Params) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(params.algorithm.to_totp_rs())
        .with_digits(params.digits)
        .with_step_duration(1)
        .with_secret(secret)
        .build_noncompliant()
}

/// The code for one time step, zero-padded to `digits` (RFC 4226 dynamic truncation).
///
/// Returns an empty string (which no well-formed code equals) for `Params` that did not pass
/// [`Params::new`].
pub fn code_at_step(secret: &[u8], params: Params, step: u64) -> String {
    if !params.is_valid() {
        return String::new();
    }
    generator(secret, params).generate(step).to_string()
}

/// Strict code syntax (SEC-12): exactly `digits` ASCII digits 0-9, nothing else (no spaces, no
/// full-width digits, no sign). Returns true if well-formed.
pub fn is_well_formed(code: &str, digits: u8) -> bool {
    // Byte length equals char count only for ASCII, and every non-ASCII char fails the digit test.
    code.len() == usize::from(digits) && code.bytes().all(|b| b.is_ascii_digit())
}

/// The step in [T-window, T+window] (T = `step_at(now_unix)`) whose code equals `code`, compared
/// in constant time and without early exit, so timing does not reveal which step matched
/// (SEC-18). If several steps match, the latest wins. `window` above 2 is treated as 2 (SEC-8).
/// Returns None for a malformed code or `Params` that did not pass [`Params::new`].
pub fn matching_step(
    secret: &[u8],
    params: Params,
    code: &str,
    now_unix: i64,
    window: u8,
) -> Option<u64> {
    // The syntax of the submitted code is public, so refusing it early leaks nothing.
    if !params.is_valid() || !is_well_formed(code, params.digits) {
        return None;
    }
    let window = u64::from(window.min(MAX_WINDOW));
    let current = step_at(now_unix, params.period);
    let totp = generator(secret, params);

    let mut found = Choice::from(0);
    let mut matched = 0u64;
    for step in current.saturating_sub(window)..=current.saturating_add(window) {
        let candidate = totp.generate(step).to_string();
        let equal = candidate.as_bytes().ct_eq(code.as_bytes());
        // Ascending order plus unconditional assignment: the last match is kept.
        matched.conditional_assign(&step, equal);
        found |= equal;
    }
    CtOption::new(matched, found).into()
}

/// RFC 4648 base32 without padding (what authenticator apps read).
pub fn base32_secret(secret: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(secret.len().div_ceil(5) * 8);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in secret {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        // Keep only the unconsumed bits so the accumulator never overflows.
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// RFC 3986 percent-encoding of everything but the unreserved set. Stricter than the URI needs
/// (and than `form_urlencoded`, which writes spaces as `+` that apps show literally), but every
/// authenticator decodes it, and a `:` inside the issuer or account cannot be mistaken for the
/// label separator.
fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Key URI format: `otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`
/// (SEC-2). Issuer and account are percent-encoded; the issuer is repeated as a parameter because
/// some apps read only one of the two. The parameters are always written, defaults included.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8], params: Params) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm={algorithm}&digits={digits}&period={period}",
        account = percent_encode(account),
        secret = base32_secret(secret),
        algorithm = params.algorithm.as_str(),
        digits = params.digits,
        period = params.period,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = b"12345678901234567890";

    fn vectors(json: &str) -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_str(json).unwrap();
        doc["vectors"].as_array().unwrap().clone()
    }

    fn field<'a>(row: &'a serde_json::Value, name: &str) -> &'a str {
        row[name].as_str().unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        let byte = |i| u8::from_str_radix(&s[i..i + 2], 16).unwrap();
        (0..s.len()).step_by(2).map(byte).collect()
    }

    /// Default params with the RFC seed, to keep the window tests on one line each.
    fn check(code: &str, now: i64, window: u8) -> Option<u64> {
        matching_step(SEED, Params::default(), code, now, window)
    }

    fn code(step: u64) -> String {
        code_at_step(SEED, Params::default(), step)
    }

    #[test]
    fn rfc6238_appendix_b() {
        // Includes "07081804" (zero padding) and t = 20000000000 (step beyond 32 bits of time).
        let rows = vectors(include_str!("../../tests/data/rfc6238_vectors.json"));
        assert_eq!(rows.len(), 18);
        for row in rows {
            let time = row["time"].as_i64().unwrap();
            let params = Params::new(field(&row, "algorithm").parse().unwrap(), 8, 30).unwrap();
            let seed = hex(field(&row, "seed_hex"));
            let expected = field(&row, "expected");
            let step = step_at(time, 30);
            assert_eq!(step, u64::from_str_radix(field(&row, "T_hex"), 16).unwrap());
            assert_eq!(code_at_step(&seed, params, step), expected, "{row}");
            assert_eq!(base32_secret(&seed), field(&row, "seed_base32"));
            let found = |window| matching_step(&seed, params, expected, time, window);
            assert!((0..=2).all(|window| found(window) == Some(step)), "{row}");
        }
    }

    #[test]
    fn rfc4226_appendix_d() {
        let rows = vectors(include_str!("../../tests/data/rfc4226_vectors.json"));
        assert_eq!(rows.len(), 10);
        let eight = Params::new(Algorithm::Sha1, 8, 30).unwrap();
        for row in rows {
            let counter = row["counter"].as_u64().unwrap();
            let seed = hex(field(&row, "seed_hex"));
            let (six, eight_digits) = (field(&row, "expected"), field(&row, "expected_8_digit"));
            assert_eq!(code_at_step(&seed, Params::default(), counter), six);
            assert_eq!(code_at_step(&seed, eight, counter), eight_digits);
        }
    }

    #[test]
    fn step_at_edges() {
        assert_eq!(step_at(29, 30), 0);
        assert_eq!(step_at(30, 30), 1);
        assert_eq!(step_at(119, 60), 1);
        assert_eq!(step_at(-1, 30), 0);
        assert_eq!(step_at(i64::MIN, 30), 0);
        assert_eq!(step_at(i64::MAX, 30), i64::MAX as u64 / 30);
        assert_eq!(step_at(1000, 0), 0);
        // The window neither underflows at the epoch nor overflows at the end of time.
        assert_eq!(check(&code(0), -5, 2), Some(0));
        let t = step_at(i64::MAX, 30);
        assert_eq!(check(&code(t + 2), i64::MAX, 2), Some(t + 2));
    }

    #[test]
    fn window_edges() {
        let now = 1_700_000_000;
        let t = step_at(now, 30);
        // The assertions below rely on these five codes being distinct.
        let codes: Vec<String> = (t - 2..=t + 2).map(code).collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(!codes[i + 1..].contains(c));
        }

        assert_eq!(check(&code(t), now, 0), Some(t));
        assert_eq!(check(&code(t - 1), now, 0), None);
        assert_eq!(check(&code(t + 1), now, 0), None);
        for step in [t - 1, t, t + 1] {
            assert_eq!(check(&code(step), now, 1), Some(step));
        }
        assert_eq!(check(&code(t - 2), now, 1), None);
        assert_eq!(check(&code(t + 2), now, 1), None);
        for step in t - 2..=t + 2 {
            assert_eq!(check(&code(step), now, 2), Some(step));
        }
        // Wider than SEC-8 allows is clamped to 2.
        assert_eq!(check(&code(t + 3), now, 9), None);
        assert_eq!(check(&code(t + 2), now, 9), Some(t + 2));
    }

    #[test]
    fn duplicate_match_returns_latest_step() {
        // Found by search: for the RFC seed, steps 56295193 and 56295195 share code 769717.
        let t = 56_295_194;
        assert_eq!(code(t - 1), "769717");
        assert_eq!(code(t + 1), "769717");
        assert_ne!(code(t), "769717");
        assert_eq!(check("769717", (t * 30) as i64, 1), Some(t + 1));
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(code(1), "287082");
        assert!(is_well_formed("287082", 6));
        assert_eq!(check("287082", 59, 1), Some(1));
        let spacing = [
            " 287082",
            "287082 ",
            "287 082",
            "２８７０８２",
            "１２３４５６",
        ];
        let others = [
            "12345", "1234567", "+28708", "-28708", "", "abcdef", "28708\0",
        ];
        for bad in spacing.into_iter().chain(others) {
            assert!(!is_well_formed(bad, 6), "{bad:?}");
            assert_eq!(check(bad, 59, 2), None, "{bad:?}");
        }
        assert!(!is_well_formed("287082", 8));
        assert!(is_well_formed("00000000", 8));
    }

    #[test]
    fn params_validation() {
        assert_eq!(Params::new(Algorithm::Sha1, 6, 30), Ok(Params::default()));
        assert!(Params::new(Algorithm::Sha512, 8, 60).is_ok());
        for digits in [0, 5, 7, 9, 10, 255] {
            assert!(Params::new(Algorithm::Sha1, digits, 30).is_err());
        }
        for period in [0, 1, 15, 45, 90] {
            assert!(Params::new(Algorithm::Sha1, 6, period).is_err());
        }
        // Hand-built invalid Params must not reach totp-rs (which panics at 10+ digits).
        let bad = Params {
            digits: 10,
            period: 0,
            ..Params::default()
        };
        assert_eq!(code_at_step(SEED, bad, 1), "");
        assert_eq!(matching_step(SEED, bad, "1234567890", 59, 1), None);
    }

    #[test]
    fn algorithm_spelling() {
        use Algorithm::*;
        for (alg, name) in [(Sha1, "SHA1"), (Sha256, "SHA256"), (Sha512, "SHA512")] {
            let json = format!("\"{name}\"");
            assert_eq!(alg.as_str(), name);
            assert_eq!(name.parse::<Algorithm>(), Ok(alg));
            assert_eq!(serde_json::to_string(&alg).unwrap(), json);
            assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), alg);
        }
        for bad in ["sha1", "Sha1", "SHA-1", " SHA1", "MD5", ""] {
            assert!(bad.parse::<Algorithm>().is_err());
            assert!(serde_json::from_str::<Algorithm>(&format!("\"{bad}\"")).is_err());
        }
        let schema = <Algorithm as utoipa::PartialSchema>::schema();
        let schema = serde_json::to_string(&schema).unwrap();
        assert!(schema.contains("\"SHA256\""), "{schema}");
    }

    #[test]
    fn base32() {
        assert_eq!(base32_secret(SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for len in 0..=41 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 255 - len) as u8).collect();
            let encoded = base32_secret(&bytes);
            assert!(!encoded.contains('='));
            // totp-rs's base32 (the `base32` crate) as the independent implementation.
            assert_eq!(encoded, totp_rs::Secret::from(bytes.as_slice()).to_base32());
            let decoded = totp_rs::Secret::try_from_base32(&encoded).unwrap();
            assert_eq!(decoded.as_bytes(), bytes.as_slice());
        }
    }

    #[test]
    fn otpauth_uris() {
        let uri = |issuer, account, params| otpauth_uri(issuer, account, SEED, params);
        assert_eq!(
            uri("twofold", "alice@example.com", Params::default()),
            "otpauth://totp/twofold:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=twofold&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            uri("Acme Co", "bob:smith/x?y#z", Params::default()),
            "otpauth://totp/Acme%20Co:bob%3Asmith%2Fx%3Fy%23z?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            uri("Zoë:1%", "a+b&c=d~e", Params::default()),
            "otpauth://totp/Zo%C3%AB%3A1%25:a%2Bb%26c%3Dd~e?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Zo%C3%AB%3A1%25&algorithm=SHA1&digits=6&period=30"
        );
        let sha512 = Params::new(Algorithm::Sha512, 8, 60).unwrap();
        assert_eq!(
            uri("twofold", "carol", sha512),
            "otpauth://totp/twofold:carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=twofold&algorithm=SHA512&digits=8&period=60"
        );
    }
}
