//! Replays the committed inputs of the `shm_reader` and `overlay_guard`
//! fuzz targets (`fuzz/regressions/<target>/`) through the same harnesses
//! and checks, on stable. The harnesses are `fuzz/harness/shm_reader.rs`
//! and `fuzz/harness/overlay_guard.rs`; see `fuzz/README.md`.
#![allow(
    clippy::duplicate_mod,
    reason = "each harness carries its own copy of fuzz/harness/input.rs, as in its fuzz target"
)]

#[path = "../../fuzz/harness/overlay_guard.rs"]
mod overlay_guard;
#[path = "../../fuzz/harness/shm_reader.rs"]
mod shm_reader;

use std::fs;
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    files
}

#[test]
fn overlay_guard_regressions_replay() {
    for path in inputs("overlay_guard") {
        let data = fs::read(&path).expect("read a regression input");
        let stats = overlay_guard::run(&data);
        eprintln!("{}: {stats:?}", path.display());
    }
}

#[test]
fn shm_reader_regressions_replay() {
    for path in inputs("shm_reader") {
        let data = fs::read(&path).expect("read a regression input");
        let stats = shm_reader::run(&data);
        eprintln!("{}: {stats:?}", path.display());
    }
}

/// The crafted inputs still reach what they were made for: a record built
/// around the real clocks reads as bounded (it stays valid for a second),
/// and the same file made world-writable is refused.
#[test]
fn shm_reader_crafted_inputs_reach_their_paths() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/shm_reader");
    let valid = fs::read(dir.join("crafted-valid-record")).expect("read");
    let stats = shm_reader::run(&valid);
    assert!(stats.opened == 2 && stats.bounded > 0, "{stats:?}");
    let insecure = fs::read(dir.join("crafted-world-writable")).expect("read");
    let stats = shm_reader::run(&insecure);
    assert!(stats.opened == 0 && stats.errors == 2, "{stats:?}");
}
