//! The shape of a recovery code: 12 characters of a 32-letter alphabet (60 bits), shown as
//! `xxxx-xxxx-xxxx`. The randomness comes from the caller.

/// No i, l, o or u: nothing to confuse with 1, 0 or v when read off paper.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const GROUPS: usize = 3;
const GROUP_LEN: usize = 4;
/// The random bytes one code is made of: one per character.
pub const RANDOM_BYTES: usize = GROUPS * GROUP_LEN;

/// A code from random bytes, each byte one character (256 is a multiple of 32: no bias).
pub fn from_random(bytes: &[u8; RANDOM_BYTES]) -> String {
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(GROUP_LEN)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of a typed recovery code: exactly `xxxx-xxxx-xxxx` from the alphabet,
/// letters in either case. Anything else is not a recovery code.
pub fn parse(input: &str) -> Option<String> {
    let lower = input.to_ascii_lowercase();
    let b = lower.as_bytes();
    if b.len() != GROUPS * GROUP_LEN + GROUPS - 1 {
        return None;
    }
    let ok = b.iter().enumerate().all(|(i, c)| {
        if i % (GROUP_LEN + 1) == GROUP_LEN {
            *c == b'-'
        } else {
            ALPHABET.contains(c)
        }
    });
    ok.then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_random_bytes_parse_back() {
        let code = from_random(&[0, 31, 32, 255, 7, 8, 9, 10, 11, 12, 13, 14]);
        assert_eq!(code, "0z0z-789a-bcde", "byte values wrap at 32");
        assert_eq!(parse(&code.to_uppercase()).as_deref(), Some(code.as_str()));
    }

    #[test]
    fn only_the_canonical_shape_parses() {
        for bad in [
            "",
            "abcd-efgh",
            "abcdefghjkmn",
            "abcd efgh jkmn",
            "abcd-efgh-jkm",
            "abcd-efgh-jkmnp",
            "abcd-efgh-jkmo",
            "abcd_efgh_jkmn",
            " abcd-efgh-jkmn",
            "123456",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
