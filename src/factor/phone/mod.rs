//! Phone numbers for SMS devices: strict E.164 validation, the country allow-list, and the only
//! forms of a number that may leave the process in answers and logs.
//!
//! Pure: no I/O. Validity and the region come from libphonenumber's metadata (the `phonenumber`
//! crate), never from a hand-written country regex (SEC-30).
//!
//! - A number is written `+`, the country code and the digits, with spaces, hyphens, dots or
//!   parentheses anywhere after the `+` ([`normalise`]); it is then held only in E.164 (`+` and
//!   7 to 15 ASCII digits, the first not 0). The number a user confirms is byte-for-byte the
//!   number that is stored, limited and sent to, so two spellings of one number cannot dodge
//!   the per-number limits (SEC-29). National forms (`06…`, `0033…`), a trunk 0 after the
//!   country code and full-width digits are refused, never guessed at.
//! - Only numbers libphonenumber types as mobile (or fixed-line-or-mobile, where a plan such as
//!   NANP does not tell them apart) are accepted; see [`Phone::parse`] for why every other type is
//!   refused.
//! - [`Phone`] has no `Display` and its `Debug` shows only [`Phone::redacted`], so a full number
//!   cannot reach a log line by accident (SEC-26); [`Phone::e164`] is for storage and the gateway.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use phonenumber::metadata::{DATABASE, Descriptor};
use phonenumber::{Metadata, Mode};

mod spelling;

pub use spelling::{MAX_DIGITS, MIN_DIGITS, normalise};

/// [`Phone::prefix`] drops this many trailing digits (issue 4: "number minus its last 4 digits").
const PREFIX_DROPPED: usize = 4;
/// [`Phone::redacted`] and [`Phone::last_digits`] show this many trailing digits.
const SHOWN: usize = 2;

/// A validated mobile phone number in E.164, with its region.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone {
    e164: String,
    /// ISO 3166-1 alpha-2, upper case, e.g. "FR".
    region: String,
    /// Every region in whose plan the number is a mobile: `region` and, for a shared calling
    /// code, the territories whose ranges overlap (e.g. "GB" and "IM" for a Manx mobile).
    also_valid_in: Vec<String>,
    country_code: u16,
}

/// Why a number was refused. No message contains the number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    /// No leading `+`, or a `+` followed by 0 (no calling code starts with 0).
    #[error("a phone number starts with + and the country code, e.g. +33 6 12 34 56 78")]
    NoCountryCode,
    /// Something other than digits and the separators.
    #[error(
        "a phone number holds only digits after the +, with spaces, hyphens, dots or \
         parentheses between them, e.g. +33 6 12 34 56 78"
    )]
    BadCharacter,
    /// Too few or too many digits for E.164 (the count given).
    #[error(
        "a phone number has 7 to 15 digits, the country code included (E.164); this one has {0}"
    )]
    DigitCount(usize),
    /// Well formed, but in no number range libphonenumber knows (e.g. +1 555 555 5555).
    #[error("the number given is not a valid phone number (no such number range)")]
    NoSuchNumber,
    /// A real number that is refused by policy: not a mobile, no country, or a country outside
    /// the allow-list. Maps to 400 `phone_not_allowed`.
    #[error("phone number is not allowed: it must be a mobile number of an allowed country")]
    NotAllowed,
}

impl Phone {
    /// Parses a number written as [`normalise`] takes it that is a valid mobile number.
    ///
    /// Number types: only `Mobile` and `FixedLineOrMobile` are accepted.
    /// - Premium-rate, toll-free, shared-cost and UAN numbers are what SMS pumping targets (the
    ///   attacker earns a share of the termination fee), and no one reads a code on them.
    /// - VoIP, personal (forwarding) and pager numbers can be taken over without the handset;
    ///   NIST SP 800-63B (2017, §5.1.3.3) asks out-of-band verifiers to refuse VoIP for this reason.
    /// - Plain fixed lines usually cannot receive SMS: the code would be paid for and lost.
    /// - Non-geographic codes (+800, +881 satellite, +882/+883 international networks) have no
    ///   ISO region for the allow-list, and are a classic destination of revenue-share fraud.
    ///
    /// Those refusals are [`PhoneError::NotAllowed`]; bad syntax is one of the spelling errors,
    /// and a number libphonenumber does not consider valid is [`PhoneError::NoSuchNumber`].
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let e164 = normalise(input)?;
        // Only `+digits` reaches the parser: its published panics (GHSA-whhr-7f2w-qqj2,
        // GHSA-mjw4-jj88-v687) were on RFC 3966 syntax, which `normalise` already refused.
        let number = phonenumber::parse(None, &e164).map_err(|_| PhoneError::NoSuchNumber)?;
        // The parser forgives things E.164 does not (a trunk 0 after the country code, for
        // one): only a number that formats back to itself is canonical.
        if !phonenumber::is_valid(&number) || number.format().mode(Mode::E164).to_string() != e164 {
            return Err(PhoneError::NoSuchNumber);
        }
        let country_code = number.country().code();
        // With its leading zeros (CI, BJ, CG numbers start with 0): the crate's own
        // `number_type` and `metadata` use the value without them and misjudge such numbers.
        let national = number.national().to_string();
        // Non-geographic codes are listed under the pseudo-region "001": never a candidate.
        let regions: Vec<&'static Metadata> = DATABASE
            .region(&country_code)
            .unwrap_or_default()
            .into_iter()
            .filter(|id| is_region_code(id))
            .filter_map(|id| DATABASE.by_id(id))
            .filter(|meta| receives_sms(meta, &national))
            .collect();
        // libphonenumber's rule for a shared calling code: the main country comes first and a
        // territory with leading digits claims only numbers that start with them.
        let region = regions
            .iter()
            .find(|meta| {
                meta.leading_digits()
                    .is_none_or(|p| p.find(&national).is_some_and(|m| m.start() == 0))
            })
            .or(regions.first())
            .ok_or(PhoneError::NotAllowed)?;
        Ok(Phone {
            e164,
            region: region.id().to_owned(),
            also_valid_in: regions.iter().map(|meta| meta.id().to_owned()).collect(),
            country_code,
        })
    }

    /// The full number, for storage and the gateway only: never for answers or logs (SEC-26).
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// ISO 3166-1 alpha-2 region, upper case, e.g. "FR" (per-country limits and metrics).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The country calling code, e.g. 33.
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The number minus its last 4 digits, e.g. "+3361234" for "+33612345678": the key of the
    /// per-prefix limit against pumping through sequential numbers (SEC-29).
    pub fn prefix(&self) -> &str {
        // ASCII only, and at least MIN_DIGITS long, so the slice is on a char boundary.
        &self.e164[..self.e164.len() - PREFIX_DROPPED]
    }

    /// The last 2 digits, e.g. "78", for a user to recognise their device.
    pub fn last_digits(&self) -> String {
        self.e164[self.e164.len() - SHOWN..].to_owned()
    }

    /// The only form of a number for answers and logs: the country calling code, "…" and the last
    /// 2 digits, e.g. "+33…78". Fixed shape: the length of the number is not revealed either.
    pub fn redacted(&self) -> String {
        format!("+{}…{}", self.country_code, self.last_digits())
    }
}

impl fmt::Debug for Phone {
    /// Redacted, so `{:?}` of a device or request holding a `Phone` is safe to log (SEC-26).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Phone")
            .field("redacted", &self.redacted())
            .field("region", &self.region)
            .finish()
    }
}

/// Whether libphonenumber would type `national` as `Mobile` or `FixedLineOrMobile` in this
/// region. Same precedence as its type detection: a number matching a special-service pattern
/// (premium rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail) is of that type
/// even if the mobile pattern matches it too.
fn receives_sms(meta: &Metadata, national: &str) -> bool {
    let d = meta.descriptors();
    let matches = |desc: Option<&Descriptor>| desc.is_some_and(|desc| desc.is_match(national));
    let special = [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ];
    d.general().is_match(national) && !special.into_iter().any(matches) && matches(d.mobile())
}

/// Two upper-case ASCII letters that libphonenumber knows as a region.
fn is_region_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && DATABASE.by_id(code).is_some()
}

/// The country allow-list (SEC-30): explicit ISO 3166-1 alpha-2 regions, or `*` for all.
///
/// There is no "empty means everything": an empty spec is refused, so forgetting the setting
/// cannot silently open SMS to every country.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Allowed(Regions);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Regions {
    All,
    Only(BTreeSet<String>),
}

impl Allowed {
    /// `*`, or comma-separated region codes, case-insensitive, spaces around each ignored, e.g.
    /// "FR,be, DE". Refuses an empty spec, an empty item, `*` mixed with codes, and any code
    /// libphonenumber does not know (a typo must fail at startup, not refuse every number).
    pub fn parse(spec: &str) -> Result<Allowed, String> {
        let spec = spec.trim();
        if spec == "*" {
            return Ok(Allowed(Regions::All));
        }
        if spec.is_empty() {
            return Err("the country allow-list is empty: list ISO 3166-1 codes, or *".to_owned());
        }
        let mut regions = BTreeSet::new();
        for item in spec.split(',') {
            let code = item.trim().to_ascii_uppercase();
            if code == "*" {
                return Err("* must be the whole country allow-list".to_owned());
            }
            if !is_region_code(&code) {
                return Err(format!(
                    "unknown country code {:?} in the allow-list (ISO 3166-1 alpha-2, e.g. FR)",
                    item.trim()
                ));
            }
            regions.insert(code);
        }
        Ok(Allowed(Regions::Only(regions)))
    }

    /// Every region.
    pub fn all() -> Allowed {
        Allowed(Regions::All)
    }

    pub fn permits(&self, phone: &Phone) -> bool {
        match &self.0 {
            Regions::All => true,
            // A territory sharing a plan (IM in +44, VA in +39, AX in +358) resolves to the main
            // country when their ranges overlap, so naming either in the list admits it.
            Regions::Only(regions) => phone.also_valid_in.iter().any(|r| regions.contains(r)),
        }
    }
}

impl FromStr for Allowed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Allowed::parse(s)
    }
}

impl TryFrom<String> for Allowed {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Allowed::parse(&s)
    }
}

impl fmt::Display for Allowed {
    /// The canonical spec: `*`, or the codes upper case, sorted, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Regions::All => f.write_str("*"),
            Regions::Only(regions) => f.write_str(
                &regions
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        }
    }
}

impl From<Allowed> for String {
    fn from(allowed: Allowed) -> String {
        allowed.to_string()
    }
}

/// Validation then the allow-list: what an enrollment runs before anything reaches a gateway.
pub fn check(input: &str, allowed: &Allowed) -> Result<Phone, PhoneError> {
    let phone = Phone::parse(input)?;
    if allowed.permits(&phone) {
        Ok(phone)
    } else {
        Err(PhoneError::NotAllowed)
    }
}

#[cfg(test)]
mod tests;
