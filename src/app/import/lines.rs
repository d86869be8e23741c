//! Reading an import's lines (JSON lines or CSV) and checking each on its own.

use std::io::BufRead;

use serde::Deserialize;
use zeroize::Zeroizing;

use super::Format;
use crate::app::devices::validate_label;
use crate::app::users::Subject;
use crate::error::Error;
use crate::factor::totp::{Algorithm, Params};

/// A line longer than this is refused before it is parsed.
const MAX_LINE: usize = 4_096;
/// RFC 4226 §4 R6: at least 128 bits; more than 512 is no TOTP seed.
const SECRET_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

/// A line as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Record {
    tenant: String,
    user: String,
    label: String,
    secret: String,
    algorithm: String,
    digits: u8,
    period: u32,
}

/// A line that passed every check of its own.
pub(super) struct Checked {
    pub(super) line: u64,
    pub(super) tenant: String,
    pub(super) user: String,
    pub(super) label: String,
    pub(super) secret: Zeroizing<Vec<u8>>,
    pub(super) params: Params,
}

/// RFC 4648 base32, as exporters write it: any case, spaces and padding ignored.
fn decode_secret(s: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = totp_rs::Secret::try_from_base32(&cleaned)
        .map_err(|_| "secret: not base32 (RFC 4648: A-Z, 2-7)")?;
    let bytes = Zeroizing::new(secret.as_bytes().to_vec());
    if !SECRET_BYTES.contains(&bytes.len()) {
        return Err(format!(
            "secret: {} bytes; a TOTP seed has 16 to 64 (128 to 512 bits)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

pub(super) fn check(line: u64, r: Record, scope: Option<&str>) -> Result<Checked, String> {
    let message = |e: Error| e.to_string();
    crate::app::api_keys::validate_tenant(&r.tenant).map_err(message)?;
    if scope.is_some_and(|t| t != r.tenant) {
        return Err(format!(
            "tenant `{}` is outside this key's tenant",
            r.tenant
        ));
    }
    Subject::new(r.tenant.clone(), r.user.clone()).map_err(message)?;
    validate_label(&r.label).map_err(message)?;
    let secret = decode_secret(&r.secret)?;
    let algorithm: Algorithm = r.algorithm.parse()?;
    let params = Params::new(algorithm, r.digits, r.period)?;
    Ok(Checked {
        line,
        tenant: r.tenant,
        user: r.user,
        label: r.label,
        secret,
        params,
    })
}

/// serde_json's message, unless it would quote a value: a secret in the wrong field must not be
/// echoed into the report or the terminal.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("invalid type") || text.starts_with("invalid value") {
        format!(
            "a field has the wrong type at column {} (digits and period are numbers, the rest \
             strings)",
            e.column()
        )
    } else {
        text
    }
}

/// The input's lines as records, each with its line number.
pub(super) fn records<R: BufRead + 'static>(
    input: R,
    format: Format,
) -> Box<dyn Iterator<Item = (u64, Result<Record, String>)>> {
    match format {
        Format::Jsonl => Box::new(input.lines().enumerate().filter_map(|(i, line)| {
            let n = i as u64 + 1;
            let parsed = match line {
                Err(e) => Err(format!("cannot be read: {e}")),
                Ok(l) if l.trim().is_empty() => return None,
                Ok(l) if l.len() > MAX_LINE => Err(format!("longer than {MAX_LINE} bytes")),
                Ok(l) => serde_json::from_str(&l).map_err(|e| json_error(&e)),
            };
            Some((n, parsed))
        })),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(input);
            let headers = reader.headers().cloned();
            Box::new(reader.into_records().map(move |row| {
                let row = match row {
                    Ok(row) => row,
                    Err(e) => {
                        let n = e.position().map_or(0, |p| p.line());
                        return (n, Err(e.to_string()));
                    }
                };
                let n = row.position().map_or(0, |p| p.line());
                let parsed = match &headers {
                    Ok(h) => row.deserialize(Some(h)).map_err(|e| e.to_string()),
                    Err(e) => Err(format!("header: {e}")),
                };
                (n, parsed)
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_decode_as_exporters_write_them() {
        let want = decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(&want[..], b"12345678901234567890");
        for spelled in [
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====",
        ] {
            assert_eq!(decode_secret(spelled).unwrap(), want);
        }
        assert!(
            decode_secret("GEZDGNBVGY3TQOJQ")
                .unwrap_err()
                .contains("10 bytes")
        );
        assert!(
            decode_secret("GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ").is_err(),
            "1 is not base32"
        );
    }

    fn line(tenant: &str, digits: u8, period: u32, algorithm: &str) -> Record {
        Record {
            tenant: tenant.into(),
            user: "alice".into(),
            label: "phone".into(),
            secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
            algorithm: algorithm.into(),
            digits,
            period,
        }
    }

    #[test]
    fn each_field_is_checked() {
        assert!(check(1, line("default", 6, 30, "SHA1"), None).is_ok());
        assert!(check(1, line("default", 8, 60, "SHA512"), Some("default")).is_ok());
        let refused = |r, scope| check(1, r, scope).err().unwrap();
        assert!(refused(line("acme", 6, 30, "SHA1"), Some("default")).contains("outside"));
        assert!(refused(line("a/b", 6, 30, "SHA1"), None).contains("tenant"));
        assert!(refused(line("default", 7, 30, "SHA1"), None).contains("digits"));
        assert!(refused(line("default", 6, 45, "SHA1"), None).contains("period"));
        assert!(refused(line("default", 6, 30, "sha1"), None).contains("algorithm"));
    }
}
