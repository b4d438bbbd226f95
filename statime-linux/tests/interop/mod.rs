//! Helpers for `interop_ptp4l.rs`: the environment gate, network
//! namespaces ([`lab`]), child processes (our daemon, ptp4l, pmc:
//! [`procs`]), log parsing ([`logs`]), and tshark captures and the status
//! socket ([`wire`]).

pub(crate) mod lab;
pub(crate) mod logs;
pub(crate) mod procs;
pub(crate) mod wire;

use std::io::Write;
use std::process::Command;

/// The PTP transports both implementations speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp4,
    Udp6,
    L2,
}

impl Transport {
    /// Our configuration's name (`transport = ...`).
    pub(crate) fn ours(self) -> &'static str {
        match self {
            Self::Udp4 => "udp-ipv4",
            Self::Udp6 => "udp-ipv6",
            Self::L2 => "ethernet",
        }
    }

    /// ptp4l's name (`network_transport`), also used in labels.
    pub(crate) fn ptp4l(self) -> &'static str {
        match self {
            Self::Udp4 => "UDPv4",
            Self::Udp6 => "UDPv6",
            Self::L2 => "L2",
        }
    }
}

/// The delay mechanisms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delay {
    E2e,
    P2p,
}

impl Delay {
    /// The name both configurations use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::E2e => "E2E",
            Self::P2p => "P2P",
        }
    }
}

/// A label such as `UDPv4/E2E`.
pub(crate) fn label(t: Transport, d: Delay) -> String {
    format!("{}/{}", t.ptp4l(), d.name())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the interop tests can run here. In CI (`CI` set) and as root
/// they must: a missing privilege or tool is a failure with the fix.
/// Outside CI and not root, the skip reason is printed and `false`
/// returned.
pub(crate) fn environment_ready() -> bool {
    let root = is_root();
    if !root {
        assert!(
            !in_ci(),
            "the ptp4l interop tests need root (network namespaces, raw sockets); \
             CI must run `cargo test` as root"
        );
        eprintln!("skipping: the ptp4l interop tests need root (CI runs them as root)");
        return false;
    }
    for (tool, package) in [
        ("ptp4l", "linuxptp"),
        ("pmc", "linuxptp"),
        ("ip", "iproute2"),
        ("setpriv", "util-linux"),
        ("timeout", "coreutils"),
    ] {
        assert!(
            have(tool),
            "running as root but `{tool}` is missing: install it with \
             `apt-get install -y {package}`"
        );
    }
    true
}

/// Print one line of figures (straight to stderr, so that it shows even
/// when the test harness captures output) and append it to
/// `target/tmp/interop_ptp4l-figures.txt` for the report.
pub(crate) fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop_ptp4l-figures.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}
