//! The published time file, version 1: a 128-byte `#[repr(C)]` record of
//! atomics. Its table of offsets is in `docs/algorithm/publication.md`.
//!
//! Line 0 (bytes 0..64) is the header, written once before the file becomes
//! visible under its final name. Line 1 (bytes 64..128) is the seqlock: the
//! generation and every field the hot read path needs, so a read touches a
//! single cache line.
#![allow(
    unsafe_code,
    reason = "implements the unsafe `AtomicLayout` marker for the record (SAFETY comment at the impl)"
)]

use core::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64};

use super::sys::AtomicLayout;

/// The magic at offset 0: the ASCII bytes `STBFTIME` (stored as a u64 in
/// native order, so the bytes on disk are the ASCII string).
pub const MAGIC: [u8; 8] = *b"STBFTIME";
/// The layout version this crate writes and reads.
pub const VERSION: u32 = 1;
/// The size of the record in bytes (the file is exactly this long).
pub const SIZE: u32 = 128;

/// The raw record. All fields are atomics so that the mapping can be shared
/// with a concurrent writer in another process without data races.
#[repr(C, align(64))]
#[derive(Debug)]
pub(crate) struct Layout {
    // ---- line 0: header, immutable once the file is renamed into place ----
    /// `u64::from_ne_bytes(MAGIC)`.
    pub(crate) magic: AtomicU64,
    /// [`VERSION`].
    pub(crate) version: AtomicU32,
    /// [`SIZE`].
    pub(crate) size: AtomicU32,
    /// The writer's kernel boot id (`/proc/sys/kernel/random/boot_id`), 16
    /// bytes in file order.
    pub(crate) boot_id: [AtomicU64; 2],
    /// Reserved, zero.
    pub(crate) reserved0: [AtomicU64; 4],
    // ---- line 1: the seqlock ----
    /// Seqlock generation: 0 = never published, odd = write in progress.
    pub(crate) generation: AtomicU64,
    /// CLOCK_MONOTONIC_RAW (ns) at which the fields below were true.
    pub(crate) as_of_raw_ns: AtomicU64,
    /// Estimated true time (ns since the Unix epoch, CLOCK_REALTIME/UTC
    /// timescale) at `as_of_raw_ns`: the midpoint of the interval.
    pub(crate) time_at_as_of_ns: AtomicI64,
    /// Fractional frequency of the published clock relative to
    /// CLOCK_MONOTONIC_RAW, scaled by 2^48.
    pub(crate) freq_offset: AtomicI64,
    /// Half-width of the interval at `as_of_raw_ns` (ns).
    pub(crate) bound_ns: AtomicU64,
    /// CLOCK_MONOTONIC_RAW (ns) after which the record must not be trusted.
    pub(crate) void_after_raw_ns: AtomicU64,
    /// Maximum drift of the published clock (ppb): the bound grows by this.
    pub(crate) max_drift_ppb: AtomicU32,
    /// [`Status`](super::Status) as a u32.
    pub(crate) status: AtomicU32,
    /// TAI − UTC in seconds.
    pub(crate) tai_offset_s: AtomicI32,
    /// Reserved, zero.
    pub(crate) reserved1: AtomicU32,
}

// SAFETY: `#[repr(C)]`, atomics only, alignment 64 (< a page).
unsafe impl AtomicLayout for Layout {}

/// Byte offsets of the fields, for the pread reader and the documentation.
pub(crate) mod offset {
    pub(crate) const MAGIC: usize = 0;
    pub(crate) const VERSION: usize = 8;
    pub(crate) const SIZE: usize = 12;
    pub(crate) const BOOT_ID: usize = 16;
    pub(crate) const GENERATION: usize = 64;
    pub(crate) const AS_OF: usize = 72;
    pub(crate) const TIME_AT_AS_OF: usize = 80;
    pub(crate) const FREQ_OFFSET: usize = 88;
    pub(crate) const BOUND: usize = 96;
    pub(crate) const VOID_AFTER: usize = 104;
    pub(crate) const MAX_DRIFT: usize = 112;
    pub(crate) const STATUS: usize = 116;
    pub(crate) const TAI_OFFSET: usize = 120;
}

const _: () = {
    assert!(size_of::<Layout>() == SIZE as usize);
    assert!(core::mem::offset_of!(Layout, magic) == offset::MAGIC);
    assert!(core::mem::offset_of!(Layout, version) == offset::VERSION);
    assert!(core::mem::offset_of!(Layout, size) == offset::SIZE);
    assert!(core::mem::offset_of!(Layout, boot_id) == offset::BOOT_ID);
    assert!(core::mem::offset_of!(Layout, generation) == offset::GENERATION);
    assert!(core::mem::offset_of!(Layout, as_of_raw_ns) == offset::AS_OF);
    assert!(core::mem::offset_of!(Layout, time_at_as_of_ns) == offset::TIME_AT_AS_OF);
    assert!(core::mem::offset_of!(Layout, freq_offset) == offset::FREQ_OFFSET);
    assert!(core::mem::offset_of!(Layout, bound_ns) == offset::BOUND);
    assert!(core::mem::offset_of!(Layout, void_after_raw_ns) == offset::VOID_AFTER);
    assert!(core::mem::offset_of!(Layout, max_drift_ppb) == offset::MAX_DRIFT);
    assert!(core::mem::offset_of!(Layout, status) == offset::STATUS);
    assert!(core::mem::offset_of!(Layout, tai_offset_s) == offset::TAI_OFFSET);
};

/// The seqlock-protected fields as plain values: what one consistent read
/// yields, before validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) as_of_raw_ns: u64,
    pub(crate) time_at_as_of_ns: i64,
    pub(crate) freq_offset: i64,
    pub(crate) bound_ns: u64,
    pub(crate) void_after_raw_ns: u64,
    pub(crate) max_drift_ppb: u32,
    pub(crate) status: u32,
    pub(crate) tai_offset_s: i32,
}

/// Decode the seqlock fields of a byte copy of the record.
pub(crate) fn record_from_bytes(b: &[u8; SIZE as usize]) -> (u64, Record) {
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        u64::from_ne_bytes(a)
    };
    let u32_at = |o: usize| {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[o..o + 4]);
        u32::from_ne_bytes(a)
    };
    (
        u64_at(offset::GENERATION),
        Record {
            as_of_raw_ns: u64_at(offset::AS_OF),
            time_at_as_of_ns: u64_at(offset::TIME_AT_AS_OF) as i64,
            freq_offset: u64_at(offset::FREQ_OFFSET) as i64,
            bound_ns: u64_at(offset::BOUND),
            void_after_raw_ns: u64_at(offset::VOID_AFTER),
            max_drift_ppb: u32_at(offset::MAX_DRIFT),
            status: u32_at(offset::STATUS),
            tai_offset_s: u32_at(offset::TAI_OFFSET) as i32,
        },
    )
}
