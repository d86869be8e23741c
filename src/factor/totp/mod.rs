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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

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

/// Whether a value has the shape of an OTP code of any device: 6 or 8 ASCII digits.
pub fn is_code(code: &str) -> bool {
    is_well_formed(code, 6) || is_well_formed(code, 8)
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
mod tests;
