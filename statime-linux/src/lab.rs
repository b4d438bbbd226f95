//! `statime-ctl lab`: a self-contained lab on this machine. Two network
//! namespaces joined by a veth pair, a grandmaster daemon in one and a
//! slave daemon in the other whose virtual clock starts 1 ms and 50 ppm
//! off; the slave's offsets print until it locks, then a summary. Nothing
//! leaves the machine and no real clock is touched (both daemons steer
//! virtual clocks).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

/// Namespaces, veth and temporary files of one lab; removed on drop.
struct LabGuard {
    namespaces: Vec<String>,
    dir: PathBuf,
    children: Vec<Child>,
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip` ({e}); install iproute2"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether this process may create network namespaces.
#[must_use]
pub fn can_run_namespaces() -> bool {
    // The effective uid from /proc (no libc call needed here).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
        && Command::new("ip").arg("-V").output().is_ok()
}

const GM: &str = r#"# lab grandmaster: a virtual clock with no offset (it serves CLOCK_REALTIME)
priority1 = 10
[[port]]
interface = "vlab0"
timestamping = "software"
announce-interval = 0
sync-interval = -3
delay-interval = -3
[clock]
kind = "virtual"
[logging]
format = "ptp4l"
stdout = true
syslog = false
summary-interval = 4
"#;

const SLAVE: &str = r#"# lab slave: a virtual clock started +1 ms and +50 ppm off
slave-only = true
[[port]]
interface = "vlab1"
timestamping = "software"
announce-interval = 0
sync-interval = -3
delay-interval = -3
[clock]
kind = "virtual"
initial-offset = "+1ms"
frequency-error = 50.0
[logging]
format = "ptp4l"
stdout = true
syslog = false
"#;

fn daemon_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find own binary: {e}"))?;
    let dir = me.parent().unwrap_or(Path::new("."));
    let path = dir.join("statime");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "the daemon `statime` is not next to statime-ctl ({}); build it with `cargo build -p statime-linux`",
            path.display()
        ))
    }
}

/// Run the namespace lab for `seconds`, writing progress to `out`.
///
/// # Errors
/// A one-line reason when the lab cannot be set up.
pub fn run_namespace_lab(seconds: u32, out: &mut dyn Write) -> Result<(), String> {
    let daemon = daemon_path()?;
    let tag = std::process::id();
    let (gm_ns, slave_ns) = (
        format!("statime-lab-{tag}-gm"),
        format!("statime-lab-{tag}-slave"),
    );
    let dir = std::env::temp_dir().join(format!("statime-lab-{tag}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut guard = LabGuard {
        namespaces: Vec::new(),
        dir: dir.clone(),
        children: Vec::new(),
    };
    for ns in [&gm_ns, &slave_ns] {
        ip(&["netns", "add", ns])?;
        guard.namespaces.push(ns.clone());
    }
    ip(&[
        "-n", &gm_ns, "link", "add", "vlab0", "type", "veth", "peer", "name", "vlab1", "netns",
        &slave_ns,
    ])?;
    for (ns, dev, mac, addr) in [
        (&gm_ns, "vlab0", "00:00:5e:00:53:0a", "192.0.2.10/24"),
        (&slave_ns, "vlab1", "00:00:5e:00:53:0b", "192.0.2.11/24"),
    ] {
        ip(&["-n", ns, "link", "set", dev, "address", mac])?;
        ip(&["-n", ns, "addr", "add", addr, "dev", dev])?;
        ip(&["-n", ns, "link", "set", dev, "up"])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
    }
    let gm_cfg = dir.join("grandmaster.toml");
    let slave_cfg = dir.join("slave.toml");
    std::fs::write(&gm_cfg, GM).map_err(|e| e.to_string())?;
    std::fs::write(&slave_cfg, SLAVE).map_err(|e| e.to_string())?;
    let _ = writeln!(
        out,
        "lab: namespaces {gm_ns} and {slave_ns}, veth vlab0/vlab1, software time stamps, 8 Sync/s"
    );
    let _ = writeln!(
        out,
        "lab: the slave's virtual clock starts +1 ms and +50 ppm off; running {seconds} s"
    );
    let gm = Command::new("ip")
        .args(["netns", "exec", &gm_ns])
        .arg(&daemon)
        .arg("-c")
        .arg(&gm_cfg)
        .arg("--duration")
        .arg(format!("{}s", seconds + 5))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the grandmaster: {e}"))?;
    guard.children.push(gm);
    let mut slave = Command::new("ip")
        .args(["netns", "exec", &slave_ns])
        .arg(&daemon)
        .arg("-c")
        .arg(&slave_cfg)
        .arg("--duration")
        .arg(format!("{seconds}s"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the slave: {e}"))?;
    let stdout = slave.stdout.take().ok_or("no slave output")?;
    let mut locked = false;
    let mut summary_seen = false;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let show = !locked || line.contains(" to ") || line.starts_with("summary");
        if line.contains("MASTER_CLOCK_SELECTED") {
            locked = true;
        }
        summary_seen |= line.starts_with("summary");
        if show {
            let _ = writeln!(out, "slave: {line}");
        }
    }
    let status = slave.wait().map_err(|e| e.to_string())?;
    if !status.success() || !summary_seen {
        let mut err = String::new();
        if let Some(mut e) = slave.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(format!("the slave daemon failed: {}", err.trim()));
    }
    Ok(())
}

/// The lab as a simulator scenario, for machines where namespaces cannot
/// be created.
const SIM_SCENARIO: &str = include_str!("../../measurements/scenarios/lab-veth-sw.toml");

/// Run the lab in the simulator (the real core over virtual clocks and a
/// veth-like virtual link) and print its summary table.
///
/// # Errors
/// When the embedded scenario does not run.
pub fn run_simulated_lab(out: &mut dyn Write) -> Result<(), String> {
    let sc = statime_sim::Scenario::parse(SIM_SCENARIO, Path::new("lab-veth-sw.toml"), "lab")
        .map_err(|e| e.to_string())?;
    let report = statime_sim::run_scenario(&sc, &[], 1).map_err(|e| e.to_string())?;
    let _ = writeln!(
        out,
        "lab (simulated): grandmaster and slave over a veth-like link, software time stamps, \
         8 Sync/s; the slave starts +1 ms and +50 ppm off"
    );
    let _ = write!(
        out,
        "{}",
        statime_sim::report::summary_table(std::slice::from_ref(&report))
    );
    Ok(())
}

/// `statime-ctl lab`: the namespace lab as root, else the simulated one.
pub fn lab(seconds: u32, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
    if !can_run_namespaces() {
        let _ = writeln!(
            err,
            "statime-ctl lab: network namespaces need root (CAP_SYS_ADMIN) and iproute2 (`ip`); \
             running the same lab in the simulator instead"
        );
        return match run_simulated_lab(out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(err, "statime-ctl lab: {e}");
                ExitCode::from(1)
            }
        };
    }
    match run_namespace_lab(seconds, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "statime-ctl lab: {e}");
            ExitCode::from(1)
        }
    }
}
