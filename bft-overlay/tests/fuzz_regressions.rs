//! Replays the committed inputs of the `shm_reader`, `overlay_guard` and
//! `peer_message` fuzz targets (`fuzz/regressions/<target>/`) through the
//! same harnesses and checks, on stable. The harnesses are
//! `fuzz/harness/shm_reader.rs`, `fuzz/harness/overlay_guard.rs` and
//! `fuzz/harness/peer_message.rs`; see `fuzz/README.md`.
#![allow(
    clippy::duplicate_mod,
    reason = "each harness carries its own copy of fuzz/harness/input.rs, as in its fuzz target"
)]

#[path = "../../fuzz/harness/overlay_guard.rs"]
mod overlay_guard;
#[path = "../../fuzz/harness/peer_message.rs"]
mod peer_message;
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

#[test]
fn peer_message_regressions_replay() {
    for path in inputs("peer_message") {
        let data = fs::read(&path).expect("read a regression input");
        let stats = peer_message::run(&data);
        eprintln!("{}: {stats:?}", path.display());
    }
}

/// The hand-built inputs (`fuzz/regressions/make_peer_message_seeds.py`)
/// still reach what they were made for: exchanges with samples, two-step
/// refinements and follow-ups, HLCs rejected, replays; every drop reason
/// between the hostile and the one-step seed; a mutation signed again
/// that gets through the MAC. And the corpus entries kept from the first
/// run still reach theirs.
#[test]
fn peer_message_seeds_reach_their_paths() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/peer_message");
    let run = |name: &str| {
        let data = fs::read(dir.join(name)).expect("read a regression input");
        peer_message::run(&data)
    };
    let two_step = run("seed-exchanges-two-step");
    assert!(
        two_step.samples > 0
            && two_step.refined > 0
            && two_step.follow_ups > 0
            && two_step.hlc_rejected > 0
            && two_step.replays > 0
            && two_step.unmatched > 0,
        "{two_step:?}"
    );
    let one_step = run("seed-exchanges-one-step");
    assert!(
        one_step.samples > 0 && one_step.answered > 0,
        "{one_step:?}"
    );
    let hostile = run("seed-hostile");
    let all = (1u16 << 13) - 1;
    assert_eq!(
        hostile.reasons | one_step.reasons,
        all,
        "{hostile:?} {one_step:?}"
    );
    // The request mutated and signed again is answered, like the valid one.
    assert_eq!(hostile.answered, 2, "{hostile:?}");
    let rotation = run("seed-key-rotation");
    assert!(
        rotation.samples > 0 && rotation.answered >= 3,
        "{rotation:?}"
    );
    // Corpus entries of the first run: a refined sample and a lost
    // request; a sample whose HLC was rejected (the time content is still
    // used); a negative round trip; a run of replays and unmatched
    // responses; many drop reasons in one input.
    let s = run("corpus-refined-and-lost");
    assert!(s.refined > 0 && s.follow_ups > 0 && s.lost > 0, "{s:?}");
    let s = run("corpus-hlc-rejected-sample");
    assert!(s.hlc_rejected > 0 && s.samples > 0, "{s:?}");
    let s = run("corpus-negative-delay");
    assert!(s.reasons & (1 << 11) != 0 && s.samples > 0, "{s:?}");
    let s = run("corpus-replays-unmatched");
    assert!(s.replays > 8 && s.unmatched > 1, "{s:?}");
    let s = run("corpus-many-drops");
    assert!(s.reasons.count_ones() >= 9, "{s:?}");
}
