//! A writer of AWS ClockBound's v2 `shm0` layout, so that unchanged
//! ClockBound clients (`clock-bound-client` 2.x, its C library) read our
//! bound. Layout facts from ClockBound's PROTOCOL.md, checked against the
//! 2.0.3 client; see `docs/algorithm/publication.md`.
#![allow(
    unsafe_code,
    reason = "implements the unsafe `AtomicLayout` marker for the ClockBound record (SAFETY comment at the impl)"
)]

use core::sync::atomic::{AtomicI32, AtomicI64, AtomicU8, AtomicU16, AtomicU32, AtomicU64};
use core::sync::atomic::{Ordering, fence};
use std::io;
use std::path::Path;

use super::layout::Record;
use super::publisher::create_mapped;
use super::sys::{AtomicLayout, Mapping, clock_ns, clock_res_ns};
use super::{MAX_BOUND_NS, ReadError, Snapshot, Status, evaluate};

/// The magic: two native-endian u32 words (`"NZMA"`, `"\0\x02BC"` on a
/// little-endian disk).
pub(crate) const CB_MAGIC: [u32; 2] = [0x414D_5A4E, 0x4342_0200];
/// The layout version ClockBound 2.x clients accept.
pub(crate) const CB_VERSION: u16 = 2;
/// Header (16 bytes) plus the ClockErrorBound record (64 bytes).
pub(crate) const CB_SIZE: u32 = 80;

#[repr(C, align(8))]
#[derive(Debug)]
pub(crate) struct CbLayout {
    pub(crate) magic: [AtomicU32; 2],
    pub(crate) segsize: AtomicU32,
    pub(crate) version: AtomicU16,
    pub(crate) generation: AtomicU16,
    pub(crate) as_of_sec: AtomicI64,
    pub(crate) as_of_nsec: AtomicI64,
    pub(crate) void_after_sec: AtomicI64,
    pub(crate) void_after_nsec: AtomicI64,
    pub(crate) bound_nsec: AtomicI64,
    pub(crate) disruption_marker: AtomicU64,
    pub(crate) max_drift_ppb: AtomicU32,
    pub(crate) clock_status: AtomicI32,
    pub(crate) disruption_support: AtomicU8,
    pub(crate) padding: [AtomicU8; 7],
}

// SAFETY: `#[repr(C)]`, atomics only, alignment 8.
unsafe impl AtomicLayout for CbLayout {}

const _: () = {
    use core::mem::offset_of;
    assert!(size_of::<CbLayout>() == CB_SIZE as usize);
    assert!(offset_of!(CbLayout, segsize) == 8);
    assert!(offset_of!(CbLayout, version) == 12);
    assert!(offset_of!(CbLayout, generation) == 14);
    assert!(offset_of!(CbLayout, as_of_sec) == 16);
    assert!(offset_of!(CbLayout, void_after_sec) == 32);
    assert!(offset_of!(CbLayout, bound_nsec) == 48);
    assert!(offset_of!(CbLayout, disruption_marker) == 56);
    assert!(offset_of!(CbLayout, max_drift_ppb) == 64);
    assert!(offset_of!(CbLayout, clock_status) == 68);
    assert!(offset_of!(CbLayout, disruption_support) == 72);
};

/// One ClockBound v2 record. Times are CLOCK_MONOTONIC_COARSE (ns), the
/// clock ClockBound clients read; the bound is about CLOCK_REALTIME.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ClockBoundSnapshot {
    /// CLOCK_MONOTONIC_COARSE (ns) at which `bound_ns` holds.
    pub as_of_coarse_ns: i64,
    /// CLOCK_MONOTONIC_COARSE (ns) after which clients report Unknown.
    pub void_after_coarse_ns: i64,
    /// Bound (ns) on |CLOCK_REALTIME − true time| at `as_of`.
    pub bound_ns: i64,
    /// Growth rate of the bound (ppb).
    pub max_drift_ppb: u32,
    /// Status.
    pub status: Status,
    /// VMClock disruption marker (0 without VMClock).
    pub disruption_marker: u64,
    /// Whether clients should check `/dev/vmclock0`. Must be false on hosts
    /// without VMClock, or clients fail to open.
    pub disruption_support: bool,
}

/// Simultaneous readings of the clocks the conversion needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ClockReadings {
    /// CLOCK_MONOTONIC_RAW (ns), first read.
    pub raw_ns: i64,
    /// CLOCK_REALTIME (ns), read between the two raw reads.
    pub realtime_ns: i64,
    /// CLOCK_MONOTONIC_COARSE (ns).
    pub coarse_ns: i64,
    /// How far apart the raw and realtime readings may be (ns): the span
    /// between the two raw reads.
    pub uncertainty_ns: i64,
    /// Resolution of CLOCK_MONOTONIC_COARSE (ns): the client's elapsed time
    /// since `as_of` may be short by up to this much.
    pub coarse_res_ns: i64,
}

impl ClockReadings {
    /// Read the clocks now.
    pub fn now() -> io::Result<Self> {
        let err = || io::Error::other("clock_gettime failed");
        let raw1 = clock_ns(libc::CLOCK_MONOTONIC_RAW).ok_or_else(err)?;
        let realtime_ns = clock_ns(libc::CLOCK_REALTIME).ok_or_else(err)?;
        let coarse_ns = clock_ns(libc::CLOCK_MONOTONIC_COARSE).ok_or_else(err)?;
        let raw2 = clock_ns(libc::CLOCK_MONOTONIC_RAW).ok_or_else(err)?;
        let res = clock_res_ns(libc::CLOCK_MONOTONIC_COARSE).unwrap_or(10_000_000);
        Ok(Self {
            raw_ns: raw1,
            realtime_ns,
            coarse_ns,
            uncertainty_ns: (raw2 - raw1).max(0),
            coarse_res_ns: res.max(0),
        })
    }
}

impl ClockBoundSnapshot {
    /// Express our snapshot in ClockBound's terms at the instant of
    /// `clocks`: the bound becomes one on CLOCK_REALTIME (our half-width plus
    /// |CLOCK_REALTIME − our midpoint| plus the reading uncertainty), and the
    /// drift grows by `realtime_extra_drift_ppb`, the most CLOCK_REALTIME's
    /// rate may differ from the published clock's until the next update (0
    /// when the daemon disciplines CLOCK_REALTIME to it).
    pub fn from_snapshot(
        s: &Snapshot,
        clocks: &ClockReadings,
        realtime_extra_drift_ppb: u32,
    ) -> Result<Self, ReadError> {
        let rec: Record = s.record();
        let t = evaluate(&rec, clocks.raw_ns, true)?;
        let max_drift_ppb = s
            .max_drift_ppb
            .saturating_add(realtime_extra_drift_ppb)
            .min(999_999_999);
        let bound_ns = match (t.midpoint(), t.half_width()) {
            (Some(mid), Some(half)) => {
                let skew = clocks.realtime_ns.abs_diff(mid).min(MAX_BOUND_NS);
                // Pairing uncertainty, and drift over the coarse clock's lag
                // (up to one tick at as_of and one at the client's read).
                let lag = 2 * clocks.coarse_res_ns.clamp(0, 1 << 32).unsigned_abs();
                let slack = clocks.uncertainty_ns.clamp(0, 1 << 32)
                    + (lag * u64::from(max_drift_ppb)).div_ceil(1_000_000_000) as i64;
                (half + skew as i64 + slack).min(MAX_BOUND_NS as i64)
            }
            _ => MAX_BOUND_NS as i64,
        };
        let remaining = (s.void_after_raw_ns as i64 - clocks.raw_ns).max(0);
        Ok(Self {
            as_of_coarse_ns: clocks.coarse_ns,
            void_after_coarse_ns: clocks.coarse_ns + remaining,
            bound_ns,
            max_drift_ppb,
            status: t.status,
            disruption_marker: 0,
            disruption_support: false,
        })
    }
}

/// The single writer of a ClockBound v2 segment.
pub struct ClockBoundPublisher {
    map: Mapping<CbLayout>,
}

impl ClockBoundPublisher {
    /// Create (or atomically replace) the segment at `path` (ClockBound's
    /// default is `/var/run/clockbound/shm0`), mode 0644. Clients refuse to
    /// open it until the first [`publish`](Self::publish).
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let map = create_mapped::<CbLayout>(path.as_ref(), |l| {
            l.magic[0].store(CB_MAGIC[0], Ordering::Relaxed);
            l.magic[1].store(CB_MAGIC[1], Ordering::Relaxed);
            l.segsize.store(CB_SIZE, Ordering::Relaxed);
            l.version.store(CB_VERSION, Ordering::Release);
        })?;
        Ok(Self { map })
    }

    /// Publish with ClockBound's seqlock (u16 generation, odd while
    /// writing, skipping 0 on wrap).
    pub fn publish(&mut self, s: &ClockBoundSnapshot) {
        let l = self.map.get();
        let g = l.generation.load(Ordering::Relaxed);
        let start = (g | 1).wrapping_add(if g & 1 == 1 { 2 } else { 0 });
        let end = match start.wrapping_add(1) {
            0 => 2,
            e => e,
        };
        l.generation.store(start, Ordering::Relaxed);
        fence(Ordering::Release);
        let split = |ns: i64| (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
        let (a_s, a_ns) = split(s.as_of_coarse_ns);
        let (v_s, v_ns) = split(s.void_after_coarse_ns);
        l.as_of_sec.store(a_s, Ordering::Relaxed);
        l.as_of_nsec.store(a_ns, Ordering::Relaxed);
        l.void_after_sec.store(v_s, Ordering::Relaxed);
        l.void_after_nsec.store(v_ns, Ordering::Relaxed);
        l.bound_nsec.store(s.bound_ns, Ordering::Relaxed);
        l.disruption_marker
            .store(s.disruption_marker, Ordering::Relaxed);
        l.max_drift_ppb.store(s.max_drift_ppb, Ordering::Relaxed);
        l.clock_status.store(s.status as i32, Ordering::Relaxed);
        l.disruption_support
            .store(u8::from(s.disruption_support), Ordering::Relaxed);
        l.generation.store(end, Ordering::Release);
    }

    /// Convert `s` at the current instant and publish it (see
    /// [`ClockBoundSnapshot::from_snapshot`]).
    pub fn publish_snapshot(
        &mut self,
        s: &Snapshot,
        realtime_extra_drift_ppb: u32,
    ) -> Result<ClockBoundSnapshot, ReadError> {
        let clocks = ClockReadings::now()?;
        let cb = ClockBoundSnapshot::from_snapshot(s, &clocks, realtime_extra_drift_ppb)?;
        self.publish(&cb);
        Ok(cb)
    }

    /// The current generation.
    pub fn generation(&self) -> u16 {
        self.map.get().generation.load(Ordering::Relaxed)
    }
}
