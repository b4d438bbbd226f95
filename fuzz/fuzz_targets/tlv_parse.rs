//! Every TLV parser over arbitrary octets: the whole input as a TLV set, and
//! the input after its first two octets as the value of every typed TLV,
//! under the tlvType those two octets name.

#![no_main]

use libfuzzer_sys::fuzz_target;
use statime::wire::tlv::{
    AcknowledgeCancelUnicastTransmissionTlv, AlternateTimeOffsetIndicatorTlv, AuthenticationTlv,
    CancelUnicastTransmissionTlv, FollowUpInformationTlv, GrantUnicastTransmissionTlv,
    OrganizationExtensionTlv, PadTlv, PathTraceTlv, RequestUnicastTransmissionTlv, Tlv, TlvRepr,
};
use statime::wire::{RawTlv, TlvSet, TlvType, TlvWriter};

/// If `$t` parses the value, it pushes, parses back, and re-pushes to the
/// same octets.
macro_rules! typed {
    ($t:ident, $tlv_type:expr, $value:expr) => {{
        if let Ok(t) = $t::parse_value($tlv_type, $value) {
            // The trait's wire_len counts the pad octet (`RawTlv`'s inherent
            // one does not).
            let mut a = vec![0u8; TlvRepr::wire_len(&t)];
            let mut w = TlvWriter::new(&mut a);
            w.push(&t).expect(concat!(stringify!($t), " pushes"));
            let first = w.finish();
            let raw = TlvSet::parse(first.as_bytes())
                .expect("a pushed TLV is a valid set")
                .iter()
                .next()
                .expect("one TLV");
            let back = $t::parse(raw).expect(concat!(stringify!($t), " parses its own output"));
            let mut b = vec![0u8; TlvRepr::wire_len(&back)];
            let mut w = TlvWriter::new(&mut b);
            w.push(&back).expect(concat!(stringify!($t), " pushes"));
            assert_eq!(w.finish().as_bytes(), first.as_bytes());
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = TlvSet::parse(data) {
        let total: usize = set.iter().map(|t| t.received_len()).sum();
        assert_eq!(total, data.len());
        for raw in set {
            let _ = Tlv::parse(raw);
        }
    }

    let (code, value) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return,
    };
    let tlv_type = TlvType::from(code);
    typed!(Tlv, tlv_type, value);
    typed!(RawTlv, tlv_type, value);
    typed!(RequestUnicastTransmissionTlv, tlv_type, value);
    typed!(GrantUnicastTransmissionTlv, tlv_type, value);
    typed!(CancelUnicastTransmissionTlv, tlv_type, value);
    typed!(AcknowledgeCancelUnicastTransmissionTlv, tlv_type, value);
    typed!(PathTraceTlv, tlv_type, value);
    typed!(PadTlv, tlv_type, value);
    typed!(AlternateTimeOffsetIndicatorTlv, tlv_type, value);
    typed!(AuthenticationTlv, tlv_type, value);
    typed!(OrganizationExtensionTlv, tlv_type, value);
    typed!(FollowUpInformationTlv, tlv_type, value);
});
