//! The ways a person writes a phone number, brought to the one E.164 spelling that is stored,
//! limited and sent to. The same for the API, the hosted pages and anything else that takes a
//! number, so a number is accepted in the same forms everywhere.

use super::PhoneError;

/// E.164 allows at most 15 digits, country code included.
pub const MAX_DIGITS: usize = 15;
/// The shortest mobile numbers libphonenumber knows (Tokelau +690 7290, Niue) have 7 digits.
/// libphonenumber checks the real length per plan; this floor only keeps [`super::Phone::prefix`]
/// and [`super::Phone::redacted`] from slicing past the `+`.
pub const MIN_DIGITS: usize = 7;

/// What may stand between the digits: the separators of the usual written forms
/// (`+33 6 12 34 56 78`, `+1 (555) 123-4567`, `+49.151.2345.6789`).
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')')
}

/// `+`, the country code and the number, with separators anywhere after the `+`, into E.164:
/// `+` and the digits alone. Only ASCII digits count: a full-width digit or `＋` is refused
/// rather than folded, so that what is stored is what the person can see they typed.
///
/// It judges the spelling only; whether such a number exists is [`super::Phone::parse`]'s job.
pub fn normalise(input: &str) -> Result<String, PhoneError> {
    let rest = input
        .trim_matches(' ')
        .strip_prefix('+')
        .ok_or(PhoneError::NoCountryCode)?;
    let mut e164 = String::with_capacity(MAX_DIGITS + 1);
    e164.push('+');
    let mut digits = 0usize;
    for c in rest.chars() {
        if c.is_ascii_digit() {
            // Counted past the limit too (without storing), so the message can say how many.
            digits = digits.saturating_add(1);
            if digits <= MAX_DIGITS {
                e164.push(c);
            }
        } else if !is_separator(c) {
            return Err(PhoneError::BadCharacter);
        }
    }
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        return Err(PhoneError::DigitCount(digits));
    }
    // No calling code starts with 0: `+0…` is a national number with a `+` in front.
    if e164.starts_with("+0") {
        return Err(PhoneError::NoCountryCode);
    }
    Ok(e164)
}
