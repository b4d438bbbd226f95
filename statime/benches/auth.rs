//! Cost of the AUTHENTICATION TLV (IEEE 1588-2019 clause 16.14) per
//! message: signing and verifying a Sync (44 octets) and an Announce (64)
//! with HMAC-SHA256-128 and HMAC-SHA256, beside parsing the same message
//! (`Message::parse`), in the same run.
//!
//! `cargo bench -p statime --bench auth -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use statime::auth::{Algorithm, SaKey, SecurityAssociation, sign, verify};
use statime::wire::Message;

fn message(kind: u8, len: usize) -> [u8; 256] {
    let mut b = [0u8; 256];
    b[0] = kind;
    b[1] = 0x12;
    b[2..4].copy_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    b[20..28].copy_from_slice(&[0, 0x1b, 0x19, 0xff, 0xfe, 0, 0, 1]);
    b[29] = 1;
    if kind == 0x0B {
        b[47] = 128;
        b[48] = 248;
        b[49] = 0xFE;
        b[50..52].copy_from_slice(&[0xFF, 0xFF]);
        b[52] = 128;
        b[53..61].copy_from_slice(&[0, 0x1b, 0x19, 0xff, 0xfe, 0, 0, 1]);
        b[63] = 0xA0;
    }
    b
}

fn bench(c: &mut Criterion) {
    let mut sa = SecurityAssociation::new(1);
    sa.add_key(SaKey::new(1, Algorithm::HmacSha256_128, &[0x2b; 16]).unwrap())
        .unwrap();
    sa.add_key(SaKey::new(2, Algorithm::HmacSha256, &[0x60; 32]).unwrap())
        .unwrap();
    for (name, kind, len) in [("sync", 0x00, 44), ("announce", 0x0B, 64)] {
        let plain = message(kind, len);
        assert!(Message::parse(&plain[..len]).is_ok(), "{name}");
        c.bench_function(&format!("parse {name}"), |b| {
            b.iter(|| Message::parse(black_box(&plain[..len])).is_ok());
        });
        for (key, alg) in [(1, "sha256-128"), (2, "sha256")] {
            c.bench_function(&format!("sign {name} {alg}"), |b| {
                b.iter(|| {
                    let mut m = plain;
                    sign(&sa, key, black_box(&mut m), len).unwrap()
                });
            });
            let mut signed = plain;
            let total = sign(&sa, key, &mut signed, len).unwrap();
            assert_eq!(verify(&sa, &signed[..total]), Ok(key));
            c.bench_function(&format!("verify {name} {alg}"), |b| {
                b.iter(|| verify(&sa, black_box(&signed[..total])).is_ok());
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
