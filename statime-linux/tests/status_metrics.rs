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

#[allow(dead_code)]
mod interop;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use interop::lab::Lab;
use interop::procs::statime;
use serde_json::Value;

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
    if !interop::environment_ready() {
        return;
    }
    let lab = Lab::pair("status");
    let (gm_node, slave_node) = (lab.node(0), lab.node(1));
    let gm_id = gm_node.clock_identity();
    let slave_id = slave_node.clock_identity();
    let socket = lab.dir.join("status.sock");
    let sock = socket.display().to_string();
    let toml = config(&gm_node.iface, "priority1 = 10", "", "");
    let _gm = statime(&lab, gm_node, "gm", &toml, "90s");
    let slave_toml = config(
        &slave_node.iface,
        "slave-only = true",
        "initial-offset = \"+200us\"\nfrequency-error = 20.0",
        &format!(
            "status-socket = \"{sock}\"\n\
             status-socket-permissions = 0o640\n\
             metrics-listen = \"127.0.0.1:{METRICS_PORT}\""
        ),
    );
    let slave_cfg = lab.dir.join("slave.toml");
    let mut slave = statime(&lab, slave_node, "slave", &slave_toml, "90s");

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
    assert_eq!(s(&locked, "/clock/identity"), slave_id);
    assert_eq!(s(&locked, "/clock/kind"), "virtual");
    assert_eq!(s(&locked, "/parent/grandmaster_identity"), gm_id);
    assert_eq!(
        s(&locked, "/parent/parent_port_identity"),
        format!("{gm_id}-1")
    );
    assert_eq!(f(&locked, "/parent/grandmaster_priority1"), 10.0);
    assert_eq!(f(&locked, "/current/steps_removed"), 1.0);
    assert_eq!(s(&locked, "/ports/0/interface"), slave_node.iface);
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
        text.contains(&format!("clock      {slave_id} (virtual)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("grandmaster {gm_id} class 248 priority1 10")),
        "{text}"
    );
    assert!(text.contains("servo      locked"), "{text}");
    assert!(
        text.contains(&format!("{} SLAVE E2E", slave_node.iface)),
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
        let response = http_get(&slave_node.ns, "/metrics");
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
        let port = format!("port=\"1\",interface=\"{}\"", slave_node.iface);
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
                "statime_grandmaster_info{{grandmaster_identity=\"{gm_id}\""
            )),
            "{body}"
        );
        assert!(body.contains("clock_class=\"248\""), "{body}");
        assert!(body.trim_end().ends_with("# EOF"));
        checked = true;
        break;
    }
    assert!(checked, "never got a scrape between two equal snapshots");
    let missing = http_get(&slave_node.ns, "/nothing");
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
    slave.stop();
    assert!(
        slave.wait(Duration::ZERO).is_some_and(|s| s.success()),
        "slave did not stop cleanly on SIGTERM:\n{}",
        slave.describe()
    );
    assert!(!socket.exists(), "status socket left behind");
    let gone = ctl(&["status", "-s", &sock]);
    assert_eq!(gone.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(
        err.contains("cannot connect") && err.contains("status-socket"),
        "{err}"
    );
}
