//! Text shown to people: which characters a label or a name may not hold. Control characters
//! and Unicode format characters (general category Cf: bidi overrides and isolates, zero-width
//! characters, tags) are invisible or reorder what surrounds them, so a label holding one can
//! show on a page or in an app as something else than it is (`U+202E` turns `exe.txt` round).

/// The code points of general category Cf (Unicode 16), as inclusive ranges.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// A Unicode format character (general category Cf).
pub fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `s` shows as what it is: no control and no format character.
pub fn is_displayable(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || is_format(c))
}

/// The longest display name of a site: it heads every hosted page and names an authenticator
/// app's entry.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;

/// A site's display name as people will read it, trimmed: 1–64 displayable characters and no
/// `:` (a display name is also the Key URI's issuer, whose label splits on it).
pub fn display_name(raw: &str) -> Option<String> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.chars().count() <= MAX_DISPLAY_NAME_CHARS
        && !v.contains(':')
        && is_displayable(v);
    ok.then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_characters_are_known() {
        for c in [
            '\u{AD}',
            '\u{61C}',
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{E0001}',
            '\u{E007F}',
        ] {
            assert!(is_format(c), "{:04X}", u32::from(c));
        }
        for c in [
            'a', ' ', 'é', '…', '€', '\u{2010}', '\u{2065}', '\u{FFFC}', '😀',
        ] {
            assert!(!is_format(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn ranges_are_sorted_and_apart() {
        for w in FORMAT.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 + 1 < w[1].0, "{w:X?}");
        }
    }

    #[test]
    fn labels_with_controls_or_format_characters_do_not_display() {
        assert!(is_displayable("Alice's phone …42"));
        for bad in [
            "a\u{202E}txt.exe",
            "a\u{200B}b",
            "a\nb",
            "\u{2067}x\u{2069}",
        ] {
            assert!(!is_displayable(bad), "{bad:?}");
        }
    }
}
