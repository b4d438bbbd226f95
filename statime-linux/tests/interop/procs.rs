//! Child processes inside a lab's namespaces: our daemon, ptp4l and pmc.
//!
//! Safety rules enforced here, not left to the callers:
//! - our daemon only ever runs with a virtual clock or an observe-only one;
//! - ptp4l only with `free_running 1` and software time stamps, under
//!   `setpriv` without CAP_SYS_TIME, checked in `/proc/PID/status` of the
//!   running process (a ptp4l that still holds it is killed at once).
//!
//! A [`Proc`] is stopped (SIGTERM, then SIGKILL) on drop. Declare procs
//! after their [`Lab`](super::lab::Lab), so that they are dropped before
//! its namespaces are deleted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::lab::{Lab, Node};

/// A child process with its output in a log file.
pub(crate) struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Run `program args` in `node`'s namespace (`ip netns exec`, which
    /// execs the program: the child's pid is the program's).
    fn spawn(lab: &Lab, node: &Node, name: &str, program: &str, args: &[String]) -> Self {
        let log = lab.dir.join(format!("{name}.log"));
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &node.ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Self {
            name: name.to_owned(),
            child,
            log,
            status: None,
        }
    }

    /// Everything it has logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Wait up to `timeout` for it to exit by itself.
    pub(crate) fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.poll_exit() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (by pid), then SIGKILL if it has not exited after 3 s.
    pub(crate) fn stop(&mut self) {
        if self.poll_exit().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .output();
        if self.wait(Duration::from_secs(3)).is_none() {
            eprintln!("interop: {} ignored SIGTERM; killing it", self.name);
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// The panic message context: name and log.
    pub(crate) fn describe(&self) -> String {
        format!(
            "--- {} ({}):\n{}",
            self.name,
            self.log.display(),
            tail(&self.log(), 40)
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Our daemon with configuration `toml`, stopping by itself after
/// `duration` (`--duration`, which prints the run summary).
pub(crate) fn statime(lab: &Lab, node: &Node, name: &str, toml: &str, duration: &str) -> Proc {
    let virtual_clock = toml.contains("kind = \"virtual\"");
    let observe_only = toml.contains("observe-only = true");
    assert!(
        virtual_clock || observe_only,
        "refusing to run our daemon on a real clock:\n{toml}"
    );
    let path = lab.dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml).expect("write configuration");
    Proc::spawn(
        lab,
        node,
        name,
        env!("CARGO_BIN_EXE_statime"),
        &[
            "-c".into(),
            path.display().to_string(),
            "--duration".into(),
            duration.into(),
        ],
    )
}

/// A running ptp4l and its management socket.
pub(crate) struct Ptp4l {
    /// The process.
    pub(crate) proc: Proc,
    /// Its UDS (`uds_address`), for pmc.
    pub(crate) uds: PathBuf,
    /// The namespace it runs in.
    pub(crate) ns: String,
}

const CAP_SYS_TIME: u32 = 25;

/// Capability sets of `pid` that still contain CAP_SYS_TIME.
fn sys_time_caps(pid: u32) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter_map(|l| {
            let (key, value) = l.split_once(':')?;
            if !key.starts_with("Cap") {
                return None;
            }
            let bits = u64::from_str_radix(value.trim(), 16).ok()?;
            (bits >> CAP_SYS_TIME & 1 == 1).then(|| format!("{key}={}", value.trim()))
        })
        .collect()
}

/// ptp4l with configuration `cfg` (which must hold `free_running 1` and
/// `time_stamping software`) on `node`, logging to stdout (`-m`).
pub(crate) fn ptp4l(lab: &Lab, node: &Node, name: &str, cfg: &str) -> Ptp4l {
    let has = |key: &str, value: &str| {
        cfg.lines().any(|l| {
            let mut t = l.split_whitespace();
            t.next() == Some(key) && t.next() == Some(value)
        })
    };
    assert!(
        has("free_running", "1") && has("time_stamping", "software"),
        "refusing to run ptp4l without free_running 1 and software time stamps:\n{cfg}"
    );
    let path = lab.dir.join(format!("{name}.cfg"));
    std::fs::write(&path, cfg).expect("write configuration");
    let uds = lab.dir.join(format!("{name}.sock"));
    let args: Vec<String> = [
        "--bounding-set",
        "-sys_time",
        "--inh-caps",
        "-sys_time",
        "--",
        "ptp4l",
        "-f",
        &path.display().to_string(),
        "-i",
        &node.iface,
        "-S",
        "-m",
        &format!("--uds_address={}", uds.display()),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut proc = Proc::spawn(lab, node, name, "setpriv", &args);
    // Wait until `ip` and `setpriv` have exec'd into ptp4l.
    let pid = proc.pid();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = proc.poll_exit() {
            panic!(
                "ptp4l {name} exited at start ({status})\n{}",
                proc.describe()
            );
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "ptp4l" && uds.exists() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ptp4l {name} did not start\n{}",
            proc.describe()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let held = sys_time_caps(pid);
    if !held.is_empty() {
        let _ = proc.child.kill();
        panic!("ptp4l {name} still holds CAP_SYS_TIME ({held:?}); setpriv did not drop it");
    }
    Ptp4l {
        proc,
        uds,
        ns: node.ns.clone(),
    }
}

impl Ptp4l {
    /// Run pmc against this ptp4l's Unix socket: `pmc -u -b 0 -s UDS CMD...`
    /// in its namespace, bounded to 10 s. Returns pmc's output.
    pub(crate) fn pmc(&self, commands: &[&str]) -> String {
        pmc_at(&self.ns, &self.uds, commands)
    }
}

fn pmc_at(ns: &str, uds: &Path, commands: &[&str]) -> String {
    let out = Command::new("ip")
        .args([
            "netns", "exec", ns, "timeout", "10", "pmc", "-u", "-b", "0", "-s",
        ])
        .arg(uds)
        .args(commands)
        .output()
        .expect("run pmc");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `field` in pmc output (`field value` lines), the last one
/// if there are several.
pub(crate) fn pmc_field(output: &str, field: &str) -> Option<String> {
    output
        .lines()
        .filter_map(|l| {
            let mut t = l.split_whitespace();
            (t.next() == Some(field)).then(|| t.next().unwrap_or_default().to_owned())
        })
        .next_back()
}
