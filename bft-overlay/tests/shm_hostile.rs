//! Hostile, truncated and stale time files: every corruption is an error
//! (or status Unknown), never a panic or a hang.

mod shm_common;

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use bft_overlay::shm::{Client, Publisher, ReadError, ReadMode};
use proptest::prelude::*;
use shm_common::{TempDir, snapshot_now};

const MODES: [ReadMode; 2] = [ReadMode::Mmap, ReadMode::Pread];

fn published(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    p.publish(&snapshot_now(1_000, 15_000, 10_000_000_000))
        .unwrap();
    path
}

fn poke(path: &Path, off: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, off).unwrap();
}

fn open_err(path: &Path, mode: ReadMode) -> ReadError {
    match Client::open_with(path, mode) {
        Ok(_) => panic!("{mode:?}: opened a bad file"),
        Err(e) => e,
    }
}

#[test]
fn missing_empty_short_and_directory() {
    let dir = TempDir::new("short");
    for mode in MODES {
        assert!(matches!(
            open_err(&dir.file("nope"), mode),
            ReadError::Io(_)
        ));
        let empty = dir.file("empty");
        fs::write(&empty, b"").unwrap();
        fs::set_permissions(&empty, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            open_err(&empty, mode),
            ReadError::Truncated { len: 0 }
        ));
        let short = dir.file("short");
        fs::write(&short, b"STBFTIME\x01\0\0\0").unwrap();
        fs::set_permissions(&short, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            open_err(&short, mode),
            ReadError::Truncated { len: 12 }
        ));
        assert!(matches!(open_err(&dir.0, mode), ReadError::InsecureFile));
    }
}

#[test]
fn bad_header_fields() {
    let dir = TempDir::new("header");
    for mode in MODES {
        let path = published(&dir);
        poke(&path, 0, b"AMZNCB\x02\0");
        assert!(matches!(open_err(&path, mode), ReadError::BadMagic));
        let path = published(&dir);
        poke(&path, 8, &2u32.to_ne_bytes());
        assert!(matches!(
            open_err(&path, mode),
            ReadError::UnsupportedVersion(2)
        ));
        let path = published(&dir);
        poke(&path, 12, &4096u32.to_ne_bytes());
        assert!(matches!(open_err(&path, mode), ReadError::BadSize(4096)));
    }
}

#[test]
fn writable_by_others_is_refused() {
    let dir = TempDir::new("perm");
    let path = published(&dir);
    for bits in [0o666, 0o664, 0o646] {
        fs::set_permissions(&path, fs::Permissions::from_mode(bits)).unwrap();
        for mode in MODES {
            assert!(matches!(open_err(&path, mode), ReadError::InsecureFile));
        }
    }
}

#[test]
fn never_published_is_not_initialized() {
    let dir = TempDir::new("uninit");
    let path = dir.file("time");
    let _p = Publisher::create(&path).unwrap();
    for mode in MODES {
        let c = Client::open_with(&path, mode).unwrap();
        assert!(matches!(c.now(), Err(ReadError::NotInitialized)));
    }
}

#[test]
fn generation_stuck_odd_is_busy_after_bounded_retries() {
    let dir = TempDir::new("odd");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    p.publish(&snapshot_now(1_000, 15_000, 10_000_000_000))
        .unwrap();
    p.simulate_crash_mid_write();
    for mode in MODES {
        let c = Client::open_with(&path, mode).unwrap();
        let t = Instant::now();
        assert!(matches!(c.now(), Err(ReadError::Busy)));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
    // The next publish recovers.
    p.publish(&snapshot_now(1_000, 15_000, 10_000_000_000))
        .unwrap();
    assert!(Client::open(&path).unwrap().now().is_ok());
}

#[test]
fn absurd_values_are_malformed() {
    let dir = TempDir::new("absurd");
    // (offset, bytes, field)
    let cases: [(u64, Vec<u8>, &str); 8] = [
        (72, u64::MAX.to_ne_bytes().to_vec(), "as_of"),
        (80, (-5i64).to_ne_bytes().to_vec(), "time_at_as_of"),
        (88, i64::MAX.to_ne_bytes().to_vec(), "freq_offset"),
        (96, u64::MAX.to_ne_bytes().to_vec(), "bound"),
        (104, 0u64.to_ne_bytes().to_vec(), "void_after"),
        (112, u32::MAX.to_ne_bytes().to_vec(), "max_drift"),
        (116, 77u32.to_ne_bytes().to_vec(), "status"),
        (120, i32::MAX.to_ne_bytes().to_vec(), "tai_offset"),
    ];
    for (off, bytes, field) in cases {
        let path = published(&dir);
        for mode in MODES {
            // Corrupt after open too: the reader checks every read.
            let c = Client::open_with(&path, mode).unwrap();
            poke(&path, off, &bytes);
            match c.now() {
                Err(ReadError::Malformed(f)) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
            assert!(c.snapshot().is_err());
        }
    }
}

#[test]
fn as_of_in_the_future_is_a_causality_error() {
    let dir = TempDir::new("future");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    let mut s = snapshot_now(1_000, 15_000, 10_000_000_000);
    s.as_of_raw_ns += 5_000_000_000;
    s.void_after_raw_ns += 5_000_000_000;
    p.publish(&s).unwrap();
    assert!(matches!(
        Client::open(&path).unwrap().now(),
        Err(ReadError::Causality)
    ));
}

#[test]
fn file_shrunk_under_a_pread_reader_is_an_error() {
    let dir = TempDir::new("shrink");
    let path = published(&dir);
    let c = Client::open_with(&path, ReadMode::Pread).unwrap();
    assert!(c.now().is_ok());
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(40)
        .unwrap();
    assert!(matches!(c.now(), Err(ReadError::Truncated { len: 40 })));
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    assert!(matches!(c.now(), Err(ReadError::Truncated { len: 0 })));
}

#[test]
fn magic_rewritten_after_open_is_caught_by_pread() {
    let dir = TempDir::new("remagic");
    let path = published(&dir);
    let c = Client::open_with(&path, ReadMode::Pread).unwrap();
    poke(&path, 0, b"XXXXXXXX");
    assert!(matches!(c.now(), Err(ReadError::BadMagic)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes in the seqlock line behind a valid header: any result
    /// but a panic or a hang.
    #[test]
    fn arbitrary_payload_never_panics(payload in proptest::collection::vec(any::<u8>(), 64)) {
        let dir = TempDir::new("prop");
        let path = published(&dir);
        poke(&path, 64, &payload);
        for mode in MODES {
            let c = Client::open_with(&path, mode).unwrap();
            let _ = c.now();
            let _ = c.now_tai();
            let _ = c.snapshot();
        }
    }

    /// Arbitrary whole files: open either fails cleanly or reads cleanly.
    #[test]
    fn arbitrary_file_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), keep_magic in any::<bool>()) {
        let dir = TempDir::new("propfile");
        let path = dir.file("time");
        let mut bytes = bytes;
        if keep_magic && bytes.len() >= 16 {
            bytes[..8].copy_from_slice(b"STBFTIME");
            bytes[8..12].copy_from_slice(&1u32.to_ne_bytes());
            bytes[12..16].copy_from_slice(&128u32.to_ne_bytes());
        }
        fs::write(&path, &bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        for mode in MODES {
            if let Ok(c) = Client::open_with(&path, mode) {
                let _ = c.now();
            }
        }
    }
}
