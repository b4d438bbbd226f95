//! Every example configuration in `config/` at the top of the workspace is
//! valid and warning-free, so CI validates all of them; and the README
//! lists each one.

use std::path::PathBuf;

use statime_linux::config::{ClockKind, Config, Timestamping};

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("config/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_is_valid_without_warnings() {
    let files = examples();
    assert!(files.len() >= 6, "examples missing: {files:?}");
    for path in files {
        let c = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let w = c.warnings();
        assert!(w.is_empty(), "{}: {w:?}", path.display());
        // Every example documents itself.
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with('#'), "{}: no comment", path.display());
    }
}

#[test]
fn the_readme_lists_every_example() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
    for path in examples() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(readme.contains(name), "README.md does not mention {name}");
    }
}

#[test]
fn the_examples_are_what_their_names_say() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let load = |name: &str| Config::load(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));

    let lab = load("lab-virtual-clock.toml");
    assert_eq!(lab.clock_kind(), ClockKind::Virtual);
    assert_eq!(lab.clock.initial_offset.as_nanos(), 1_000_000);
    assert!((lab.clock.frequency_error - 50.0).abs() < 1e-9);
    assert!(lab.slave_only);
    assert!(
        lab.ports
            .iter()
            .all(|p| p.timestamping == Timestamping::Software)
    );

    let observe = load("observe-only.toml");
    assert!(observe.clock.observe_only);

    let bc = load("boundary-clock.toml");
    assert_eq!(bc.ports.len(), 2);
    assert!(!bc.slave_only);

    let gm = load("grandmaster.toml");
    assert!(gm.clock_class < 128 && gm.priority1 < 128);

    let p2p = load("p2p-l2.toml");
    assert_eq!(
        p2p.ports[0].delay_mechanism,
        statime_linux::config::DelayMechanism::P2p
    );

    let slave = load("slave-udp4.toml");
    assert!(slave.slave_only);

    // G.8275.2: a slave-only telecom clock asking two unicast masters.
    let telecom = load("g8275-2.toml");
    assert!(telecom.slave_only);
    assert_eq!(telecom.domain, 44);
    assert_eq!(
        telecom.dataset_comparison,
        statime_linux::config::DatasetComparisonName::Telecom
    );
    let p = &telecom.ports[0];
    assert_eq!(p.transport, statime_linux::config::Transport::UdpIpv4);
    assert_eq!(p.timestamping, Timestamping::Hardware);
    assert_eq!(p.unicast_masters().len(), 2);
    assert_eq!((p.sync_interval, p.delay_interval), (-4, -4));
}

fn man_page() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/man/statime.toml.5.md");
    std::fs::read_to_string(p).expect("man page")
}

#[test]
fn the_man_page_examples_are_valid() {
    let man = man_page();
    let mut blocks = 0;
    let mut rest = man.as_str();
    while let Some(start) = rest.find("```toml\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("closed block");
        let c = Config::from_toml(&body[..end], "statime.toml.5.md")
            .unwrap_or_else(|e| panic!("{e}\n{}", &body[..end]));
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        blocks += 1;
        rest = &body[end..];
    }
    assert!(blocks >= 4, "examples missing from the man page");
}

#[test]
fn the_man_page_documents_every_key() {
    let man = man_page();
    let all = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/config/all-keys.toml"),
    )
    .expect("all-keys.toml");
    let mut keys: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
        .filter(|k| !k.starts_with('#'))
        .collect();
    // Keys all-keys.toml leaves at their default.
    keys.extend([
        "proportional-scale",
        "integral-scale",
        "frequency-wander",
        "white-frequency-noise",
        "timestamp-noise",
        "software-timestamp-noise",
        "delay-weight",
        "delay-window-block",
        "outlier-sigma",
        "outlier-floor",
        "reacquire-after",
        "phase-time-constant",
        "initial-noise",
        "noise-learning-rate",
        "initial-offset",
        "frequency-error",
    ]);
    for k in keys {
        assert!(man.contains(&format!("`{k}`")), "{k} is not documented");
    }
}
