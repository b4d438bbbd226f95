//! The overlay with real processes (issue 8, "Real processes"): three
//! grandmaster daemons of ours in three PTP domains on one switched segment,
//! the one of domain 1 with a virtual clock 1 ms off true time; a slave daemon
//! in guarded mode measures all three. Domain 1 is the slave's own `domain`:
//! without the overlay it would follow that grandmaster. With it, domain 1 is
//! a falseticker, the clock follows the honest two, and every read of the
//! published time file contains CLOCK_REALTIME.
//!
//! Safety: every daemon steers a virtual clock only; the segment is a Linux
//! bridge in a namespace of its own joined to the four daemons' namespaces by
//! veth pairs, all created here and deleted on drop.
//!
//! Needs root and the tools of the interop harness (`tests/interop/`); in
//! CI (`CI` set) a missing one is a failure, elsewhere the test prints why
//! it skips.

#[allow(dead_code)]
mod interop;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use interop::lab::Lab;
use interop::procs::{Proc, statime};
use serde_json::Value;

fn port(iface: &str) -> String {
    format!(
        "[[port]]\n\
         interface = \"{iface}\"\n\
         transport = \"udp-ipv4\"\n\
         delay-mechanism = \"E2E\"\n\
         timestamping = \"software\"\n\
         announce-interval = -2\n\
         announce-receipt-timeout = 3\n\
         sync-interval = -3\n\
         delay-interval = -3\n"
    )
}

const LOGS: &str = "[logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n";

fn ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statime-ctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run statime-ctl")
}

fn status(socket: &str) -> Option<Value> {
    let o = ctl(&["status", "--json", "-s", socket]);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}

fn realtime_ns() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_nanos()).expect("fits")
}

fn source_state(v: &Value, name: &str) -> Option<String> {
    v.pointer("/overlay/sources")?
        .as_array()?
        .iter()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name))?
        .get("state")?
        .as_str()
        .map(str::to_owned)
}

#[test]
fn guarded_slave_refuses_a_grandmaster_one_millisecond_off() {
    if !interop::environment_ready() {
        return;
    }
    // Three grandmasters and the slave on one bridged segment.
    let lab = Lab::bridged("overlay", 4);
    // Grandmasters of domains 1 (the liar), 2 and 3.
    let mut daemons: Vec<Proc> = Vec::new();
    for (h, domain, clock) in [
        (0, 1, "initial-offset = \"+1ms\"\n"),
        (1, 2, ""),
        (2, 3, ""),
    ] {
        let toml = format!(
            "domain = {domain}\npriority1 = 10\n\n{}\n[clock]\nkind = \"virtual\"\n{clock}\n{LOGS}",
            port(&lab.node(h).iface)
        );
        daemons.push(statime(
            &lab,
            lab.node(h),
            &format!("gm{domain}"),
            &toml,
            "120s",
        ));
    }
    let socket = lab.dir.join("status.sock").display().to_string();
    let time_file = lab.dir.join("time");
    let slave = format!(
        "domain = 1\nslave-only = true\n\n{}\n\
         [clock]\nkind = \"virtual\"\ninitial-offset = \"+300us\"\nfrequency-error = 20.0\n\n\
         {LOGS}\n\
         [observability]\nstatus-socket = \"{socket}\"\ntime-file = \"{}\"\n\n\
         [overlay]\nmode = \"guarded\"\ndomains = [2, 3]\nfaults = 1\nmax-drift = 50.0\n",
        port(&lab.node(3).iface),
        time_file.display()
    );
    let slave = statime(&lab, lab.node(3), "slave", &slave, "120s");

    // Until the guard agrees, has condemned domain 1 and the servo locked
    // onto an honest grandmaster.
    // Every snapshot read is kept as JSON lines for `measure overlay`
    // (target/tmp/overlay-guarded-snapshots.jsonl).
    let mut trace = String::new();
    let mut record = |v: Option<Value>| {
        if let Some(v) = &v {
            trace.push_str(&v.to_string());
            trace.push('\n');
        }
        v
    };
    let deadline = Instant::now() + Duration::from_secs(45);
    let settled = loop {
        if let Some(v) = record(status(&socket))
            && v.pointer("/overlay/status").and_then(Value::as_str) == Some("agreement")
            && source_state(&v, "domain 1").as_deref() == Some("falseticker")
            && v.pointer("/servo/state")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("locked"))
        {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the guard never settled; status: {:#?}\nslave log:\n{}",
            status(&socket),
            slave.log()
        );
        thread::sleep(Duration::from_millis(500));
    };
    let selected = settled
        .pointer("/overlay/selected")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    assert!(
        selected == "domain 2" || selected == "domain 3",
        "follows {selected}: {settled:#}"
    );
    assert_eq!(
        source_state(&settled, "domain 2").as_deref(),
        Some("truechimer")
    );
    assert_eq!(
        source_state(&settled, "domain 3").as_deref(),
        Some("truechimer")
    );
    // The liar's interval sits about 1 ms ahead of the local clock.
    let liar_offset = settled
        .pointer("/overlay/sources")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|s| s["name"] == "domain 1"))
        .and_then(|s| s["offset_s"].as_f64())
        .unwrap_or_default();
    assert!(
        (liar_offset - 1e-3).abs() < 200e-6,
        "domain 1 offset {liar_offset}"
    );

    // For the next 12 s: the clock stays with the honest two, domain 1's
    // port stays UNCALIBRATED, and every read of the published time holds
    // CLOCK_REALTIME.
    let client = bft_overlay::shm::Client::open(&time_file).expect("the time file exists");
    let mut worst_error = 0f64;
    let mut switches = 0;
    let mut widths = Vec::new();
    let end = Instant::now() + Duration::from_secs(12);
    while Instant::now() < end {
        let v = record(status(&socket)).expect("status");
        let now_following = v.pointer("/overlay/selected").and_then(Value::as_str);
        assert!(
            matches!(now_following, Some("domain 2" | "domain 3")),
            "follows {now_following:?}: {v:#}"
        );
        switches = v
            .pointer("/overlay/switches")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        assert_eq!(source_state(&v, "domain 1").as_deref(), Some("falseticker"));
        let e = v
            .pointer("/true_error_s")
            .and_then(Value::as_f64)
            .expect("true error");
        worst_error = worst_error.max(e.abs());
        let liar_port = v
            .pointer("/ports")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|p| p["domain"] == 1))
            .and_then(|p| p["state"].as_str())
            .map(str::to_owned);
        assert_eq!(liar_port.as_deref(), Some("UNCALIBRATED"), "{v:#}");
        for _ in 0..5 {
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
            thread::sleep(Duration::from_millis(100));
        }
    }
    assert!(
        worst_error < 100e-6,
        "true error up to {worst_error} s while following honest grandmasters"
    );
    widths.sort_unstable();
    println!(
        "guarded: following {selected} first, {switches} switches in all; worst true error {:.1} us; published half-width median {} ns, max {} ns over {} reads",
        worst_error * 1e6,
        widths[widths.len() / 2],
        widths[widths.len() - 1],
        widths.len()
    );
    let trace_file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("overlay-guarded-snapshots.jsonl");
    if let Err(e) = std::fs::write(&trace_file, &trace) {
        println!(
            "guarded: could not keep the snapshots in {}: {e}",
            trace_file.display()
        );
    } else {
        println!("guarded: snapshots in {}", trace_file.display());
    }
    let now = ctl(&["now", &time_file.display().to_string()]);
    assert!(String::from_utf8_lossy(&now.stdout).contains("status Synchronized"));
    let log = slave.log();
    assert!(
        log.contains("overlay: domain 1 is a falseticker"),
        "slave log:\n{log}"
    );
    let human = ctl(&["status", "-s", &socket]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("domain 1 falseticker"), "{text}");
    let table = ctl(&["overlay", "-s", &socket]);
    let table = String::from_utf8_lossy(&table.stdout);
    let line = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("domain 1").contains("falseticker"), "{table}");
    assert!(!line("domain 1").contains("followed"), "{table}");
    assert!(
        line("domain 2").ends_with("<- followed") || line("domain 3").ends_with("<- followed"),
        "{table}"
    );
    assert!(table.contains("intersection ["), "{table}");
    println!("{table}");
    drop(daemons);
}
