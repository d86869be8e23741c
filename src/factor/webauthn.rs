//! The rules of security keys (WebAuthn) that are ours rather than the ceremony's, which
//! webauthn-rs checks: which origins and RP IDs are acceptable, what an assertion's `amr` says,
//! and the two fields read from a browser's response before the ceremony judges it (the
//! challenge, which names the stored ceremony state, and the AAGUID).

/// Whether `rp_id` may scope credentials used on `host`: the host itself or a parent domain at a
/// label boundary, and a domain name (browsers refuse IP addresses as RP IDs).
pub fn rp_id_covers(rp_id: &str, host: &str) -> bool {
    // An IPv4 address is all digits and dots; an IPv6 one holds `:`.
    let is_address = rp_id.contains(':')
        || rp_id
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()));
    let is_name =
        !is_address && !rp_id.is_empty() && !rp_id.starts_with('.') && !rp_id.ends_with('.');
    is_name
        && (host == rp_id
            || host
                .strip_suffix(rp_id)
                .is_some_and(|rest| rest.ends_with('.')))
}

/// An origin a ceremony may run on, in its serialised form (`https://shop.example`,
/// `https://shop.example:8443`): https, or http on `localhost` (browsers treat both as secure
/// contexts), a host that is a domain name, and nothing after the authority.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|_| format!("`{text}` is not an origin like https://shop.example"))?;
    let host = url.host_str().unwrap_or_default();
    let local = host == "localhost" || host.ends_with(".localhost");
    if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
        return Err(format!(
            "`{text}`: an origin is https:// (http:// only on localhost)"
        ));
    }
    if host.is_empty() || matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
        return Err(format!(
            "`{text}`: the host must be a domain name (browsers refuse security keys on an IP address)"
        ));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "`{text}`: an origin is a scheme, a host and a port, without path or query"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// The host of an origin [`parse_origin`] accepted.
pub fn origin_host(origin: &str) -> Option<String> {
    url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

/// The `amr` values (RFC 8176) of a security-key check: `hwk`, a proof of possession of a
/// hardware-bound key, or `swk` for a backup-eligible (synced) passkey, whose private key leaves
/// the device; and when the authenticator verified the user, `user` and `pin` (WebAuthn does not
/// say whether by PIN or biometric; `pin` is the conservative reading).
pub fn amr(hardware: bool, user_verified: bool) -> &'static [&'static str] {
    match (hardware, user_verified) {
        (true, true) => &["hwk", "user", "pin"],
        (true, false) => &["hwk"],
        (false, true) => &["swk", "user", "pin"],
        (false, false) => &["swk"],
    }
}

/// The `challenge` a response's clientDataJSON answers, as sent (base64url): it names the
/// ceremony state. `None` for anything that is not such a document.
pub fn challenge_of(client_data_json: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ClientData {
        challenge: String,
    }
    let cd: ClientData = serde_json::from_slice(client_data_json).ok()?;
    (!cd.challenge.is_empty() && cd.challenge.len() <= 128).then_some(cd.challenge)
}

/// The AAGUID an authenticator wrote in its attested credential data (lowercase, hyphenated),
/// from an attestation object (CBOR). Without attestation it is the authenticator's own claim;
/// `None` if absent or all zeros (as clients send it when they hide the model).
pub fn aaguid_of(attestation_object: &[u8]) -> Option<String> {
    use serde_cbor_2::Value;
    let Value::Map(map) = serde_cbor_2::from_slice::<Value>(attestation_object).ok()? else {
        return None;
    };
    let auth_data = map.iter().find_map(|(k, v)| match (k, v) {
        (Value::Text(k), Value::Bytes(b)) if k == "authData" => Some(b),
        _ => None,
    })?;
    // rpIdHash (32) | flags (1) | signCount (4) | AAGUID (16) | …, when AT (0x40) is set.
    let flags = *auth_data.get(32)?;
    let aaguid = auth_data.get(37..53)?;
    if flags & 0x40 == 0 || aaguid.iter().all(|b| *b == 0) {
        return None;
    }
    let hex: String = aaguid.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rp_id_is_the_host_or_a_parent_domain_at_a_label_boundary() {
        assert!(rp_id_covers("example.com", "example.com"));
        assert!(rp_id_covers("example.com", "mfa.example.com"));
        assert!(rp_id_covers("localhost", "localhost"));
        assert!(!rp_id_covers("ample.com", "mfa.example.com"));
        assert!(!rp_id_covers("other.com", "mfa.example.com"));
        assert!(!rp_id_covers("mfa.example.com", "example.com"));
        assert!(!rp_id_covers("127.0.0.1", "127.0.0.1"));
        assert!(!rp_id_covers("::1", "::1"));
        assert!(rp_id_covers("1password.example", "1password.example"));
        assert!(!rp_id_covers(".example.com", "mfa.example.com"));
        assert!(!rp_id_covers("", "example.com"));
    }

    #[test]
    fn origins_are_secure_contexts_on_domain_names() {
        assert_eq!(
            parse_origin("https://Shop.Example/").as_deref(),
            Ok("https://shop.example")
        );
        assert_eq!(
            parse_origin("https://shop.example:8443").as_deref(),
            Ok("https://shop.example:8443")
        );
        assert_eq!(
            parse_origin("http://localhost:3000").as_deref(),
            Ok("http://localhost:3000")
        );
        for bad in [
            "http://shop.example",
            "https://127.0.0.1",
            "https://shop.example/login",
            "https://shop.example/?a=b",
            "shop.example",
            "ftp://shop.example",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_verification_adds_user_and_pin() {
        assert_eq!(amr(true, false), ["hwk"]);
        assert_eq!(amr(true, true), ["hwk", "user", "pin"]);
        assert_eq!(amr(false, false), ["swk"]);
    }

    #[test]
    fn the_challenge_is_read_from_client_data() {
        let cd = br#"{"type":"webauthn.get","challenge":"abc_-1"}"#;
        assert_eq!(challenge_of(cd).as_deref(), Some("abc_-1"));
        assert_eq!(challenge_of(b"!!"), None);
        assert_eq!(challenge_of(b"{}"), None);
    }

    #[test]
    fn the_aaguid_is_read_from_attested_credential_data() {
        let mut auth = vec![0u8; 32];
        auth.push(0x41);
        auth.extend([0, 0, 0, 0]);
        auth.extend((1..=16).collect::<Vec<u8>>());
        let obj = |auth: Vec<u8>| {
            let mut m = std::collections::BTreeMap::new();
            m.insert(
                serde_cbor_2::Value::Text("fmt".into()),
                serde_cbor_2::Value::Text("none".into()),
            );
            m.insert(
                serde_cbor_2::Value::Text("authData".into()),
                serde_cbor_2::Value::Bytes(auth),
            );
            serde_cbor_2::to_vec(&serde_cbor_2::Value::Map(m)).unwrap()
        };
        assert_eq!(
            aaguid_of(&obj(auth.clone())).as_deref(),
            Some("01020304-0506-0708-090a-0b0c0d0e0f10")
        );
        let mut zero = auth.clone();
        zero[37..53].fill(0);
        assert_eq!(aaguid_of(&obj(zero)), None);
        let mut no_at = auth;
        no_at[32] = 0x01;
        assert_eq!(aaguid_of(&obj(no_at)), None);
        assert_eq!(aaguid_of(b"not cbor"), None);
    }
}
