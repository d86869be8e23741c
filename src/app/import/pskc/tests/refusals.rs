//! Files that must be refused whole: tampering, DTDs, malformed or foreign XML, bad packages.

use super::super::*;
use super::{PSK16, RFC_PSK, RFC_SECRET, edit, packages, refused};

#[test]
fn rfc6030_figure2_secret_of_4_bytes_is_refused() {
    let errs = packages(refused(fixture!("rfc6030-fig2.xml"), KeySource::None, &[]));
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].position, errs[0].serial.as_deref()), (1, None));
    assert!(
        errs[0].reason.contains("4 bytes") && errs[0].reason.contains("128 bits"),
        "{}",
        errs[0].reason
    );
}

#[test]
fn rfc6030_figure4_key_without_secret_is_refused() {
    let errs = packages(refused(fixture!("rfc6030-fig4.xml"), KeySource::None, &[]));
    assert_eq!(
        (errs.len(), errs[0].serial.as_deref()),
        (1, Some("987654321"))
    );
    assert!(
        errs[0].reason.contains("no Data/Secret"),
        "{}",
        errs[0].reason
    );
}

#[test]
fn rfc6030_figure5_pin_package_refuses_the_file() {
    let errs = packages(refused(
        fixture!("rfc6030-fig5.xml"),
        KeySource::None,
        &[RFC_SECRET],
    ));
    assert_eq!(errs.len(), 1);
    let r = &errs[0].reason;
    assert_eq!(errs[0].position, 2);
    assert!(
        r.contains("serial already used by KeyPackage 1")
            && r.contains("not HOTP, TOTP or Yubico OTP"),
        "{r}"
    );
    assert!(
        r.contains("Length is not 6, 7 or 8") && r.contains("4 bytes"),
        "{r}"
    );
}

#[test]
fn python_pskc_wrong_keys() {
    let mut wrong = PSK16;
    wrong[15] ^= 0x80;
    for xml in [
        &fixture!("pypskc-psk-aes128-cbc.xml")[..],
        fixture!("pypskc-psk-kw-aes128.xml"),
    ] {
        assert!(matches!(
            refused(xml, KeySource::PreShared(&wrong), &[RFC_SECRET]),
            PskcError::WrongKey
        ));
    }
    let xml = fixture!("pypskc-pbkdf2-sha256.xml");
    assert!(matches!(
        refused(xml, KeySource::Password(b"Qwerty"), &[RFC_SECRET]),
        PskcError::WrongKey
    ));
}

#[test]
fn tampered_values_are_refused_before_decryption() {
    let xml = fixture!("rfc6030-fig6.xml");
    let psk = KeySource::PreShared(&RFC_PSK);
    // A changed ciphertext block fails the MAC.
    let cipher = edit(xml, "AAECAwQFBgcICQoLDA0OD+cI", "AAECAwQFBgcICQoLDA0OD+cJ");
    assert!(matches!(
        refused(&cipher, psk, &[RFC_SECRET]),
        PskcError::WrongKey
    ));
    let mac = edit(
        xml,
        "Su+NvtQfmvfJzF6bmQiJqoLRExc=",
        "Su+NvtQfmvfJzF6bmQiJqoLRFxc=",
    );
    assert!(matches!(
        refused(&mac, psk, &[RFC_SECRET]),
        PskcError::WrongKey
    ));
    // Without its ValueMAC, or with a ValueMAC but no MACMethod, the value is refused.
    let no_value_mac = edit(
        xml,
        "<ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=\n                    </ValueMAC>",
        "",
    );
    assert!(
        packages(refused(&no_value_mac, psk, &[RFC_SECRET]))[0]
            .reason
            .contains("without the ValueMAC")
    );
    let s = std::str::from_utf8(xml).unwrap();
    let (start, end) = (
        s.find("<MACMethod").unwrap(),
        s.find("</MACMethod>").unwrap() + "</MACMethod>".len(),
    );
    let no_method = format!("{}{}", &s[..start], &s[end..]);
    assert!(
        packages(refused(no_method.as_bytes(), psk, &[RFC_SECRET]))[0]
            .reason
            .contains("no MACMethod")
    );
    // Key wrap carries its own integrity check.
    let kw = fixture!("pypskc-psk-kw-aes128.xml");
    let s = std::str::from_utf8(kw).unwrap();
    let package = s.find("<pskc:KeyPackage>").unwrap();
    let at =
        package + s[package..].find("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
    let flipped = if &s[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &s[..at], &s[at + 1..]);
    assert!(matches!(
        refused(
            tampered.as_bytes(),
            KeySource::PreShared(&PSK16),
            &[RFC_SECRET]
        ),
        PskcError::WrongKey
    ));
}

#[test]
fn dtds_are_refused() {
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo>
<SerialNo>&lol4;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>"#;
    assert!(matches!(
        refused(bomb, KeySource::None, &[]),
        PskcError::Xml(_)
    ));
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE k [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo>
<SerialNo>&xxe;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>"#;
    assert!(matches!(
        refused(xxe, KeySource::None, &[]),
        PskcError::Xml(_)
    ));
}

#[test]
fn malformed_and_foreign_files_are_refused() {
    let xml = fixture!("rfc6030-fig3.xml");
    assert!(matches!(
        refused(&xml[..xml.len() / 2], KeySource::None, &[]),
        PskcError::Xml(_)
    ));
    assert!(matches!(
        refused(&vec![b' '; MAX_BYTES + 1], KeySource::None, &[]),
        PskcError::TooLarge
    ));
    assert!(matches!(
        refused(b"<a xmlns='urn:x'/>", KeySource::None, &[]),
        PskcError::NotPskc(_)
    ));
    let other_ns = edit(
        xml,
        "xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\"",
        "xmlns=\"urn:example\"",
    );
    assert!(matches!(
        refused(&other_ns, KeySource::None, &[]),
        PskcError::NotPskc(_)
    ));
    assert!(matches!(
        refused(
            &edit(xml, "Version=\"1.0\"", "Version=\"2.0\""),
            KeySource::None,
            &[]
        ),
        PskcError::NotPskc(_)
    ));
}

#[test]
fn every_bad_package_is_named() {
    let xml = fixture!("pypskc-plain.xml");
    let dup = edit(xml, "PP-0002", "PP-0001");
    let errs = packages(refused(&dup, KeySource::None, &[RFC_SECRET]));
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0].position, errs[0].serial.as_deref()),
        (2, Some("PP-0001"))
    );
    assert!(
        errs[0]
            .reason
            .contains("serial already used by KeyPackage 1")
    );
    let ocra = edit(
        xml,
        "Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:totp\" Id=\"k3\"",
        "Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:ocra\" Id=\"k3\"",
    );
    let errs = packages(refused(&ocra, KeySource::None, &[]));
    assert_eq!((errs.len(), errs[0].position), (1, 3));
    assert!(errs[0].reason.contains("not HOTP, TOTP or Yubico OTP"));
    // Several bad packages are all reported, and nothing else is returned.
    let many = edit(
        &edit(&ocra, "Length=\"8\"", "Length=\"9\""),
        "Encoding=\"DECIMAL\" Length=\"6\"/>",
        "Encoding=\"HEXADECIMAL\" Length=\"6\"/>",
    );
    let errs = packages(refused(&many, KeySource::None, &[RFC_SECRET]));
    assert_eq!(
        errs.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(errs[0].reason.contains("not DECIMAL") && errs[1].reason.contains("not 6, 7 or 8"));
    let display = PskcError::Packages(errs).to_string();
    assert!(
        display.starts_with("3 key package(s) refused: KeyPackage 1 (serial PP-0001): "),
        "{display}"
    );
}
