//! Replays the committed inputs of the `port_sequence` fuzz target
//! (`fuzz/regressions/port_sequence/`) through the same harness and
//! checks, on stable: a handful of inputs that reach deep paths (a slave
//! measuring over E2E and P2P, a master answering requests, hostile and
//! mutated messages), kept so that CI notices when a change breaks what
//! the fuzzer once explored. The harness is `fuzz/harness/port_sequence.rs`;
//! see `fuzz/README.md`.

#[path = "../../fuzz/harness/port_sequence.rs"]
mod port_sequence;

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
    files
}

#[test]
fn port_sequence_regressions_replay() {
    let files = inputs("port_sequence");
    assert!(!files.is_empty(), "no regression inputs");
    for path in files {
        let data = fs::read(&path).expect("read a regression input");
        let stats = port_sequence::run(&data);
        eprintln!("{}: {stats:?}", path.display());
    }
}

/// The inputs kept for the paths they reach still reach them: if one stops
/// doing so, the harness (or the core) changed and the regression inputs
/// need a look.
#[test]
fn port_sequence_inputs_still_reach_their_paths() {
    const MASTER: u16 = 1 << 6;
    const PASSIVE: u16 = 1 << 7;
    const UNCALIBRATED: u16 = 1 << 8;
    const SLAVE: u16 = 1 << 9;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/port_sequence");
    for (name, state, measures) in [
        ("seed-e2e-slave", SLAVE, true),
        ("seed-p2p-slave", UNCALIBRATED, true),
        ("corpus-e2e-slave-exchanges", SLAVE, true),
        ("corpus-master-sends", MASTER, false),
        ("corpus-passive", PASSIVE, false),
    ] {
        let data = fs::read(dir.join(name)).expect("read a regression input");
        let stats = port_sequence::run(&data);
        assert!(
            stats.states & state != 0 && (!measures || stats.measurements > 0),
            "{name}: {stats:?}"
        );
    }
}
