//! The file's keys: the encryption key (pre-shared, or derived from a password with PBKDF2) and
//! the MAC key it unlocks (RFC 6030 §6).

use roxmltree::Node;
use zeroize::Zeroizing;

use super::crypto::{self, Cipher, CryptoError, HmacAlg, MAX_PBKDF2_ITERATIONS};
use super::{KeySource, NS_PSKC, PskcError, child, decode_b64, is, shown, text, unsupported};

const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
const NS_PKCS5: &str = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#";
const PBKDF2_URIS: [&str; 2] = [
    "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2",
    "http://www.w3.org/2009/xmlenc11#pbkdf2",
];

/// The file's encryption and MAC keys, when it has encrypted values.
pub(super) struct Keys {
    pub(super) key: Option<Zeroizing<Vec<u8>>>,
    /// MACMethod/@Algorithm and its key, when the file has one.
    pub(super) mac: Option<(HmacAlg, Zeroizing<Vec<u8>>)>,
}

impl Keys {
    pub(super) fn open(root: Node<'_, '_>, source: KeySource<'_>) -> Result<Self, PskcError> {
        let encrypted = root.descendants().any(|n| is(n, NS_PSKC, "EncryptedValue"));
        if !encrypted {
            return Ok(Self {
                key: None,
                mac: None,
            });
        }
        let enc_key = child(root, NS_PSKC, "EncryptionKey");
        let derived = enc_key.and_then(|k| child(k, NS_XENC11, "DerivedKey"));
        if enc_key.is_some_and(|k| child(k, NS_DS, "X509Data").is_some()) {
            return Err(PskcError::Unsupported(
                "asymmetric (X.509) encryption".into(),
            ));
        }
        let key = match (derived, source) {
            (Some(d), KeySource::Password(p)) => derive(root, d, p)?,
            (Some(_), _) => return Err(PskcError::KeyNeeded("a password")),
            (None, KeySource::PreShared(k)) => Zeroizing::new(k.to_vec()),
            (None, _) => return Err(PskcError::KeyNeeded("a pre-shared key")),
        };
        let mut mac = None;
        let method = child(root, NS_PSKC, "MACMethod");
        if let Some(uri) = method.and_then(|m| m.attribute("Algorithm")) {
            let alg = HmacAlg::from_uri(uri).ok_or_else(|| unsupported("MAC algorithm", uri))?;
            let mac_key = match method.and_then(|m| child(m, NS_PSKC, "MACKey")) {
                Some(node) => {
                    let (cipher, data) = encrypted_value(node).map_err(PskcError::NotPskc)?;
                    crypto::decrypt(cipher, &key, &data).map_err(|e| match e {
                        CryptoError::WrongKey => PskcError::WrongKey,
                        CryptoError::Malformed(m) => PskcError::NotPskc(format!("MACKey: {m}")),
                    })?
                }
                None => key.clone(),
            };
            mac = Some((alg, mac_key));
        }
        Ok(Self {
            key: Some(key),
            mac,
        })
    }
}

/// The PBKDF2 key of `EncryptionKey/DerivedKey` (RFC 6030 §6.2).
fn derive(
    root: Node<'_, '_>,
    derived: Node<'_, '_>,
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PskcError> {
    let bad = |what: &str| PskcError::NotPskc(format!("DerivedKey: {what}"));
    let method = child(derived, NS_XENC11, "KeyDerivationMethod")
        .ok_or_else(|| bad("no KeyDerivationMethod"))?;
    let uri = method.attribute("Algorithm").unwrap_or_default().trim();
    if !PBKDF2_URIS.contains(&uri) {
        return Err(unsupported("key derivation", uri));
    }
    let params = child(method, NS_PKCS5, "PBKDF2-params")
        .or_else(|| child(method, NS_XENC11, "PBKDF2-params"))
        .ok_or_else(|| bad("no PBKDF2-params"))?;
    // The parameters' own elements are unqualified in RFC 6030 figure 7 and python-pskc's output.
    let param = |name: &str| {
        params
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == name)
    };
    let salt = param("Salt")
        .and_then(|s| s.children().find(|n| n.tag_name().name() == "Specified"))
        .and_then(|s| decode_b64(&text(s)))
        .ok_or_else(|| bad("no base64 Salt/Specified"))?;
    let iterations: u32 = param("IterationCount")
        .and_then(|n| text(n).parse().ok())
        .ok_or_else(|| bad("no IterationCount"))?;
    // Without KeyLength, the length the values' cipher needs.
    let key_len = match param("KeyLength") {
        Some(n) => text(n)
            .parse()
            .map_err(|_| bad("KeyLength is not a number"))?,
        None => root
            .descendants()
            .filter(|n| is(*n, NS_XENC, "EncryptionMethod"))
            .find_map(|n| n.attribute("Algorithm").and_then(Cipher::from_uri))
            .map_or(16, Cipher::key_len),
    };
    // PRF: RFC 8018's PRF/@Algorithm, or the URI as text (python-pskc writes it so); HMAC-SHA1 if none.
    let prf_uri = param("PRF").map(|p| {
        p.attribute("Algorithm")
            .map_or_else(|| text(p), str::to_owned)
    });
    let prf = match prf_uri.as_deref().map(str::trim) {
        None | Some("") => HmacAlg::Sha1,
        Some(uri) => HmacAlg::from_uri(uri).ok_or_else(|| unsupported("PBKDF2 PRF", uri))?,
    };
    crypto::pbkdf2(prf, password, &salt, iterations, key_len).map_err(|e| match e {
        crypto::KdfError::Iterations => PskcError::Unsupported(format!(
            "PBKDF2 IterationCount outside 1..={MAX_PBKDF2_ITERATIONS}"
        )),
        crypto::KdfError::KeyLength => bad("KeyLength is not 16, 24 or 32"),
    })
}

/// The cipher and bytes of an `EncryptedValue` or `MACKey` (xenc:EncryptionMethod, CipherData).
pub(super) fn encrypted_value(node: Node<'_, '_>) -> Result<(Cipher, Vec<u8>), String> {
    let uri = child(node, NS_XENC, "EncryptionMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or("an encrypted value has no xenc:EncryptionMethod/@Algorithm")?;
    let cipher =
        Cipher::from_uri(uri).ok_or_else(|| format!("unsupported encryption {}", shown(uri)))?;
    let data = child(node, NS_XENC, "CipherData")
        .and_then(|d| child(d, NS_XENC, "CipherValue"))
        .and_then(|v| decode_b64(&text(v)))
        .ok_or("an encrypted value has no base64 CipherData/CipherValue")?;
    Ok((cipher, data))
}
