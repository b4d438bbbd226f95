//! ClockBound v2 compatibility: the real `clock-bound-client` 2.0.3 reads a
//! segment written by [`ClockBoundPublisher`].

mod shm_common;

use bft_overlay::shm::{Client, ClockBoundPublisher, Publisher, Status};
use clock_bound_client::{ClockBoundClient, ClockStatus};
use shm_common::{TempDir, realtime, snapshot_now};

#[test]
fn on_disk_header_matches_clockbound() {
    let dir = TempDir::new("cbhdr");
    let path = dir.file("shm0");
    let mut cb = ClockBoundPublisher::create(&path).unwrap();
    cb.publish_snapshot(&snapshot_now(1_000, 15_000, 100_000_000_000), 0)
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 80);
    let w = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().unwrap());
    assert_eq!([w(0), w(4)], [0x414D_5A4E, 0x4342_0200]);
    if cfg!(target_endian = "little") {
        assert_eq!(
            &bytes[..8],
            &[0x4e, 0x5a, 0x4d, 0x41, 0x00, 0x02, 0x42, 0x43]
        );
    }
    assert_eq!(w(8), 80); // segsize
    assert_eq!(u16::from_ne_bytes([bytes[12], bytes[13]]), 2); // version
    assert_eq!(u16::from_ne_bytes([bytes[14], bytes[15]]), 2); // generation
    assert_eq!(i32::from_ne_bytes(bytes[68..72].try_into().unwrap()), 1); // Synchronized
    assert_eq!(bytes[72], 0); // no VMClock disruption support
}

#[test]
fn clock_bound_client_reads_our_segment() {
    let dir = TempDir::new("cb");
    let ours_path = dir.file("time");
    let cb_path = dir.file("shm0");
    let snap = snapshot_now(25_000, 15_000, 100_000_000_000);
    let mut ours = Publisher::create(&ours_path).unwrap();
    ours.publish(&snap).unwrap();
    let mut cb = ClockBoundPublisher::create(&cb_path).unwrap();
    let written = cb.publish_snapshot(&snap, 0).unwrap();

    let client = Client::open(&ours_path).unwrap();
    let mut cbc = ClockBoundClient::new_with_path(cb_path.to_str().unwrap()).unwrap();

    let before = realtime();
    let o = client.now().unwrap();
    let c = cbc.now().unwrap();
    let after = realtime();
    // `nix::sys::time::TimeSpec` has inherent accessors.
    let to_ns = |sec: i64, nsec: i64| sec * 1_000_000_000 + nsec;
    let ce = to_ns(c.earliest.tv_sec(), c.earliest.tv_nsec());
    let cl = to_ns(c.latest.tv_sec(), c.latest.tv_nsec());
    eprintln!(
        "ours [{}, {}] half {} ns; clock-bound-client [{ce}, {cl}] half {} ns; written bound {} ns",
        o.earliest,
        o.latest,
        o.half_width().unwrap(),
        (cl - ce) / 2,
        written.bound_ns
    );
    assert_eq!(o.status, Status::Synchronized);
    assert_eq!(c.clock_status, ClockStatus::Synchronized);
    // ClockBound's interval is around CLOCK_REALTIME, so it holds the reads
    // around it; and it is at least as wide as ours and covers it.
    assert!(ce <= after && cl >= before);
    let gap = after - before;
    assert!((cl - ce) / 2 >= o.half_width().unwrap() - 1);
    assert!(
        ce <= o.earliest + gap && cl >= o.latest - gap,
        "{o:?} vs [{ce}, {cl}]"
    );
    // And not needlessly wider: our half-width plus pairing and coarse-tick
    // slack (well under 100 us here).
    assert!((cl - ce) / 2 <= o.half_width().unwrap() + 100_000);
}

#[test]
fn clock_bound_client_sees_our_status() {
    let dir = TempDir::new("cbstatus");
    let cb_path = dir.file("shm0");
    let mut cb = ClockBoundPublisher::create(&cb_path).unwrap();
    for (ours, theirs) in [
        (Status::FreeRunning, ClockStatus::FreeRunning),
        (Status::Unknown, ClockStatus::Unknown),
        (Status::Disrupted, ClockStatus::Disrupted),
        (Status::Synchronized, ClockStatus::Synchronized),
    ] {
        let mut s = snapshot_now(1_000, 15_000, 100_000_000_000);
        s.status = ours;
        cb.publish_snapshot(&s, 0).unwrap();
        let mut cbc = ClockBoundClient::new_with_path(cb_path.to_str().unwrap()).unwrap();
        assert_eq!(cbc.now().unwrap().clock_status, theirs);
    }
}
