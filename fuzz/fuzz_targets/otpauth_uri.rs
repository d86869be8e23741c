//! Any issuer, account and secret: the otpauth URI is a valid URL whose label decodes back to
//! `issuer:account` and whose parameters carry the issuer and the parameters unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold::factor::totp::{Algorithm, Params};

fuzz_target!(|input: (String, String, Vec<u8>, u8)| {
    let (issuer, account, secret, pick) = input;
    let algorithm = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][usize::from(pick % 3)];
    let digits = if pick & 4 == 0 { 6 } else { 8 };
    let period = if pick & 8 == 0 { 30 } else { 60 };
    let params = Params::new(algorithm, digits, period).expect("valid parameters");
    let uri = twofold::factor::totp::otpauth_uri(&issuer, &account, &secret, params);
    let url = url::Url::parse(&uri).expect("an otpauth URI is a URL");
    assert_eq!(url.scheme(), "otpauth");
    let label = url.path().trim_start_matches('/');
    assert_eq!(
        percent_decode(label),
        format!("{issuer}:{account}"),
        "label {label}"
    );
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("issuer").as_deref(), Some(issuer.as_str()));
    assert_eq!(get("secret"), Some(twofold::factor::totp::base32_secret(&secret)));
    assert_eq!(get("digits"), Some(digits.to_string()));
    assert_eq!(get("period"), Some(period.to_string()));
});

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("the label decodes to UTF-8")
}
