//! A software FIDO2 security key, cut down from the tests' (tests/api/soft_key.rs) to what the
//! load generator needs: register once (attestation "none", ES256 on P-256, UV when asked), then
//! sign assertions for the options `…/webauthn/challenge` answers.
//!
//! The key and the credential ID are derived from the user id (SHA-256 of a fixed prefix and
//! the name), so the `--state` file only keeps the signature counter: a later `load` run signs
//! with the same key without storing a private key anywhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;
/// COSE algorithm ES256: ECDSA on P-256 with SHA-256, the one algorithm this key has.
const ES256: i64 = -7;

pub struct SoftKey {
    key: SigningKey,
    cred_id: [u8; 32],
    /// The signature counter last reported (the next assertion reports one more).
    pub counter: u32,
}

impl SoftKey {
    /// The key of `user`: always the same for the same name.
    pub fn for_user(user: &str, counter: u32) -> Result<SoftKey, String> {
        let scalar = sha256(format!("twofold-bench-webauthn-key:{user}").as_bytes());
        let key = SigningKey::from_slice(&scalar)
            .map_err(|_| format!("{user}: the derived P-256 key is out of range"))?;
        let cred_id = sha256(format!("twofold-bench-webauthn-credential:{user}").as_bytes())
            .try_into()
            .map_err(|_| "SHA-256 is 32 bytes".to_string())?;
        Ok(SoftKey {
            key,
            cred_id,
            counter,
        })
    }

    /// The credential ID as the server sees it (base64url, no padding).
    pub fn credential_id(&self) -> String {
        b64(&self.cred_id)
    }

    /// `navigator.credentials.create(options)` as run on `origin`.
    pub fn register(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        let (pk, challenge) = request(options)?;
        let rp_id = pk["rp"]["id"]
            .as_str()
            .map_or_else(|| host(origin), str::to_owned);
        let params = list(&pk["pubKeyCredParams"]);
        if !params.is_empty() && !params.iter().any(|p| p["alg"] == ES256) {
            return Err("NotSupportedError: no ES256 in pubKeyCredParams".into());
        }
        let wants = pk["authenticatorSelection"]["userVerification"].as_str();
        let flags = UP | AT | uv_flag(wants);
        let cdj = client_data("webauthn.create", challenge, origin);

        let point = self.key.verifying_key().to_sec1_point(false);
        let (x, y) = (point.x().ok_or("no x")?, point.y().ok_or("no y")?);
        let cose = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),     // kty: EC2
            (Cbor::Int(3), Cbor::Int(ES256)), // alg
            (Cbor::Int(-1), Cbor::Int(1)),    // crv: P-256
            (Cbor::Int(-2), Cbor::Bytes(x)),  // x
            (Cbor::Int(-3), Cbor::Bytes(y)),  // y
        ]);
        let mut auth_data = self.auth_data(&rp_id, flags);
        auth_data.extend([0u8; 16]); // AAGUID: none claimed
        auth_data.extend(32u16.to_be_bytes()); // the credential ID's length
        auth_data.extend(self.cred_id);
        cose.encode(&mut auth_data);
        let mut att_obj = Vec::new();
        Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(vec![])),
            (Cbor::Text("authData"), Cbor::Bytes(&auth_data)),
        ])
        .encode(&mut att_obj);

        Ok(self.credential(json!({
            "clientDataJSON": b64(cdj.as_bytes()),
            "attestationObject": b64(&att_obj),
            "transports": ["usb"],
        })))
    }

    /// `navigator.credentials.get(options)` as run on `origin`; bumps the counter by one first.
    pub fn sign(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        let (pk, challenge) = request(options)?;
        let rp_id = pk["rpId"]
            .as_str()
            .map_or_else(|| host(origin), str::to_owned);
        let allowed = list(&pk["allowCredentials"]);
        let mine = self.credential_id();
        if !allowed.is_empty() && !allowed.iter().any(|d| d["id"] == mine.as_str()) {
            return Err("NotAllowedError: this key is not in allowCredentials".into());
        }
        self.counter = self.counter.wrapping_add(1);
        let auth_data = self.auth_data(&rp_id, UP | uv_flag(pk["userVerification"].as_str()));
        let cdj = client_data("webauthn.get", challenge, origin);
        let signed = [&auth_data[..], &sha256(cdj.as_bytes())].concat();
        let signature: DerSignature = self.key.sign(&signed);
        Ok(self.credential(json!({
            "clientDataJSON": b64(cdj.as_bytes()),
            "authenticatorData": b64(&auth_data),
            "signature": b64(signature.as_bytes()),
            "userHandle": null,
        })))
    }

    /// The PublicKeyCredential around an authenticator response, as `toJSON()` writes it.
    fn credential(&self, response: Value) -> Value {
        json!({
            "id": self.credential_id(),
            "rawId": self.credential_id(),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        })
    }

    /// rpIdHash | flags | signCount: the head of both kinds of authenticator data.
    fn auth_data(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        [
            &sha256(rp_id.as_bytes())[..],
            &[flags],
            &self.counter.to_be_bytes(),
        ]
        .concat()
    }
}

/// The key has a PIN: UV is done unless the RP discouraged it.
fn uv_flag(wanted: Option<&str>) -> u8 {
    if wanted == Some("discouraged") { 0 } else { UV }
}

/// The options' `publicKey` member and its challenge (kept as sent, base64url).
fn request(options: &Value) -> Result<(&Value, &str), String> {
    let pk = options
        .get("publicKey")
        .ok_or("options have no publicKey")?;
    let challenge = pk["challenge"]
        .as_str()
        .ok_or("options have no challenge")?;
    Ok((pk, challenge))
}

/// A JSON array's items; none when absent (WebAuthn's lists are all optional).
fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The collected client data, field for field in the order browsers write it.
fn client_data(kind: &str, challenge: &str, origin: &str) -> String {
    let s = |v: &str| Value::from(v).to_string();
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
        s(kind),
        s(challenge),
        s(origin)
    )
}

/// The RP ID a browser defaults to: the origin's host.
fn host(origin: &str) -> String {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    rest.split([':', '/']).next().unwrap_or_default().to_owned()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The little CBOR the attestation object needs (RFC 8949), encode only.
enum Cbor<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Map(Vec<(Cbor<'a>, Cbor<'a>)>),
}

impl Cbor<'_> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => head(out, 0, n.unsigned_abs()),
            Cbor::Int(n) => head(out, 1, (n + 1).unsigned_abs()), // -1 - n
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend_from_slice(t.as_bytes());
            }
            Cbor::Map(pairs) => {
                head(out, 5, pairs.len() as u64);
                for (key, value) in pairs {
                    key.encode(out);
                    value.encode(out);
                }
            }
        }
    }
}

/// A data item's head: the major type and its argument in the shortest form.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let bytes = n.to_be_bytes();
    let (info, from) = match n {
        0..24 => (bytes[7], 8),
        24..0x100 => (24, 7),
        0x100..0x1_0000 => (25, 6),
        0x1_0000..0x1_0000_0000 => (26, 4),
        _ => (27, 0),
    };
    out.push((major << 5) | info);
    out.extend(&bytes[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_derived_from_the_name() {
        let a = SoftKey::for_user("bench-key-1-0", 0).unwrap();
        let b = SoftKey::for_user("bench-key-1-0", 7).unwrap();
        let c = SoftKey::for_user("bench-key-1-1", 0).unwrap();
        assert_eq!(a.credential_id(), b.credential_id());
        assert_ne!(a.credential_id(), c.credential_id());
        assert_eq!(a.key.to_bytes(), b.key.to_bytes());
    }

    #[test]
    fn an_assertion_counts_and_names_the_credential() {
        let mut k = SoftKey::for_user("bench-key-1-0", 41).unwrap();
        let options = json!({"publicKey": {
            "challenge": "AAAA", "rpId": "bench.example",
            "allowCredentials": [{"type": "public-key", "id": k.credential_id()}],
        }});
        let cred = k.sign(&options, "https://bench.example").unwrap();
        assert_eq!(k.counter, 42);
        assert_eq!(cred["id"], k.credential_id());
        let auth = URL_SAFE_NO_PAD
            .decode(cred["response"]["authenticatorData"].as_str().unwrap())
            .unwrap();
        assert_eq!(auth.len(), 37);
        assert_eq!(&auth[33..], &42u32.to_be_bytes());
        let other = json!({"publicKey": {
            "challenge": "AAAA", "allowCredentials": [{"type": "public-key", "id": "xyz"}],
        }});
        assert!(k.sign(&other, "https://bench.example").is_err());
    }

    #[test]
    fn cbor_heads() {
        let mut out = Vec::new();
        Cbor::Int(-7).encode(&mut out);
        Cbor::Int(500).encode(&mut out);
        assert_eq!(out, [0x26, 0x19, 0x01, 0xf4]);
    }
}
