//! Redis Cluster hash slots: which slot a key lives in, and a key for any slot — the readiness
//! probe of a master is a read of a key in one of its slots, routed the way a request goes.

pub(super) const SLOTS: u16 = 16_384;

/// CRC16-XMODEM (polynomial 0x1021, initial value 0), the hash Redis Cluster slots keys by.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The slot of a hash tag's content: every key carrying `{tag}` lives there.
fn slot_of_tag(tag: &[u8]) -> u16 {
    crc16(tag) % SLOTS
}

/// A key named `{base}{N}` (the braces are the hash tag) that lives in one of the slots `first` to
/// `last`: the smallest such N. A range of `len` slots is hit after about 16384 / `len` tries, so
/// a master's widest range costs a few hashes, a single slot some thousands.
pub(super) fn key_in(base: &str, first: u16, last: u16) -> Option<String> {
    // A slot is missed after a million tries with a probability of e^-61.
    (0..1_000_000u32)
        .find(|n| (first..=last).contains(&slot_of_tag(n.to_string().as_bytes())))
        .map(|n| format!("{base}{{{n}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_the_ones_redis_computes() {
        // The check value of CRC16-XMODEM, and `CLUSTER KEYSLOT` answers: `somekey` and
        // `foo{hash_tag}` from its documentation, `foo` from a Redis 7.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(slot_of_tag(b"somekey"), 11_058);
        assert_eq!(slot_of_tag(b"hash_tag"), 2_515);
        assert_eq!(slot_of_tag(b"foo"), 12_182);
    }

    fn slot_of_key(key: &str) -> u16 {
        let tag = key.trim_start_matches("p:ready:{").trim_end_matches('}');
        slot_of_tag(tag.as_bytes())
    }

    #[test]
    fn a_single_slot_and_a_range_have_a_key() {
        for slot in [0, 1, 6000, SLOTS - 1] {
            let key = key_in("p:ready:", slot, slot).unwrap();
            assert_eq!(slot_of_key(&key), slot, "{key}");
        }
        let key = key_in("p:ready:", 5461, 10922).unwrap();
        assert!((5461..=10922).contains(&slot_of_key(&key)), "{key}");
    }
}
