//! The `shm_reader` harness: the reader of the published time file
//! (`bft_overlay::shm::Client`, both read modes) opened on arbitrary file
//! contents, and the `MonotonicEstimator` stepped on arbitrary readings.
//!
//! The file is either arbitrary octets, or a record built from the input
//! around the real CLOCK_MONOTONIC_RAW / CLOCK_REALTIME and this boot's id
//! (so that the bounded paths of the reader are reached), then maybe
//! mutated, cut or extended. It is written to a per-process file in the
//! temp directory (`$TMPDIR`, normally `/tmp`), with owner-only or
//! group/other-writable permissions.
//!
//! Shared by `fuzz/fuzz_targets/shm_reader.rs` and
//! `bft-overlay/tests/fuzz_regressions.rs`. [`run`] panics when:
//!
//! - opening or reading panics, or takes longer than a second (a hang);
//! - a group/other-writable file is accepted;
//! - a bounded `TimeBound` is inverted, or an unbounded one is not
//!   `[i64::MIN, i64::MAX]`;
//! - a snapshot is returned that does not pass `Snapshot::validate`;
//! - the estimator runs backwards, or forgets its estimate.

#![allow(dead_code, unreachable_pub)]

#[path = "input.rs"]
mod input;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bft_overlay::shm::{
    Client, MAGIC, MonotonicEstimator, ReadError, ReadMode, SIZE, Status, TimeBound, VERSION,
    clock_monotonic_raw_ns, clock_realtime_ns, current_boot_id,
};
use input::Input;

/// Counts of what a run reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Files the reader opened.
    pub opened: u64,
    /// Reads that gave a bounded interval.
    pub bounded: u64,
    /// Reads that failed (any `ReadError`).
    pub errors: u64,
    /// Snapshots read.
    pub snapshots: u64,
}

fn temp_path() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("statime-fuzz-shm-{}-{n}", std::process::id()))
}

/// A record near the real clocks, fields chosen by the input.
fn record(u: &mut Input<'_>) -> Vec<u8> {
    let raw = clock_monotonic_raw_ns().unwrap_or(0);
    let real = clock_realtime_ns().unwrap_or(0);
    let mut b = vec![0u8; SIZE as usize];
    b[0..8].copy_from_slice(&MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_ne_bytes());
    b[12..16].copy_from_slice(&SIZE.to_ne_bytes());
    let boot = if u.u8() < 0xF0 {
        current_boot_id()
    } else {
        u.array()
    };
    b[16..32].copy_from_slice(&boot);
    let generation: u64 = match u.u8() % 8 {
        0 => 0,
        1 => 1 + 2 * u64::from(u.u16()),
        2 => u.u64(),
        _ => 2 + 2 * u64::from(u.u16()),
    };
    let scale = |u: &mut Input<'_>| -> i64 {
        match u.u8() % 8 {
            0 => u.i64(),
            1 => i64::from(u.i32()) * 1_000_000_000,
            2 => i64::from(u.i32()) * 1_000,
            _ => i64::from(u.i32()),
        }
    };
    let as_of = raw.saturating_add(scale(u));
    let time_at = match u.u8() % 4 {
        0 => u.i64(),
        _ => real.saturating_add(scale(u)),
    };
    let freq_offset = match u.u8() % 4 {
        0 => u.i64(),
        1 => i64::from(u.i32()) << 16,
        _ => i64::from(u.i32()),
    };
    let bound = match u.u8() % 4 {
        0 => u.u64(),
        _ => u64::from(u.u32()),
    };
    let void_after = as_of.saturating_add(scale(u));
    let max_drift = match u.u8() % 4 {
        0 => u.u32(),
        _ => u32::from(u.u16()) * 16,
    };
    let status = match u.u8() % 8 {
        0 => u.u32(),
        v => u32::from(v % 5),
    };
    let tai = match u.u8() % 4 {
        0 => u.i32(),
        _ => 37,
    };
    b[64..72].copy_from_slice(&generation.to_ne_bytes());
    b[72..80].copy_from_slice(&as_of.to_ne_bytes());
    b[80..88].copy_from_slice(&time_at.to_ne_bytes());
    b[88..96].copy_from_slice(&freq_offset.to_ne_bytes());
    b[96..104].copy_from_slice(&bound.to_ne_bytes());
    b[104..112].copy_from_slice(&void_after.to_ne_bytes());
    b[112..116].copy_from_slice(&max_drift.to_ne_bytes());
    b[116..120].copy_from_slice(&status.to_ne_bytes());
    b[120..124].copy_from_slice(&tai.to_ne_bytes());
    b
}

/// Usually nothing; sometimes flip, set, cut or extend.
fn mutate(u: &mut Input<'_>, m: &mut Vec<u8>) {
    let n = match u.u8() {
        0..=159 => 0,
        160..=223 => 1,
        _ => 1 + u.below(4),
    };
    for _ in 0..n {
        if m.is_empty() {
            return;
        }
        let at = u.below(m.len());
        match u.u8() % 4 {
            0 => m[at] ^= 1 << (u.u8() % 8),
            1 => m[at] = u.u8(),
            2 => m.truncate(at),
            _ => m.extend_from_slice(u.bytes(64)),
        }
    }
}

fn check_bound(t: &TimeBound) {
    if t.status.is_bounded() {
        assert!(t.earliest <= t.latest, "inverted {t:?}");
        let mid = t.midpoint().expect("bounded");
        assert!(t.earliest <= mid && mid <= t.latest, "{t:?}");
        assert!(t.half_width().expect("bounded") >= 0);
    } else {
        assert_eq!((t.earliest, t.latest), (i64::MIN, i64::MAX), "{t:?}");
        assert!(t.midpoint().is_none());
    }
    let _ = t.to_tai(i32::MAX);
    let _ = t.to_tai(i32::MIN);
}

fn note<T>(r: &Result<T, ReadError>, stats: &mut Stats) {
    if let Err(e) = r {
        stats.errors += 1;
        let _ = e.to_string();
    }
}

/// Run one input; panics on a broken property.
pub fn run(data: &[u8]) -> Stats {
    let mut u = Input::new(data);
    let mut stats = Stats::default();
    let mut contents = if u.u8().is_multiple_of(4) {
        u.bytes(300).to_vec()
    } else {
        record(&mut u)
    };
    mutate(&mut u, &mut contents);
    let insecure = u.u8() == 0xFF;
    let slew = u.u32();

    let path = temp_path();
    let _ = fs::remove_file(&path);
    fs::write(&path, &contents).expect("write the temp file");
    let mode = if insecure { 0o666 } else { 0o644 };
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod the temp file");

    for read_mode in [ReadMode::Pread, ReadMode::Mmap] {
        let start = std::time::Instant::now();
        match Client::open_with(&path, read_mode) {
            Ok(c) => {
                assert!(!insecure, "a world-writable file was accepted");
                assert!(contents.len() >= SIZE as usize, "a short file was accepted");
                stats.opened += 1;
                let _ = c.boot_id_matches();
                for r in [c.now(), c.now_tai()] {
                    note(&r, &mut stats);
                    if let Ok(t) = r {
                        check_bound(&t);
                        if t.status.is_bounded() {
                            stats.bounded += 1;
                        }
                    }
                }
                let s = c.snapshot();
                note(&s, &mut stats);
                if let Ok(s) = s {
                    stats.snapshots += 1;
                    s.validate()
                        .expect("a snapshot the reader returns validates");
                    assert!(Status::from_u32(s.status as u32).is_some());
                }
                let mut est = MonotonicEstimator::new(slew);
                let mut last: Option<i64> = None;
                for _ in 0..3 {
                    let r = est.now(&c);
                    note(&r, &mut stats);
                    if let Ok((e, t)) = r {
                        check_bound(&t);
                        if let Some(prev) = last {
                            let e = e.expect("the estimate is kept once known");
                            assert!(e >= prev, "the estimate ran backwards");
                        }
                        last = e.or(last);
                    }
                }
            }
            Err(e) => {
                stats.errors += 1;
                let _ = e.to_string();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{read_mode:?}: a read took {:?}",
            start.elapsed()
        );
    }
    let _ = fs::remove_file(&path);

    // The estimator on arbitrary readings.
    let mut est = MonotonicEstimator::new(u.u32());
    let mut last: Option<i64> = None;
    for _ in 0..32 {
        if u.is_empty() {
            break;
        }
        let raw = match u.u8() % 4 {
            0 => u.i64(),
            _ => last.unwrap_or(0).saturating_add(i64::from(u.i32())),
        };
        let target = match u.u8() % 4 {
            0 => None,
            1 => Some(u.i64()),
            _ => Some(raw.saturating_add(i64::from(u.i32()))),
        };
        let e = est.step(raw, target);
        if let Some(prev) = last {
            let e = e.expect("the estimate is kept once known");
            assert!(e >= prev, "the estimate ran backwards: {prev} -> {e}");
        }
        if target.is_some() {
            assert!(e.is_some());
        }
        last = e.or(last);
    }
    stats
}
