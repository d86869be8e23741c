//! A software FIDO2 security key and the sliver of a browser that drives it.
//!
//! Tests register and use a "hardware" key against the server without a browser or a device:
//! `SoftKey::register` is `navigator.credentials.create(options)` and `SoftKey::sign` is
//! `navigator.credentials.get(options)`, both taking the options JSON the server sends and
//! returning `PublicKeyCredential.toJSON()` (WebAuthn Level 3, base64url without padding) for
//! the test to post back. Attestation is "none", the key is ES256 (P-256), the transport USB.
//!
//! Unlike a browser, the client does not check that the RP ID suits the origin: the origin is
//! whatever the test passes, so a test can play a phishing page. The other forgeries a server
//! must refuse are `sign_for_rp`, `sign_without_uv`, `set_counter`, `tamper_signature` and
//! `set_client_data`; an unregistered credential is a second `SoftKey` (clear the options'
//! `allowCredentials` to make it answer, as a discoverable credential would).

// A kit: each test file uses the few parts it needs, so the rest is unused in places.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;
/// COSE algorithm ES256: ECDSA on P-256 with SHA-256, the one algorithm this key has.
const ES256: i64 = -7;

/// One authenticator holding one credential (a key made per test, as a fresh device would).
pub struct SoftKey {
    key: SigningKey,
    cred_id: [u8; 32],
    aaguid: [u8; 16],
    /// The RP ID the credential was made for; `sign` answers only for that RP, like a real key.
    rp_id: Option<String>,
    counter: u32,
    /// Whether the key can verify its user (a PIN is set): UV is then reported unless discouraged.
    uv: bool,
    /// Synced passkeys report a signature counter of 0 forever; servers must accept that.
    zero_counter: bool,
}

impl Default for SoftKey {
    fn default() -> SoftKey {
        SoftKey::new()
    }
}

impl SoftKey {
    /// A key with a PIN set (it does user verification), counter 0 and a random AAGUID.
    pub fn new() -> SoftKey {
        SoftKey {
            key: SigningKey::generate_from_rng(&mut rand::rng()),
            cred_id: rand::random(),
            aaguid: rand::random(),
            rp_id: None,
            counter: 0,
            uv: true,
            zero_counter: false,
        }
    }

    /// A key without a PIN: user presence only, so a server requiring UV must refuse it.
    pub fn without_uv() -> SoftKey {
        SoftKey {
            uv: false,
            ..SoftKey::new()
        }
    }

    /// The same key with a chosen AAGUID (the make and model), for tests of AAGUID policies.
    pub fn with_aaguid(self, aaguid: [u8; 16]) -> SoftKey {
        SoftKey { aaguid, ..self }
    }

    /// A key whose counter always stays 0 (synced passkeys do this).
    pub fn with_zero_counter(self) -> SoftKey {
        SoftKey {
            zero_counter: true,
            counter: 0,
            ..self
        }
    }

    /// The credential ID as the server sees it (base64url, no padding).
    pub fn credential_id(&self) -> String {
        b64(&self.cred_id)
    }

    /// The signature counter as last reported (the next `sign` reports one more).
    pub fn counter(&self) -> u32 {
        self.counter
    }

    /// Winds the counter to `n`: set it at or below what the server last saw to play a cloned key.
    pub fn set_counter(&mut self, n: u32) {
        self.counter = n;
    }

    /// `navigator.credentials.create(options)` as run on `origin`. Fails, as the device would,
    /// when ES256 is not among the offered algorithms or the key is in `excludeCredentials`.
    pub fn register(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        let (pk, challenge) = request(options)?;
        let rp_id = pk["rp"]["id"]
            .as_str()
            .map_or_else(|| host(origin), str::to_owned);
        let params = list(&pk["pubKeyCredParams"]);
        // An empty or missing list means the defaults, ES256 and RS256.
        if !params.is_empty() && !params.iter().any(|p| p["alg"] == ES256) {
            return Err("NotSupportedError: no ES256 in pubKeyCredParams".into());
        }
        if self.listed(list(&pk["excludeCredentials"])) {
            return Err("InvalidStateError: this key is in excludeCredentials".into());
        }
        let wants = pk["authenticatorSelection"]["userVerification"].as_str();
        let flags = UP | AT | self.uv_flag(wants);
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
        auth_data.extend(self.aaguid);
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

        self.rp_id = Some(rp_id);
        Ok(self.credential(json!({
            "clientDataJSON": b64(cdj.as_bytes()),
            "attestationObject": b64(&att_obj),
            "transports": ["usb"],
        })))
    }

    /// `navigator.credentials.get(options)` as run on `origin`; bumps the counter by one first.
    /// Fails when `allowCredentials` lists other keys only, or the options name another RP ID.
    pub fn sign(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        self.assert(options, origin, None, true)
    }

    /// An assertion correctly signed but whose authenticator data is for `rp_id`: what a key
    /// registered elsewhere (or a relay) returns; the server must refuse the RP ID hash.
    pub fn sign_for_rp(
        &mut self,
        options: &Value,
        origin: &str,
        rp_id: &str,
    ) -> Result<Value, String> {
        self.assert(options, origin, Some(rp_id), true)
    }

    /// An assertion correctly signed with the UV flag clear, though the key could verify: the
    /// user touched the key but entered no PIN. A server requiring UV must refuse it.
    pub fn sign_without_uv(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        self.assert(options, origin, None, false)
    }

    fn assert(
        &mut self,
        options: &Value,
        origin: &str,
        rp: Option<&str>,
        uv: bool,
    ) -> Result<Value, String> {
        let (pk, challenge) = request(options)?;
        let asked = pk["rpId"]
            .as_str()
            .map_or_else(|| host(origin), str::to_owned);
        if self.rp_id.as_ref().is_some_and(|mine| *mine != asked) {
            return Err(format!("NotAllowedError: no credential for RP ID {asked}"));
        }
        let allowed = list(&pk["allowCredentials"]);
        if !allowed.is_empty() && !self.listed(allowed) {
            return Err("NotAllowedError: this key is not in allowCredentials".into());
        }
        if !self.zero_counter {
            self.counter = self.counter.wrapping_add(1);
        }
        let uv = u8::from(uv) * self.uv_flag(pk["userVerification"].as_str());
        let auth_data = self.auth_data(rp.unwrap_or(&asked), UP | uv);
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

    /// UV is done when the key can and the RP did not discourage it (the default is preferred).
    fn uv_flag(&self, wanted: Option<&str>) -> u8 {
        UV * u8::from(self.uv && wanted != Some("discouraged"))
    }

    /// Whether a list of credential descriptors names this key's credential.
    fn listed(&self, descriptors: &[Value]) -> bool {
        let mine = self.credential_id();
        descriptors.iter().any(|d| d["id"] == mine.as_str())
    }
}

/// Flips a bit of the signature's last byte (inside S, so the DER stays well-formed): the
/// server must fail the signature check itself, not a parse.
pub fn tamper_signature(cred: &mut Value) {
    let sig = &mut cred["response"]["signature"];
    let mut bytes = URL_SAFE_NO_PAD.decode(sig.as_str().unwrap()).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    *sig = b64(&bytes).into();
}

/// Rewrites one field of a finished response's clientDataJSON (origin, challenge, type, ...).
/// An assertion's signature covers it, so there this also breaks the signature.
pub fn set_client_data(cred: &mut Value, field: &str, value: Value) {
    let cdj = &mut cred["response"]["clientDataJSON"];
    let json = URL_SAFE_NO_PAD.decode(cdj.as_str().unwrap()).unwrap();
    let mut data: Value = serde_json::from_slice(&json).unwrap();
    data[field] = value;
    *cdj = b64(data.to_string().as_bytes()).into();
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
    // The json! macro would sort the keys; real clients put type first, so build it by hand.
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
