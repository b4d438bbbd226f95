//! Publication of error-bounded time to applications through shared memory.
//!
//! The daemon owns a [`Publisher`]; applications open a [`Client`] and call
//! [`Client::now`], which returns `{earliest, latest, status}` on the
//! CLOCK_REALTIME (UTC, POSIX) timescale from one CLOCK_MONOTONIC_RAW read and
//! a lock-free seqlock read of a 128-byte file. For existing ClockBound
//! applications, [`ClockBoundPublisher`] writes ClockBound's v2 `shm0` layout.
//!
//! # The record
//!
//! The writer publishes, for an instant `as_of` on CLOCK_MONOTONIC_RAW: the
//! estimated true time at `as_of` (the midpoint), the frequency of the
//! published clock relative to CLOCK_MONOTONIC_RAW, the half-width `bound`,
//! the maximum drift, a status and `void_after`. A reader at raw instant `r`
//! computes, with `e = r − as_of`:
//!
//! ```text
//! mid  = time_at_as_of + e + e·freq_offset/2^48
//! half = bound + ceil(|e|·max_drift_ppb / 10^9)
//! [earliest, latest] = [mid − half, mid + half]
//! ```
//!
//! # Hostile files
//!
//! Every value is range-checked before use ([`ReadError::Malformed`]), the
//! seqlock is retried a bounded number of times ([`ReadError::Busy`]), the
//! header is checked at open (magic, version, size, permissions, length), so
//! a corrupt or malicious file yields an error, never a panic or a hang.
//! A mapped file that its owner truncates later would raise SIGBUS on the
//! next load; [`ReadMode::Mmap`] therefore refuses files that anyone but the
//! owner may write, and [`ReadMode::Pread`] (one `pread` per read, no
//! mapping) is offered for readers that must not trust even the owner.
//! The full policy is in `docs/algorithm/publication.md`.

mod client;
mod clockbound;
mod layout;
mod publisher;
mod sys;

pub use client::{Client, MonotonicEstimator, ReadMode};
pub use clockbound::{ClockBoundPublisher, ClockBoundSnapshot, ClockReadings};
pub use layout::{MAGIC, SIZE, VERSION};
pub use publisher::Publisher;

use core::fmt;
use std::io;

use layout::Record;

/// Largest accepted `max_drift_ppb` (1000 ppm).
pub const MAX_DRIFT_PPB: u32 = 1_000_000;
/// Largest accepted |frequency offset| (1000 ppm, in 2^-48 units).
pub const MAX_FREQ_OFFSET: i64 = (1 << 48) / 1000;
/// Largest accepted bound at `as_of` (2^50 ns, about 13 days).
pub const MAX_BOUND_NS: u64 = 1 << 50;
/// Largest accepted `void_after − as_of` (2^44 ns, about 4.9 hours).
pub const MAX_VALIDITY_NS: u64 = 1 << 44;
/// Largest accepted time or raw-clock value (2^62 ns, year 2116).
pub const MAX_TIMESTAMP_NS: u64 = 1 << 62;
/// How far before `as_of` a reader's clock read may be (2^30 ns ≈ 1.07 s;
/// it happens when the writer publishes between the reader's clock read and
/// its seqlock read).
pub const BACKWARD_TOLERANCE_NS: i64 = 1 << 30;
/// Seqlock attempts before a read gives up with [`ReadError::Busy`].
pub const MAX_RETRIES: u32 = 1024;

/// Scale of [`Snapshot::freq_offset`]: 1.0 is `1 << 48`.
pub const FREQ_ONE: i64 = 1 << 48;

/// Convert a frequency offset in ppb to the 2^-48 fixed-point of
/// [`Snapshot::freq_offset`] (rounded toward zero).
pub const fn freq_from_ppb(ppb: i64) -> i64 {
    ((ppb as i128 * FREQ_ONE as i128) / 1_000_000_000) as i64
}

/// The synchronisation status, numbered as in ClockBound.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u32)]
pub enum Status {
    /// No guarantee: the interval is unbounded.
    Unknown = 0,
    /// Synchronised to a quorum of sources.
    Synchronized = 1,
    /// Holding over: the bound grows with the maximum drift.
    FreeRunning = 2,
    /// The clock was disrupted (for example a VM migration): no guarantee.
    Disrupted = 3,
}

impl Status {
    /// Decode a published value.
    pub const fn from_u32(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Unknown),
            1 => Some(Self::Synchronized),
            2 => Some(Self::FreeRunning),
            3 => Some(Self::Disrupted),
            _ => None,
        }
    }

    /// Whether the interval of this status carries a guarantee.
    pub const fn is_bounded(self) -> bool {
        matches!(self, Self::Synchronized | Self::FreeRunning)
    }
}

/// What the daemon publishes: the state of the published clock at one
/// instant `as_of_raw_ns` of CLOCK_MONOTONIC_RAW.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Snapshot {
    /// CLOCK_MONOTONIC_RAW (ns) at which the fields hold.
    pub as_of_raw_ns: u64,
    /// Estimated true time at `as_of_raw_ns`, ns since the Unix epoch on the
    /// CLOCK_REALTIME (UTC) timescale: the midpoint of the interval.
    pub time_at_as_of_ns: i64,
    /// Rate of the published clock relative to CLOCK_MONOTONIC_RAW, as a
    /// fractional frequency offset scaled by 2^48 (see [`freq_from_ppb`]).
    pub freq_offset: i64,
    /// Half-width of the interval at `as_of_raw_ns` (ns).
    pub bound_ns: u64,
    /// Maximum drift (ppb) of the published clock since `as_of_raw_ns`.
    pub max_drift_ppb: u32,
    /// CLOCK_MONOTONIC_RAW (ns) after which readers report Unknown.
    pub void_after_raw_ns: u64,
    /// Status.
    pub status: Status,
    /// TAI − UTC (s), used by [`TimeBound::to_tai`].
    pub tai_offset_s: i32,
}

impl Snapshot {
    /// Check that readers will accept this snapshot (every range check the
    /// reader applies).
    pub fn validate(&self) -> Result<(), ReadError> {
        validate(&self.record())
    }

    pub(crate) fn record(&self) -> Record {
        Record {
            as_of_raw_ns: self.as_of_raw_ns,
            time_at_as_of_ns: self.time_at_as_of_ns,
            freq_offset: self.freq_offset,
            bound_ns: self.bound_ns,
            void_after_raw_ns: self.void_after_raw_ns,
            max_drift_ppb: self.max_drift_ppb,
            status: self.status as u32,
            tai_offset_s: self.tai_offset_s,
        }
    }
}

/// An interval that contains true time (when `status` is bounded), in ns
/// since the Unix epoch on the CLOCK_REALTIME (UTC) timescale.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimeBound {
    /// Lower bound (ns since the epoch). `i64::MIN` when not bounded.
    pub earliest: i64,
    /// Upper bound (ns since the epoch). `i64::MAX` when not bounded.
    pub latest: i64,
    /// Status; only Synchronized and FreeRunning carry a guarantee.
    pub status: Status,
}

impl TimeBound {
    /// The interval that says nothing.
    pub const fn unbounded(status: Status) -> Self {
        Self {
            earliest: i64::MIN,
            latest: i64::MAX,
            status,
        }
    }

    /// The midpoint (the best estimate), or `None` when unbounded.
    pub const fn midpoint(&self) -> Option<i64> {
        if self.status.is_bounded() {
            Some(self.earliest + (self.latest - self.earliest) / 2)
        } else {
            None
        }
    }

    /// Half the width, or `None` when unbounded.
    pub const fn half_width(&self) -> Option<i64> {
        if self.status.is_bounded() {
            Some((self.latest - self.earliest) / 2)
        } else {
            None
        }
    }

    /// The same interval on the TAI timescale, given TAI − UTC in seconds.
    pub const fn to_tai(self, tai_offset_s: i32) -> Self {
        if !self.status.is_bounded() {
            return self;
        }
        let d = tai_offset_s as i64 * 1_000_000_000;
        Self {
            earliest: self.earliest.saturating_add(d),
            latest: self.latest.saturating_add(d),
            status: self.status,
        }
    }
}

/// Why a read failed. A reader never panics or blocks on a bad file: every
/// failure is one of these.
#[derive(Debug)]
pub enum ReadError {
    /// Opening, stat-ing, mapping or reading the file failed.
    Io(io::Error),
    /// The file is shorter than the record.
    Truncated {
        /// The length found.
        len: u64,
    },
    /// The magic is not [`MAGIC`].
    BadMagic,
    /// The version is not [`VERSION`].
    UnsupportedVersion(u32),
    /// The header's size field is not [`SIZE`].
    BadSize(u32),
    /// Group or others may write the file, or it is not a regular file.
    InsecureFile,
    /// The writer never published (generation 0).
    NotInitialized,
    /// The generation stayed odd or kept changing for [`MAX_RETRIES`] tries.
    Busy,
    /// A field is out of its accepted range (the name says which).
    Malformed(&'static str),
    /// The reader's clock is more than [`BACKWARD_TOLERANCE_NS`] before `as_of`.
    Causality,
    /// `clock_gettime` failed.
    Clock,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "time file I/O error: {e}"),
            Self::Truncated { len } => write!(f, "time file truncated ({len} bytes)"),
            Self::BadMagic => f.write_str("time file has a wrong magic"),
            Self::UnsupportedVersion(v) => write!(f, "time file version {v} not supported"),
            Self::BadSize(s) => write!(f, "time file declares size {s}"),
            Self::InsecureFile => f.write_str("time file is writable by others or not a file"),
            Self::NotInitialized => f.write_str("time file never published"),
            Self::Busy => f.write_str("time file write in progress for too long"),
            Self::Malformed(field) => write!(f, "time file field {field} out of range"),
            Self::Causality => f.write_str("time file as_of lies in the reader's future"),
            Self::Clock => f.write_str("clock_gettime failed"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Range-check a record (shared by the writer and both readers).
#[inline(always)]
pub(crate) fn validate(r: &Record) -> Result<(), ReadError> {
    if r.as_of_raw_ns > MAX_TIMESTAMP_NS {
        return Err(ReadError::Malformed("as_of"));
    }
    if r.void_after_raw_ns < r.as_of_raw_ns
        || r.void_after_raw_ns - r.as_of_raw_ns > MAX_VALIDITY_NS
    {
        return Err(ReadError::Malformed("void_after"));
    }
    if r.time_at_as_of_ns < 0 || r.time_at_as_of_ns as u64 > MAX_TIMESTAMP_NS {
        return Err(ReadError::Malformed("time_at_as_of"));
    }
    if r.freq_offset.unsigned_abs() > MAX_FREQ_OFFSET as u64 {
        return Err(ReadError::Malformed("freq_offset"));
    }
    if r.bound_ns > MAX_BOUND_NS {
        return Err(ReadError::Malformed("bound"));
    }
    if r.max_drift_ppb > MAX_DRIFT_PPB {
        return Err(ReadError::Malformed("max_drift"));
    }
    if Status::from_u32(r.status).is_none() {
        return Err(ReadError::Malformed("status"));
    }
    if r.tai_offset_s.unsigned_abs() > 3600 {
        return Err(ReadError::Malformed("tai_offset"));
    }
    Ok(())
}

/// Turn a consistent record and the reader's CLOCK_MONOTONIC_RAW reading into
/// an interval. `boot_ok` is whether the file's boot id is the current one.
#[inline(always)]
pub(crate) fn evaluate(r: &Record, raw_now: i64, boot_ok: bool) -> Result<TimeBound, ReadError> {
    validate(r)?;
    // Both are <= 2^62 now, so the conversions and the subtraction are exact.
    let as_of = r.as_of_raw_ns as i64;
    let elapsed = raw_now - as_of;
    if !boot_ok {
        return Ok(TimeBound::unbounded(Status::Unknown));
    }
    if raw_now >= r.void_after_raw_ns as i64 {
        return Ok(TimeBound::unbounded(Status::Unknown));
    }
    if elapsed < -BACKWARD_TOLERANCE_NS {
        return Err(ReadError::Causality);
    }
    let status = match Status::from_u32(r.status) {
        Some(s) if s.is_bounded() => s,
        Some(s) => return Ok(TimeBound::unbounded(s)),
        None => return Err(ReadError::Malformed("status")),
    };
    // |elapsed| <= 2^44 (void_after check above, and the backward tolerance),
    // max_drift <= 2^20: the product fits in a u64. freq_offset <= 2^39: the
    // i128 product is exact and its shifted value is below 2^35.
    let abs = elapsed.unsigned_abs();
    let growth = (abs * u64::from(r.max_drift_ppb)).div_ceil(1_000_000_000);
    let correction = ((i128::from(elapsed) * i128::from(r.freq_offset)) >> 48) as i64;
    let mid = r.time_at_as_of_ns + elapsed + correction;
    // bound <= 2^50, growth <= 2^44: no overflow; mid is within ±2^63/2.
    let half = (r.bound_ns + growth) as i64;
    Ok(TimeBound {
        earliest: mid - half,
        latest: mid + half,
        status,
    })
}

/// CLOCK_MONOTONIC_RAW in ns (the clock of `as_of` and `void_after`).
pub fn clock_monotonic_raw_ns() -> Option<i64> {
    sys::clock_ns(libc::CLOCK_MONOTONIC_RAW)
}

/// CLOCK_REALTIME in ns since the Unix epoch.
pub fn clock_realtime_ns() -> Option<i64> {
    sys::clock_ns(libc::CLOCK_REALTIME)
}

/// This boot's id, from `/proc/sys/kernel/random/boot_id` (all zero if it
/// cannot be read).
pub fn current_boot_id() -> [u8; 16] {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .and_then(|s| parse_boot_id(s.trim()))
        .unwrap_or([0; 16])
}

fn parse_boot_id(s: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let s = core::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> Record {
        Snapshot {
            as_of_raw_ns: 1_000_000_000_000,
            time_at_as_of_ns: 1_800_000_000_000_000_000,
            freq_offset: 0,
            bound_ns: 1_000,
            max_drift_ppb: 50_000,
            void_after_raw_ns: 1_010_000_000_000,
            status: Status::Synchronized,
            tai_offset_s: 37,
        }
        .record()
    }

    #[test]
    fn bound_grows_with_drift_both_ways() {
        let r = rec();
        let t0 = evaluate(&r, 1_000_000_000_000, true).unwrap();
        assert_eq!(t0.half_width(), Some(1_000));
        assert_eq!(t0.midpoint(), Some(1_800_000_000_000_000_000));
        // 2 s later at 50 ppm: +100 us.
        let t2 = evaluate(&r, 1_002_000_000_000, true).unwrap();
        assert_eq!(t2.half_width(), Some(1_000 + 100_000));
        assert_eq!(t2.midpoint(), Some(1_800_000_002_000_000_000));
        // 1 ms before as_of: extrapolating backwards also grows.
        let tb = evaluate(&r, 999_999_000_000, true).unwrap();
        assert_eq!(tb.half_width(), Some(1_000 + 50));
        // Growth rounds up.
        let t1 = evaluate(&r, 1_000_000_000_001, true).unwrap();
        assert_eq!(t1.half_width(), Some(1_001));
    }

    #[test]
    fn frequency_offset_is_applied() {
        let mut r = rec();
        r.freq_offset = freq_from_ppb(1_000); // +1 ppm
        let t = evaluate(&r, 1_001_000_000_000, true).unwrap();
        // 1 s elapsed at +1 ppm: 1 us more (within the fixed-point rounding).
        let mid = t.midpoint().unwrap() - 1_800_000_001_000_000_000;
        assert!((999..=1_000).contains(&mid), "{mid}");
    }

    #[test]
    fn void_after_boot_and_status_give_unknown() {
        let r = rec();
        assert_eq!(
            evaluate(&r, 1_010_000_000_000, true).unwrap(),
            TimeBound::unbounded(Status::Unknown)
        );
        assert_eq!(
            evaluate(&r, 1_000_000_000_000, false).unwrap(),
            TimeBound::unbounded(Status::Unknown)
        );
        let mut d = r;
        d.status = Status::Disrupted as u32;
        assert_eq!(
            evaluate(&d, 1_000_000_000_000, true).unwrap().status,
            Status::Disrupted
        );
        let mut f = r;
        f.status = Status::FreeRunning as u32;
        let t = evaluate(&f, 1_000_000_000_000, true).unwrap();
        assert_eq!(
            (t.status, t.half_width()),
            (Status::FreeRunning, Some(1_000))
        );
    }

    #[test]
    fn absurd_values_are_errors() {
        type Corrupt = fn(&mut Record);
        let cases: [(&str, Corrupt); 9] = [
            ("as_of", |r| r.as_of_raw_ns = u64::MAX),
            ("void_after", |r| r.void_after_raw_ns = 0),
            ("void_after", |r| r.void_after_raw_ns = u64::MAX),
            ("time_at_as_of", |r| r.time_at_as_of_ns = -1),
            ("freq_offset", |r| r.freq_offset = i64::MIN),
            ("bound", |r| r.bound_ns = u64::MAX),
            ("max_drift", |r| r.max_drift_ppb = u32::MAX),
            ("status", |r| r.status = 4),
            ("tai_offset", |r| r.tai_offset_s = i32::MIN),
        ];
        for (name, corrupt) in cases {
            let mut r = rec();
            corrupt(&mut r);
            match evaluate(&r, 1_000_000_000_000, true) {
                Err(ReadError::Malformed(f)) => assert_eq!(f, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        // A reader clock far before as_of.
        assert!(matches!(
            evaluate(&rec(), 1, true),
            Err(ReadError::Causality)
        ));
    }

    #[test]
    fn extremes_do_not_overflow() {
        let r = Snapshot {
            as_of_raw_ns: MAX_TIMESTAMP_NS - MAX_VALIDITY_NS,
            time_at_as_of_ns: MAX_TIMESTAMP_NS as i64,
            freq_offset: -MAX_FREQ_OFFSET,
            bound_ns: MAX_BOUND_NS,
            max_drift_ppb: MAX_DRIFT_PPB,
            void_after_raw_ns: MAX_TIMESTAMP_NS,
            status: Status::FreeRunning,
            tai_offset_s: 0,
        }
        .record();
        let t = evaluate(&r, MAX_TIMESTAMP_NS as i64 - 1, true).unwrap();
        assert!(t.earliest < t.latest);
        let t = evaluate(&r, r.as_of_raw_ns as i64 - BACKWARD_TOLERANCE_NS, true).unwrap();
        assert!(t.earliest < t.latest);
    }

    #[test]
    fn boot_id_parses() {
        assert_eq!(
            parse_boot_id("01234567-89ab-cdef-0123-456789abcdef"),
            Some([
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                0xcd, 0xef
            ])
        );
        assert_eq!(parse_boot_id("xyz"), None);
    }
}
