//! tshark agrees with us.
//!
//! Every message type and every TLV statime can emit is written, in a
//! plausible carrier and with varied header fields, into a classic pcap
//! file (UDPv4, UDPv6 and IEEE 802.3 encapsulations, checksums computed),
//! and the file is decoded by tshark (Wireshark 4.0 in CI; `.ci/run`
//! installs it from Debian). The test checks that
//!
//! 1. tshark dissects every frame as PTP, reports no malformed packet and
//!    no expert item of severity error (with IP and UDP checksum
//!    validation turned on), and
//! 2. the fields tshark decodes equal what we emitted: the whole common
//!    header (message type, lengths, versions, sdoId, domain, flags both
//!    as a whole and bit by bit, correction nanoseconds and fraction,
//!    source port identity, sequence id, controlField, logMessageInterval),
//!    the body of every message type (timestamps, port identities,
//!    Announce's grandmaster data set, management target and action), and
//!    every TLV's type and length plus the value fields tshark decodes.
//!
//! Expected values are computed from the structs the messages were
//! emitted from. For every field the test asks for, a frame must show
//! exactly the expected occurrences, in order, and none where nothing is
//! expected. Where tshark 4.0 decodes a field differently from IEEE
//! 1588-2019, the comparison says so in a comment at that field.
//!
//! If tshark is not installed the test fails: CI must run it. Set
//! `STATIME_TSHARK_KEEP=1` to keep the pcap and print its path.

#[path = "tshark/cases.rs"]
mod cases;
#[path = "tshark/expect.rs"]
mod expect;
#[path = "tshark/management.rs"]
mod management;
#[path = "tshark/pcap.rs"]
mod pcap;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use statime::wire::{Message, MessageType};

/// Expert severities (epan/proto.h, PI_SEVERITY_MASK values).
const PI_ERROR: u32 = 0x0080_0000;

/// Separates occurrences of one field within a `-T fields` column.
const AGGREGATOR: &str = "|";

fn tshark() -> Command {
    let mut c = Command::new("tshark");
    // Validate checksums so that a wrong IP or UDP checksum is an expert
    // error; keep the PTP analysis (Sync/Follow_Up matching) off so the
    // result does not depend on which messages sit next to each other.
    c.args([
        "-n",
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "ptp.analyze_ptp_messages:FALSE",
    ]);
    c
}

fn tshark_version() -> String {
    match tshark().arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        Ok(out) => panic!(
            "tshark --version failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "tshark not found ({e}): install it with `apt-get install tshark`; .ci/run does this"
        ),
    }
}

/// A scratch directory, removed on drop unless `STATIME_TSHARK_KEEP` is set.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("statime-tshark-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch directory");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("STATIME_TSHARK_KEEP").is_some() {
            eprintln!("keeping {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Run tshark over `pcap` and return one row per frame, one column per
/// field, each column split into its occurrences.
fn decode(pcap: &Path, fields: &[String]) -> Vec<Vec<Vec<String>>> {
    let mut c = tshark();
    c.arg("-r").arg(pcap).args([
        "-T",
        "fields",
        "-E",
        "header=n",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        &format!("aggregator={AGGREGATOR}"),
    ]);
    for f in fields {
        c.args(["-e", f]);
    }
    let out = c.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("tshark prints UTF-8");
    text.lines()
        .map(|line| {
            let cols: Vec<Vec<String>> = line
                .split('\t')
                .map(|col| {
                    if col.is_empty() {
                        Vec::new()
                    } else {
                        col.split(AGGREGATOR).map(str::to_owned).collect()
                    }
                })
                .collect();
            assert_eq!(cols.len(), fields.len(), "column count of {line:?}");
            cols
        })
        .collect()
}

/// Frames a display filter selects.
fn select(pcap: &Path, filter: &str) -> Vec<String> {
    let out = tshark()
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark -Y {filter:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Frames with a malformed packet or an expert item of severity error.
fn malformed_or_error(pcap: &Path) -> Vec<String> {
    select(
        pcap,
        &format!("_ws.malformed || _ws.expert.severity >= {PI_ERROR:#x}"),
    )
}

/// The check of (a) is not vacuous: tshark does flag a wrong UDP checksum
/// (over IPv4 and IPv6) and a PTP message cut short, and the filter above
/// selects exactly those frames.
#[test]
fn tshark_flags_broken_frames() {
    let _ = tshark_version();
    let ptp = &cases::all()[0].ptp;
    let good = pcap::frame(pcap::Transport::Udp4, true, false, ptp);
    let mut bad_v4 = good.clone();
    bad_v4[14 + 20 + 6] ^= 0x01; // UDP checksum
    let mut bad_v6 = pcap::frame(pcap::Transport::Udp6, true, false, ptp);
    bad_v6[14 + 40 + 6] ^= 0x01;
    let cut = pcap::frame(pcap::Transport::L2, true, false, &ptp[..40]);
    let scratch = Scratch::new();
    let path = scratch.0.join("broken.pcap");
    std::fs::write(&path, pcap::file(&[good, bad_v4, bad_v6, cut])).expect("write pcap");
    assert_eq!(malformed_or_error(&path), ["2", "3", "4"]);
}

#[test]
fn tshark_decodes_what_we_emit() {
    let version = tshark_version();
    let started = std::time::Instant::now();

    let cases = cases::all();
    let frames: Vec<Vec<u8>> = cases
        .iter()
        .map(|c| {
            // Our own parser must accept what we emitted, too.
            let m = Message::parse(&c.ptp).unwrap_or_else(|e| panic!("{}: parse: {e}", c.name));
            let t = m.header.message_type;
            let event = t.is_event();
            let peer = matches!(
                t,
                MessageType::PdelayReq | MessageType::PdelayResp | MessageType::PdelayRespFollowUp
            );
            pcap::frame(c.transport, event, peer, &c.ptp)
        })
        .collect();
    let scratch = Scratch::new();
    let path = scratch.0.join("statime.pcap");
    std::fs::write(&path, pcap::file(&frames)).expect("write pcap");

    // (a) Nothing malformed, no expert error, everything is PTP.
    let bad = malformed_or_error(&path);
    assert!(
        bad.is_empty(),
        "tshark reports malformed packets or expert errors in frames {bad:?}"
    );
    assert!(
        select(&path, "!ptp").is_empty(),
        "frames tshark does not dissect as PTP"
    );

    // (b) Field by field.
    const META: [&str; 5] = [
        "frame.number",
        "frame.protocols",
        "_ws.malformed",
        "_ws.expert.severity",
        "_ws.expert.message",
    ];
    let asked: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.expect.0.keys().cloned())
        .collect();
    let fields: Vec<String> = META
        .iter()
        .map(|s| (*s).to_owned())
        .chain(asked.iter().cloned())
        .collect();
    let rows = decode(&path, &fields);
    assert_eq!(rows.len(), cases.len(), "one decoded row per frame");

    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for (i, (case, row)) in cases.iter().zip(&rows).enumerate() {
        let frame = i + 1;
        assert_eq!(row[0], [frame.to_string()], "frame numbers in order");
        let protocols = row[1].join("");
        if !protocols.ends_with(":ptp") {
            failures.push(format!(
                "frame {frame} ({}): protocols {protocols}",
                case.name
            ));
        }
        if !row[2].is_empty() {
            failures.push(format!("frame {frame} ({}): malformed", case.name));
        }
        for (severity, message) in row[3].iter().zip(&row[4]) {
            let s = severity.parse::<u32>().unwrap_or(u32::MAX);
            let line = format!("frame {frame} ({}): expert {s:#x}: {message}", case.name);
            if s >= PI_ERROR {
                failures.push(line);
            } else {
                warnings.push(line);
            }
        }
        for (field, got) in fields.iter().zip(row).skip(META.len()) {
            let want = case.expect.0.get(field).cloned().unwrap_or_default();
            if *got != want {
                failures.push(format!(
                    "frame {frame} ({}): {field}: tshark {got:?}, expected {want:?}",
                    case.name
                ));
            }
        }
    }
    for w in &warnings {
        eprintln!("{w}");
    }
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with {version}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} frames, {} fields checked against {version} in {:?}",
        cases.len(),
        asked.len(),
        started.elapsed()
    );
}
