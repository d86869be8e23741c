//! A reader of PSKC files (RFC 6030), the XML in which hardware OTP token vendors ship each
//! token's serial number and seed, the seed often encrypted with a pre-shared key or a password.
//!
//! [`parse`] turns a file into plain [`PskcKey`] records, or refuses it whole: with
//! [`PskcError::Packages`] naming every bad KeyPackage when any is bad. Pure: no I/O, no clock
//! (validity dates are parsed and left to the caller), no logging; no error carries a secret.
//!
//! Decisions where RFC 6030 or practice leave room:
//! - A ValueMAC is checked (HMAC over IV || ciphertext, RFC 6030 §6.1.1) in constant time before
//!   its value is decrypted. MAC over the plaintext (an early draft's form that python-pskc still
//!   accepts) is refused: it could only be checked after decrypting.
//! - CBC-encrypted values in a file without a MACMethod are accepted, as python-pskc accepts
//!   them; a file with a MACMethod must give every CBC-encrypted value a ValueMAC; a MACMethod
//!   without a MACKey MACs with the encryption key (older drafts, python-pskc's fallback).
//! - `kw-aes128`/`192`/`256` values unwrap per RFC 3394, or RFC 5649 when the plaintext needed
//!   padding (python-pskc writes 20-byte seeds so); the `kw-aes-*-pad` URIs are RFC 5649 only.
//! - A PIN key package (RFC 6030 figure 5) or any other non-HOTP/TOTP key refuses the file.

mod crypto;
mod keys;
mod package;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use roxmltree::{Document, Node, ParsingOptions};
use zeroize::Zeroizing;

use keys::Keys;

pub use crypto::MAX_PBKDF2_ITERATIONS;

/// The largest file [`parse`] reads.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

const NS_PSKC: &str = "urn:ietf:params:xml:ns:keyprov:pskc";

/// The OTP algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RFC 4226, counter-based.
    Hotp,
    /// RFC 6238, time-based.
    Totp,
    /// A YubiKey in Yubico OTP mode (draft-josefsson-keyprov-pskc-yubikey): the Secret is the
    /// AES key, `UserId` names the public and private ids.
    YubicoOtp,
}

/// One token's key, decrypted.
pub struct PskcKey {
    /// 1-based index of the KeyPackage in the file.
    pub position: usize,
    /// DeviceInfo/SerialNo.
    pub serial: Option<String>,
    /// DeviceInfo/Manufacturer.
    pub manufacturer: Option<String>,
    /// Key/@Id.
    pub key_id: Option<String>,
    pub algorithm: Algorithm,
    /// The seed, at least 16 bytes.
    pub secret: Zeroizing<Vec<u8>>,
    /// ResponseFormat/@Length: 6 when absent, always 6..=8.
    pub digits: u8,
    /// Data/Counter.
    pub counter: Option<u64>,
    /// Data/TimeInterval in seconds; 30 for a TOTP key without one, None for HOTP without one.
    pub time_step: Option<u32>,
    /// Data/Time as written (T0, or intervals passed: RFC 6030 leaves it to the algorithm).
    pub time_origin: Option<i64>,
    /// AlgorithmParameters/Suite: "SHA256" or "SHA512"; None is SHA-1 (absent, or a SHA-1 suite).
    pub hash: Option<String>,
    /// Key/Policy/StartDate.
    pub not_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Key/Policy/ExpiryDate.
    pub not_after: Option<chrono::DateTime<chrono::Utc>>,
    /// Key/UserId, as written (Yubico OTP: `CN=<public id>, UID=<private id>`).
    pub user_id: Option<String>,
}

impl fmt::Debug for PskcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskcKey")
            .field("position", &self.position)
            .field("serial", &self.serial)
            .field("manufacturer", &self.manufacturer)
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .field("digits", &self.digits)
            .field("counter", &self.counter)
            .field("time_step", &self.time_step)
            .field("time_origin", &self.time_origin)
            .field("hash", &self.hash)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("user_id", &self.user_id.as_ref().map(|_| "<given>"))
            .finish()
    }
}

/// What the caller knows to decrypt the file with.
#[derive(Clone, Copy)]
pub enum KeySource<'a> {
    /// Nothing: only a file without encrypted values can be read.
    None,
    /// The pre-shared key named by `EncryptionKey/ds:KeyName`, raw bytes.
    PreShared(&'a [u8]),
    /// The password of an `EncryptionKey/DerivedKey` (PBKDF2), as bytes.
    Password(&'a [u8]),
}

impl fmt::Debug for KeySource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::PreShared(_) => "PreShared(..)",
            Self::Password(_) => "Password(..)",
        })
    }
}

/// A refused KeyPackage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageError {
    /// 1-based index of the KeyPackage in the file.
    pub position: usize,
    pub serial: Option<String>,
    /// Every reason, joined with "; ".
    pub reason: String,
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPackage {}", self.position)?;
        if let Some(serial) = &self.serial {
            write!(f, " (serial {serial})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why a file was refused. Nothing is returned with any of them.
#[derive(Debug, thiserror::Error)]
pub enum PskcError {
    #[error("the file is larger than {MAX_BYTES} bytes")]
    TooLarge,
    /// Malformed or truncated XML, or a DTD (refused: entity expansion, external entities).
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("not a PSKC file: {0}")]
    NotPskc(String),
    /// A feature of PSKC this reader does not support (asymmetric encryption, an algorithm).
    #[error("unsupported PSKC: {0}")]
    Unsupported(String),
    /// The file is encrypted: "a pre-shared key" or "a password" is needed.
    #[error("the file is encrypted: {0} is needed")]
    KeyNeeded(&'static str),
    /// A MAC mismatch or bad padding: the key or password is not the file's, or it was altered.
    #[error("the key or password does not open this file (or the file was altered)")]
    WrongKey,
    #[error("{} key package(s) refused: {}", .0.len(), join(.0))]
    Packages(Vec<PackageError>),
}

fn join(errors: &[PackageError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads a PSKC file: every key, decrypted and checked, or an error and nothing.
pub fn parse(xml: &[u8], key: KeySource<'_>) -> Result<Vec<PskcKey>, PskcError> {
    if xml.len() > MAX_BYTES {
        return Err(PskcError::TooLarge);
    }
    let text = std::str::from_utf8(xml).map_err(|_| PskcError::Xml("not UTF-8".into()))?;
    // allow_dtd stays false (roxmltree's default): a DOCTYPE, hence any entity, is an error.
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc =
        Document::parse_with_options(text, options).map_err(|e| PskcError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if !is(root, NS_PSKC, "KeyContainer") {
        return Err(PskcError::NotPskc(
            "the root is not a PSKC KeyContainer".into(),
        ));
    }
    if !matches!(root.attribute("Version").map(str::trim), Some("1.0" | "1")) {
        return Err(PskcError::NotPskc(
            "KeyContainer/@Version is not 1.0".into(),
        ));
    }
    let keys = Keys::open(root, key)?;
    let packages: Vec<Node<'_, '_>> = children(root, NS_PSKC, "KeyPackage").collect();
    if packages.is_empty() {
        return Err(PskcError::NotPskc("the file holds no KeyPackage".into()));
    }
    let mut out = Vec::with_capacity(packages.len());
    let mut errors = Vec::new();
    let mut serials: HashMap<String, usize> = HashMap::new();
    for (index, node) in packages.into_iter().enumerate() {
        let position = index + 1;
        let serial = package::serial(node);
        let mut reasons = Vec::new();
        if let Some(s) = &serial {
            if let Some(first) = serials.get(s) {
                reasons.push(format!("serial already used by KeyPackage {first}"));
            } else {
                serials.insert(s.clone(), position);
            }
        }
        match package::read(node, position, &keys) {
            Ok(k) if reasons.is_empty() => out.push(k),
            Ok(_) => {}
            Err(package::Fault::File(e)) => return Err(e),
            Err(package::Fault::Package(mut r)) => reasons.append(&mut r),
        }
        if !reasons.is_empty() {
            errors.push(PackageError {
                position,
                serial,
                reason: reasons.join("; "),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(PskcError::Packages(errors))
    }
}

fn unsupported(what: &str, uri: &str) -> PskcError {
    PskcError::Unsupported(format!("{what} {}", shown(uri)))
}

/// A file's attribute value as an error shows it: quoted, and cut at 80 characters.
fn shown(value: &str) -> String {
    format!("{:?}", value.chars().take(80).collect::<String>())
}

fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| is(*n, ns, name))
}

fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |n| is(*n, ns, name))
}

/// The text of an element, trimmed.
fn text(node: Node<'_, '_>) -> String {
    node.text().unwrap_or_default().trim().to_owned()
}

/// Base64 with line breaks and spaces allowed (the RFC figures wrap CipherValue).
fn decode_b64(value: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: Zeroizing<String> =
        Zeroizing::new(value.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
}
