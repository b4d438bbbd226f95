//! Whole runs of the real core: determinism, convergence of a master-slave
//! pair with both servos and both delay mechanisms, a boundary-clock chain,
//! and a BMCA election where the grandmaster leaves and rejoins.
//!
//! Durations are short so that the tests stay fast in debug builds; the
//! bounds are invariants (a generous convergence bound), not performance
//! figures.

use std::path::Path;

use statime_sim::run_one;
use statime_sim::scenario::{Scenario, ServoKind};

fn master_slave(mechanism: &str, stamping: &str, duration: u32) -> Scenario {
    let text = format!(
        r#"
duration-s = {duration}
reset-s = 30
[[node]]
id = "master"
priority1 = 1
measure = false
timestamping = {{ kind = "{stamping}" }}
port = {{ delay-mechanism = "{mechanism}" }}
[[node]]
id = "slave"
start-s = 9
clock = {{ frequency-ppm = 100, wander-ppb = 1, initial-offset-ns = 1e8 }}
timestamping = {{ kind = "{stamping}" }}
port = {{ delay-mechanism = "{mechanism}" }}
[[link]]
endpoints = ["master", "slave"]
delay = {{ base-ns = 100, jitter = {{ kind = "exponential", mean-ns = 100 }} }}
"#
    );
    Scenario::parse(&text, Path::new("test.toml"), "ms").unwrap()
}

fn final_abs_offset(sc: &Scenario, servo: ServoKind, seed: u64) -> f64 {
    let r = run_one(sc, seed, Some(servo)).unwrap();
    let slave = r.nodes.iter().find(|n| n.id == "slave").unwrap();
    let last = slave.series.last().unwrap();
    assert!(last.t_s >= 59.0);
    last.offset_ns.abs()
}

#[test]
fn same_seed_same_numbers() {
    let sc = master_slave("E2E", "hw", 120);
    for servo in [ServoKind::Pi, ServoKind::Kalman] {
        let a = run_one(&sc, 7, Some(servo)).unwrap();
        let b = run_one(&sc, 7, Some(servo)).unwrap();
        assert_eq!(a.nodes[1].series, b.nodes[1].series);
        assert_eq!(a.nodes[1].stats, b.nodes[1].stats);
        assert_eq!(a.frames_sent, b.frames_sent);
        let c = run_one(&sc, 8, Some(servo)).unwrap();
        assert_ne!(a.nodes[1].series, c.nodes[1].series);
    }
}

#[test]
fn master_slave_converges_hw_e2e() {
    let sc = master_slave("E2E", "hw", 60);
    for servo in [ServoKind::Pi, ServoKind::Kalman] {
        for seed in 1..=3 {
            let off = final_abs_offset(&sc, servo, seed);
            assert!(off < 10_000.0, "{servo} seed {seed}: |offset| {off} ns");
        }
    }
}

#[test]
fn master_slave_converges_hw_p2p_and_sw() {
    for (mech, stamp) in [("P2P", "hw"), ("E2E", "sw")] {
        let sc = master_slave(mech, stamp, 60);
        for servo in [ServoKind::Pi, ServoKind::Kalman] {
            let off = final_abs_offset(&sc, servo, 1);
            assert!(off < 10_000.0, "{mech} {stamp} {servo}: |offset| {off} ns");
        }
    }
}

#[test]
fn one_step_master_and_asymmetry_correction() {
    // One-step master, 400 ns asymmetry on the link, corrected by the
    // slave's delayAsymmetry: the slave still ends within 10 us (and its
    // mean error is near zero rather than near the asymmetry).
    let text = r#"
duration-s = 120
reset-s = 60
[[node]]
id = "master"
priority1 = 1
two-step = false
measure = false
[[node]]
id = "slave"
clock = { frequency-ppm = -20, initial-offset-ns = 5e4 }
port = { delay-asymmetry-ns = 400 }
[[link]]
endpoints = ["master", "slave"]
delay = { base-ns = 1000 }
asymmetry-ns = 400
"#;
    let sc = Scenario::parse(text, Path::new("t.toml"), "t").unwrap();
    let r = run_one(&sc, 1, Some(ServoKind::Kalman)).unwrap();
    let s = &r.nodes[1].stats;
    assert!(s.mean_ns.abs() < 50.0, "mean {} ns", s.mean_ns);
    // Without the correction the error is the asymmetry.
    let uncorrected = text.replace("port = { delay-asymmetry-ns = 400 }\n", "");
    let sc = Scenario::parse(&uncorrected, Path::new("t.toml"), "t").unwrap();
    let r = run_one(&sc, 1, Some(ServoKind::Kalman)).unwrap();
    let s = &r.nodes[1].stats;
    assert!((s.mean_ns + 400.0).abs() < 50.0, "mean {} ns", s.mean_ns);
}

#[test]
fn boundary_clock_chain_forms() {
    let text = r#"
duration-s = 60
reset-s = 40
[[node]]
id = "gm"
priority1 = 1
measure = false
[[node]]
id = "bc"
ports = 2
clock = { frequency-ppm = -50, initial-offset-ns = 1e6 }
[[node]]
id = "slave"
clock = { frequency-ppm = 30, initial-offset-ns = -1e6 }
[[link]]
endpoints = ["gm", "bc:1"]
delay = { base-ns = 100, jitter = { kind = "exponential", mean-ns = 100 } }
[[link]]
endpoints = ["bc:2", "slave"]
delay = { base-ns = 100, jitter = { kind = "exponential", mean-ns = 100 } }
[[check]]
kind = "bmca"
after-s = 0
within-s = 25
expect-gm = "gm"
"#;
    let sc = Scenario::parse(text, Path::new("t.toml"), "t").unwrap();
    let r = run_one(&sc, 3, Some(ServoKind::Kalman)).unwrap();
    assert!(r.checks[0].passed, "{:?}", r.checks[0]);
    for n in &r.nodes[1..] {
        let last = n.series.last().unwrap();
        assert!(
            last.offset_ns.abs() < 10_000.0,
            "{}: {}",
            n.id,
            last.offset_ns
        );
    }
}

#[test]
fn bmca_grandmaster_leaves_and_rejoins() {
    let text = r#"
duration-s = 120
seeds = [1]
[[node]]
id = "n1"
priority1 = 10
[[node]]
id = "n2"
priority1 = 20
[[node]]
id = "n3"
[[node]]
id = "n4"
[[node]]
id = "n5"
[[link]]
endpoints = ["n1", "n2", "n3", "n4", "n5"]
delay = { base-ns = 500 }
[[event]]
at-s = 40
node = "n1"
action = "stop"
[[event]]
at-s = 80
node = "n1"
action = "start"
[[check]]
kind = "bmca"
after-s = 40
expect-gm = "n2"
[[check]]
kind = "bmca"
after-s = 80
expect-gm = "n1"
"#;
    let sc = Scenario::parse(text, Path::new("t.toml"), "t").unwrap();
    assert!((sc.default_bmca_bound_s() - 12.0).abs() < 1e-9);
    for seed in 1..=3 {
        let r = run_one(&sc, seed, None).unwrap();
        for c in &r.checks {
            assert!(c.passed, "seed {seed}: {c:?}");
        }
        assert_eq!(r.checks[0].grandmaster.as_deref(), Some("n2"));
        assert_eq!(r.checks[1].grandmaster.as_deref(), Some("n1"));
    }
    // A wrong expectation fails the check.
    let wrong = text.replace("expect-gm = \"n2\"", "expect-gm = \"n3\"");
    let sc = Scenario::parse(&wrong, Path::new("t.toml"), "t").unwrap();
    let r = run_one(&sc, 1, None).unwrap();
    assert!(!r.checks[0].passed);
}
