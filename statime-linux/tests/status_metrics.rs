//! The control plane end to end: a grandmaster daemon and a slave daemon in
//! two network namespaces; the slave serves its JSON status socket and its
//! Prometheus endpoint. `statime-ctl status` (human, `--json`, `--follow`)
//! reads the socket; a scrape of `/metrics` is checked name by name against
//! a snapshot taken around it.
//!
//! Safety: both daemons steer virtual clocks only; all traffic stays on a
//! veth pair between two namespaces created here and deleted on drop.
//!
//! Needs root and `ip`. In CI (`CI` set) a missing one is a failure;
//! elsewhere the test prints why it skips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

fn ready() -> bool {
    let have_ip = Command::new("ip").arg("-V").output().is_ok();
    let missing = if !is_root() {
        Some("root (network namespaces)")
    } else if !have_ip {
        Some("`ip` (iproute2)")
    } else {
        None
    };
    match missing {
        Some(what) if in_ci() => panic!("status_metrics needs {what}"),
        Some(what) => {
            eprintln!("skipping status_metrics: needs {what}");
            false
        }
        None => true,
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; deleted on drop.
struct Net {
    ns: [String; 2],
    iface: [String; 2],
    dir: PathBuf,
}

impl Net {
    fn new() -> Self {
        let id = std::process::id();
        let net = Self {
            ns: [format!("sstat{id}a"), format!("sstat{id}b")],
            iface: [format!("sst{id}a"), format!("sst{id}b")],
            dir: std::env::temp_dir().join(format!("statime-status-{id}")),
        };
        let _ = std::fs::remove_dir_all(&net.dir);
        std::fs::create_dir_all(&net.dir).expect("temp dir");
        for ns in &net.ns {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        let [a, b] = &net.iface;
        ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
        for (i, (ns, iface)) in net.ns.iter().zip(&net.iface).enumerate() {
            ip(&["link", "set", iface, "netns", ns]);
            let mac = format!("02:00:5e:00:54:0{}", i + 1);
            ip(&["-n", ns, "link", "set", iface, "address", &mac]);
            let addr = format!("192.0.2.{}/24", i + 1);
            ip(&["-n", ns, "addr", "add", &addr, "dev", iface]);
            ip(&["-n", ns, "link", "set", iface, "up"]);
        }
        net
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A daemon, killed on drop.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(net: &Net, which: usize, toml: &str) -> Self {
        let cfg = net.dir.join(format!("statime{which}.toml"));
        std::fs::write(&cfg, toml).expect("write config");
        let log = net.dir.join(format!("statime{which}.log"));
        let out = std::fs::File::create(&log).expect("log");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &net.ns[which],
                env!("CARGO_BIN_EXE_statime"),
            ])
            .args(["-c", &cfg.display().to_string(), "--duration", "90s"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start statime");
        Self { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM and wait up to 5 s for a clean exit.
    fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const GM_IDENTITY: &str = "02005e.fffe.005401";
const SLAVE_IDENTITY: &str = "02005e.fffe.005402";
const METRICS_PORT: u16 = 9975;

fn config(iface: &str, extra: &str, clock: &str, observability: &str) -> String {
    format!(
        "domain = 0\n\
         {extra}\n\
         [[port]]\n\
         interface = \"{iface}\"\n\
         transport = \"udp-ipv4\"\n\
         delay-mechanism = \"E2E\"\n\
         timestamping = \"software\"\n\
         announce-interval = -2\n\
         announce-receipt-timeout = 3\n\
         sync-interval = -3\n\
         delay-interval = -3\n\
         \n\
         [clock]\n\
         kind = \"virtual\"\n\
         {clock}\n\
         \n\
         [logging]\n\
         level = \"info\"\n\
         stdout = true\n\
         syslog = false\n\
         \n\
         [observability]\n\
         {observability}\n"
    )
}

fn ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run statime-ctl")
}

fn snapshot(socket: &Path) -> Option<Value> {
    let o = ctl(&["status", "--json", "-s", &socket.display().to_string()]);
    if !o.status.success() {
        return None;
    }
    serde_json::from_slice(&o.stdout).ok()
}

/// `GET path` against the slave's metrics endpoint, from inside its
/// namespace (bash's /dev/tcp: no HTTP client needed).
fn http_get(ns: &str, path: &str) -> String {
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{METRICS_PORT} && \
         printf 'GET {path} HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && cat <&3"
    );
    let o = Command::new("ip")
        .args(["netns", "exec", ns, "bash", "-c", &script])
        .output()
        .expect("run bash");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The value of the sample whose name and labels start with `selector`.
fn metric(text: &str, selector: &str) -> Option<f64> {
    statime_linux::observe::metrics::sample_value(text, selector)
}

fn f(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} in {v:#}"))
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {v:#}"))
}

#[test]
fn status_socket_ctl_and_metrics_show_the_daemon_state() {
    if !ready() {
        return;
    }
    let net = Net::new();
    let socket = net.dir.join("status.sock");
    let sock = socket.display().to_string();
    let _gm = Daemon::start(&net, 0, &config(&net.iface[0], "priority1 = 10", "", ""));
    let slave_toml = config(
        &net.iface[1],
        "slave-only = true",
        "initial-offset = \"+200us\"\nfrequency-error = 20.0",
        &format!(
            "status-socket = \"{sock}\"\n\
             status-socket-permissions = 0o640\n\
             metrics-listen = \"127.0.0.1:{METRICS_PORT}\""
        ),
    );
    let slave_cfg = net.dir.join("statime1.toml");
    let mut slave = Daemon::start(&net, 1, &slave_toml);

    // Until the slave's servo locks onto the grandmaster.
    let deadline = Instant::now() + Duration::from_secs(45);
    let locked = loop {
        if let Some(v) = snapshot(&socket)
            && v.pointer("/servo/state")
                .and_then(Value::as_str)
                .is_some_and(|st| st.starts_with("locked"))
            && v.pointer("/ports/0/state").and_then(Value::as_str) == Some("SLAVE")
        {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "slave never locked; last status: {:?}\nslave log:\n{}",
            snapshot(&socket),
            slave.log()
        );
        thread::sleep(Duration::from_millis(300));
    };
    let mode = std::fs::metadata(&socket).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    assert_eq!(mode.ok(), Some(0o640), "status socket permissions");

    // The JSON snapshot: versioned, the right identities, the servo's figures.
    assert_eq!(f(&locked, "/version"), 1.0);
    assert_eq!(s(&locked, "/clock/identity"), SLAVE_IDENTITY);
    assert_eq!(s(&locked, "/clock/kind"), "virtual");
    assert_eq!(s(&locked, "/parent/grandmaster_identity"), GM_IDENTITY);
    assert_eq!(
        s(&locked, "/parent/parent_port_identity"),
        format!("{GM_IDENTITY}-1")
    );
    assert_eq!(f(&locked, "/parent/grandmaster_priority1"), 10.0);
    assert_eq!(f(&locked, "/current/steps_removed"), 1.0);
    assert_eq!(s(&locked, "/ports/0/interface"), net.iface[1]);
    assert_eq!(s(&locked, "/ports/0/delay_mechanism"), "E2E");
    assert!(f(&locked, "/ports/0/counters/rx/sync") > 10.0, "{locked:#}");
    assert!(
        f(&locked, "/ports/0/counters/tx/delay_req") > 1.0,
        "{locked:#}"
    );
    assert!(f(&locked, "/servo/samples") > 5.0);
    let offset = f(&locked, "/servo/offset_s");
    assert!(offset.abs() < 100e-6, "offset {offset}");
    let true_error = f(&locked, "/true_error_s");
    assert!(true_error.abs() < 100e-6, "true error {true_error}");
    assert_eq!(s(&locked, "/overlay/status"), "disabled");

    // The human summary shows the same state.
    let human = ctl(&["status", "-s", &sock]);
    assert!(human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("clock      {SLAVE_IDENTITY} (virtual)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("grandmaster {GM_IDENTITY} class 248 priority1 10")),
        "{text}"
    );
    assert!(text.contains("servo      locked"), "{text}");
    assert!(
        text.contains(&format!("{} SLAVE E2E", net.iface[1])),
        "{text}"
    );
    // `-c CONFIG` finds the socket through the daemon's configuration.
    let by_config = ctl(&["status", "-c", &slave_cfg.display().to_string()]);
    assert!(
        by_config.status.success(),
        "{}",
        String::from_utf8_lossy(&by_config.stderr)
    );

    // A scrape between two snapshots with the same sample count shows that
    // sample's values exactly.
    let mut checked = false;
    for _ in 0..20 {
        let before = snapshot(&socket).expect("status");
        let response = http_get(&net.ns[1], "/metrics");
        let after = snapshot(&socket).expect("status");
        if f(&before, "/servo/samples") != f(&after, "/servo/samples") {
            continue;
        }
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("Content-Type: application/openmetrics-text"),
            "{response}"
        );
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        let m = |sel: &str| metric(body, sel).unwrap_or_else(|| panic!("{sel} in\n{body}"));
        assert_eq!(
            m("statime_offset_from_master_seconds"),
            f(&before, "/servo/offset_s")
        );
        assert_eq!(
            m("statime_mean_path_delay_seconds"),
            f(&before, "/servo/path_delay_s")
        );
        let ratio = m("statime_frequency_adjustment_ratio");
        let ppb = f(&before, "/servo/frequency_ppb");
        assert!(
            (ratio - ppb * 1e-9).abs() <= 1e-12 * ppb.abs().max(1.0),
            "{ratio} {ppb}"
        );
        assert_eq!(m("statime_steps_removed"), 1.0);
        assert_eq!(
            m("statime_servo_samples_total"),
            f(&before, "/servo/samples")
        );
        let port = format!("port=\"1\",interface=\"{}\"", net.iface[1]);
        assert_eq!(
            m(&format!("statime_port_state{{{port},state=\"SLAVE\"}}")),
            9.0
        );
        // Counters lie between the two snapshots.
        for (metric_sel, pointer) in [
            (
                format!("statime_messages_received_total{{{port},message_type=\"sync\"}}"),
                "/ports/0/counters/rx/sync",
            ),
            (
                format!("statime_messages_sent_total{{{port},message_type=\"delay_req\"}}"),
                "/ports/0/counters/tx/delay_req",
            ),
            (
                format!("statime_messages_malformed_total{{{port}}}"),
                "/ports/0/counters/malformed",
            ),
            (
                format!("statime_tx_timestamp_timeouts_total{{{port}}}"),
                "/ports/0/counters/tx_timestamp_timeouts",
            ),
        ] {
            let v = m(&metric_sel);
            assert!(
                f(&before, pointer) <= v && v <= f(&after, pointer),
                "{metric_sel} = {v}, snapshots {} .. {}",
                f(&before, pointer),
                f(&after, pointer)
            );
        }
        assert!(
            body.contains(&format!(
                "statime_grandmaster_info{{grandmaster_identity=\"{GM_IDENTITY}\""
            )),
            "{body}"
        );
        assert!(body.contains("clock_class=\"248\""), "{body}");
        assert!(body.trim_end().ends_with("# EOF"));
        checked = true;
        break;
    }
    assert!(checked, "never got a scrape between two equal snapshots");
    let missing = http_get(&net.ns[1], "/nothing");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    // --follow streams one JSON line per update.
    let mut follow = Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(["status", "--json", "--follow", "-s", &sock])
        .stdout(Stdio::piped())
        .spawn()
        .expect("statime-ctl status --follow");
    let stdout = follow.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut times = Vec::new();
    for _ in 0..4 {
        let line = lines.next().expect("a line").expect("read");
        let v: Value = serde_json::from_str(&line).expect("JSON line");
        times.push(f(&v, "/monotonic_s"));
    }
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]) && times[3] > times[0],
        "{times:?}"
    );

    // A clean stop removes the socket; then ctl says what is wrong.
    assert!(slave.stop(), "slave did not stop on SIGTERM");
    assert!(!socket.exists(), "status socket left behind");
    let gone = ctl(&["status", "-s", &sock]);
    assert_eq!(gone.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(
        err.contains("cannot connect") && err.contains("status-socket"),
        "{err}"
    );
}
