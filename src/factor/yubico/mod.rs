//! Yubico OTP, the 44 characters a YubiKey types: 12 modhex characters of public id, then an
//! AES-128 block (private id, use counter, timestamp, session counter, random, CRC-16). Pure
//! rules: shape, modhex, decryption with its CRC check, and the import of the keys' secrets from a
//! personalization log. The caller compares the private id and keeps each key's last counter.

use std::fmt;

use aes::Aes128;
use aes::cipher::{BlockCipherDecrypt, KeyInit};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub const OTP_LEN: usize = 44;
pub const PUBLIC_ID_LEN: usize = 12; // modhex chars
/// Hex digits 0..f as keys that are in the same place on most keyboard layouts.
const MODHEX: &[u8; 16] = b"cbdefghijklnrtuv";
/// The CRC-16 of a block that ends in its own (complemented) CRC.
const CRC_RESIDUE: u16 = 0xf0b8;
/// The use counter's high bit says caps lock triggered the OTP (yubico-c's `yubikey_capslock`).
const CAPS_LOCK_BIT: u16 = 0x8000;

fn modhex_digit(c: u8) -> Option<u8> {
    let lower = c.to_ascii_lowercase();
    let index = MODHEX.iter().position(|&m| m == lower)?;
    u8::try_from(index).ok()
}

/// Whether a typed value has the shape of a Yubico OTP: 44 modhex characters, either case (caps
/// lock). What twofold's verify uses to route a value.
pub fn is_otp(s: &str) -> bool {
    s.len() == OTP_LEN && s.bytes().all(|c| modhex_digit(c).is_some())
}

/// The canonical (lowercase) form.
pub fn normalise(s: &str) -> Option<String> {
    is_otp(s).then(|| s.to_ascii_lowercase())
}

/// Modhex to bytes, either case; None for an odd length or a character outside the alphabet.
pub fn modhex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let byte = |pair: &[u8]| Some((modhex_digit(pair[0])? << 4) | modhex_digit(pair[1])?);
    s.as_bytes().chunks_exact(2).map(byte).collect()
}

pub fn modhex_encode(b: &[u8]) -> String {
    let nibbles = b.iter().flat_map(|&byte| [byte >> 4, byte & 0x0f]);
    nibbles
        .map(|n| char::from(MODHEX[usize::from(n)]))
        .collect()
}

/// The public id (the first 12 modhex chars, lowercase). None unless `otp` is an OTP in its
/// canonical form: pass it through [`normalise`] first.
pub fn public_id(otp: &str) -> Option<&str> {
    let canonical = is_otp(otp) && !otp.bytes().any(|c| c.is_ascii_uppercase());
    canonical.then(|| &otp[..PUBLIC_ID_LEN])
}

/// The fields of a decrypted OTP that verification needs (the random field is not kept).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Decrypted {
    pub private_id: [u8; 6],
    /// 15 bits: +1 at each plug-in (the caps lock bit is masked off).
    pub use_counter: u16,
    /// +1 at each touch, 0 at plug-in; at 0xff the key moves to the next use counter.
    pub session_counter: u8,
    /// 24 bits, about 8 Hz, random at plug-in.
    pub timestamp: u32,
}

impl Decrypted {
    /// The pair (use counter, session counter) as one number that strictly increases with every
    /// OTP the key makes: use_counter << 8 | session_counter.
    pub fn counter(&self) -> u32 {
        (u32::from(self.use_counter) << 8) | u32::from(self.session_counter)
    }
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("private_id", &"<redacted>")
            .field("use_counter", &self.use_counter)
            .field("session_counter", &self.session_counter)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// CRC-16 ISO 13239 (reflected 0x8408, init 0xffff), without branches on the data.
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0xffff, |crc, &byte| {
        (0..8).fold(crc ^ u16::from(byte), |c, _| {
            (c >> 1) ^ (0x8408 & 0u16.wrapping_sub(c & 1))
        })
    })
}

/// Decrypts and checks the CRC; None if the OTP is malformed or the CRC does not match (a wrong
/// key or a forged OTP). Does NOT check the private id or counters: the caller compares the
/// private id ([`private_id_matches`]) and the counter.
pub fn decrypt(otp: &str, aes_key: &[u8; 16]) -> Option<Decrypted> {
    let otp = normalise(otp)?;
    let encrypted: [u8; 16] = modhex_decode(&otp[PUBLIC_ID_LEN..])?.try_into().ok()?;
    let cipher = Aes128::new_from_slice(aes_key).ok()?;
    let mut plain = Zeroizing::new(encrypted);
    cipher.decrypt_block((&mut *plain).into());
    if crc16(&plain[..]) != CRC_RESIDUE {
        return None;
    }
    let mut private_id = [0; 6];
    private_id.copy_from_slice(&plain[..6]);
    Some(Decrypted {
        private_id,
        use_counter: u16::from_le_bytes([plain[6], plain[7]]) & !CAPS_LOCK_BIT,
        timestamp: u32::from_le_bytes([plain[8], plain[9], plain[10], 0]),
        session_counter: plain[11],
    })
}

/// Constant-time comparison of private ids.
pub fn private_id_matches(a: &[u8; 6], b: &[u8; 6]) -> bool {
    a[..].ct_eq(&b[..]).into()
}

/// One key of a personalization log's Yubico OTP rows.
pub struct Personalization {
    /// None where the log has none (the Personalization Tool's default log) or it is 0.
    pub serial: Option<String>,
    /// Lowercase modhex, 12 characters.
    pub public_id: String,
    pub private_id: [u8; 6],
    pub aes_key: Zeroizing<[u8; 16]>,
}

impl fmt::Debug for Personalization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Personalization")
            .field("serial", &self.serial)
            .field("public_id", &self.public_id)
            .field("private_id", &"<redacted>")
            .field("aes_key", &"<redacted>")
            .finish()
    }
}

/// A refused line (1-based) and why; the reason never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The Personalization Tool's other event types (its log's first column; some have suffixes).
const OTHER_EVENTS: [&str; 4] = [
    "Static Password",
    "OATH-HOTP",
    "Challenge-Response",
    "Config",
];
/// The fields after the local time in the Tool's log: slot, public id, private id, key, then 12.
const LOG_TAIL: usize = 16;

/// Parses the Yubico OTP rows of a personalization log, in either format Yubico's tools write:
/// - the YubiKey Personalization Tool's default log (configuration_log.csv): `LOGGING START,…`
///   lines, then `Yubico OTP,<local time>,<slot>,<public id>,<private id>,<key>,` and 12 more
///   fields (no serial);
/// - `<serial>,<public id>,<private id>,<key>,<access code>,<time>,`: `ykman otp yubiotp
///   --config-output` and the Tool's "Yubico format" log (the YubiCloud upload format).
///
/// Blank lines are skipped; every other row, another type or a public id seen before is refused.
/// Either all records, or every bad line with its reason.
pub fn parse_personalization_csv(text: &str) -> Result<Vec<Personalization>, Vec<CsvError>> {
    let mut records: Vec<(usize, Personalization)> = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let row = raw.trim_start_matches('\u{feff}').trim();
        if row.is_empty() || row.starts_with("LOGGING START,") {
            continue;
        }
        let parsed = parse_row(row).and_then(|p| {
            let seen = records.iter().find(|(_, r)| r.public_id == p.public_id);
            seen.map_or(Ok(p), |(n, r)| {
                Err(format!("public id {} is also on line {n}", r.public_id))
            })
        });
        match parsed {
            Ok(p) => records.push((line, p)),
            Err(reason) => errors.push(CsvError { line, reason }),
        }
    }
    if errors.is_empty() {
        Ok(records.into_iter().map(|(_, p)| p).collect())
    } else {
        Err(errors)
    }
}

fn parse_row(row: &str) -> Result<Personalization, String> {
    let fields: Vec<&str> = row.split(',').map(str::trim).collect();
    let first = fields.first().copied().unwrap_or_default();
    if first == "Yubico OTP" {
        // The local time is the only free text (a locale may write it with commas): count the
        // fixed fields from the end.
        let Some(start) = fields.len().checked_sub(LOG_TAIL).filter(|&s| s >= 2) else {
            let n = fields.len();
            return Err(format!("a Yubico OTP log row has 18 fields, not {n}"));
        };
        record(None, &fields[start + 1..start + 4])
    } else if first.bytes().all(|b| b.is_ascii_digit()) {
        if !(6..=7).contains(&fields.len()) || fields.get(6).is_some_and(|f| !f.is_empty()) {
            let n = fields.len();
            return Err(format!(
                "a serial,public id,private id,key,… row has 6 fields and a comma, not {n}"
            ));
        }
        let serial = (!first.bytes().all(|b| b == b'0')).then(|| first.to_owned());
        record(serial, &fields[1..4])
    } else if OTHER_EVENTS.iter().any(|e| first.starts_with(e)) {
        Err(format!(
            "a {first} row: only Yubico OTP rows can be imported"
        ))
    } else {
        Err(
            "not a personalization log row: expected \"Yubico OTP,…\" (YubiKey Personalization \
             Tool) or \"serial,public id,private id,key,…\" (ykman otp yubiotp -O)"
                .to_owned(),
        )
    }
}

fn record(serial: Option<String>, fields: &[&str]) -> Result<Personalization, String> {
    let &[public, private, key] = fields else {
        return Err("missing fields".to_owned());
    };
    let mut problems = Vec::new();
    let public_id = public.to_ascii_lowercase();
    if public_id.len() != PUBLIC_ID_LEN || modhex_decode(&public_id).is_none() {
        problems.push("the public id is not 12 modhex characters (a 44-character OTP's)");
    }
    let mut private_id = [0; 6];
    if private.len() != 12 || base16ct::mixed::decode(private, &mut private_id).is_err() {
        problems.push("the private id is not 12 hex digits");
    }
    let mut aes_key = Zeroizing::new([0; 16]);
    if key.len() == 40 {
        problems.push("the secret is 20 bytes: an OATH-HOTP or challenge-response key");
    } else if key.len() != 32 || base16ct::mixed::decode(key, &mut aes_key[..]).is_err() {
        problems.push("the AES key is not 32 hex digits");
    }
    let ok = Personalization {
        serial,
        public_id,
        private_id,
        aes_key,
    };
    if problems.is_empty() {
        Ok(ok)
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests;
