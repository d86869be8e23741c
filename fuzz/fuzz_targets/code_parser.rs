//! Whatever a client sends as a code: the shape checks never panic, a TOTP code is exactly its
//! digits, and a recovery code parses to a canonical form that parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for digits in [6u8, 8] {
        if twofold::factor::totp::is_well_formed(s, digits) {
            assert_eq!(s.len(), usize::from(digits));
            assert!(s.bytes().all(|b| b.is_ascii_digit()));
        }
    }
    if let Some(canonical) = twofold::factor::recovery_code::parse(s) {
        assert_eq!(
            twofold::factor::recovery_code::parse(&canonical).as_deref(),
            Some(canonical.as_str())
        );
        assert!(canonical.is_ascii());
    }
});
