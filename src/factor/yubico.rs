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
mod tests {
    use super::*;

    const CSV: &str = include_str!("../../tests/data/yubico/personalization.csv");
    const LOG: &str = include_str!("../../tests/data/yubico/configuration_log.csv");
    const YUBICO_C_KEY: &str = "ecde18dbe76fbd0c33330f1c354871db";

    fn hex<const N: usize>(s: &str) -> [u8; N] {
        std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
    }

    /// otps.json (made by generate.py with the yubiotp package), its key and private id.
    fn fixture() -> (serde_json::Value, [u8; 16], [u8; 6]) {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/yubico/otps.json")).unwrap();
        let field = |name: &str| doc[name].as_str().unwrap().to_owned();
        let (key, id) = (hex(&field("aes_key_hex")), hex(&field("private_id_hex")));
        (doc, key, id)
    }

    #[test]
    fn modhex_yubico_c_vectors_and_round_trip() {
        // yubico-c's test-vectors.txt.
        assert_eq!(modhex_decode("dteffuje").unwrap(), [0x2d, 0x34, 0x4e, 0x83]);
        let token = modhex_decode("hknhfjbrjnlnldnhcujvddbikngjrtgh").unwrap();
        assert_eq!(token, hex::<16>("69b6481c8baba2b60e8f22179b58cd56"));
        let encoded = modhex_encode(&hex::<16>(YUBICO_C_KEY));
        assert_eq!(encoded, "urtubjtnuihvntcreeeecvbregfjibtn");
        assert_eq!(modhex_encode(b"test") + &modhex_encode(&[]), "ifhgieif");
        assert_eq!(modhex_decode("IFHGIEIF").unwrap(), b"test");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(modhex_decode(&modhex_encode(&all)).unwrap(), all);
        for bad in ["c", "cbd", "ca", "0c", "cé"] {
            assert_eq!(modhex_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn shape_normalise_and_public_id() {
        let (doc, key, _) = fixture();
        let otp = doc["otps"][0]["otp"].as_str().unwrap();
        let upper = otp.to_ascii_uppercase();
        assert!(is_otp(otp) && is_otp(&upper) && decrypt(&upper, &key).is_some());
        assert_eq!(normalise(&upper).as_deref(), Some(otp));
        assert_eq!(public_id(otp), doc["public_id"].as_str());
        assert_eq!(public_id(&upper), None);
        let (short, long, bad) = (&otp[1..], format!("{otp}c"), otp.replace('v', "a"));
        for bad in [short, &long, &bad, "", "123456", &format!("{}é", &otp[2..])] {
            assert!(
                !is_otp(bad) && normalise(bad).is_none() && public_id(bad).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn yubico_c_readme_vectors() {
        // yubico-c's README (ykparse output), the 8-character public id padded to 12.
        let key = hex::<16>(YUBICO_C_KEY);
        let vectors = [
            ("dcflcindvdbrblehecuitvjkjevvehjd", 16, 0xc0a8),
            ("hknhfjbrjnlnldnhcujvddbikngjrtgh", 17, 0xc230),
        ];
        for (token, session, timestamp) in vectors {
            let d = decrypt(&format!("ccccdteffuje{token}"), &key).unwrap();
            assert_eq!(d.private_id, hex::<6>("8792ebfe26cc"));
            assert_eq!(
                (d.use_counter, d.session_counter, d.timestamp),
                (19, session, timestamp)
            );
            assert_eq!(d.counter(), (19 << 8) | u32::from(session));
            let mut other = key;
            other[15] ^= 1;
            assert_eq!(decrypt(&format!("ccccdteffuje{token}"), &other), None);
        }
    }

    #[test]
    fn yubiotp_fixture() {
        let (doc, key, private_id) = fixture();
        let otps = doc["otps"].as_array().unwrap();
        assert_eq!(otps.len(), 8);
        let mut last = None;
        for row in otps {
            let d = decrypt(row["otp"].as_str().unwrap(), &key).unwrap();
            assert!(private_id_matches(&d.private_id, &private_id), "{row}");
            let got = [
                d.use_counter.into(),
                d.session_counter.into(),
                d.timestamp.into(),
            ];
            let want = ["use_counter", "session_counter", "timestamp"].map(|k| row[k].as_u64());
            assert_eq!(got.map(Some), want, "{row}");
            assert!(last < Some(d.counter()), "{row}");
            last = Some(d.counter());
        }
        let bad = |name: &str| decrypt(doc["bad"][name].as_str().unwrap(), &key);
        assert_eq!((bad("other_key"), bad("bad_crc")), (None, None));
        let other = bad("other_private_id").unwrap();
        assert!(!private_id_matches(&other.private_id, &private_id));
        assert!(!format!("{other:?}").contains("a1b2c3"));
    }

    #[test]
    fn caps_lock_bit_is_not_part_of_the_counter() {
        use aes::cipher::BlockCipherEncrypt;
        let key = [7; 16];
        let mut block = [
            1, 2, 3, 4, 5, 6, 0x05, 0x80, 0x10, 0x20, 0x30, 9, 0xaa, 0xbb, 0, 0,
        ];
        let crc = !crc16(&block[..14]);
        block[14..].copy_from_slice(&crc.to_le_bytes());
        Aes128::new_from_slice(&key)
            .unwrap()
            .encrypt_block((&mut block).into());
        let d = decrypt(&format!("vvvvvvvvvvvv{}", modhex_encode(&block)), &key).unwrap();
        assert_eq!(
            (d.use_counter, d.session_counter, d.timestamp),
            (5, 9, 0x302010)
        );
    }

    fn assert_fixture_key(p: &Personalization) {
        let (doc, key, private_id) = fixture();
        assert_eq!(Some(p.public_id.as_str()), doc["public_id"].as_str());
        assert_eq!((p.private_id, *p.aes_key), (private_id, key));
    }

    #[test]
    fn personalization_fixtures() {
        let keys = parse_personalization_csv(CSV).unwrap();
        let ids: Vec<_> = keys
            .iter()
            .map(|k| (k.serial.as_deref(), &k.public_id[..]))
            .collect();
        assert_eq!(
            ids,
            [
                (Some("12345678"), "vvcijgklnrbf"),
                (Some("12345679"), "vvcijgklnrbg")
            ]
        );
        assert_fixture_key(&keys[0]);
        let log = parse_personalization_csv(LOG).unwrap();
        assert_eq!((log.len(), log[0].serial.as_deref()), (1, None));
        assert_fixture_key(&log[0]);
        // A byte order mark, CRLF, blank lines, a local time with commas, upper case.
        let row = LOG
            .lines()
            .nth(1)
            .unwrap()
            .replace("5/21/26", "Thu, May 21, 2026");
        let row = row
            .to_ascii_uppercase()
            .replacen("YUBICO OTP", "Yubico OTP", 1);
        let text = format!("\u{feff}LOGGING START,x\r\n\r\n{row}\r\n\n");
        assert_fixture_key(&parse_personalization_csv(&text).unwrap()[0]);
        let debug = format!("{:?}", log[0]);
        assert!(
            debug.contains("vvcijgklnrbf") && !debug.contains("3bd9") && !debug.contains("a1b2")
        );
        assert!(parse_personalization_csv("").unwrap().is_empty());
    }

    #[test]
    fn personalization_collects_every_bad_line() {
        let text = "1,vvcijgklnrbf,a1b2c3d4e5f6,KEY,,2026-05-21T13:35:45,

OATH-HOTP,5/21/26 1:35 PM,2,vvcijgklnrbc,,K20,,,0,0,0,6,0,0,0,0,0,0
Static Password: Short,5/21/26,1,,,KEY,,,0,0,0,0,0,0,0,0,0,0
2,vvcijgklnrbf,a1b2c3d4e5f6,KEY,,2026-05-21T13:35:45,
3,vvcijgklnrbd,a1b2c3d4e5fx,KEYz,,2026-05-21T13:35:45,
4,0123456789ab,a1b2c3d4e5f6,K20,,2026-05-21T13:35:45,
5,vvcijgklnrbe,a1b2c3d4e5f6,KEY
Yubico OTP,5/21/26,1,vvcijgklnrbe,a1b2c3d4e5f6,KEY
KEY,vvcijgklnrbe,a1b2c3d4e5f6"
            .replace("K20", "8e3c1f5a7b9d2e4c6a8b0d1f3e5c7a9b01234567")
            .replace("KEY", "3bd9f2a8c1e04d7f96b25e08a1c3d4f7");
        let errors = parse_personalization_csv(&text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10]);
        let r: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(
            r[0],
            "a OATH-HOTP row: only Yubico OTP rows can be imported"
        );
        assert!(r[1].starts_with("a Static Password: Short row"));
        assert_eq!(r[2], "public id vvcijgklnrbf is also on line 1");
        assert!(
            r[3].contains("private id") && r[3].contains("AES key"),
            "{}",
            r[3]
        );
        assert!(
            r[4].contains("public id") && r[4].contains("20 bytes"),
            "{}",
            r[4]
        );
        assert!(r[5].ends_with("not 4") && r[6].ends_with("not 6"));
        assert!(r[7].starts_with("not a personalization log row"));
        assert!(r.iter().all(|r| !r.contains("3bd9") && !r.contains("8e3c")));
        assert_eq!(errors[0].to_string(), format!("line 3: {}", r[0]));
    }
}
