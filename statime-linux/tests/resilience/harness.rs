//! Helpers for `resilience.rs`: the environment gate, the three-node lab
//! (grandmaster, slave, attacker on a bridge), the daemons'
//! configurations, the attacker child, per-process figures from `/proc`
//! and the analysis of the slave's log by phase.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::attack::Report;
use crate::lab::{Lab, Node};
use crate::logs;
use crate::procs::{self, Proc};

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

/// Whether the resilience tests can run: root and `ip`. In CI a missing
/// one is a failure; elsewhere the reason is printed and `false` returned.
pub(crate) fn environment_ready() -> bool {
    if !is_root() {
        assert!(
            !in_ci(),
            "the resilience tests need root (network namespaces); CI must run them as root"
        );
        eprintln!("skipping: the resilience tests need root (network namespaces)");
        return false;
    }
    let ip = Command::new("ip").arg("-V").output();
    assert!(
        ip.is_ok_and(|o| o.status.success()),
        "running as root but `ip` is missing: install iproute2"
    );
    true
}

/// One line of figures: to stderr and appended to
/// `target/tmp/resilience-figures.txt`.
pub(crate) fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("resilience-figures.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// The grandmaster: priority1 10, a virtual clock with no offset (it
/// serves CLOCK_REALTIME), 8 Sync/s, software time stamps, UDPv4/E2E.
pub(crate) fn grandmaster_config(iface: &str) -> String {
    format!(
        "priority1 = 10\n\
         [[port]]\n\
         interface = \"{iface}\"\n\
         timestamping = \"software\"\n\
         announce-interval = 0\n\
         sync-interval = -3\n\
         delay-interval = -3\n\
         [clock]\n\
         kind = \"virtual\"\n\
         [logging]\n\
         format = \"ptp4l\"\n\
         stdout = true\n\
         syslog = false\n\
         summary-interval = 4\n"
    )
}

/// The slave under test: slave-only, a virtual clock started +1 ms and
/// +50 ppm off, one `master offset` line per sample (8/s).
pub(crate) fn slave_config(iface: &str) -> String {
    format!(
        "slave-only = true\n\
         [[port]]\n\
         interface = \"{iface}\"\n\
         timestamping = \"software\"\n\
         announce-interval = 0\n\
         sync-interval = -3\n\
         delay-interval = -3\n\
         [clock]\n\
         kind = \"virtual\"\n\
         initial-offset = \"+1ms\"\n\
         frequency-error = 50.0\n\
         [logging]\n\
         format = \"ptp4l\"\n\
         stdout = true\n\
         syslog = false\n"
    )
}

/// The lab: node 0 the grandmaster, node 1 the slave, node 2 the
/// attacker, whose multicast route points at its veth.
pub(crate) fn three_nodes(tag: &str) -> Lab {
    let lab = Lab::bridged(tag, 3);
    let atk = lab.node(2);
    let out = Command::new("ip")
        .args([
            "-n",
            &atk.ns,
            "route",
            "add",
            "224.0.0.0/4",
            "dev",
            &atk.iface,
        ])
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "multicast route: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lab
}

/// The IPv4 address `Lab` gives node `i`.
pub(crate) fn addr(i: usize) -> String {
    format!("192.0.2.{}", 10 + i)
}

/// Start both daemons (running until stopped; `--duration` makes them
/// print the summary on SIGTERM).
pub(crate) fn start_daemons(lab: &Lab) -> (Proc, Proc) {
    let gm = lab.node(0);
    let slave = lab.node(1);
    let g = procs::statime(
        lab,
        gm,
        "grandmaster",
        &grandmaster_config(&gm.iface),
        "900s",
    );
    let s = procs::statime(lab, slave, "slave", &slave_config(&slave.iface), "900s");
    (g, s)
}

/// Wait until the slave's servo reports a locked sample (s2 or s3);
/// returns the seconds it took.
pub(crate) fn wait_lock(slave: &mut Proc, gm: &mut Proc, timeout: Duration) -> f64 {
    let start = Instant::now();
    loop {
        if logs::samples(&slave.log()).iter().any(|s| s.state >= 2) {
            return start.elapsed().as_secs_f64();
        }
        assert!(
            slave.wait(Duration::ZERO).is_none() && gm.wait(Duration::ZERO).is_none(),
            "a daemon exited before lock\n{}\n{}",
            gm.describe(),
            slave.describe()
        );
        assert!(
            start.elapsed() < timeout,
            "the slave did not lock in {timeout:?}\n{}\n{}",
            gm.describe(),
            slave.describe()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Run the attacker (this test binary, re-executed in `node`'s namespace)
/// with `kinds` at `rate` packets/s for `seconds` (0: one packet per
/// kind). Bounded by `timeout` in the namespace.
pub(crate) fn attack(node: &Node, kinds: &str, rate: u64, seconds: f64, fakes: usize) -> Report {
    let exe = std::env::current_exe().expect("test binary");
    let limit = (seconds as u64 + 20).to_string();
    let out = Command::new("ip")
        .args(["netns", "exec", &node.ns, "timeout", &limit])
        .arg(exe)
        .args(["attacker_process", "--exact", "--ignored", "--nocapture"])
        .env("RESILIENCE_ATTACK", kinds)
        .env("RESILIENCE_RATE", rate.to_string())
        .env("RESILIENCE_SECONDS", seconds.to_string())
        .env("RESILIENCE_FAKES", fakes.to_string())
        .env("RESILIENCE_MASTER", addr(0))
        .env("RESILIENCE_SLAVE", addr(1))
        .env("RESILIENCE_ME", addr(2))
        .env("RESILIENCE_SEED", (rate ^ kinds.len() as u64).to_string())
        .output()
        .expect("run the attacker");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "attacker {kinds} failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Report::parse(&text)
}

/// Resident set size (kB) of `pid`.
pub(crate) fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// User + system CPU time of `pid`, in seconds (USER_HZ 100).
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which ends with the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after ')'.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// A point in a run: where the slave's log ended, the wall clock, RSS and
/// CPU of the slave.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    pub(crate) log_len: usize,
    pub(crate) at: Instant,
    pub(crate) rss_kb: u64,
    pub(crate) cpu_s: f64,
}

impl Mark {
    pub(crate) fn now(p: &Proc) -> Self {
        Self {
            log_len: p.log().len(),
            at: Instant::now(),
            rss_kb: rss_kb(p.pid()),
            cpu_s: cpu_seconds(p.pid()),
        }
    }
}

/// What the slave did between two marks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Phase {
    pub(crate) seconds: f64,
    pub(crate) lines: usize,
    pub(crate) max_lines_in_a_second: usize,
    pub(crate) samples: usize,
    /// Samples whose |offset| is at most 1 ms (not forged).
    pub(crate) offsets: logs::Stats,
    pub(crate) p95_abs: f64,
    pub(crate) step_lines: usize,
    pub(crate) faulty_lines: usize,
    pub(crate) state_changes: Vec<String>,
    pub(crate) best_masters: Vec<String>,
    pub(crate) cpu_percent: f64,
    pub(crate) rss_from: u64,
    pub(crate) rss_to: u64,
}

/// The part of `log` between two marks.
pub(crate) fn between(log: &str, a: Mark, b: Mark) -> &str {
    log.get(a.log_len.min(log.len())..b.log_len.min(log.len()))
        .unwrap_or_default()
}

pub(crate) fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

/// Analyse the slave's log between `a` and `b`.
pub(crate) fn phase(log: &str, a: Mark, b: Mark) -> Phase {
    let text = between(log, a, b);
    let seconds = b.at.duration_since(a.at).as_secs_f64();
    let mut per_second = std::collections::BTreeMap::<i64, usize>::new();
    for l in text.lines() {
        if let Some(t) = logs::stamp(l) {
            *per_second.entry(t.floor() as i64).or_default() += 1;
        }
    }
    let samples = logs::samples(text);
    let offsets: Vec<f64> = samples.iter().map(|s| s.offset).collect();
    Phase {
        seconds,
        lines: text.lines().count(),
        max_lines_in_a_second: per_second.values().copied().max().unwrap_or(0),
        samples: samples.len(),
        offsets: logs::Stats::of(&offsets),
        p95_abs: percentile(offsets.iter().map(|o| o.abs()).collect(), 0.95),
        step_lines: samples.iter().filter(|s| s.state == 1).count(),
        faulty_lines: text.lines().filter(|l| l.contains("to FAULTY")).count(),
        state_changes: text
            .lines()
            .filter(|l| l.contains("]: port "))
            .map(|l| l.split("]: ").nth(1).unwrap_or(l).to_owned())
            .collect(),
        best_masters: text
            .lines()
            .filter_map(|l| l.split("selected best master clock ").nth(1))
            .map(str::to_owned)
            .collect(),
        cpu_percent: if seconds > 0.0 {
            100.0 * (b.cpu_s - a.cpu_s) / seconds
        } else {
            0.0
        },
        rss_from: a.rss_kb,
        rss_to: b.rss_kb,
    }
}

impl Phase {
    /// One line of figures.
    pub(crate) fn line(&self, name: &str) -> String {
        let distinct: std::collections::BTreeSet<&String> = self.best_masters.iter().collect();
        format!(
            "{name}: {:.1} s, {} samples, offset mean {:.0} ns sd {:.0} ns p95|.| {:.0} ns max|.| {:.0} ns, \
             {} log lines ({:.1}/s, max {}/s), {} s1 lines, {} FAULTY, CPU {:.1}%, RSS {} -> {} kB, \
             {} state changes {:?}, {} best-master lines naming {} identities",
            self.seconds,
            self.samples,
            self.offsets.mean,
            self.offsets.sd,
            self.p95_abs,
            self.offsets.max_abs,
            self.lines,
            self.lines as f64 / self.seconds.max(1e-9),
            self.max_lines_in_a_second,
            self.step_lines,
            self.faulty_lines,
            self.cpu_percent,
            self.rss_from,
            self.rss_to,
            self.state_changes.len(),
            self.state_changes.iter().take(3).collect::<Vec<_>>(),
            self.best_masters.len(),
            distinct.len()
        )
    }

    /// Best-master lines naming an identity other than `gm`.
    pub(crate) fn foreign_masters(&self, gm: &str) -> Vec<String> {
        self.best_masters
            .iter()
            .filter(|m| *m != gm)
            .cloned()
            .collect()
    }
}

/// Failed checks, collected so that one run reports all of them.
#[derive(Default)]
pub(crate) struct Checks(Vec<String>);

impl Checks {
    pub(crate) fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let w = what();
            figures(&format!("FAILED CHECK: {w}"));
            self.0.push(w);
        }
    }

    /// Panic with every failed check and the slave's log tail.
    pub(crate) fn finish(self, context: &str) {
        assert!(
            self.0.is_empty(),
            "{} check(s) failed:\n- {}\n{context}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// The tests share two CPUs with a 10,000 packets/s flood: one at a
/// time, so that each one's figures are its own.
pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Assert the daemon is still running.
pub(crate) fn alive(p: &mut Proc, what: &str) {
    assert!(
        p.wait(Duration::ZERO).is_none(),
        "{what}: the daemon exited\n{}",
        p.describe()
    );
}
