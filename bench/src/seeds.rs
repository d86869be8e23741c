//! The benchmark population: users `bench-{i:07}` with deterministic TOTP seeds, so the load
//! generator can compute every user's codes without reading the import file back.
//!
//! The seed of user i is SHA-1("twofold-bench-{i}"): exactly the 20 bytes (160 bits) the service
//! generates for a real device, and checkable from a shell with `printf … | sha1sum`.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::path::Path;

use sha1::{Digest, Sha1};

pub const TENANT: &str = "default";
pub const LABEL: &str = "bench";

/// The user id of population member `i`.
pub fn user(i: u64) -> String {
    format!("bench-{i:07}")
}

/// The 20-byte TOTP seed of population member `i`.
pub fn secret(i: u64) -> [u8; 20] {
    Sha1::digest(format!("twofold-bench-{i}").as_bytes()).into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

/// Writes the import file for users 0..count. Hand-formatted rather than through serde: every
/// field is ASCII without quotes or commas, and a million lines must take seconds, not minutes.
pub fn write(out: impl Write, count: u64, format: Format) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    if format == Format::Csv {
        writeln!(out, "tenant,user,label,secret,algorithm,digits,period")?;
    }
    for i in 0..count {
        let user = user(i);
        let secret = twofold::factor::totp::base32_secret(&secret(i));
        match format {
            Format::Jsonl => writeln!(
                out,
                r#"{{"tenant":"{TENANT}","user":"{user}","label":"{LABEL}","secret":"{secret}","algorithm":"SHA1","digits":6,"period":30}}"#
            )?,
            Format::Csv => writeln!(out, "{TENANT},{user},{LABEL},{secret},SHA1,6,30")?,
        }
    }
    out.flush()
}

/// RFC 4648 base32 without padding, upper case: what the enroll answer's `secret` holds.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Where the population's seeds come from.
pub enum Seeds {
    /// [`secret`]: the population imported from `twofold-bench seeds`.
    Derived,
    /// Read from a file (`--seeds`), indexed by user number: a population enrolled some other
    /// way (see `provision`).
    Table(Vec<Vec<u8>>),
}

impl Seeds {
    /// How many users have a known seed.
    pub fn len(&self) -> u64 {
        match self {
            Seeds::Derived => u64::MAX,
            Seeds::Table(t) => t.len() as u64,
        }
    }

    pub fn get(&self, i: u64) -> Option<Vec<u8>> {
        match self {
            Seeds::Derived => Some(secret(i).to_vec()),
            Seeds::Table(t) => t.get(usize::try_from(i).ok()?).cloned(),
        }
    }

    /// Reads a JSON-lines import file whose users are bench-0000000 … bench-(k-1), all present.
    pub fn from_jsonl(path: &Path) -> Result<Seeds, String> {
        let mut by_index = read_jsonl(path)?;
        let table: Option<Vec<Vec<u8>>> = (0..by_index.len() as u64)
            .map(|i| by_index.remove(&i))
            .collect();
        table.map(Seeds::Table).ok_or_else(|| {
            format!(
                "{}: users must be bench-0000000 up to bench-(count-1), without gaps",
                path.display()
            )
        })
    }
}

/// Seeds read from a JSON-lines import file (users `bench-{i:07}` only). Index → seed.
fn read_jsonl(path: &Path) -> Result<HashMap<u64, Vec<u8>>, String> {
    #[derive(serde::Deserialize)]
    struct Row {
        user: String,
        secret: String,
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seeds = HashMap::new();
    for (n, line) in io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| format!("{}:{}: {why}", path.display(), n + 1);
        let row: Row = serde_json::from_str(&line).map_err(|e| bad(&e.to_string()))?;
        let index = row
            .user
            .strip_prefix("bench-")
            .and_then(|i| i.parse::<u64>().ok())
            .ok_or_else(|| bad("user is not bench-NNNNNNN"))?;
        let secret = base32_decode(&row.secret).ok_or_else(|| bad("secret is not base32"))?;
        seeds.insert(index, secret);
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_sha1_of_the_name() {
        // printf twofold-bench-1 | sha1sum
        let hex: String = secret(1).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "588e46b24c2606b5e20a300c635169dfa0f4d92b");
        assert_eq!(user(1), "bench-0000001");
    }

    #[test]
    fn base32_round_trip() {
        let s = secret(42);
        let text = twofold::factor::totp::base32_secret(&s);
        assert_eq!(text.len(), 32);
        assert_eq!(base32_decode(&text).as_deref(), Some(&s[..]));
        assert_eq!(base32_decode("abc"), None);
    }

    #[test]
    fn both_formats() {
        let mut jsonl = Vec::new();
        write(&mut jsonl, 2, Format::Jsonl).unwrap();
        let text = String::from_utf8(jsonl).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["user"], "bench-0000000");
        assert_eq!(first["digits"], 6);
        let mut csv = Vec::new();
        write(&mut csv, 2, Format::Csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("tenant,user,label,secret,algorithm,digits,period\n"));
    }
}
