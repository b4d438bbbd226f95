//! Each PTP profile chosen with `profile = "..."` on the wire: for
//! `default-e2e`, `default-p2p` (IEEE 1588-2019 annex I.3, I.4),
//! `smpte-2059-2` (SMPTE ST 2059-2) and `aes67` (AES67-2018 annex A), a
//! grandmaster and a slave of ours, both configured with the profile and
//! nothing else of PTP, run in a pair of network namespaces while `tshark`
//! captures on the slave's interface. The capture must show:
//!
//! - every UDP datagram to port 319/320 decodes as PTP, none malformed,
//!   no expert error;
//! - the profile's domain in every message;
//! - Announce, Sync, Follow_Up, Delay_Req and Delay_Resp sent to
//!   224.0.1.129, Pdelay messages to 224.0.0.107 (IEEE 1588-2019 annex
//!   C.3), and only the profile's delay mechanism;
//! - logMessageInterval as IEEE 1588-2019 table 42 asks: the profile's
//!   logAnnounceInterval in Announce, logSyncInterval in Sync and
//!   Follow_Up, logMinDelayReqInterval in Delay_Resp, 0x7F in Delay_Req and
//!   the Pdelay messages;
//! - no TLV in Announce (none of these profiles asks for one);
//! - under `smpte-2059-2`, the grandmaster's synchronization metadata
//!   (`[smpte-metadata]`): Management messages, actionField COMMAND, whose
//!   SMPTE TLV tshark's own dissector reads back with the configured frame
//!   rate, locking status, local offset and flags, about once a second;
//! - the measured Sync rate within 20% of 2^-logSyncInterval.
//!
//! And the slave locks. The four labs run in parallel (about 25 s).
//! Virtual clocks only; needs root, iproute2 and tshark (CI installs
//! them).

#[allow(dead_code)]
mod interop;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use interop::lab::Lab;
use interop::procs::statime;
use serde_json::Value;

/// What the capture must show for one profile.
struct Expect {
    profile: &'static str,
    /// Short lab tag (namespace names are short).
    tag: &'static str,
    domain: u8,
    announce: i8,
    sync: i8,
    /// logMinDelayReqInterval (E2E) or `None` for P2P.
    delay_req: Option<i8>,
}

const PROFILES: [Expect; 4] = [
    Expect {
        profile: "default-e2e",
        tag: "pe2e",
        domain: 0,
        announce: 1,
        sync: 0,
        delay_req: Some(0),
    },
    Expect {
        profile: "default-p2p",
        tag: "pp2p",
        domain: 0,
        announce: 1,
        sync: 0,
        delay_req: None,
    },
    Expect {
        profile: "smpte-2059-2",
        tag: "psmpte",
        domain: 127,
        announce: -2,
        sync: -3,
        delay_req: Some(-3),
    },
    Expect {
        profile: "aes67",
        tag: "paes",
        domain: 0,
        announce: 1,
        sync: -3,
        delay_req: Some(-3),
    },
];

const CAPTURE_SECONDS: u32 = 12;
const EVENT_GROUP: &str = "224.0.1.129";
const PDELAY_GROUP: &str = "224.0.0.107";

fn config(profile: &str, iface: &str, top: &str, clock: &str, socket: &str) -> String {
    format!(
        "profile = \"{profile}\"\n{top}\n\n\
         [[port]]\ninterface = \"{iface}\"\ntimestamping = \"software\"\n\n\
         [clock]\nkind = \"virtual\"\n{clock}\n\
         [logging]\nlevel = \"info\"\nstdout = true\nsyslog = false\n\n\
         [observability]\nstatus-socket = \"{socket}\"\n"
    )
}

/// One captured datagram to a PTP port, as tshark decoded it.
#[derive(Debug)]
struct Packet {
    time: f64,
    src: String,
    dst: String,
    protocols: String,
    message_type: Option<u8>,
    domain: Option<u8>,
    log_period: Option<i8>,
    announce_tlv: bool,
}

fn number<T: std::str::FromStr>(field: &str) -> Option<T> {
    let f = field.trim();
    if let Some(hex) = f.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16)
            .ok()
            .and_then(|v| v.to_string().parse().ok());
    }
    f.parse().ok()
}

fn read_capture(file: &str) -> (Vec<Packet>, usize) {
    let rows = interop::wire::fields(
        file,
        "udp.port == 319 || udp.port == 320",
        &[
            "frame.time_relative",
            "ip.src",
            "ip.dst",
            "frame.protocols",
            "ptp.v2.messagetype",
            "ptp.v2.domainnumber",
            "ptp.v2.logmessageperiod",
            "ptp.v2.an.tlvType",
        ],
    );
    let packets = rows
        .iter()
        .map(|r| {
            let f = |i: usize| r.get(i).map_or("", String::as_str);
            Packet {
                time: f(0).parse().unwrap_or(f64::NAN),
                src: f(1).to_owned(),
                dst: f(2).to_owned(),
                protocols: f(3).to_owned(),
                message_type: number(f(4)),
                domain: number(f(5)),
                log_period: number::<i64>(f(6)).and_then(|v| i8::try_from(v).ok()),
                announce_tlv: !f(7).is_empty(),
            }
        })
        .collect();
    let bad = interop::wire::fields(
        file,
        "_ws.malformed || _ws.expert.severity == error",
        &["frame.number"],
    )
    .len();
    (packets, bad)
}

fn type_name(t: u8) -> &'static str {
    match t {
        0x0 => "Sync",
        0x1 => "Delay_Req",
        0x2 => "Pdelay_Req",
        0x3 => "Pdelay_Resp",
        0x8 => "Follow_Up",
        0x9 => "Delay_Resp",
        0xA => "Pdelay_Resp_Follow_Up",
        0xB => "Announce",
        0xC => "Signaling",
        0xD => "Management",
        _ => "reserved",
    }
}

/// Runs one profile's lab; returns its line of figures, or panics with
/// what was wrong.
fn run(e: &Expect) -> String {
    let lab = Lab::pair(e.tag);
    let sock = |n: &str| lab.dir.join(format!("{n}.sock")).display().to_string();
    let (gm_sock, slave_sock) = (sock("gm"), sock("slave"));
    let (gm_node, slave_node) = (lab.node(0), lab.node(1));
    let mut gm_config = config(e.profile, &gm_node.iface, "priority1 = 10", "", &gm_sock);
    if e.profile == "smpte-2059-2" {
        gm_config.push_str(SMPTE_METADATA);
    }
    let mut gm = statime(&lab, gm_node, "gm", &gm_config, "60s");
    let mut slave = statime(
        &lab,
        slave_node,
        "slave",
        &config(
            e.profile,
            &slave_node.iface,
            "slave-only = true",
            "initial-offset = \"+200us\"\nfrequency-error = 10.0\n",
            &slave_sock,
        ),
        "60s",
    );
    let pcap = lab.dir.join("slave.pcap").display().to_string();
    let capture = Command::new("ip")
        .args(["netns", "exec", &slave_node.ns, "tshark", "-q", "-n", "-i"])
        .arg(&slave_node.iface)
        .args(["-a", &format!("duration:{CAPTURE_SECONDS}"), "-w", &pcap])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tshark");
    let start = Instant::now();

    // The slave locks (servo.state "locked" or "locked-stable").
    let deadline = start + Duration::from_secs(45);
    let locked_after = loop {
        if let Some(v) = interop::wire::status(&slave_sock)
            && v.pointer("/servo/state")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("locked"))
        {
            break start.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{}: the slave never locked\nslave:\n{}\ngm:\n{}",
            e.profile,
            slave.log(),
            gm.log()
        );
        thread::sleep(Duration::from_millis(250));
    };
    let out = capture.wait_with_output().expect("tshark ends");
    assert!(
        out.status.success(),
        "{}: tshark capture: {}",
        e.profile,
        String::from_utf8_lossy(&out.stderr)
    );
    let (packets, bad) = read_capture(&pcap);
    let ctx = || format!("{} ({} packets)", e.profile, packets.len());
    assert_eq!(bad, 0, "{}: malformed or expert errors in {pcap}", ctx());
    assert!(packets.len() > 10, "{}: too few PTP packets", ctx());

    let gm_ip = packets
        .iter()
        .find(|p| p.message_type == Some(0xB))
        .map(|p| p.src.clone())
        .unwrap_or_else(|| panic!("{}: no Announce", ctx()));
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut gm_syncs: Vec<f64> = Vec::new();
    for p in &packets {
        assert!(
            p.protocols.split(':').any(|l| l == "ptp"),
            "{}: not decoded as PTP: {p:?}",
            ctx()
        );
        let t = p
            .message_type
            .unwrap_or_else(|| panic!("{}: no messageType: {p:?}", ctx()));
        let name = type_name(t);
        *counts.entry(name).or_default() += 1;
        assert_eq!(p.domain, Some(e.domain), "{}: {name} domain: {p:?}", ctx());
        let pdelay = matches!(t, 0x2 | 0x3 | 0xA);
        let group = if pdelay { PDELAY_GROUP } else { EVENT_GROUP };
        assert_eq!(p.dst, group, "{}: {name} destination: {p:?}", ctx());
        assert!(!p.announce_tlv, "{}: a TLV in Announce: {p:?}", ctx());
        let period = match t {
            0xB => Some(e.announce),
            0x0 | 0x8 => Some(e.sync),
            0x9 => e.delay_req,
            0x1 | 0x2 | 0x3 | 0xA | 0xD => Some(0x7F),
            _ => None,
        };
        if let Some(want) = period {
            assert_eq!(
                p.log_period,
                Some(want),
                "{}: {name} logMessageInterval: {p:?}",
                ctx()
            );
        }
        match (t, e.delay_req) {
            (0x1 | 0x9, None) => panic!("{}: {name} under a P2P profile", ctx()),
            (0x2 | 0x3 | 0xA, Some(_)) => panic!("{}: {name} under an E2E profile", ctx()),
            _ => {}
        }
        if t == 0x0 && p.src == gm_ip {
            gm_syncs.push(p.time);
        }
    }
    let need: &[&str] = if e.delay_req.is_some() {
        &["Announce", "Sync", "Follow_Up", "Delay_Req", "Delay_Resp"]
    } else {
        &[
            "Announce",
            "Sync",
            "Follow_Up",
            "Pdelay_Req",
            "Pdelay_Resp",
            "Pdelay_Resp_Follow_Up",
        ]
    };
    for n in need {
        assert!(counts.contains_key(n), "{}: no {n}: {counts:?}", ctx());
    }
    assert!(gm_syncs.len() >= 5, "{}: {} Syncs", ctx(), gm_syncs.len());
    let span = gm_syncs[gm_syncs.len() - 1] - gm_syncs[0];
    #[allow(clippy::cast_precision_loss, reason = "a few hundred packets")]
    let rate = (gm_syncs.len() - 1) as f64 / span;
    let want = 2f64.powi(-i32::from(e.sync));
    assert!(
        (rate / want - 1.0).abs() <= 0.2,
        "{}: Sync rate {rate:.2}/s, want {want}/s",
        ctx()
    );
    let metadata = if e.profile == "smpte-2059-2" {
        // The slave shows what its grandmaster sent.
        let v =
            interop::wire::status(&slave_sock).unwrap_or_else(|| panic!("{}: no status", ctx()));
        let m = &v["smpte_metadata"];
        assert_eq!(m["frame_rate"], "30000/1001", "{}: {m}", ctx());
        assert_eq!(m["locking_status"], "locked", "{}: {m}", ctx());
        assert_eq!(m["current_local_offset"], 3600, "{}: {m}", ctx());
        assert_eq!(m["drop_frame"], true, "{}: {m}", ctx());
        assert!(
            m["age_s"].as_f64().is_some_and(|a| a < 3.0),
            "{}: {m}",
            ctx()
        );
        smpte_metadata_on_the_wire(&pcap, &gm_ip)
    } else {
        assert!(!counts.contains_key("Management"), "{}: {counts:?}", ctx());
        String::new()
    };
    gm.stop();
    slave.stop();
    format!(
        "profile {}: {} PTP packets decoded by tshark, 0 malformed, domain {}, {:?}; \
         Sync {rate:.2}/s (want {want}/s); slave locked after {:.1} s{metadata}",
        e.profile,
        packets.len(),
        e.domain,
        counts,
        locked_after.as_secs_f64()
    )
}

/// The SMPTE grandmaster's `[smpte-metadata]`: 29.97 Hz drop frame, locked,
/// CET with the switch to CEST ahead.
const SMPTE_METADATA: &str = "\n[smpte-metadata]\nenabled = true\nframe-rate = \"30000/1001\"\n\
    locking-status = \"locked\"\ndrop-frame = true\ncurrent-local-offset = 3600\n\
    jump-seconds = 3600\ntime-of-next-jump = 1774746037\ndaylight-saving-next = true\n";

/// The SMPTE metadata as tshark decodes it: from the grandmaster, about
/// once a second, with the values of [`SMPTE_METADATA`].
fn smpte_metadata_on_the_wire(pcap: &str, gm_ip: &str) -> String {
    let rows = interop::wire::fields(
        pcap,
        "ptp.v2.messagetype == 0xd",
        &[
            "ip.src",
            "ptp.v2.mm.action",
            "ptp.v2.oe.smpte.defaultsystemframerate.numerator",
            "ptp.v2.oe.smpte.defaultsystemframerate.denominator",
            "ptp.v2.oe.smpte.masterlockingstatus",
            "ptp.v2.oe.smpte.timeaddressflags.drop",
            "ptp.v2.oe.smpte.currentlocaloffset",
            "ptp.v2.oe.smpte.jumpseconds",
            "ptp.v2.oe.smpte.timeofnextjump",
            "ptp.v2.oe.smpte.daylightsaving.next",
        ],
    );
    #[allow(clippy::cast_possible_truncation, reason = "seconds of capture")]
    let want = CAPTURE_SECONDS as usize;
    assert!(
        rows.len() + 3 >= want && rows.len() <= want + 2,
        "{} SMPTE metadata messages in {CAPTURE_SECONDS} s: {rows:?}",
        rows.len()
    );
    let yes = |v: &str| v == "1" || v == "True";
    for r in &rows {
        let f = |i: usize| r.get(i).map_or("", String::as_str);
        assert_eq!(f(0), gm_ip, "from the grandmaster: {r:?}");
        assert!(matches!(f(1), "3" | "0x3" | "0x03"), "COMMAND: {r:?}");
        assert_eq!((f(2), f(3)), ("30000", "1001"), "frame rate: {r:?}");
        assert!(matches!(f(4), "4" | "0x04" | "0x4"), "locked: {r:?}");
        assert!(yes(f(5)), "drop frame: {r:?}");
        assert_eq!((f(6), f(7), f(8)), ("3600", "3600", "1774746037"), "{r:?}");
        assert!(yes(f(9)), "daylight saving after the jump: {r:?}");
    }
    format!(
        "; {} SMPTE ST 2059-2 metadata messages from the grandmaster, decoded by tshark \
         with the configured values",
        rows.len()
    )
}

#[test]
fn each_profile_on_the_wire_as_tshark_decodes_it() {
    if !interop::environment_ready() {
        return;
    }
    if Command::new("tshark").arg("-v").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "tshark is missing");
        eprintln!("skipping: tshark is missing (apt-get install tshark)");
        return;
    }
    let handles: Vec<_> = PROFILES
        .iter()
        .map(|e| thread::spawn(move || run(e)))
        .collect();
    let mut failures = Vec::new();
    for (h, e) in handles.into_iter().zip(PROFILES.iter()) {
        match h.join() {
            Ok(line) => interop::figures(&line),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {msg}", e.profile));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
