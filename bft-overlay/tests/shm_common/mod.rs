//! Helpers shared by the shared-memory tests.
#![allow(dead_code, unreachable_pub, reason = "each test binary uses a subset")]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use bft_overlay::shm::{Snapshot, Status, clock_monotonic_raw_ns, clock_realtime_ns};

/// A fresh, unique directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "bft-shm-{tag}-{}-{n}-{}",
            std::process::id(),
            clock_monotonic_raw_ns().unwrap()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn raw() -> i64 {
    clock_monotonic_raw_ns().unwrap()
}

pub fn realtime() -> i64 {
    clock_realtime_ns().unwrap()
}

/// A snapshot taken now: the published clock is CLOCK_REALTIME, with the
/// given bound and drift, valid for `valid_ns`.
pub fn snapshot_now(bound_ns: u64, max_drift_ppb: u32, valid_ns: u64) -> Snapshot {
    let r = raw();
    Snapshot {
        as_of_raw_ns: r as u64,
        time_at_as_of_ns: realtime(),
        freq_offset: 0,
        bound_ns,
        max_drift_ppb,
        void_after_raw_ns: r as u64 + valid_ns,
        status: Status::Synchronized,
        tai_offset_s: 37,
    }
}
