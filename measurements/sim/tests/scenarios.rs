//! The scenario format: errors name the file and the key; every scenario
//! shipped in `measurements/scenarios/` validates.

use std::path::Path;

use statime_sim::scenario::Scenario;

fn err(text: &str) -> String {
    Scenario::parse(text, Path::new("bad.toml"), "bad")
        .unwrap_err()
        .to_string()
}

const MINIMAL: &str = r#"
duration-s = 10
[[node]]
id = "a"
"#;

#[test]
fn minimal_parses_with_defaults() {
    let s = Scenario::parse(MINIMAL, Path::new("x.toml"), "x").unwrap();
    assert_eq!(s.name, "x");
    assert_eq!(s.seeds, vec![1]);
    assert_eq!(s.nodes[0].priority1, 128);
    assert_eq!(s.nodes[0].port.log_announce_interval, 1);
}

#[test]
fn unknown_key_is_named() {
    let e = err(&format!("{MINIMAL}prioritee1 = 3\n"));
    assert!(e.starts_with("bad.toml: "), "{e}");
    assert!(e.contains("prioritee1"), "{e}");
    let e = err("duration-s = 10\n[[node]]\nid = \"a\"\nclock = { frequency-pm = 1 }\n");
    assert!(e.contains("frequency-pm"), "{e}");
}

#[test]
fn wrong_type_is_named() {
    let e = err("duration-s = \"long\"\n[[node]]\nid = \"a\"\n");
    assert!(e.contains("duration-s"), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn missing_required_key_is_named() {
    let e = err("[[node]]\nid = \"a\"\n");
    assert!(e.contains("duration-s"), "{e}");
}

#[test]
fn semantic_errors_name_the_key() {
    let e = err("duration-s = 10\nreset-s = 20\n[[node]]\nid = \"a\"\n");
    assert!(e.contains("reset-s"), "{e}");
    let e = err(
        "duration-s = 10\n[[node]]\nid = \"a\"\n[[node]]\nid = \"b\"\nclock = { wander-ppb = -1 }\n",
    );
    assert!(e.contains("node[1] (b).clock.wander-ppb"), "{e}");
    let e = err(&format!("{MINIMAL}[[link]]\nendpoints = [\"a\", \"zz\"]\n"));
    assert!(
        e.contains("link[0] (link0).endpoints") && e.contains("zz"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}[[node]]\nid = \"b\"\n[[link]]\nendpoints = [\"a\", \"b\"]\ndelay = {{ jitter = {{ kind = \"uniform\", min-ns = 5, max-ns = 1 }} }}\n"
    ));
    assert!(e.contains("delay.jitter") && e.contains("max-ns"), "{e}");
    let e = err(&format!(
        "{MINIMAL}[[event]]\nat-s = 1\nnode = \"q\"\naction = \"stop\"\n"
    ));
    assert!(e.contains("event[0].node"), "{e}");
    let e = err(&format!("{MINIMAL}[[node]]\nid = \"a\"\n"));
    assert!(e.contains("duplicate"), "{e}");
}

#[test]
fn unknown_distribution_is_rejected() {
    let e = err(&format!(
        "{MINIMAL}[[node]]\nid = \"b\"\n[[link]]\nendpoints = [\"a\", \"b\"]\ndelay = {{ jitter = {{ kind = \"pareto\", mean-ns = 5 }} }}\n"
    ));
    assert!(e.contains("pareto"), "{e}");
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            Scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 9, "only {n} scenarios in {}", dir.display());
}
