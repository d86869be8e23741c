//! The cryptography of a PSKC file (RFC 6030 §6): AES-CBC and AES key wrap decryption, the HMAC
//! over an encrypted value, and the PBKDF2 derivation of a key from a password.
//!
//! Every buffer that holds key material is a `Zeroizing` one; no function here logs or formats a
//! value it handles.

use aes::{Aes128, Aes192, Aes256};
use aes_kw::{AesKw, AesKwp};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, BlockSizeUser, KeyInit, KeyIvInit};
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

/// PBKDF2 iterations a file may ask for: enough for any real export (python-pskc writes 12,000
/// to 100,000), few enough that a hostile file cannot hold a worker for long.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Derived-key lengths PBKDF2 may be asked for (the AES key sizes).
const KEY_LENGTHS: [usize; 3] = [16, 24, 32];
const AES_BLOCK: usize = 16;

/// Why a value could not be decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The key does not fit the algorithm, the padding or the key-wrap integrity check fails:
    /// with anything but a corrupt file, the key is not the file's.
    WrongKey,
    /// The ciphertext cannot be one of this algorithm (length).
    Malformed(&'static str),
}

/// An encryption algorithm of `xenc:EncryptionMethod/@Algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// AES-CBC with this key length in bytes: IV = first block of the CipherValue, PKCS#7 padding.
    Cbc(usize),
    /// AES key wrap (RFC 3394), or RFC 5649 with padding when the plaintext needed it, as
    /// python-pskc writes a 20-byte seed under the kw-aes128 URI: the unwrapping tells them apart.
    Kw(usize),
    /// AES key wrap with padding (RFC 5649) only.
    KwPad(usize),
}

impl Cipher {
    /// The algorithm of a URI, or None for one this reader does not support.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri.trim() {
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Self::Cbc(16),
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Self::Cbc(24),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Self::Cbc(32),
            "http://www.w3.org/2001/04/xmlenc#kw-aes128" => Self::Kw(16),
            "http://www.w3.org/2001/04/xmlenc#kw-aes192" => Self::Kw(24),
            "http://www.w3.org/2001/04/xmlenc#kw-aes256" => Self::Kw(32),
            "http://www.w3.org/2009/xmlenc11#kw-aes-128-pad"
            | "http://www.w3.org/2001/04/xmldsig-more#kw-aes128-pad" => Self::KwPad(16),
            "http://www.w3.org/2009/xmlenc11#kw-aes-192-pad"
            | "http://www.w3.org/2001/04/xmldsig-more#kw-aes192-pad" => Self::KwPad(24),
            "http://www.w3.org/2009/xmlenc11#kw-aes-256-pad"
            | "http://www.w3.org/2001/04/xmldsig-more#kw-aes256-pad" => Self::KwPad(32),
            _ => return None,
        })
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Cbc(n) | Self::Kw(n) | Self::KwPad(n) => n,
        }
    }

    /// Whether a MAC is what protects the value (CBC); key wrap carries its own integrity check.
    pub fn is_cbc(self) -> bool {
        matches!(self, Self::Cbc(_))
    }
}

/// Decrypts `data` (for CBC: IV || ciphertext) with `key`.
pub fn decrypt(cipher: Cipher, key: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if key.len() != cipher.key_len() {
        return Err(CryptoError::WrongKey);
    }
    match cipher {
        Cipher::Cbc(16) => cbc_decrypt::<Aes128>(key, data),
        Cipher::Cbc(24) => cbc_decrypt::<Aes192>(key, data),
        Cipher::Cbc(_) => cbc_decrypt::<Aes256>(key, data),
        Cipher::Kw(n) => match unwrap(n, key, data, false) {
            Err(_) => unwrap(n, key, data, true),
            ok => ok,
        },
        Cipher::KwPad(n) => unwrap(n, key, data, true),
    }
}

fn cbc_decrypt<C>(key: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>
where
    C: BlockCipherDecrypt + BlockSizeUser + KeyInit,
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
{
    // An IV and at least one block, whole blocks only.
    if data.len() < 2 * AES_BLOCK || !data.len().is_multiple_of(AES_BLOCK) {
        return Err(CryptoError::Malformed(
            "the CBC ciphertext is not whole 16-byte blocks after the IV",
        ));
    }
    let (iv, ciphertext) = data.split_at(AES_BLOCK);
    let decryptor =
        cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| CryptoError::WrongKey)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| CryptoError::WrongKey)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

fn unwrap(
    key_len: usize,
    key: &[u8],
    data: &[u8],
    padded: bool,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    // RFC 3394 needs two 64-bit blocks of plaintext at least, RFC 5649 one.
    let min = if padded { 16 } else { 24 };
    if data.len() < min || !data.len().is_multiple_of(8) {
        return Err(CryptoError::Malformed(
            "the wrapped key is not a whole number of 8-byte blocks",
        ));
    }
    let mut buf = Zeroizing::new(vec![0u8; data.len() - 8]);
    let len = match (key_len, padded) {
        (16, false) => kw::<Aes128>(key, data, &mut buf),
        (24, false) => kw::<Aes192>(key, data, &mut buf),
        (_, false) => kw::<Aes256>(key, data, &mut buf),
        (16, true) => kwp::<Aes128>(key, data, &mut buf),
        (24, true) => kwp::<Aes192>(key, data, &mut buf),
        (_, true) => kwp::<Aes256>(key, data, &mut buf),
    }?;
    buf.truncate(len);
    Ok(buf)
}

fn kw<C>(key: &[u8], data: &[u8], buf: &mut [u8]) -> Result<usize, CryptoError>
where
    AesKw<C>: KeyInit,
    C: BlockCipherDecrypt<BlockSize = cbc::cipher::consts::U16>,
{
    let kw = AesKw::<C>::new_from_slice(key).map_err(|_| CryptoError::WrongKey)?;
    kw.unwrap_key(data, buf)
        .map(<[u8]>::len)
        .map_err(|_| CryptoError::WrongKey)
}

fn kwp<C>(key: &[u8], data: &[u8], buf: &mut [u8]) -> Result<usize, CryptoError>
where
    AesKwp<C>: KeyInit,
    C: BlockCipherDecrypt<BlockSize = cbc::cipher::consts::U16>,
{
    let kwp = AesKwp::<C>::new_from_slice(key).map_err(|_| CryptoError::WrongKey)?;
    kwp.unwrap_key(data, buf)
        .map(<[u8]>::len)
        .map_err(|_| CryptoError::WrongKey)
}

/// An HMAC of `MACMethod/@Algorithm` or of a PBKDF2 `PRF/@Algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HmacAlg {
    /// The algorithm of a URI, or None for one this reader does not support.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri.trim() {
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => Self::Sha1,
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha224" => Self::Sha224,
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256" => Self::Sha256,
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384" => Self::Sha384,
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512" => Self::Sha512,
            _ => return None,
        })
    }
}

/// Checks, in constant time, that `tag` is the HMAC of `data` under `key`.
pub fn verify_mac(alg: HmacAlg, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    fn check<M: Mac + hmac::KeyInit>(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        let Ok(mut mac) = <M as hmac::KeyInit>::new_from_slice(key) else {
            return false;
        };
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }
    match alg {
        HmacAlg::Sha1 => check::<Hmac<sha1::Sha1>>(key, data, tag),
        HmacAlg::Sha224 => check::<Hmac<sha2::Sha224>>(key, data, tag),
        HmacAlg::Sha256 => check::<Hmac<sha2::Sha256>>(key, data, tag),
        HmacAlg::Sha384 => check::<Hmac<sha2::Sha384>>(key, data, tag),
        HmacAlg::Sha512 => check::<Hmac<sha2::Sha512>>(key, data, tag),
    }
}

/// Why PBKDF2 parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfError {
    /// Iteration count zero or over [`MAX_PBKDF2_ITERATIONS`].
    Iterations,
    /// Key length not 16, 24 or 32 bytes.
    KeyLength,
}

/// Derives a key from `password` with PBKDF2 (RFC 8018 / RFC 6030 §6.2).
pub fn pbkdf2(
    prf: HmacAlg,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, KdfError> {
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(KdfError::Iterations);
    }
    if !KEY_LENGTHS.contains(&key_len) {
        return Err(KdfError::KeyLength);
    }
    let mut out = Zeroizing::new(vec![0u8; key_len]);
    match prf {
        HmacAlg::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out),
        HmacAlg::Sha224 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha224>(password, salt, iterations, &mut out)
        }
        HmacAlg::Sha256 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out)
        }
        HmacAlg::Sha384 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, iterations, &mut out)
        }
        HmacAlg::Sha512 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut out)
        }
    }
    Ok(out)
}

/// Reads a decrypted integer (Counter, Time, TimeInterval) as python-pskc does: ASCII digits when
/// all bytes are digits, otherwise big-endian binary. None when it does not fit in 64 bits.
pub fn decrypted_integer(value: &[u8]) -> Option<u64> {
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        return std::str::from_utf8(value).ok()?.parse().ok();
    }
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let significant = value.get(start..)?;
    if significant.len() > 8 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}
