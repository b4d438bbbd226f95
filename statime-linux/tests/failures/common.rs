//! Helpers for `failures.rs`: the environment gate, the daemons'
//! configurations, the JSON status stream (`statime-ctl status --json
//! --follow`), figures, and small probes of the system (`ip`, `tc`, `/proc`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::procs::Proc;

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

/// Whether the failure tests can run: root, `ip` and `tc` (both from
/// iproute2). In CI (`CI` set) a missing one is a failure; elsewhere the
/// reason is printed and `false` returned.
pub(crate) fn environment_ready() -> bool {
    if !is_root() {
        assert!(
            !in_ci(),
            "the failure tests need root (network namespaces); CI must run them as root"
        );
        eprintln!("skipping: the failure tests need root (network namespaces)");
        return false;
    }
    for (tool, arg) in [("ip", "-V"), ("tc", "-V")] {
        let ok = Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "running as root but `{tool}` is missing: install iproute2"
        );
    }
    true
}

/// The tests share two CPUs and measure times: one at a time.
pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One line of figures: to stderr and appended to
/// `target/tmp/failures-figures.txt`.
pub(crate) fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("failures-figures.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// The port section every daemon here uses: UDPv4/E2E, software time
/// stamps, 4 Announces/s with a receipt timeout of 3 (0.75 s), 8 Sync/s and
/// 8 Delay_Req/s, and `extra` lines.
pub(crate) fn port(iface: &str, transport: &str, extra: &str) -> String {
    format!(
        "[[port]]\n\
         interface = \"{iface}\"\n\
         transport = \"{transport}\"\n\
         delay-mechanism = \"E2E\"\n\
         timestamping = \"software\"\n\
         announce-interval = {ANNOUNCE_LOG}\n\
         announce-receipt-timeout = {RECEIPT_TIMEOUT}\n\
         sync-interval = -3\n\
         delay-interval = -3\n\
         {extra}\n"
    )
}

/// log2 of the announce interval of every daemon.
pub(crate) const ANNOUNCE_LOG: i32 = -2;
/// announceReceiptTimeout of every daemon.
pub(crate) const RECEIPT_TIMEOUT: u32 = 3;

/// The announce interval in seconds.
pub(crate) fn announce_interval() -> f64 {
    2f64.powi(ANNOUNCE_LOG)
}

const LOGS: &str = "[logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n";

/// A grandmaster-capable daemon with `priority1`, whose virtual clock keeps
/// CLOCK_REALTIME (no offset, no frequency error).
pub(crate) fn grandmaster(iface: &str, priority1: u8) -> String {
    format!(
        "priority1 = {priority1}\n{}\n[clock]\nkind = \"virtual\"\n\n{LOGS}",
        port(iface, "udp-ipv4", "")
    )
}

/// A slave-only daemon whose virtual clock starts 200 us and 20 ppm off,
/// with the status socket at `socket` and `observability` lines added.
pub(crate) fn slave(
    iface: &str,
    transport: &str,
    port_extra: &str,
    socket: &Path,
    observability: &str,
) -> String {
    format!(
        "slave-only = true\n{}\n\
         [clock]\nkind = \"virtual\"\ninitial-offset = \"+200us\"\nfrequency-error = 20.0\n\n\
         {LOGS}\n\
         [observability]\nstatus-socket = \"{}\"\n{observability}\n",
        port(iface, transport, port_extra),
        socket.display()
    )
}

/// Run statime-ctl with `args`.
pub(crate) fn ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run statime-ctl")
}

/// One JSON snapshot from the status socket.
pub(crate) fn status(socket: &Path) -> Option<Value> {
    let o = ctl(&["status", "--json", "-s", &socket.display().to_string()]);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}

/// CLOCK_MONOTONIC in seconds: the timescale of the daemons' log stamps and
/// of `monotonic_s` in their snapshots.
pub(crate) fn mono() -> f64 {
    statime_linux::daemon::sys::monotonic_now().nanos() as f64 / 1e9
}

/// A snapshot received from the status stream.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    /// When the test received it (CLOCK_MONOTONIC, s).
    pub(crate) at: f64,
    pub(crate) v: Value,
}

impl Seen {
    pub(crate) fn str(&self, pointer: &str) -> &str {
        self.v
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub(crate) fn num(&self, pointer: &str) -> Option<f64> {
        self.v.pointer(pointer).and_then(Value::as_f64)
    }

    /// The grandmaster the slave follows.
    pub(crate) fn grandmaster(&self) -> &str {
        self.str("/parent/grandmaster_identity")
    }

    /// Port 1's state.
    pub(crate) fn port_state(&self) -> &str {
        self.str("/ports/0/state")
    }

    /// The servo's state.
    pub(crate) fn servo(&self) -> &str {
        self.str("/servo/state")
    }

    /// Locked onto `gm` (any grandmaster if empty) with port 1 SLAVE.
    pub(crate) fn locked_on(&self, gm: &str) -> bool {
        self.servo().starts_with("locked")
            && self.port_state() == "SLAVE"
            && (gm.is_empty() || self.grandmaster() == gm)
    }

    /// |true error| of the slave's virtual clock, seconds.
    pub(crate) fn true_error(&self) -> Option<f64> {
        self.num("/true_error_s").map(f64::abs)
    }
}

/// Every snapshot a daemon publishes, as `statime-ctl status --json
/// --follow` streams them, collected by a thread.
pub(crate) struct Follow {
    child: Child,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Follow {
    /// Start following `socket` (which must answer already).
    pub(crate) fn start(socket: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
            .args(["status", "--json", "--follow", "-s"])
            .arg(socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("statime-ctl status --follow");
        let out = child.stdout.take().expect("stdout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let at = mono();
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Ok(mut s) = sink.lock()
                {
                    s.push(Seen { at, v });
                }
            }
        });
        Self { child, seen }
    }

    /// Everything received so far.
    pub(crate) fn all(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Everything received at or after `t` (CLOCK_MONOTONIC, s).
    pub(crate) fn since(&self, t: f64) -> Vec<Seen> {
        self.all().into_iter().filter(|s| s.at >= t).collect()
    }

    /// The first snapshot at or after `t` satisfying `pred`, waiting up to
    /// `timeout`; `None` if none came (or the daemon died: `alive`).
    pub(crate) fn wait_for(
        &self,
        t: f64,
        timeout: Duration,
        procs: &mut [&mut Proc],
        pred: impl Fn(&Seen) -> bool,
    ) -> Option<Seen> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.since(t).into_iter().find(|s| pred(s)) {
                return Some(s);
            }
            for p in procs.iter_mut() {
                assert!(
                    p.wait(Duration::ZERO).is_none(),
                    "a daemon exited\n{}",
                    p.describe()
                );
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last snapshot received.
    pub(crate) fn last(&self) -> Option<Seen> {
        self.seen.lock().ok().and_then(|s| s.last().cloned())
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The largest |true error| among `seen`, seconds.
pub(crate) fn worst_true_error(seen: &[Seen]) -> f64 {
    seen.iter().filter_map(Seen::true_error).fold(0.0, f64::max)
}

/// SIGKILL `p` (by pid) and reap it.
pub(crate) fn kill9(p: &mut Proc) {
    let _ = Command::new("kill")
        .args(["-KILL", &p.pid().to_string()])
        .output();
    assert!(
        p.wait(Duration::from_secs(5)).is_some(),
        "kill -9 did not end it"
    );
}

/// `ip args`, asserting success.
pub(crate) fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `tc args` in namespace `ns`, asserting success.
pub(crate) fn tc(ns: &str, args: &[&str]) {
    let o = Command::new("ip")
        .args(["netns", "exec", ns, "tc"])
        .args(args)
        .output()
        .expect("run tc");
    assert!(
        o.status.success(),
        "tc {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The multicast groups joined on `iface` in `ns` (`ip maddr show`).
pub(crate) fn groups(ns: &str, iface: &str) -> String {
    let o = Command::new("ip")
        .args(["-n", ns, "maddr", "show", "dev", iface])
        .output()
        .expect("run ip");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// User + system CPU time of `pid`, in seconds (USER_HZ 100).
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Open descriptors of `pid`.
pub(crate) fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The log lines of `log` stamped at or after `t` (CLOCK_MONOTONIC, s).
pub(crate) fn lines_since(log: &str, t: f64) -> Vec<String> {
    log.lines()
        .filter(|l| crate::logs::stamp(l).is_some_and(|s| s >= t))
        .map(str::to_owned)
        .collect()
}

/// The stamp of the first line of `log` at or after `t` containing `text`.
pub(crate) fn first_line_with(log: &str, t: f64, text: &str) -> Option<f64> {
    log.lines()
        .filter(|l| l.contains(text))
        .filter_map(crate::logs::stamp)
        .find(|s| *s >= t)
}

/// Servo samples that stepped the clock (`s1`) after the first locked one.
pub(crate) fn steps_after_lock(log: &str) -> Vec<crate::logs::Sample> {
    let samples = crate::logs::samples(log);
    let Some(first_lock) = samples.iter().position(|s| s.state >= 2) else {
        return Vec::new();
    };
    samples
        .into_iter()
        .skip(first_lock)
        .filter(|s| s.state == 1)
        .collect()
}

/// A path in the lab's scratch directory.
pub(crate) fn scratch(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
