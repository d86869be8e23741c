//! Secrets at rest: the master key, AES-256-GCM sealing, keyed hashes, OS randomness.
//!
//! Pure functions over bytes; the only I/O is loading (or, in development, generating) the master
//! key at start. Each sealed value carries the id of the key that sealed it, so a later key
//! rotation can find and re-wrap what an older key sealed.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Where the master key comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    Value(String),
    File(PathBuf),
    /// Development only: generated into the data dir on first start.
    Generated(PathBuf),
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::Value(_) => f.write_str("Value(<redacted>)"),
            MasterKeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            MasterKeySource::Generated(p) => f.debug_tuple("Generated").field(p).finish(),
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("master key: {0}")]
    MasterKey(String),
    #[error("the OS random number generator failed: {0}")]
    Random(String),
    #[error("sealed value is malformed or was not sealed for this record")]
    Open,
    #[error("sealed with key `{0}`, which is not loaded")]
    UnknownKey(String),
}

/// Fills `buf` from the OS CSPRNG (getrandom), never from a user-space generator.
pub fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    SysRng
        .try_fill_bytes(buf)
        .map_err(|e| CryptoError::Random(e.to_string()))
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    fill_random(&mut b)?;
    Ok(b)
}

/// A random identifier: 16 bytes, URL-safe base64 (22 characters).
pub fn random_id() -> Result<String, CryptoError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?))
}

/// Whether `s` has the shape [`random_id`] gives every id (devices, API keys): anything else
/// names nothing, and is refused before it reaches a database (PostgreSQL rejects NUL in text).
pub fn is_random_id(s: &str) -> bool {
    s.len() == 22 && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 16)
}

/// One master key's subkeys, one per purpose.
struct MasterKey {
    key_id: String,
    seal: Aes256Gcm,
    hash_key: Zeroizing<[u8; 32]>,
}

impl MasterKey {
    fn new(master: &[u8; 32]) -> MasterKey {
        let id_bytes = derive(master, "twofold/v1/key-id");
        let seal_key = derive(master, "twofold/v1/seal");
        MasterKey {
            // A fingerprint, not the key: names which master key sealed a row.
            key_id: hex(&id_bytes[..6]),
            #[expect(
                clippy::expect_used,
                reason = "derive() returns 32 bytes, AES-256's key size"
            )]
            seal: Aes256Gcm::new_from_slice(&seal_key[..]).expect("32-byte key"),
            hash_key: derive(master, "twofold/v1/hash"),
        }
    }

    fn hash(&self, domain: &str, value: &[u8]) -> Vec<u8> {
        #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
        let mut mac = HmacSha256::new_from_slice(&self.hash_key[..]).expect("32-byte key");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }
}

/// The current master key, which seals and hashes, and earlier ones, which only open and match
/// until `keys rotate` has re-wrapped what they sealed.
pub struct Keys {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("key_id", &self.current.key_id)
            .field("previous", &self.previous.len())
            .finish_non_exhaustive()
    }
}

/// Derives a purpose-bound subkey: HMAC-SHA256(master, label). Keeps sealing and hashing keys
/// independent, so neither use can be turned against the other.
fn derive(master: &[u8; 32], label: &str) -> Zeroizing<[u8; 32]> {
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    Zeroizing::new(mac.finalize().into_bytes().into())
}

fn decode_master(text: &str) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::MasterKey("not valid base64".into()))?,
    );
    let master: [u8; 32] = bytes[..]
        .try_into()
        .map_err(|_| CryptoError::MasterKey(format!("{} bytes, need 32", bytes.len())))?;
    Ok(Zeroizing::new(master))
}

impl Keys {
    pub fn from_master(master: &[u8; 32]) -> Keys {
        Keys {
            current: MasterKey::new(master),
            previous: Vec::new(),
        }
    }

    /// Loads the master key as configured, plus earlier keys (base64) still needed to open old
    /// rows. In development with no key configured, generates one into the data dir (mode 0600)
    /// and says so loudly; production never gets here (config validation refuses it).
    pub fn load(source: &MasterKeySource, previous: &[String]) -> Result<Keys, CryptoError> {
        let text = match source {
            MasterKeySource::Value(v) => Zeroizing::new(v.clone()),
            MasterKeySource::File(p) => read_key_file(p)?,
            MasterKeySource::Generated(p) => {
                if p.exists() {
                    narrow_key_file(p)?;
                } else {
                    generate_key_file(p)?;
                    tracing::warn!(
                        path = %p.display(),
                        "generated a development master key; set TWOFOLD_MASTER_KEY or \
                         TWOFOLD_MASTER_KEY_FILE in production"
                    );
                }
                read_key_file(p)?
            }
        };
        let mut keys = Keys::from_master(&*decode_master(&text)?);
        for (i, p) in previous.iter().enumerate() {
            let master = decode_master(p).map_err(|e| match e {
                CryptoError::MasterKey(m) => {
                    CryptoError::MasterKey(format!("master_key_previous entry {}: {m}", i + 1))
                }
                other => other,
            })?;
            let old = MasterKey::new(&master);
            if old.key_id != keys.current.key_id {
                keys.previous.push(old);
            }
        }
        Ok(keys)
    }

    /// The id of the current master key, stored beside everything it seals.
    pub fn key_id(&self) -> &str {
        &self.current.key_id
    }

    fn by_id(&self, key_id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.key_id == key_id)
    }

    /// AES-256-GCM with a fresh random nonce under the current key; `aad` binds the ciphertext to
    /// its record (e.g. the device id), so a sealed value copied onto another row does not open.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let nonce = Nonce::from(nonce_bytes);
        let ct = self
            .current
            .seal
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Open)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`Keys::seal`] produced under the master key named `key_id`.
    pub fn open(
        &self,
        key_id: &str,
        sealed: &[u8],
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = self
            .by_id(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Open)?;
        key.seal
            .decrypt(&nonce, Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// A keyed hash (HMAC-SHA256) under the current key, for values stored only to be compared:
    /// API keys, SMS and recovery codes. `domain` separates uses so one kind never matches another.
    pub fn hash(&self, domain: &str, value: &[u8]) -> Vec<u8> {
        self.current.hash(domain, value)
    }

    /// Whether the master key named `key_id` is loaded.
    pub fn has(&self, key_id: &str) -> bool {
        self.by_id(key_id).is_some()
    }

    /// The value's keyed hash under the master key named `key_id`, if it is loaded.
    pub fn hash_with(&self, key_id: &str, domain: &str, value: &[u8]) -> Option<Vec<u8>> {
        self.by_id(key_id).map(|k| k.hash(domain, value))
    }

    /// The value's keyed hash under every loaded key, current first: what a lookup matches, so
    /// hashes stored under an earlier master key keep working after it was replaced.
    pub fn hashes(&self, domain: &str, value: &[u8]) -> Vec<Vec<u8>> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| k.hash(domain, value))
            .collect()
    }
}

/// Generates a fresh master key in the base64 form the configuration takes.
pub fn generate_master_key() -> Result<Zeroizing<String>, CryptoError> {
    let key = Zeroizing::new(random_bytes::<32>()?);
    Ok(Zeroizing::new(STANDARD.encode(&key[..])))
}

fn read_key_file(path: &Path) -> Result<Zeroizing<String>, CryptoError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| CryptoError::MasterKey(format!("cannot read {}: {e}", path.display())))
}

fn generate_key_file(path: &Path) -> Result<(), CryptoError> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |e: std::io::Error| {
        CryptoError::MasterKey(format!("cannot create {}: {e}", path.display()))
    };
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
    }
    let key = generate_master_key()?;
    // create_new: never overwrite a key another process just wrote.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    // Again after creation: `mode` above is narrowed by the umask, never widened to exactly 0600.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(fail)?;
    f.write_all(key.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)
}

/// A generated key is ours to keep private: one left readable by others (an older version, a
/// copy) is narrowed to 0600.
fn narrow_key_file(path: &Path) -> Result<(), CryptoError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| CryptoError::MasterKey(format!("cannot narrow {}: {e}", path.display())))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_master(&[7u8; 32])
    }

    #[test]
    fn ids_have_one_shape() {
        assert!(is_random_id(&random_id().unwrap()));
        // `…Ab` would carry stray bits past the 16 bytes: no id of ours ends so.
        for bad in [
            "",
            "a\0b",
            &"A".repeat(21),
            &"A".repeat(23),
            "AAAAAAAAAAAAAAAAAAAAAb",
        ] {
            assert!(!is_random_id(bad), "{bad:?}");
        }
        assert!(is_random_id("AAAAAAAAAAAAAAAAAAAAAA"));
    }

    #[test]
    fn seal_open_round_trip_with_associated_data() {
        let k = keys();
        let sealed = k.seal(b"secret seed", b"device-1").unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"secret seed"));
        let opened = k.open(k.key_id(), &sealed, b"device-1").unwrap();
        assert_eq!(&opened[..], b"secret seed");
    }

    #[test]
    fn open_refuses_other_record_tampering_and_unknown_key() {
        let k = keys();
        let mut sealed = k.seal(b"secret seed", b"device-1").unwrap();
        assert!(matches!(
            k.open(k.key_id(), &sealed, b"device-2"),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            k.open("other", &sealed, b"device-1"),
            Err(CryptoError::UnknownKey(_))
        ));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(
            k.open(k.key_id(), &sealed, b"device-1"),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn nonces_differ_between_seals() {
        let k = keys();
        assert_ne!(k.seal(b"x", b"a").unwrap(), k.seal(b"x", b"a").unwrap());
    }

    #[test]
    fn hash_is_keyed_and_domain_separated() {
        let a = keys();
        let b = Keys::from_master(&[8u8; 32]);
        assert_eq!(a.hash("api-key", b"v"), a.hash("api-key", b"v"));
        assert_ne!(a.hash("api-key", b"v"), b.hash("api-key", b"v"));
        assert_ne!(a.hash("api-key", b"v"), a.hash("sms", b"v"));
        assert_ne!(a.key_id(), b.key_id());
    }

    #[test]
    fn previous_keys_open_and_match_but_never_seal() {
        let old = STANDARD.encode([1u8; 32]);
        let new = STANDARD.encode([2u8; 32]);
        let before = Keys::load(&MasterKeySource::Value(old.clone()), &[]).unwrap();
        let sealed = before.seal(b"seed", b"d").unwrap();
        let hash = before.hash("api-key", b"k");
        let after = Keys::load(&MasterKeySource::Value(new), &[old]).unwrap();
        assert_ne!(after.key_id(), before.key_id());
        assert_eq!(
            &after.open(before.key_id(), &sealed, b"d").unwrap()[..],
            b"seed"
        );
        assert!(after.hashes("api-key", b"k").contains(&hash));
        assert_ne!(
            after.hash("api-key", b"k"),
            hash,
            "new hashes use the new key"
        );
        let resealed = after.seal(b"seed", b"d").unwrap();
        assert!(before.open(after.key_id(), &resealed, b"d").is_err());
    }

    #[test]
    fn generated_key_file_is_private_and_loads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let k1 = Keys::load(&MasterKeySource::Generated(path.clone()), &[]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let k2 = Keys::load(&MasterKeySource::Generated(path), &[]).unwrap();
        assert_eq!(k1.key_id(), k2.key_id(), "second start reuses the key");
    }

    #[test]
    fn malformed_master_keys_are_refused() {
        let short = STANDARD.encode([1u8; 16]);
        assert!(Keys::load(&MasterKeySource::Value(short), &[]).is_err());
        assert!(Keys::load(&MasterKeySource::Value("not base64!".into()), &[]).is_err());
    }
}
