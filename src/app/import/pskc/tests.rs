//! Fixtures: tests/data/pskc/rfc6030-figN.xml (RFC 6030 figures 2-7) and pypskc-*.xml, written by
//! the independent python-pskc (tests/data/pskc/generate.py lists their seeds, keys, passwords).

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/pskc/",
            $name
        ))
    };
}

mod refusals;

const RFC_SECRET: &[u8] = b"12345678901234567890";
const RFC_PSK: [u8; 16] = [
    0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
];
const PSK16: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const PSK32: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31,
];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Parses `xml` expecting a refusal, and checks that the error shows none of `secrets`.
fn refused(xml: &[u8], key: KeySource<'_>, secrets: &[&[u8]]) -> PskcError {
    let err = parse(xml, key).expect_err("the file should be refused");
    let shown = format!("{err} {err:?}");
    for s in secrets {
        use base64::Engine as _;
        let forms = [
            String::from_utf8_lossy(s).into_owned(),
            s.iter().map(|b| format!("{b:02x}")).collect(),
            base64::engine::general_purpose::STANDARD.encode(s),
        ];
        for form in forms.iter().filter(|f| f.len() >= 8) {
            assert!(
                !shown.contains(form.as_str()),
                "error shows a secret: {shown}"
            );
        }
    }
    err
}

fn packages(err: PskcError) -> Vec<PackageError> {
    match err {
        PskcError::Packages(p) => p,
        other => panic!("expected Packages, got {other:?}"),
    }
}

fn edit(xml: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = std::str::from_utf8(xml).unwrap();
    assert!(s.contains(from), "fixture lacks {from}");
    s.replacen(from, to, 1).into_bytes()
}

#[test]
fn rfc6030_figure3_plaintext() {
    let keys = parse(fixture!("rfc6030-fig3.xml"), KeySource::None).unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k.position, k.serial.as_deref(), k.manufacturer.as_deref()),
        (1, Some("987654321"), Some("Manufacturer"))
    );
    assert_eq!(
        (k.key_id.as_deref(), k.algorithm, k.digits),
        (Some("12345678"), Algorithm::Hotp, 8)
    );
    assert_eq!(
        (
            k.secret.as_slice(),
            k.counter,
            k.time_step,
            k.hash.as_deref()
        ),
        (RFC_SECRET, Some(0), None, None)
    );
    // A key read from a file never shows its secret.
    assert!(!format!("{k:?}").contains("1234567890"));
}

#[test]
fn rfc6030_figure6_pre_shared_key() {
    let xml = fixture!("rfc6030-fig6.xml");
    let keys = parse(xml, KeySource::PreShared(&RFC_PSK)).unwrap();
    let k = &keys[0];
    assert_eq!(
        (
            k.secret.as_slice(),
            k.digits,
            k.counter,
            k.serial.as_deref()
        ),
        (RFC_SECRET, 8, Some(0), Some("987654321"))
    );
    assert!(matches!(
        refused(xml, KeySource::None, &[]),
        PskcError::KeyNeeded("a pre-shared key")
    ));
    assert!(matches!(
        refused(xml, KeySource::Password(b"qwerty"), &[]),
        PskcError::KeyNeeded("a pre-shared key")
    ));
    let mut wrong = RFC_PSK;
    wrong[0] ^= 1;
    assert!(matches!(
        refused(xml, KeySource::PreShared(&wrong), &[RFC_SECRET, &RFC_PSK]),
        PskcError::WrongKey
    ));
    assert!(matches!(
        refused(xml, KeySource::PreShared(&PSK32), &[RFC_SECRET]),
        PskcError::WrongKey
    ));
}

#[test]
fn rfc6030_figure7_pbkdf2_password() {
    let xml = fixture!("rfc6030-fig7.xml");
    let keys = parse(xml, KeySource::Password(b"qwerty")).unwrap();
    let k = &keys[0];
    assert_eq!(
        (k.secret.as_slice(), k.digits, k.counter),
        (RFC_SECRET, 8, None)
    );
    assert_eq!(
        (k.manufacturer.as_deref(), k.key_id.as_deref()),
        (Some("TokenVendorAcme"), Some("123456"))
    );
    assert!(matches!(
        refused(xml, KeySource::None, &[]),
        PskcError::KeyNeeded("a password")
    ));
    assert!(matches!(
        refused(xml, KeySource::Password(b"qwertz"), &[RFC_SECRET]),
        PskcError::WrongKey
    ));
    let slow = edit(xml, "<IterationCount>1000<", "<IterationCount>10000001<");
    assert!(matches!(
        refused(&slow, KeySource::Password(b"qwerty"), &[]),
        PskcError::Unsupported(_)
    ));
}

/// The values generate.py gave python-pskc.
fn check_python_keys(keys: &[PskcKey]) {
    assert_eq!(keys.len(), 3);
    let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
    assert_eq!(
        (
            a.serial.as_deref(),
            a.manufacturer.as_deref(),
            a.key_id.as_deref()
        ),
        (Some("PP-0001"), Some("Acme"), Some("k1"))
    );
    assert_eq!(
        (
            a.algorithm,
            a.secret.as_slice(),
            a.counter,
            a.digits,
            a.time_step
        ),
        (Algorithm::Hotp, RFC_SECRET, Some(7), 6, None)
    );
    assert_eq!(
        (b.serial.as_deref(), b.algorithm, b.digits, b.time_step),
        (Some("PP-0002"), Algorithm::Totp, 8, Some(60))
    );
    assert_eq!(
        b.secret.as_slice(),
        hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
    );
    assert_eq!(b.hash.as_deref(), Some("SHA256"));
    assert_eq!(
        b.not_before.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-01-01T00:00:00+00:00")
    );
    assert_eq!(
        b.not_after.map(|d| d.to_rfc3339()).as_deref(),
        Some("2030-12-31T23:59:59+00:00")
    );
    assert_eq!(
        (
            c.serial.as_deref(),
            c.algorithm,
            c.digits,
            c.time_step,
            c.time_origin
        ),
        (Some("PP-0003"), Algorithm::Totp, 6, Some(30), Some(0))
    );
    assert_eq!(
        c.secret.as_slice(),
        hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3")
    );
    assert_eq!(
        keys.iter().map(|k| k.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn python_pskc_files() {
    check_python_keys(&parse(fixture!("pypskc-plain.xml"), KeySource::None).unwrap());
    check_python_keys(
        &parse(
            fixture!("pypskc-psk-aes128-cbc.xml"),
            KeySource::PreShared(&PSK16),
        )
        .unwrap(),
    );
    check_python_keys(
        &parse(
            fixture!("pypskc-psk-aes256-cbc.xml"),
            KeySource::PreShared(&PSK32),
        )
        .unwrap(),
    );
    check_python_keys(
        &parse(
            fixture!("pypskc-psk-kw-aes128.xml"),
            KeySource::PreShared(&PSK16),
        )
        .unwrap(),
    );
    check_python_keys(
        &parse(
            fixture!("pypskc-pbkdf2.xml"),
            KeySource::Password(b"correct horse battery staple"),
        )
        .unwrap(),
    );
    check_python_keys(
        &parse(
            fixture!("pypskc-pbkdf2-sha256.xml"),
            KeySource::Password(b"qwerty"),
        )
        .unwrap(),
    );
}

/// A one-key file whose secret is an EncryptedValue of `uri` holding `cipher` (base64).
fn wrapped(uri: &str, cipher: &str) -> String {
    format!(
        r#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
 xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
 <EncryptionKey><ds:KeyName>k</ds:KeyName></EncryptionKey>
 <KeyPackage><DeviceInfo><SerialNo>W1</SerialNo></DeviceInfo>
  <Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc#totp"><Data><Secret><EncryptedValue>
   <xenc:EncryptionMethod Algorithm="{uri}"/>
   <xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData>
  </EncryptedValue></Secret></Data></Key></KeyPackage></KeyContainer>"#
    )
}

#[test]
fn key_wrap_rfc_test_vectors() {
    use base64::Engine as _;
    let b64 = |h: &str| base64::engine::general_purpose::STANDARD.encode(hex(h));
    // RFC 3394 §4.1: 128-bit key data with a 128-bit KEK.
    let xml = wrapped(
        "http://www.w3.org/2001/04/xmlenc#kw-aes128",
        &b64("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"),
    );
    let keys = parse(xml.as_bytes(), KeySource::PreShared(&PSK16)).unwrap();
    assert_eq!(
        (keys[0].secret.as_slice(), keys[0].algorithm),
        (
            &hex("00112233445566778899aabbccddeeff")[..],
            Algorithm::Totp
        )
    );
    // RFC 5649 §6: 20 octets of key data with a 192-bit KEK.
    let kek = hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
    let wrapped_key = b64("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
    let xml = wrapped(
        "http://www.w3.org/2009/xmlenc11#kw-aes-192-pad",
        &wrapped_key,
    );
    let keys = parse(xml.as_bytes(), KeySource::PreShared(&kek)).unwrap();
    assert_eq!(
        keys[0].secret.as_slice(),
        hex("c37b7e6492584340bed12207808941155068f738")
    );
}
