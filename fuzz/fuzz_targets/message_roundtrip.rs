//! Parse arbitrary octets as a PTP message. Whatever parses must emit, parse
//! again to the same message and emit the same octets; every TLV of the
//! message goes through the typed TLV parser.

#![no_main]

use libfuzzer_sys::fuzz_target;
use statime::wire::tlv::{Tlv, TlvRepr};
use statime::wire::{Message, TlvWriter};

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::parse(data) else {
        return;
    };
    assert!(message.wire_len() <= data.len());

    let mut first = vec![0u8; message.wire_len()];
    let n = message.emit(&mut first).expect("a parsed message emits");
    assert_eq!(n, message.wire_len());
    let first = &first[..n];
    assert_eq!(usize::from(u16::from_be_bytes([first[2], first[3]])), n);

    let again = Message::parse(first).expect("an emitted message parses");
    assert_eq!(again, message);
    let mut second = vec![0u8; n];
    let m = again.emit(&mut second).expect("a parsed message emits");
    assert_eq!(&second[..m], first, "emit -> parse -> emit differs");

    for raw in message.suffix {
        if let Ok(tlv) = Tlv::parse(raw) {
            // A typed TLV writes, and what it writes parses to itself once
            // padded to an even length.
            let mut buf = vec![0u8; TlvRepr::wire_len(&tlv)];
            let mut w = TlvWriter::new(&mut buf);
            w.push(&tlv).expect("a parsed TLV pushes");
            let set = w.finish();
            let raw2 = set.iter().next().expect("one TLV");
            let tlv2 = Tlv::parse(raw2).expect("a pushed TLV parses");
            let mut buf2 = vec![0u8; TlvRepr::wire_len(&tlv2)];
            let mut w2 = TlvWriter::new(&mut buf2);
            w2.push(&tlv2).expect("a parsed TLV pushes");
            assert_eq!(w2.finish().as_bytes(), set.as_bytes());
        }
    }
});
