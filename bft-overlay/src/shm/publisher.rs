//! The writer side of the published time file.

use core::sync::atomic::{Ordering, fence};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::layout::{Layout, MAGIC, SIZE, VERSION};
use super::sys::{AtomicLayout, Mapping};
use super::{ReadError, Snapshot, current_boot_id};

/// Create `path` atomically: a temporary file in the same directory is sized,
/// mapped and initialised by `init`, set to mode 0644 and renamed over
/// `path`, so a reader sees either the old file or a complete new one.
pub(crate) fn create_mapped<T: AtomicLayout>(
    path: &Path,
    init: impl FnOnce(&T),
) -> io::Result<Mapping<T>> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let result = (|| {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        // The umask may have removed bits; readers expect exactly 0644.
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
        file.set_len(size_of::<T>() as u64)?; // ftruncate: zero-filled
        let map = Mapping::<T>::new(file, true)?;
        init(map.get());
        fs::rename(&tmp, path)?;
        Ok(map)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The single writer of a published time file.
///
/// Only one `Publisher` may write a given file (the daemon holds it); the
/// seqlock protects readers, not concurrent writers. `publish` takes
/// `&mut self`, which rules out concurrent writers within one process.
pub struct Publisher {
    map: Mapping<Layout>,
}

impl Publisher {
    /// Create (or atomically replace) the time file at `path`, mode 0644,
    /// stamped with this boot's id. Until the first [`publish`](Self::publish)
    /// readers get [`ReadError::NotInitialized`].
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let boot = current_boot_id();
        let map = create_mapped::<Layout>(path.as_ref(), |l| {
            l.version.store(VERSION, Ordering::Relaxed);
            l.size.store(SIZE, Ordering::Relaxed);
            let (a, b) = boot.split_at(8);
            l.boot_id[0].store(
                u64::from_ne_bytes(a.try_into().unwrap_or([0; 8])),
                Ordering::Relaxed,
            );
            l.boot_id[1].store(
                u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])),
                Ordering::Relaxed,
            );
            l.magic.store(u64::from_ne_bytes(MAGIC), Ordering::Release);
        })?;
        Ok(Self { map })
    }

    /// Publish a snapshot with the seqlock: the generation goes odd, the
    /// fields are stored, the generation goes even. Rejects a snapshot that
    /// readers would reject (see [`Snapshot::validate`]), leaving the file as
    /// it was.
    pub fn publish(&mut self, s: &Snapshot) -> Result<(), ReadError> {
        s.validate()?;
        let l = self.map.get();
        let g = l.generation.load(Ordering::Relaxed);
        // Keep the generation even at rest and never back to 0 (which means
        // "never published"); a u64 does not wrap in practice.
        let start = (g | 1).wrapping_add(if g & 1 == 1 { 2 } else { 0 });
        let end = start.wrapping_add(1).max(2);
        l.generation.store(start, Ordering::Relaxed);
        // Orders the odd store before every field store below (release fence
        // followed by stores: a reader that sees any new field value and then
        // does its acquire fence also sees the odd generation on its re-check).
        fence(Ordering::Release);
        l.as_of_raw_ns.store(s.as_of_raw_ns, Ordering::Relaxed);
        l.time_at_as_of_ns
            .store(s.time_at_as_of_ns, Ordering::Relaxed);
        l.freq_offset.store(s.freq_offset, Ordering::Relaxed);
        l.bound_ns.store(s.bound_ns, Ordering::Relaxed);
        l.void_after_raw_ns
            .store(s.void_after_raw_ns, Ordering::Relaxed);
        l.max_drift_ppb.store(s.max_drift_ppb, Ordering::Relaxed);
        l.status.store(s.status as u32, Ordering::Relaxed);
        l.tai_offset_s.store(s.tai_offset_s, Ordering::Relaxed);
        // Release: a reader that acquires this even value sees all fields.
        l.generation.store(end, Ordering::Release);
        Ok(())
    }

    /// The current generation (even at rest; 0 before the first publish).
    pub fn generation(&self) -> u64 {
        self.map.get().generation.load(Ordering::Relaxed)
    }

    /// Leave the generation odd, as a writer that died mid-update would.
    /// For tests of readers only.
    #[doc(hidden)]
    pub fn simulate_crash_mid_write(&mut self) {
        let l = self.map.get();
        let g = l.generation.load(Ordering::Relaxed);
        l.generation.store(g | 1, Ordering::Release);
    }

    /// The underlying file (for `fsync` or to inspect its metadata).
    pub fn file(&self) -> &fs::File {
        self.map.file()
    }
}
