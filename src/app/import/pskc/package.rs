//! One KeyPackage: its device, key, parameters and (decrypted) data, or every reason to refuse it.

use roxmltree::Node;
use zeroize::Zeroizing;

use super::crypto::{self, CryptoError};
use super::keys::{Keys, encrypted_value};
use super::{Algorithm, NS_PSKC, PskcError, PskcKey, child, decode_b64, is, shown, text};

/// Why a package was not read: the whole file (wrong key), or this package (its reasons).
pub(super) enum Fault {
    File(PskcError),
    Package(Vec<String>),
}

const HOTP: [&str; 3] = [
    "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
    "urn:ietf:params:xml:ns:keyprov:pskc#hotp",
    "http://www.ietf.org/keyprov/pskc#hotp",
];
const TOTP: [&str; 3] = [
    "urn:ietf:params:xml:ns:keyprov:pskc:totp",
    "urn:ietf:params:xml:ns:keyprov:pskc#totp",
    "http://www.ietf.org/keyprov/pskc#totp",
];
/// RFC 4226 §4 (R6): the shared secret is at least 128 bits.
const MIN_SECRET: usize = 16;
/// draft-josefsson-keyprov-pskc-yubikey's algorithm of a YubiKey in Yubico OTP mode.
const YUBICO: &str = "http://www.yubico.com/#yubikey-aes";
const DEFAULT_TIME_STEP: u32 = 30;

/// DeviceInfo/SerialNo, trimmed; None when absent or empty.
pub(super) fn serial(package: Node<'_, '_>) -> Option<String> {
    device_field(package, "SerialNo")
}

fn device_field(package: Node<'_, '_>, name: &str) -> Option<String> {
    let info = child(package, NS_PSKC, "DeviceInfo")?;
    Some(text(child(info, NS_PSKC, name)?)).filter(|s| !s.is_empty())
}

pub(super) fn read(package: Node<'_, '_>, position: usize, keys: &Keys) -> Result<PskcKey, Fault> {
    let mut reasons: Vec<String> = Vec::new();
    let mut found = package.children().filter(|n| is(*n, NS_PSKC, "Key"));
    let (Some(key), None) = (found.next(), found.next()) else {
        return Err(Fault::Package(vec![
            "a KeyPackage must hold exactly one Key".into(),
        ]));
    };
    let uri = key.attribute("Algorithm").unwrap_or_default().trim();
    let algorithm = if HOTP.contains(&uri) {
        Some(Algorithm::Hotp)
    } else if TOTP.contains(&uri) {
        Some(Algorithm::Totp)
    } else if uri == YUBICO {
        Some(Algorithm::YubicoOtp)
    } else {
        reasons.push(format!(
            "algorithm {} is not HOTP, TOTP or Yubico OTP",
            shown(uri)
        ));
        None
    };
    let yubico = algorithm == Some(Algorithm::YubicoOtp);
    let params = child(key, NS_PSKC, "AlgorithmParameters");
    let hash = match params.and_then(|p| child(p, NS_PSKC, "Suite")).map(text) {
        None => None,
        Some(suite) => match suite.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
            "" | "SHA1" | "HMACSHA1" => None,
            "SHA256" | "HMACSHA256" => Some("SHA256".to_owned()),
            "SHA512" | "HMACSHA512" => Some("SHA512".to_owned()),
            _ => {
                reasons.push(format!(
                    "Suite {} is not SHA-1, SHA-256 or SHA-512",
                    shown(&suite)
                ));
                None
            }
        },
    };
    let mut digits = 6;
    // A Yubico OTP is 44 modhex characters: its ResponseFormat says so and is not a code's.
    let response_format = params
        .and_then(|p| child(p, NS_PSKC, "ResponseFormat"))
        .filter(|_| !yubico);
    if let Some(format) = response_format {
        let encoding = format.attribute("Encoding").map(str::trim);
        if encoding.is_some_and(|e| e != "DECIMAL") {
            reasons.push("ResponseFormat Encoding is not DECIMAL".into());
        }
        if format
            .attribute("CheckDigits")
            .is_some_and(|c| matches!(c.trim(), "true" | "1"))
        {
            reasons.push("ResponseFormat CheckDigits (a Luhn digit) is not supported".into());
        }
        match format.attribute("Length").map(|l| l.trim().parse::<u8>()) {
            None => {}
            Some(Ok(n @ 6..=8)) => digits = n,
            Some(_) => reasons.push("ResponseFormat Length is not 6, 7 or 8 digits".into()),
        }
    }
    let data = child(key, NS_PSKC, "Data");
    let field = |name: &str| data.and_then(|d| child(d, NS_PSKC, name));
    let secret = match field("Secret") {
        None => {
            reasons.push(
                "no Data/Secret (a key given by reference or profile cannot be imported)".into(),
            );
            None
        }
        Some(node) => match open(node, keys) {
            Err(Fault::File(e)) => return Err(Fault::File(e)),
            Err(Fault::Package(mut r)) => {
                reasons.append(&mut r);
                None
            }
            Ok(s) if s.is_empty() => {
                reasons.push("the Secret is empty".into());
                None
            }
            Ok(s) if yubico && s.len() != 16 => {
                reasons.push(format!(
                    "the Secret is {} bytes: a Yubico OTP key is 16 (AES-128)",
                    s.len()
                ));
                None
            }
            Ok(s) if s.len() < MIN_SECRET => {
                reasons.push(format!(
                    "the Secret is {} bytes: RFC 4226 requires at least 128 bits (16 bytes)",
                    s.len()
                ));
                None
            }
            Ok(s) => Some(s),
        },
    };
    let counter = integer(field("Counter"), "Counter", keys, &mut reasons)?;
    let time = integer(field("Time"), "Time", keys, &mut reasons)?;
    let time_origin = time.and_then(|t| i64::try_from(t).ok());
    if time.is_some() && time_origin.is_none() {
        reasons.push("Time is out of range".into());
    }
    let interval = integer(field("TimeInterval"), "TimeInterval", keys, &mut reasons)?;
    let mut time_step = match interval.map(u32::try_from) {
        None => None,
        Some(Ok(step)) if step > 0 => Some(step),
        Some(_) => {
            reasons.push("TimeInterval is not a positive number of seconds".into());
            None
        }
    };
    if algorithm == Some(Algorithm::Totp) && time_step.is_none() {
        time_step = Some(DEFAULT_TIME_STEP);
    }
    let user_id = child(key, NS_PSKC, "UserId")
        .map(text)
        .filter(|u| !u.is_empty());
    if yubico && user_id.is_none() {
        reasons.push("a Yubico OTP key needs its UserId (CN=public id, UID=private id)".into());
    }
    let policy = child(key, NS_PSKC, "Policy");
    let date = |name: &str, reasons: &mut Vec<String>| {
        let node = policy.and_then(|p| child(p, NS_PSKC, name))?;
        let parsed = parse_date(&text(node));
        if parsed.is_none() {
            reasons.push(format!("Policy {name} is not an xs:dateTime"));
        }
        parsed
    };
    let not_before = date("StartDate", &mut reasons);
    let not_after = date("ExpiryDate", &mut reasons);
    if let Some(p) = policy {
        let usages: Vec<String> = p
            .children()
            .filter(|n| is(*n, NS_PSKC, "KeyUsage"))
            .map(text)
            .collect();
        if !usages.is_empty() && !usages.iter().any(|u| u == "OTP") {
            reasons.push("Policy KeyUsage does not allow OTP".into());
        }
    }
    match (algorithm, secret) {
        (Some(algorithm), Some(secret)) if reasons.is_empty() => Ok(PskcKey {
            position,
            serial: serial(package),
            manufacturer: device_field(package, "Manufacturer"),
            key_id: key
                .attribute("Id")
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            algorithm,
            secret,
            digits,
            counter,
            time_step,
            time_origin,
            hash,
            not_before,
            not_after,
            user_id,
        }),
        _ => Err(Fault::Package(reasons)),
    }
}

/// The value of a Data field: PlainValue (base64 for the Secret, text for the others) or an
/// EncryptedValue whose ValueMAC is checked first.
fn open(node: Node<'_, '_>, keys: &Keys) -> Result<Zeroizing<Vec<u8>>, Fault> {
    let name = node.tag_name().name();
    let reason = |r: String| Fault::Package(vec![r]);
    if let Some(plain) = child(node, NS_PSKC, "PlainValue") {
        let value = plain.text().unwrap_or_default();
        if name == "Secret" {
            return decode_b64(value)
                .map(Zeroizing::new)
                .ok_or_else(|| reason("the Secret PlainValue is not base64".into()));
        }
        return Ok(Zeroizing::new(value.trim().as_bytes().to_vec()));
    }
    let Some(enc) = child(node, NS_PSKC, "EncryptedValue") else {
        return Err(reason(format!(
            "{name} has neither PlainValue nor EncryptedValue"
        )));
    };
    let (cipher, data) = encrypted_value(enc).map_err(|e| reason(format!("{name}: {e}")))?;
    let Some(key) = &keys.key else {
        // Unreachable: Keys::open found no EncryptedValue; refuse rather than panic.
        return Err(Fault::File(PskcError::KeyNeeded("a pre-shared key")));
    };
    match (child(node, NS_PSKC, "ValueMAC"), &keys.mac) {
        (Some(mac), Some((alg, mac_key))) => {
            let tag = decode_b64(&text(mac))
                .ok_or_else(|| reason(format!("{name}: ValueMAC is not base64")))?;
            if !crypto::verify_mac(*alg, mac_key, &data, &tag) {
                return Err(Fault::File(PskcError::WrongKey));
            }
        }
        (Some(_), None) => {
            return Err(reason(format!(
                "{name} has a ValueMAC but the file no MACMethod algorithm"
            )));
        }
        (None, Some(_)) if cipher.is_cbc() => {
            return Err(reason(format!(
                "{name} is CBC-encrypted without the ValueMAC the file's MACMethod requires"
            )));
        }
        (None, _) => {}
    }
    crypto::decrypt(cipher, key, &data).map_err(|e| match e {
        CryptoError::WrongKey => Fault::File(PskcError::WrongKey),
        CryptoError::Malformed(m) => reason(format!("{name}: {m}")),
    })
}

/// An integer Data field (Counter, Time, TimeInterval); a bad one adds a reason and gives None.
fn integer(
    node: Option<Node<'_, '_>>,
    name: &str,
    keys: &Keys,
    reasons: &mut Vec<String>,
) -> Result<Option<u64>, Fault> {
    let Some(node) = node else { return Ok(None) };
    let encrypted = child(node, NS_PSKC, "EncryptedValue").is_some();
    match open(node, keys) {
        Ok(bytes) => {
            let value = if encrypted {
                crypto::decrypted_integer(&bytes)
            } else {
                std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.parse().ok())
            };
            if value.is_none() {
                reasons.push(format!("{name} is not a non-negative integer"));
            }
            Ok(value)
        }
        Err(Fault::Package(mut r)) => {
            reasons.append(&mut r);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// An xs:dateTime; one without a zone is taken as UTC.
fn parse_date(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(d.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|d| d.and_utc())
}
