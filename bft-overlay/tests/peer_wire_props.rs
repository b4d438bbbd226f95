//! Property tests of the peer message parser and its authentication.
//!
//! `arbitrary_bytes_never_panic`: any byte string parses to an error or to
//! a message that re-emits to exactly the same bytes.
//! `bit_flips_are_refused_or_fail_the_mac`: a valid signed message with
//! bits flipped either fails to parse, fails the MAC, or is the original.

use bft_overlay::peer::wire::{self, MAC_LEN};
use bft_overlay::peer::{
    BoundStatus, HlcTimestamp, Key, KeyTable, MESSAGE_LEN, Message, MessageType,
};
use proptest::prelude::*;

fn reemit(m: &Message, mac: &[u8; MAC_LEN]) -> [u8; MESSAGE_LEN] {
    let mut b = m.emit();
    wire::set_mac(&mut b, mac);
    b
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<(u64, u64, u32, u32, u64)>(),
        any::<(u64, u64, u64, u64, u64)>(),
        any::<(i64, i64)>(),
    )
        .prop_map(
            |(kind, flags, status, (sender, receiver, key_id, logical, physical_ns), t, (a, b))| {
                Message {
                    kind: MessageType::from_code(kind),
                    flags,
                    status: BoundStatus::from_code(status),
                    sender,
                    receiver,
                    key_id,
                    hlc: HlcTimestamp {
                        physical_ns,
                        logical,
                    },
                    seq: t.0,
                    echo_seq: t.1,
                    t1: t.2,
                    t2: t.3,
                    t3: t.4,
                    lower_ns: a.min(b),
                    upper_ns: a.max(b),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(any::<u8>(), MESSAGE_LEN..=MESSAGE_LEN),
        // Right magic and version, the rest arbitrary.
        proptest::collection::vec(any::<u8>(), MESSAGE_LEN..=MESSAGE_LEN).prop_map(|mut v| {
            v[..5].copy_from_slice(b"BFTP\x01");
            v
        }),
    ]) {
        if let Ok((m, mac)) = Message::parse(&bytes) {
            prop_assert_eq!(&reemit(&m, &mac)[..], &bytes[..]);
            prop_assert!(m.lower_ns <= m.upper_ns);
        }
    }

    #[test]
    fn messages_round_trip(m in message(), mac in any::<[u8; MAC_LEN]>()) {
        let b = reemit(&m, &mac);
        let (p, pmac) = Message::parse(&b).unwrap();
        prop_assert_eq!(p, m);
        prop_assert_eq!(pmac, mac);
    }

    #[test]
    fn bit_flips_are_refused_or_fail_the_mac(
        m in message(),
        flips in proptest::collection::vec((0..MESSAGE_LEN, 0..8u32), 1..4),
    ) {
        let mut keys = KeyTable::new();
        keys.insert(m.receiver, m.key_id, Key::new([0x5A; 32]));
        let mut signed = m.emit();
        keys.sign(m.receiver, m.key_id, &mut signed).unwrap();
        let mut x = signed;
        for (i, bit) in flips {
            x[i] ^= 1 << bit;
        }
        match Message::parse(&x) {
            Err(_) => {}
            Ok((p, mac)) => {
                prop_assert_eq!(reemit(&p, &mac), x);
                // Verified with the key of the original pair (a flipped key
                // id or sender finds no key: also a refusal).
                let ok = keys.verify(m.receiver, p.key_id, &x, &mac).is_ok();
                prop_assert_eq!(ok, x == signed);
            }
        }
    }
}
