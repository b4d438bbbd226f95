//! `statime-ctl lab`, the README's main job: as root, two daemons in two
//! network namespaces (the slave's virtual clock starts +1 ms / +50 ppm
//! off) must lock and report the true error; without root it must say so
//! and run the same lab in the simulator.

use std::process::Command;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn namespace_lab_locks() {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root: the lab must run"
        );
        eprintln!("skipped: the namespace lab needs root");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(["lab", "--seconds", "20"])
        .output()
        .expect("statime-ctl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    assert!(
        text.contains("UNCALIBRATED to SLAVE on MASTER_CLOCK_SELECTED"),
        "{text}"
    );
    assert!(text.contains("summary: locked after"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("true error of the virtual clock"))
        .unwrap_or_else(|| panic!("no true-error summary:\n{text}"));
    // "... max 1031 ns": software time stamps over veth, well inside 10 us.
    let max: f64 = line
        .rsplit("max ")
        .next()
        .and_then(|s| s.trim_end_matches(" ns").trim().parse().ok())
        .unwrap_or_else(|| panic!("cannot read max from {line}"));
    assert!(max < 10_000.0, "{line}");
    println!("{line}");
}

#[test]
fn without_root_the_lab_is_simulated() {
    if !is_root() {
        return; // covered by running as a normal user directly
    }
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_statime-ctl"))
        .arg("lab")
        .output()
        .expect("setpriv runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    assert!(err.contains("need root"), "{err}");
    assert!(text.contains("lab (simulated)"), "{text}");
    assert!(text.contains("| lab-veth-sw | kalman | slave |"), "{text}");
}
