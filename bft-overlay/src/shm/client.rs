//! The reader side: what applications link.

use core::sync::atomic::{Ordering, fence};
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;

use super::layout::{Layout, MAGIC, Record, SIZE, VERSION, offset, record_from_bytes};
use super::sys::{Mapping, clock_ns};
use super::{MAX_RETRIES, ReadError, Snapshot, Status, TimeBound, current_boot_id, evaluate};

/// How a [`Client`] reads the file.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReadMode {
    /// Map the file and read it without a syscall (the fast path). The file
    /// must not be writable by group or others; if its owner truncates it
    /// while mapped, the next read raises SIGBUS.
    #[default]
    Mmap,
    /// Copy the record with `pread` on every read: one syscall more, but a
    /// truncated or replaced file is an error, never a signal.
    Pread,
}

enum Backend {
    Mmap(Mapping<Layout>),
    Pread(File),
}

/// A reader of the published time file.
///
/// `Client` is `Send + Sync`; [`now`](Self::now) takes `&self` and keeps no
/// state, so one client can serve every thread.
pub struct Client {
    backend: Backend,
    boot_ok: bool,
}

impl Client {
    /// Open the file at `path` with [`ReadMode::Mmap`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        Self::open_with(path, ReadMode::Mmap)
    }

    /// Open the file at `path`: check that it is a regular file that only its
    /// owner may write, at least [`SIZE`] bytes long, with the right magic,
    /// version and size, and note whether its boot id is this boot's.
    pub fn open_with(path: impl AsRef<Path>, mode: ReadMode) -> Result<Self, ReadError> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.permissions().mode() & 0o022 != 0 {
            return Err(ReadError::InsecureFile);
        }
        let mut header = [0u8; SIZE as usize];
        read_exact_at(&file, &mut header, 0)?;
        check_header(&header)?;
        let boot_ok = header[offset::BOOT_ID..offset::BOOT_ID + 16] == current_boot_id();
        let backend = match mode {
            ReadMode::Mmap => Backend::Mmap(Mapping::new(file, false)?),
            ReadMode::Pread => Backend::Pread(file),
        };
        Ok(Self { backend, boot_ok })
    }

    /// The interval containing true time now, on the CLOCK_REALTIME (UTC)
    /// timescale, from one CLOCK_MONOTONIC_RAW read.
    ///
    /// Status is Unknown (and the interval unbounded) past `void_after`, when
    /// the file was written during another boot, or when the writer says so.
    #[inline]
    pub fn now(&self) -> Result<TimeBound, ReadError> {
        self.now_with_raw().map(|(_, t)| t)
    }

    /// [`now`](Self::now) on the TAI timescale (using the published TAI − UTC).
    pub fn now_tai(&self) -> Result<TimeBound, ReadError> {
        let raw = raw_now()?;
        let rec = self.record()?;
        Ok(evaluate(&rec, raw, self.boot_ok)?.to_tai(rec.tai_offset_s))
    }

    /// The last published snapshot, read consistently (the seqlock) and
    /// range-checked.
    pub fn snapshot(&self) -> Result<Snapshot, ReadError> {
        let r = self.record()?;
        super::validate(&r)?;
        Ok(Snapshot {
            as_of_raw_ns: r.as_of_raw_ns,
            time_at_as_of_ns: r.time_at_as_of_ns,
            freq_offset: r.freq_offset,
            bound_ns: r.bound_ns,
            max_drift_ppb: r.max_drift_ppb,
            void_after_raw_ns: r.void_after_raw_ns,
            status: Status::from_u32(r.status).ok_or(ReadError::Malformed("status"))?,
            tai_offset_s: r.tai_offset_s,
        })
    }

    /// Whether the file was written during this boot.
    pub fn boot_id_matches(&self) -> bool {
        self.boot_ok
    }

    #[inline(always)]
    fn now_with_raw(&self) -> Result<(i64, TimeBound), ReadError> {
        let raw = raw_now()?;
        let rec = self.record()?;
        Ok((raw, evaluate(&rec, raw, self.boot_ok)?))
    }

    #[inline(always)]
    fn record(&self) -> Result<Record, ReadError> {
        match &self.backend {
            Backend::Mmap(map) => read_mapped(map.get()),
            Backend::Pread(file) => read_copied(file),
        }
    }
}

#[inline(always)]
fn raw_now() -> Result<i64, ReadError> {
    clock_ns(libc::CLOCK_MONOTONIC_RAW).ok_or(ReadError::Clock)
}

/// The seqlock read over the mapping. Sound because every access is atomic
/// (no data race exists to be undefined); the acquire load of the generation
/// orders the field loads after it, and the acquire fence orders them before
/// the re-check, so equal even generations mean no write overlapped.
#[inline(always)]
fn read_mapped(l: &Layout) -> Result<Record, ReadError> {
    for _ in 0..MAX_RETRIES {
        let g1 = l.generation.load(Ordering::Acquire);
        if g1 & 1 == 0 {
            let rec = Record {
                as_of_raw_ns: l.as_of_raw_ns.load(Ordering::Relaxed),
                time_at_as_of_ns: l.time_at_as_of_ns.load(Ordering::Relaxed),
                freq_offset: l.freq_offset.load(Ordering::Relaxed),
                bound_ns: l.bound_ns.load(Ordering::Relaxed),
                void_after_raw_ns: l.void_after_raw_ns.load(Ordering::Relaxed),
                max_drift_ppb: l.max_drift_ppb.load(Ordering::Relaxed),
                status: l.status.load(Ordering::Relaxed),
                tai_offset_s: l.tai_offset_s.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            let g2 = l.generation.load(Ordering::Relaxed);
            if g1 == g2 {
                if g1 == 0 {
                    return Err(ReadError::NotInitialized);
                }
                return Ok(rec);
            }
        }
        core::hint::spin_loop();
    }
    Err(ReadError::Busy)
}

/// The seqlock read over `pread` copies: copy the record, then re-read the
/// generation; equal even values mean no write overlapped the copy (the
/// kernel's copy reads in address order on x86-64; see publication.md).
fn read_copied(file: &File) -> Result<Record, ReadError> {
    let mut buf = [0u8; SIZE as usize];
    for _ in 0..MAX_RETRIES {
        read_exact_at(file, &mut buf, 0)?;
        if buf[offset::MAGIC..offset::MAGIC + 8] != MAGIC {
            return Err(ReadError::BadMagic);
        }
        let (g1, rec) = record_from_bytes(&buf);
        if g1 & 1 == 0 {
            let mut g = [0u8; 8];
            read_exact_at(file, &mut g, offset::GENERATION as u64)?;
            if u64::from_ne_bytes(g) == g1 {
                if g1 == 0 {
                    return Err(ReadError::NotInitialized);
                }
                return Ok(rec);
            }
        }
        core::hint::spin_loop();
    }
    Err(ReadError::Busy)
}

fn read_exact_at(file: &File, buf: &mut [u8], off: u64) -> Result<(), ReadError> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => {
                return Err(ReadError::Truncated {
                    len: off + done as u64,
                });
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn check_header(h: &[u8; SIZE as usize]) -> Result<(), ReadError> {
    if h[offset::MAGIC..offset::MAGIC + 8] != MAGIC {
        return Err(ReadError::BadMagic);
    }
    let u32_at = |o: usize| u32::from_ne_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
    let version = u32_at(offset::VERSION);
    if version != VERSION {
        return Err(ReadError::UnsupportedVersion(version));
    }
    let size = u32_at(offset::SIZE);
    if size != SIZE {
        return Err(ReadError::BadSize(size));
    }
    Ok(())
}

/// A monotonic estimate of true time whose rate, relative to
/// CLOCK_MONOTONIC_RAW, stays within `1 ± max_slew_ppb / 10^9` (byztime's
/// `slew` idea): it steers toward the midpoint of [`Client::now`] but never
/// jumps and never runs backwards. The estimate may lie outside
/// `[earliest, latest]` while it catches up after the interval moved.
#[derive(Clone, Debug)]
pub struct MonotonicEstimator {
    max_slew_ppb: u32,
    last: Option<(i64, i64)>,
}

impl MonotonicEstimator {
    /// Largest accepted slew (50 %), which keeps the estimate increasing.
    pub const MAX_SLEW_PPB: u32 = 500_000_000;

    /// An estimator whose rate stays within `1 ± max_slew_ppb / 10^9`
    /// (clamped to [`Self::MAX_SLEW_PPB`]).
    pub fn new(max_slew_ppb: u32) -> Self {
        Self {
            max_slew_ppb: max_slew_ppb.min(Self::MAX_SLEW_PPB),
            last: None,
        }
    }

    /// The next estimate (ns since the epoch, UTC timescale) with the interval
    /// it was steered toward. The estimate is `None` until the first bounded
    /// read; after that an unbounded read advances it at rate 1.
    pub fn now(&mut self, client: &Client) -> Result<(Option<i64>, TimeBound), ReadError> {
        let (raw, bound) = client.now_with_raw()?;
        let est = self.step(raw, bound.midpoint());
        Ok((est, bound))
    }

    /// One step of the estimator at raw time `raw` toward `target`.
    pub fn step(&mut self, raw: i64, target: Option<i64>) -> Option<i64> {
        let est = match (self.last, target) {
            (None, None) => return None,
            (None, Some(t)) => t,
            (Some((r0, e0)), target) => {
                let dt = i128::from(raw.saturating_sub(r0).max(0));
                let slew = dt * i128::from(self.max_slew_ppb) / 1_000_000_000;
                let free = i128::from(e0) + dt;
                let t = target.map_or(free, i128::from);
                let est = t.clamp(free - slew, free + slew).max(i128::from(e0));
                i64::try_from(est).unwrap_or(i64::MAX)
            }
        };
        self.last = Some((raw, est));
        Some(est)
    }
}
