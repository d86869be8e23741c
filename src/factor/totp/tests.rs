use super::*;

const SEED: &[u8] = b"12345678901234567890";

fn vectors(json: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

fn field<'a>(row: &'a serde_json::Value, name: &str) -> &'a str {
    row[name].as_str().unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    let byte = |i| u8::from_str_radix(&s[i..i + 2], 16).unwrap();
    (0..s.len()).step_by(2).map(byte).collect()
}

/// Default params with the RFC seed, to keep the window tests on one line each.
fn check(code: &str, now: i64, window: u8) -> Option<u64> {
    matching_step(SEED, Params::default(), code, now, window)
}

fn code(step: u64) -> String {
    code_at_step(SEED, Params::default(), step)
}

#[test]
fn rfc6238_appendix_b() {
    // Includes "07081804" (zero padding) and t = 20000000000 (step beyond 32 bits of time).
    let rows = vectors(include_str!("../../../tests/data/rfc6238_vectors.json"));
    assert_eq!(rows.len(), 18);
    for row in rows {
        let time = row["time"].as_i64().unwrap();
        let params = Params::new(field(&row, "algorithm").parse().unwrap(), 8, 30).unwrap();
        let seed = hex(field(&row, "seed_hex"));
        let expected = field(&row, "expected");
        let step = step_at(time, 30);
        assert_eq!(step, u64::from_str_radix(field(&row, "T_hex"), 16).unwrap());
        assert_eq!(code_at_step(&seed, params, step), expected, "{row}");
        assert_eq!(base32_secret(&seed), field(&row, "seed_base32"));
        let found = |window| matching_step(&seed, params, expected, time, window);
        assert!((0..=2).all(|window| found(window) == Some(step)), "{row}");
    }
}

#[test]
fn rfc4226_appendix_d() {
    let rows = vectors(include_str!("../../../tests/data/rfc4226_vectors.json"));
    assert_eq!(rows.len(), 10);
    let eight = Params::new(Algorithm::Sha1, 8, 30).unwrap();
    for row in rows {
        let counter = row["counter"].as_u64().unwrap();
        let seed = hex(field(&row, "seed_hex"));
        let (six, eight_digits) = (field(&row, "expected"), field(&row, "expected_8_digit"));
        assert_eq!(code_at_step(&seed, Params::default(), counter), six);
        assert_eq!(code_at_step(&seed, eight, counter), eight_digits);
    }
}

#[test]
fn step_at_edges() {
    assert_eq!(step_at(29, 30), 0);
    assert_eq!(step_at(30, 30), 1);
    assert_eq!(step_at(119, 60), 1);
    assert_eq!(step_at(-1, 30), 0);
    assert_eq!(step_at(i64::MIN, 30), 0);
    assert_eq!(step_at(i64::MAX, 30), i64::MAX as u64 / 30);
    assert_eq!(step_at(1000, 0), 0);
    // The window neither underflows at the epoch nor overflows at the end of time.
    assert_eq!(check(&code(0), -5, 2), Some(0));
    let t = step_at(i64::MAX, 30);
    assert_eq!(check(&code(t + 2), i64::MAX, 2), Some(t + 2));
}

#[test]
fn window_edges() {
    let now = 1_700_000_000;
    let t = step_at(now, 30);
    // The assertions below rely on these five codes being distinct.
    let codes: Vec<String> = (t - 2..=t + 2).map(code).collect();
    for (i, c) in codes.iter().enumerate() {
        assert!(!codes[i + 1..].contains(c));
    }

    assert_eq!(check(&code(t), now, 0), Some(t));
    assert_eq!(check(&code(t - 1), now, 0), None);
    assert_eq!(check(&code(t + 1), now, 0), None);
    for step in [t - 1, t, t + 1] {
        assert_eq!(check(&code(step), now, 1), Some(step));
    }
    assert_eq!(check(&code(t - 2), now, 1), None);
    assert_eq!(check(&code(t + 2), now, 1), None);
    for step in t - 2..=t + 2 {
        assert_eq!(check(&code(step), now, 2), Some(step));
    }
    // Wider than SEC-8 allows is clamped to 2.
    assert_eq!(check(&code(t + 3), now, 9), None);
    assert_eq!(check(&code(t + 2), now, 9), Some(t + 2));
}

#[test]
fn duplicate_match_returns_latest_step() {
    // Found by search: for the RFC seed, steps 56295193 and 56295195 share code 769717.
    let t = 56_295_194;
    assert_eq!(code(t - 1), "769717");
    assert_eq!(code(t + 1), "769717");
    assert_ne!(code(t), "769717");
    assert_eq!(
        check("769717", i64::try_from(t * 30).unwrap(), 1),
        Some(t + 1)
    );
}

#[test]
fn malformed_codes_are_refused() {
    assert_eq!(code(1), "287082");
    assert!(is_well_formed("287082", 6));
    assert_eq!(check("287082", 59, 1), Some(1));
    let spacing = [
        " 287082",
        "287082 ",
        "287 082",
        "２８７０８２",
        "１２３４５６",
    ];
    let others = [
        "12345", "1234567", "+28708", "-28708", "", "abcdef", "28708\0",
    ];
    for bad in spacing.into_iter().chain(others) {
        assert!(!is_well_formed(bad, 6), "{bad:?}");
        assert_eq!(check(bad, 59, 2), None, "{bad:?}");
    }
    assert!(!is_well_formed("287082", 8));
    assert!(is_well_formed("00000000", 8));
}

#[test]
fn params_validation() {
    assert_eq!(Params::new(Algorithm::Sha1, 6, 30), Ok(Params::default()));
    assert!(Params::new(Algorithm::Sha512, 8, 60).is_ok());
    for digits in [0, 5, 7, 9, 10, 255] {
        assert!(Params::new(Algorithm::Sha1, digits, 30).is_err());
    }
    for period in [0, 1, 15, 45, 90] {
        assert!(Params::new(Algorithm::Sha1, 6, period).is_err());
    }
    // Hand-built invalid Params must not reach totp-rs (which panics at 10+ digits).
    let bad = Params {
        digits: 10,
        period: 0,
        ..Params::default()
    };
    assert_eq!(code_at_step(SEED, bad, 1), "");
    assert_eq!(matching_step(SEED, bad, "1234567890", 59, 1), None);
}

#[test]
fn algorithm_spelling() {
    use Algorithm::*;
    for (alg, name) in [(Sha1, "SHA1"), (Sha256, "SHA256"), (Sha512, "SHA512")] {
        let json = format!("\"{name}\"");
        assert_eq!(alg.as_str(), name);
        assert_eq!(name.parse::<Algorithm>(), Ok(alg));
        assert_eq!(serde_json::to_string(&alg).unwrap(), json);
        assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), alg);
    }
    for bad in ["sha1", "Sha1", "SHA-1", " SHA1", "MD5", ""] {
        assert!(bad.parse::<Algorithm>().is_err());
        assert!(serde_json::from_str::<Algorithm>(&format!("\"{bad}\"")).is_err());
    }
}

#[test]
fn base32() {
    assert_eq!(base32_secret(SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    for len in 0..=41 {
        let bytes: Vec<u8> = (0..len)
            .map(|i| u8::try_from((i * 37 + 255 - len) % 256).unwrap())
            .collect();
        let encoded = base32_secret(&bytes);
        assert!(!encoded.contains('='));
        // totp-rs's base32 (the `base32` crate) as the independent implementation.
        assert_eq!(encoded, totp_rs::Secret::from(bytes.as_slice()).to_base32());
        let decoded = totp_rs::Secret::try_from_base32(&encoded).unwrap();
        assert_eq!(decoded.as_bytes(), bytes.as_slice());
    }
}

#[test]
fn otpauth_uris() {
    let uri = |issuer, account, params| otpauth_uri(issuer, account, SEED, params);
    assert_eq!(
        uri("twofold", "alice@example.com", Params::default()),
        "otpauth://totp/twofold:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=twofold&algorithm=SHA1&digits=6&period=30"
    );
    assert_eq!(
        uri("Acme Co", "bob:smith/x?y#z", Params::default()),
        "otpauth://totp/Acme%20Co:bob%3Asmith%2Fx%3Fy%23z?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
    );
    assert_eq!(
        uri("Zoë:1%", "a+b&c=d~e", Params::default()),
        "otpauth://totp/Zo%C3%AB%3A1%25:a%2Bb%26c%3Dd~e?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Zo%C3%AB%3A1%25&algorithm=SHA1&digits=6&period=30"
    );
    let sha512 = Params::new(Algorithm::Sha512, 8, 60).unwrap();
    assert_eq!(
        uri("twofold", "carol", sha512),
        "otpauth://totp/twofold:carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=twofold&algorithm=SHA512&digits=8&period=60"
    );
}
