use super::*;

const CSV: &str = include_str!("../../../tests/data/yubico/personalization.csv");
const LOG: &str = include_str!("../../../tests/data/yubico/configuration_log.csv");
const YUBICO_C_KEY: &str = "ecde18dbe76fbd0c33330f1c354871db";

fn hex<const N: usize>(s: &str) -> [u8; N] {
    std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
}

/// otps.json (made by generate.py with the yubiotp package), its key and private id.
fn fixture() -> (serde_json::Value, [u8; 16], [u8; 6]) {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/data/yubico/otps.json")).unwrap();
    let field = |name: &str| doc[name].as_str().unwrap().to_owned();
    let (key, id) = (hex(&field("aes_key_hex")), hex(&field("private_id_hex")));
    (doc, key, id)
}

#[test]
fn modhex_yubico_c_vectors_and_round_trip() {
    // yubico-c's test-vectors.txt.
    assert_eq!(modhex_decode("dteffuje").unwrap(), [0x2d, 0x34, 0x4e, 0x83]);
    let token = modhex_decode("hknhfjbrjnlnldnhcujvddbikngjrtgh").unwrap();
    assert_eq!(token, hex::<16>("69b6481c8baba2b60e8f22179b58cd56"));
    let encoded = modhex_encode(&hex::<16>(YUBICO_C_KEY));
    assert_eq!(encoded, "urtubjtnuihvntcreeeecvbregfjibtn");
    assert_eq!(modhex_encode(b"test") + &modhex_encode(&[]), "ifhgieif");
    assert_eq!(modhex_decode("IFHGIEIF").unwrap(), b"test");
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(modhex_decode(&modhex_encode(&all)).unwrap(), all);
    for bad in ["c", "cbd", "ca", "0c", "cé"] {
        assert_eq!(modhex_decode(bad), None, "{bad}");
    }
}

#[test]
fn shape_normalise_and_public_id() {
    let (doc, key, _) = fixture();
    let otp = doc["otps"][0]["otp"].as_str().unwrap();
    let upper = otp.to_ascii_uppercase();
    assert!(is_otp(otp) && is_otp(&upper) && decrypt(&upper, &key).is_some());
    assert_eq!(normalise(&upper).as_deref(), Some(otp));
    assert_eq!(public_id(otp), doc["public_id"].as_str());
    assert_eq!(public_id(&upper), None);
    let (short, long, bad) = (&otp[1..], format!("{otp}c"), otp.replace('v', "a"));
    for bad in [short, &long, &bad, "", "123456", &format!("{}é", &otp[2..])] {
        assert!(
            !is_otp(bad) && normalise(bad).is_none() && public_id(bad).is_none(),
            "{bad}"
        );
    }
}

#[test]
fn yubico_c_readme_vectors() {
    // yubico-c's README (ykparse output), the 8-character public id padded to 12.
    let key = hex::<16>(YUBICO_C_KEY);
    let vectors = [
        ("dcflcindvdbrblehecuitvjkjevvehjd", 16, 0xc0a8),
        ("hknhfjbrjnlnldnhcujvddbikngjrtgh", 17, 0xc230),
    ];
    for (token, session, timestamp) in vectors {
        let d = decrypt(&format!("ccccdteffuje{token}"), &key).unwrap();
        assert_eq!(d.private_id, hex::<6>("8792ebfe26cc"));
        assert_eq!(
            (d.use_counter, d.session_counter, d.timestamp),
            (19, session, timestamp)
        );
        assert_eq!(d.counter(), (19 << 8) | u32::from(session));
        let mut other = key;
        other[15] ^= 1;
        assert_eq!(decrypt(&format!("ccccdteffuje{token}"), &other), None);
    }
}

#[test]
fn yubiotp_fixture() {
    let (doc, key, private_id) = fixture();
    let otps = doc["otps"].as_array().unwrap();
    assert_eq!(otps.len(), 8);
    let mut last = None;
    for row in otps {
        let d = decrypt(row["otp"].as_str().unwrap(), &key).unwrap();
        assert!(private_id_matches(&d.private_id, &private_id), "{row}");
        let got = [
            d.use_counter.into(),
            d.session_counter.into(),
            d.timestamp.into(),
        ];
        let want = ["use_counter", "session_counter", "timestamp"].map(|k| row[k].as_u64());
        assert_eq!(got.map(Some), want, "{row}");
        assert!(last < Some(d.counter()), "{row}");
        last = Some(d.counter());
    }
    let bad = |name: &str| decrypt(doc["bad"][name].as_str().unwrap(), &key);
    assert_eq!((bad("other_key"), bad("bad_crc")), (None, None));
    let other = bad("other_private_id").unwrap();
    assert!(!private_id_matches(&other.private_id, &private_id));
    assert!(!format!("{other:?}").contains("a1b2c3"));
}

#[test]
fn caps_lock_bit_is_not_part_of_the_counter() {
    use aes::cipher::BlockCipherEncrypt;
    let key = [7; 16];
    let mut block = [
        1, 2, 3, 4, 5, 6, 0x05, 0x80, 0x10, 0x20, 0x30, 9, 0xaa, 0xbb, 0, 0,
    ];
    let crc = !crc16(&block[..14]);
    block[14..].copy_from_slice(&crc.to_le_bytes());
    Aes128::new_from_slice(&key)
        .unwrap()
        .encrypt_block((&mut block).into());
    let d = decrypt(&format!("vvvvvvvvvvvv{}", modhex_encode(&block)), &key).unwrap();
    assert_eq!(
        (d.use_counter, d.session_counter, d.timestamp),
        (5, 9, 0x302010)
    );
}

fn assert_fixture_key(p: &Personalization) {
    let (doc, key, private_id) = fixture();
    assert_eq!(Some(p.public_id.as_str()), doc["public_id"].as_str());
    assert_eq!((p.private_id, *p.aes_key), (private_id, key));
}

#[test]
fn personalization_fixtures() {
    let keys = parse_personalization_csv(CSV).unwrap();
    let ids: Vec<_> = keys
        .iter()
        .map(|k| (k.serial.as_deref(), &k.public_id[..]))
        .collect();
    assert_eq!(
        ids,
        [
            (Some("12345678"), "vvcijgklnrbf"),
            (Some("12345679"), "vvcijgklnrbg")
        ]
    );
    assert_fixture_key(&keys[0]);
    let log = parse_personalization_csv(LOG).unwrap();
    assert_eq!((log.len(), log[0].serial.as_deref()), (1, None));
    assert_fixture_key(&log[0]);
    // A byte order mark, CRLF, blank lines, a local time with commas, upper case.
    let row = LOG
        .lines()
        .nth(1)
        .unwrap()
        .replace("5/21/26", "Thu, May 21, 2026");
    let row = row
        .to_ascii_uppercase()
        .replacen("YUBICO OTP", "Yubico OTP", 1);
    let text = format!("\u{feff}LOGGING START,x\r\n\r\n{row}\r\n\n");
    assert_fixture_key(&parse_personalization_csv(&text).unwrap()[0]);
    let debug = format!("{:?}", log[0]);
    assert!(debug.contains("vvcijgklnrbf") && !debug.contains("3bd9") && !debug.contains("a1b2"));
    assert!(parse_personalization_csv("").unwrap().is_empty());
}

#[test]
fn personalization_collects_every_bad_line() {
    let text = "1,vvcijgklnrbf,a1b2c3d4e5f6,KEY,,2026-05-21T13:35:45,

OATH-HOTP,5/21/26 1:35 PM,2,vvcijgklnrbc,,K20,,,0,0,0,6,0,0,0,0,0,0
Static Password: Short,5/21/26,1,,,KEY,,,0,0,0,0,0,0,0,0,0,0
2,vvcijgklnrbf,a1b2c3d4e5f6,KEY,,2026-05-21T13:35:45,
3,vvcijgklnrbd,a1b2c3d4e5fx,KEYz,,2026-05-21T13:35:45,
4,0123456789ab,a1b2c3d4e5f6,K20,,2026-05-21T13:35:45,
5,vvcijgklnrbe,a1b2c3d4e5f6,KEY
Yubico OTP,5/21/26,1,vvcijgklnrbe,a1b2c3d4e5f6,KEY
KEY,vvcijgklnrbe,a1b2c3d4e5f6"
        .replace("K20", "8e3c1f5a7b9d2e4c6a8b0d1f3e5c7a9b01234567")
        .replace("KEY", "3bd9f2a8c1e04d7f96b25e08a1c3d4f7");
    let errors = parse_personalization_csv(&text).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10]);
    let r: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        r[0],
        "a OATH-HOTP row: only Yubico OTP rows can be imported"
    );
    assert!(r[1].starts_with("a Static Password: Short row"));
    assert_eq!(r[2], "public id vvcijgklnrbf is also on line 1");
    assert!(
        r[3].contains("private id") && r[3].contains("AES key"),
        "{}",
        r[3]
    );
    assert!(
        r[4].contains("public id") && r[4].contains("20 bytes"),
        "{}",
        r[4]
    );
    assert!(r[5].ends_with("not 4") && r[6].ends_with("not 6"));
    assert!(r[7].starts_with("not a personalization log row"));
    assert!(r.iter().all(|r| !r.contains("3bd9") && !r.contains("8e3c")));
    assert_eq!(errors[0].to_string(), format!("line 3: {}", r[0]));
}
