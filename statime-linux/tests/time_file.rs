//! The published time (`[observability] time-file`): a slave daemon in a
//! network namespace, following a grandmaster whose virtual clock keeps
//! CLOCK_REALTIME, publishes `{earliest, latest}`; every read must contain
//! CLOCK_REALTIME (the true time here) and say Synchronized once locked.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

struct Guard {
    ns: Vec<String>,
    children: Vec<Child>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn ip(args: &[&str]) {
    let ok = Command::new("ip")
        .args(args)
        .status()
        .expect("ip runs")
        .success();
    assert!(ok, "ip {args:?}");
}

fn realtime_ns() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(d.as_nanos()).unwrap()
}

#[test]
fn published_interval_contains_realtime() {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root: this test must run"
        );
        eprintln!("skipped: needs root for network namespaces");
        return;
    }
    let tag = std::process::id();
    let (a, b) = (format!("stf-{tag}-a"), format!("stf-{tag}-b"));
    let mut g = Guard {
        ns: Vec::new(),
        children: Vec::new(),
    };
    for n in [&a, &b] {
        ip(&["netns", "add", n]);
        g.ns.push(n.clone());
    }
    ip(&[
        "-n", &a, "link", "add", "tfa", "type", "veth", "peer", "name", "tfb", "netns", &b,
    ]);
    for (n, dev, mac, addr) in [
        (&a, "tfa", "00:00:5e:00:53:1a", "192.0.2.20/24"),
        (&b, "tfb", "00:00:5e:00:53:1b", "192.0.2.21/24"),
    ] {
        ip(&["-n", n, "link", "set", dev, "address", mac]);
        ip(&["-n", n, "addr", "add", addr, "dev", dev]);
        ip(&["-n", n, "link", "set", dev, "up"]);
    }
    let dir = std::env::temp_dir().join(format!("stf-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let common = "timestamping = \"software\"\nannounce-interval = 0\nsync-interval = -3\ndelay-interval = -3\n";
    let gm = format!(
        "priority1 = 10\n[[port]]\ninterface = \"tfa\"\n{common}[clock]\nkind = \"virtual\"\n"
    );
    let file = dir.join("time");
    let slave = format!(
        "slave-only = true\n[[port]]\ninterface = \"tfb\"\n{common}[clock]\nkind = \"virtual\"\n\
         initial-offset = \"+1ms\"\nfrequency-error = 50.0\n[observability]\ntime-file = \"{}\"\n",
        file.display()
    );
    std::fs::write(dir.join("gm.toml"), gm).unwrap();
    std::fs::write(dir.join("slave.toml"), slave).unwrap();
    for (n, cfg) in [(&a, "gm.toml"), (&b, "slave.toml")] {
        let child = Command::new("ip")
            .args(["netns", "exec", n])
            .arg(env!("CARGO_BIN_EXE_statime"))
            .arg("-c")
            .arg(dir.join(cfg))
            .arg("--duration")
            .arg("40s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        g.children.push(child);
    }
    std::thread::sleep(Duration::from_secs(14));
    let client = bft_overlay::shm::Client::open(&file).expect("the daemon created the time file");
    let mut widths = Vec::new();
    for _ in 0..40 {
        let before = realtime_ns();
        let t = client.now().expect("readable");
        let after = realtime_ns();
        assert_eq!(t.status, bft_overlay::shm::Status::Synchronized);
        assert!(
            t.earliest <= after && t.latest >= before,
            "[{}, {}] misses CLOCK_REALTIME [{before}, {after}]",
            t.earliest,
            t.latest
        );
        widths.push((i128::from(t.latest) - i128::from(t.earliest)) / 2);
        std::thread::sleep(Duration::from_millis(100));
    }
    widths.sort_unstable();
    println!(
        "time file: 40 reads contain CLOCK_REALTIME; half-width median {} ns, max {} ns",
        widths[20], widths[39]
    );
    // statime-ctl now reads it too.
    let out = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .arg("now")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("status Synchronized"));
    let _ = std::fs::remove_dir_all(&dir);
}
