//! The published time file: round trip, bound growth, void_after, boot id,
//! the monotonic estimate, and the seqlock under a fast writer.

mod shm_common;

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bft_overlay::shm::{
    Client, MonotonicEstimator, Publisher, ReadError, ReadMode, Snapshot, Status, TimeBound,
};
use shm_common::{TempDir, raw, realtime, snapshot_now};

#[test]
fn round_trip_contains_realtime_in_both_modes() {
    let dir = TempDir::new("rt");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    let s = snapshot_now(20_000, 50_000, 10_000_000_000);
    p.publish(&s).unwrap();
    assert_eq!(p.generation(), 2);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o644
    );
    assert_eq!(meta.len(), 128);
    for mode in [ReadMode::Mmap, ReadMode::Pread] {
        let c = Client::open_with(&path, mode).unwrap();
        assert!(c.boot_id_matches());
        assert_eq!(c.snapshot().unwrap(), s);
        let before = realtime();
        let t = c.now().unwrap();
        let after = realtime();
        assert_eq!(t.status, Status::Synchronized);
        // The published clock is CLOCK_REALTIME, so the interval holds it.
        assert!(
            t.earliest <= after && t.latest >= before,
            "{t:?} {before} {after}"
        );
        assert!(t.half_width().unwrap() >= 20_000);
        let tai = c.now_tai().unwrap();
        assert!(tai.earliest - t.earliest >= 37_000_000_000 - 1_000_000);
    }
    // No stray temporary files.
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
}

#[test]
fn bound_grows_with_drift_times_elapsed() {
    let dir = TempDir::new("grow");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    let r0 = raw();
    let as_of = r0 - 2_000_000_000; // 2 s ago
    let s = Snapshot {
        as_of_raw_ns: as_of as u64,
        time_at_as_of_ns: 1_800_000_000_000_000_000,
        freq_offset: 0,
        bound_ns: 1_000,
        max_drift_ppb: 100_000, // 100 ppm
        void_after_raw_ns: as_of as u64 + 60_000_000_000,
        status: Status::FreeRunning,
        tai_offset_s: 0,
    };
    p.publish(&s).unwrap();
    let c = Client::open(&path).unwrap();
    let t = c.now().unwrap();
    let r1 = raw();
    let half = t.half_width().unwrap();
    let lo = 1_000 + (r0 - as_of) / 10_000;
    let hi = 1_000 + (r1 - as_of) / 10_000 + 1;
    assert!((lo..=hi).contains(&half), "{lo} <= {half} <= {hi}");
    let mid = t.midpoint().unwrap() - 1_800_000_000_000_000_000;
    assert!((r0 - as_of..=r1 - as_of + 1).contains(&mid));
    assert_eq!(t.status, Status::FreeRunning);
}

#[test]
fn void_after_makes_status_unknown() {
    let dir = TempDir::new("void");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    p.publish(&snapshot_now(1_000, 15_000, 30_000_000)).unwrap();
    let c = Client::open(&path).unwrap();
    assert_eq!(c.now().unwrap().status, Status::Synchronized);
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(c.now().unwrap(), TimeBound::unbounded(Status::Unknown));
    // Republishing revives it.
    p.publish(&snapshot_now(1_000, 15_000, 30_000_000)).unwrap();
    assert_eq!(c.now().unwrap().status, Status::Synchronized);
}

#[test]
fn written_status_unknown_or_disrupted_is_unbounded() {
    let dir = TempDir::new("status");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    let c = Client::open(&path).unwrap();
    for st in [Status::Unknown, Status::Disrupted] {
        let mut s = snapshot_now(1_000, 15_000, 10_000_000_000);
        s.status = st;
        p.publish(&s).unwrap();
        assert_eq!(c.now().unwrap(), TimeBound::unbounded(st));
    }
}

#[test]
fn boot_id_mismatch_makes_status_unknown() {
    let dir = TempDir::new("boot");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    p.publish(&snapshot_now(1_000, 15_000, 10_000_000_000))
        .unwrap();
    // Another boot's id.
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(&[0x5a; 16], 16).unwrap();
    for mode in [ReadMode::Mmap, ReadMode::Pread] {
        let c = Client::open_with(&path, mode).unwrap();
        assert!(!c.boot_id_matches());
        assert_eq!(c.now().unwrap(), TimeBound::unbounded(Status::Unknown));
    }
}

#[test]
fn publisher_rejects_what_readers_would_reject() {
    let dir = TempDir::new("reject");
    let mut p = Publisher::create(dir.file("time")).unwrap();
    let mut s = snapshot_now(1_000, 15_000, 10_000_000_000);
    s.max_drift_ppb = u32::MAX;
    assert!(matches!(
        p.publish(&s),
        Err(ReadError::Malformed("max_drift"))
    ));
    assert_eq!(p.generation(), 0);
}

#[test]
fn recreating_replaces_atomically_and_old_readers_keep_working() {
    let dir = TempDir::new("replace");
    let path = dir.file("time");
    let mut p1 = Publisher::create(&path).unwrap();
    p1.publish(&snapshot_now(1_000, 15_000, 10_000_000_000))
        .unwrap();
    let old = Client::open(&path).unwrap();
    let mut p2 = Publisher::create(&path).unwrap();
    p2.publish(&snapshot_now(2_000, 15_000, 10_000_000_000))
        .unwrap();
    // The old mapping still reads the old (now unlinked) file.
    assert_eq!(old.snapshot().unwrap().bound_ns, 1_000);
    assert_eq!(
        Client::open(&path).unwrap().snapshot().unwrap().bound_ns,
        2_000
    );
    drop(p1);
    assert!(old.now().is_ok());
}

#[test]
fn monotonic_estimate_is_rate_limited_and_never_goes_back() {
    let mut m = MonotonicEstimator::new(1_000_000); // 1000 ppm
    assert_eq!(m.step(0, None), None);
    assert_eq!(m.step(0, Some(1_000_000_000)), Some(1_000_000_000));
    // The target jumps 1 ms back after 1 s: the estimate slows by at most
    // 1000 ppm (1 ms per second) and never decreases.
    let e = m.step(1_000_000_000, Some(1_999_000_000)).unwrap();
    assert_eq!(e, 1_999_000_000);
    let e = m.step(1_100_000_000, Some(1_000_000_000)).unwrap();
    assert_eq!(e, 1_999_000_000 + 100_000_000 - 100_000);
    // It jumps 1 s forward: the estimate runs at most 1000 ppm fast.
    let e2 = m.step(1_200_000_000, Some(10_000_000_000)).unwrap();
    assert_eq!(e2, e + 100_000_000 + 100_000);
    // Unbounded reads advance at rate 1.
    assert_eq!(m.step(1_300_000_000, None), Some(e2 + 100_000_000));

    // Against a live file.
    let dir = TempDir::new("mono");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    p.publish(&snapshot_now(1_000, 15_000, 10_000_000_000))
        .unwrap();
    let c = Client::open(&path).unwrap();
    let mut m = MonotonicEstimator::new(500_000);
    let mut last = i64::MIN;
    for _ in 0..1000 {
        let (e, _) = m.now(&c).unwrap();
        let e = e.unwrap();
        assert!(e >= last);
        last = e;
    }
}

/// The stress snapshot for counter `k`: every field is a function of `k`,
/// so any mix of two publications is detected.
fn stress_snapshot(k: u64) -> Snapshot {
    let as_of = 1_000_000_000_000 + k;
    Snapshot {
        as_of_raw_ns: as_of,
        time_at_as_of_ns: 1_700_000_000_000_000_000 + 3 * k as i64,
        freq_offset: (k % 1000) as i64 - 500,
        bound_ns: 5 * k,
        max_drift_ppb: ((k * 13) % 1_000_000) as u32,
        void_after_raw_ns: as_of + 1_000_000_000 + k % 7,
        status: if k.is_multiple_of(2) {
            Status::Synchronized
        } else {
            Status::FreeRunning
        },
        tai_offset_s: (k % 50) as i32,
    }
}

#[test]
fn seqlock_stress_never_tears() {
    let dir = TempDir::new("stress");
    let path = dir.file("time");
    let mut p = Publisher::create(&path).unwrap();
    p.publish(&stress_snapshot(0)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));

    let writer = {
        let (stop, writes) = (stop.clone(), writes.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut k = 1;
            // First second: paced (~5-10 kHz); second second: flat out.
            while start.elapsed() < Duration::from_secs(2) {
                p.publish(&stress_snapshot(k)).unwrap();
                k += 1;
                if start.elapsed() < Duration::from_secs(1) {
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
            writes.store(k - 1, Ordering::Relaxed);
            stop.store(true, Ordering::Relaxed);
        })
    };

    let readers: Vec<_> = [ReadMode::Mmap, ReadMode::Mmap, ReadMode::Pread]
        .into_iter()
        .map(|mode| {
            let (stop, path) = (stop.clone(), path.clone());
            std::thread::spawn(move || {
                let c = Client::open_with(&path, mode).unwrap();
                let (mut reads, mut busy, mut last_k, mut distinct) = (0u64, 0u64, 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    match c.snapshot() {
                        Ok(s) => {
                            let k = s.as_of_raw_ns - 1_000_000_000_000;
                            assert_eq!(s, stress_snapshot(k), "torn read at k={k} ({mode:?})");
                            assert!(k >= last_k, "generation went back");
                            distinct += u64::from(k != last_k);
                            last_k = k;
                            reads += 1;
                        }
                        Err(ReadError::Busy) => busy += 1,
                        Err(e) => panic!("{e}"),
                    }
                    // now() fails only with Busy (a write overlapped every
                    // retry: the writer was preempted mid-write); the value is
                    // Unknown here because the stress as_of lies in the past.
                    match c.now() {
                        Ok(t) => assert_eq!(t.status, Status::Unknown),
                        Err(ReadError::Busy) => busy += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
                (reads, busy, distinct)
            })
        })
        .collect();

    writer.join().unwrap();
    let writes = writes.load(Ordering::Relaxed);
    assert!(writes >= 2_000, "writer too slow: {writes} writes in 2 s");
    for r in readers {
        let (reads, busy, distinct) = r.join().unwrap();
        eprintln!("reads {reads}, busy {busy}, distinct generations {distinct}, writes {writes}");
        assert!(reads > 10_000);
        assert!(distinct > 100);
    }
}
