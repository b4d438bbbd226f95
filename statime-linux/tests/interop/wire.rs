//! What the interop tests read off the wire and the status socket: tshark
//! captures in a node's namespace, their decoded fields, and
//! `statime-ctl status --json`.

// Each test binary that includes `interop` uses some of these.
#![allow(dead_code)]

use std::process::{Command, Stdio};

use super::lab::{Lab, Node};

/// Whether tshark can run; in CI its absence is a failure, elsewhere the
/// caller skips.
pub(crate) fn tshark_ready() -> bool {
    if Command::new("tshark").arg("-v").output().is_ok() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "tshark is missing");
    eprintln!("skipping: tshark is missing (apt-get install tshark)");
    false
}

/// Capture `seconds` of `node`'s interface into `LAB/NAME.pcap` (blocks
/// for that long) and return the file's path.
pub(crate) fn capture(lab: &Lab, node: &Node, name: &str, seconds: u32) -> String {
    let pcap = lab.dir.join(format!("{name}.pcap")).display().to_string();
    let c = Command::new("ip")
        .args(["netns", "exec", &node.ns, "tshark", "-q", "-n", "-i"])
        .arg(&node.iface)
        .args(["-a", &format!("duration:{seconds}"), "-w", &pcap])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tshark");
    let out = c.wait_with_output().expect("tshark");
    assert!(
        out.status.success(),
        "tshark capture on {}: {}",
        node.iface,
        String::from_utf8_lossy(&out.stderr)
    );
    pcap
}

/// The `fields` of every frame of `pcap` that matches the display
/// `filter`, one row per frame (an absent field is empty).
pub(crate) fn fields(pcap: &str, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args([
        "-r",
        pcap,
        "-n",
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "separator=|",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark -r {pcap}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

/// `statime-ctl status --json` of the daemon behind `socket`.
pub(crate) fn status(socket: &str) -> Option<serde_json::Value> {
    let o = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(["status", "--json", "-s", socket])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}
