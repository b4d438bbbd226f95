//! The power profiles (`profile = "c37.238-2017"`, IEEE C37.238-2017 over
//! IEC/IEEE 61850-9-3) between real processes in a pair of network
//! namespaces: our grandmaster (observe-only system clock) and ptp4l 3.1.1
//! as slave configured the 61850-9-3 way (L2, peer delay, one message per
//! second; `free_running 1`, no CAP_SYS_TIME). Both in domain 0: ptp4l
//! 3.1.1 refuses C37.238's domain 254 (its range ends at 127). tshark
//! decodes the grandmaster's Announces on the slave's side: Ethernet,
//! and the C37.238-2017 TLV with the configured grandmasterID and
//! totalTimeInaccuracy (Wireshark's own dissector reads the fields, so a
//! layout error shows). ptp4l 3.1.1 predates the power profile TLV and
//! ignores it: it must still select our grandmaster and measure it.
//!
//! Needs root, iproute2, setpriv, linuxptp and tshark (CI installs them).

#[allow(dead_code)]
mod interop;

use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use interop::lab::Lab;
use interop::procs;
use interop::{environment_ready, figures};

const PTP4L_61850: &str = "[global]\n\
    free_running 1\n\
    time_stamping software\n\
    use_syslog 0\n\
    verbose 1\n\
    logging_level 6\n\
    summary_interval 0\n\
    tx_timestamp_timeout 20\n\
    network_transport L2\n\
    delay_mechanism P2P\n\
    domainNumber 0\n\
    logAnnounceInterval 0\n\
    logSyncInterval 0\n\
    logMinPdelayReqInterval 0\n\
    slaveOnly 1\n";

#[test]
fn c37_238_grandmaster_seen_by_ptp4l_and_tshark() {
    if !environment_ready() {
        return;
    }
    if Command::new("tshark").arg("-v").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "tshark is missing");
        eprintln!("skipping: tshark is missing (apt-get install tshark)");
        return;
    }
    let lab = Lab::pair("c37238");
    let (gm_node, sl_node) = (lab.node(0), lab.node(1));
    let toml = format!(
        "profile = \"c37.238-2017\"\ndomain = 0\npriority1 = 100\n\n[power-profile]\ngrandmaster-id = 3\n\
         total-time-inaccuracy = \"250ns\"\n\n\
         [[alternate-timescale]]\nkey = 1\nname = \"CET\"\ncurrent-offset = 3600\n\
         jump-seconds = 3600\ntime-of-next-jump = 1774746037\n\n[[port]]\ninterface = \"{}\"\n\
         timestamping = \"software\"\n\n[clock]\nkind = \"system\"\nobserve-only = true\n\n\
         [logging]\nlevel = \"info\"\nformat = \"ptp4l\"\nstdout = true\nsyslog = false\n",
        gm_node.iface
    );
    let mut gm = procs::statime(&lab, gm_node, "gm", &toml, "40s");
    let mut sl = procs::ptp4l(&lab, sl_node, "sl", PTP4L_61850);
    let pcap = lab.dir.join("sl.pcap").display().to_string();
    let capture = Command::new("ip")
        .args(["netns", "exec", &sl_node.ns, "tshark", "-q", "-n", "-i"])
        .arg(&sl_node.iface)
        .args(["-a", "duration:15", "-w", &pcap])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tshark");
    assert!(capture.wait_with_output().expect("tshark").status.success());
    thread::sleep(Duration::from_secs(15));
    sl.proc.stop();
    let _ = gm.wait(Duration::from_secs(30));
    let slog = sl.proc.log();
    let ctx = || {
        format!(
            "\nptp4l:\n{}\nours:\n{}",
            procs::tail(&slog, 20),
            procs::tail(&gm.log(), 10)
        )
    };
    assert_eq!(
        interop::logs::last_best_master(&slog).as_deref(),
        Some(gm_node.clock_identity().as_str()),
        "ptp4l did not select us{}",
        ctx()
    );
    let samples = interop::logs::samples(&slog);
    assert!(
        samples.len() >= 5,
        "ptp4l measured {} samples{}",
        samples.len(),
        ctx()
    );

    let out = Command::new("tshark")
        .args(["-r", &pcap, "-n", "-Y", "ptp.v2.messagetype == 0x0b"])
        .args(["-T", "fields", "-E", "separator=|"])
        .args(["-e", "eth.type", "-e", "ptp.v2.domainnumber"])
        .args([
            "-e",
            "ptp.v2.an.oe.organizationId",
            "-e",
            "ptp.v2.an.oe.grandmasterID",
        ])
        .args(["-e", "ptp.v2.an.oe.totalTimeInaccuracy"])
        .args([
            "-e",
            "ptp.v2.an.atoi.keyField",
            "-e",
            "ptp.v2.an.atoi.currentOffset",
        ])
        .args([
            "-e",
            "ptp.v2.an.atoi.jumpSeconds",
            "-e",
            "ptp.v2.an.atoi.timeOfNextJump",
        ])
        .args(["-e", "ptp.v2.an.atoi.displayName"])
        .stdin(Stdio::null())
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark -r {pcap}");
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split('|').collect::<Vec<_>>())
        .collect();
    assert!(
        rows.len() >= 5,
        "only {} Announces captured{}",
        rows.len(),
        ctx()
    );
    for r in &rows {
        assert_eq!(r.first().copied(), Some("0x88f7"), "{r:?}");
        assert_eq!(r.get(1).copied(), Some("0"), "{r:?}");
        let oui = r.get(2).copied().unwrap_or_default().to_ascii_lowercase();
        // tshark prints the OUI as a number: 0x1C129D is 1839773.
        assert!(
            oui == "1839773" || oui.contains("1c129d"),
            "organizationId {oui} in {r:?}"
        );
        let gm_id = r.get(3).copied().unwrap_or_default();
        assert!(
            gm_id == "3" || gm_id == "0x0003",
            "grandmasterID {gm_id} in {r:?}"
        );
        assert_eq!(
            r.get(4).copied(),
            Some("250"),
            "totalTimeInaccuracy in {r:?}"
        );
        // The ALTERNATE_TIME_OFFSET_INDICATOR TLV (clause 16.3) as tshark
        // decodes it.
        // tshark prints timeOfNextJump as its six octets in hex and the
        // displayName twice (the text and its PTPText field).
        assert_eq!(
            r.get(5..8).map(<[&str]>::to_vec),
            Some(vec!["1", "3600", "3600"]),
            "ATOI key and offsets in {r:?}"
        );
        let jump = r.get(8).and_then(|h| u64::from_str_radix(h, 16).ok());
        assert_eq!(jump, Some(1_774_746_037), "ATOI timeOfNextJump in {r:?}");
        assert_eq!(
            r.get(9).and_then(|n| n.split(',').next()),
            Some("CET"),
            "ATOI displayName in {r:?}"
        );
    }
    figures(&format!(
        "C37.238-2017: ptp4l (61850-9-3 settings) selects our grandmaster and measures {} samples; \
         {} Announces decoded by tshark with grandmasterID 3, totalTimeInaccuracy 250 ns and the \
         ATOI TLV (key 1, CET, +3600 s, jump +3600 s); ptp4l 3.1.1 takes them",
        samples.len(),
        rows.len()
    ));
}
