//! IEEE 802.1AS (gPTP, `profile = "gptp"`) against ptp4l 3.1.1 running
//! linuxptp's own `gPTP.cfg` (from the Debian package), in a pair of network
//! namespaces. Software time stamps; ptp4l with `free_running 1` and without
//! CAP_SYS_TIME; our daemon on a virtual clock. Both sides raise
//! neighborPropDelayThresh from 800 ns to 100 us: a veth with software time
//! stamps measures 1-2 us of peer delay, which 802.1AS would call a link
//! that is not asCapable (that gating is tested in `statime/tests/gptp.rs`).
//!
//! 1. **ptp4l gPTP grandmaster -> our gPTP slave**: our port reaches SLAVE
//!    and the virtual clock locks with a small true error; tshark shows
//!    every frame we send is 802.1AS-shaped: ethertype 0x88F7 to
//!    01-80-C2-00-00-0E, majorSdoId (transportSpecific) 1.
//! 2. **our gPTP grandmaster -> ptp4l gPTP slave**: ptp4l (slaveOnly)
//!    selects us, finds our Announce's PATH_TRACE and Follow_Up
//!    information TLV acceptable, and its `master offset` samples stay
//!    near zero (it measures CLOCK_REALTIME against CLOCK_REALTIME through
//!    our observe-only grandmaster).
//!
//! Needs root, iproute2, setpriv, linuxptp and tshark (CI installs them);
//! outside CI without root the tests print why they skip.

#[allow(dead_code)]
mod interop;

use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use interop::lab::{Lab, Node};
use interop::logs::{self, Stats};
use interop::procs;
use interop::{environment_ready, figures};

const GPTP_CFG: &str = "/usr/share/doc/linuxptp/configs/gPTP.cfg";

/// linuxptp's gPTP.cfg with what a test needs: never adjust a clock,
/// software stamps, logs on stdout with one line per sample, and a
/// threshold a software-stamped veth passes.
fn ptp4l_gptp(extra: &str) -> String {
    // The file ships with Debian's linuxptp; an image that leaves out
    // /usr/share/doc gets the same settings written here.
    let base = std::fs::read_to_string(GPTP_CFG).unwrap_or_else(|_| {
        "[global]\ngmCapable 1\npriority1 248\npriority2 248\nlogAnnounceInterval 0\n\
         logSyncInterval -3\nsyncReceiptTimeout 3\nneighborPropDelayThresh 800\n\
         min_neighbor_prop_delay -20000000\nassume_two_step 1\npath_trace_enabled 1\n\
         follow_up_info 1\ntransportSpecific 0x1\nptp_dst_mac 01:80:C2:00:00:0E\n\
         network_transport L2\ndelay_mechanism P2P\n"
            .to_owned()
    });
    format!(
        "{base}\n\
         free_running 1\n\
         time_stamping software\n\
         use_syslog 0\n\
         verbose 1\n\
         logging_level 6\n\
         summary_interval -3\n\
         freq_est_interval 0\n\
         tx_timestamp_timeout 20\n\
         neighborPropDelayThresh 100000\n\
         {extra}\n"
    )
}

fn ours(n: &Node, top: &str, clock: &str) -> String {
    format!(
        "profile = \"gptp\"\n{top}\n\n[[port]]\ninterface = \"{}\"\ntimestamping = \"software\"\n\
         neighbor-prop-delay-thresh = \"100us\"\n\n[clock]\n{clock}\n\n\
         [logging]\nlevel = \"info\"\nformat = \"ptp4l\"\nstdout = true\nsyslog = false\n\
         summary-interval = 0\n",
        n.iface
    )
}

fn tshark_ready() -> bool {
    if Command::new("tshark").arg("-v").output().is_ok() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "tshark is missing");
    eprintln!("skipping: tshark is missing (apt-get install tshark)");
    false
}

#[test]
fn ptp4l_gptp_grandmaster_our_gptp_slave() {
    if !environment_ready() || !tshark_ready() {
        return;
    }
    let lab = Lab::pair("gptp1");
    let (gm_node, our_node) = (lab.node(0), lab.node(1));
    let mut gm = procs::ptp4l(&lab, gm_node, "gm", &ptp4l_gptp("priority1 100"));
    let virtual_clock = "kind = \"virtual\"\ninitial-offset = \"+1ms\"\nfrequency-error = 50.0";
    let mut slave = procs::statime(
        &lab,
        our_node,
        "slave",
        &ours(our_node, "slave-only = true", virtual_clock),
        "45s",
    );
    thread::sleep(Duration::from_secs(10));
    let pcap = lab.dir.join("slave.pcap").display().to_string();
    let capture = Command::new("ip")
        .args(["netns", "exec", &our_node.ns, "tshark", "-q", "-n", "-i"])
        .arg(&our_node.iface)
        .args(["-a", "duration:12", "-w", &pcap])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tshark");
    assert!(capture.wait_with_output().expect("tshark").status.success());
    let _ = slave.wait(Duration::from_secs(60));
    gm.proc.stop();
    let log = slave.log();
    let ctx = || {
        format!(
            "\nours:\n{}\nptp4l:\n{}",
            procs::tail(&log, 30),
            procs::tail(&gm.proc.log(), 15)
        )
    };
    assert!(logs::reached(&log, "SLAVE"), "never SLAVE{}", ctx());
    let s = logs::run_summary(&log).unwrap_or_else(|| panic!("no summary{}", ctx()));
    assert!(s.locked_after.is_some(), "never locked{}", ctx());
    assert!(s.rms < 20_000.0, "true error rms {} ns{}", s.rms, ctx());

    // What we sent, as tshark decodes it.
    let out = Command::new("tshark")
        .args(["-r", &pcap, "-n", "-T", "fields", "-E", "separator=|"])
        .args(["-e", "eth.src", "-e", "eth.dst", "-e", "eth.type"])
        .args(["-e", "ptp.v2.majorsdoid", "-e", "ptp.v2.messagetype"])
        .stdin(Stdio::null())
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark -r {pcap}");
    let text = String::from_utf8_lossy(&out.stdout);
    let our_mac = our_node
        .mac
        .iter()
        .map(|o| format!("{o:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let mine: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split('|').collect::<Vec<_>>())
        .filter(|f| f.first() == Some(&our_mac.as_str()))
        .collect();
    assert!(
        mine.len() >= 10,
        "only {} frames from us{}",
        mine.len(),
        ctx()
    );
    for f in &mine {
        assert_eq!(f.get(1).copied(), Some("01:80:c2:00:00:0e"), "{f:?}");
        assert_eq!(f.get(2).copied(), Some("0x88f7"), "{f:?}");
        let ts = f.get(3).copied().unwrap_or_default();
        assert!(
            ts == "1" || ts == "0x1" || ts == "0x01",
            "majorSdoId {ts} in {f:?}"
        );
    }
    figures(&format!(
        "gPTP ptp4l gPTP.cfg grandmaster -> our gptp slave: locked after {:.1} s, true error rms {:.0} ns max {:.0} ns; \
         {} frames from us, all 01-80-C2-00-00-0E, transportSpecific 1",
        s.locked_after.unwrap_or(0.0),
        s.rms,
        s.max,
        mine.len()
    ));
}

#[test]
fn our_gptp_grandmaster_ptp4l_gptp_slave() {
    if !environment_ready() {
        return;
    }
    let lab = Lab::pair("gptp2");
    let (our_node, sl_node) = (lab.node(0), lab.node(1));
    let mut gm = procs::statime(
        &lab,
        our_node,
        "gm",
        &ours(
            our_node,
            "priority1 = 100",
            "kind = \"system\"\nobserve-only = true",
        ),
        "45s",
    );
    let mut sl = procs::ptp4l(&lab, sl_node, "sl", &ptp4l_gptp("slaveOnly 1"));
    thread::sleep(Duration::from_secs(35));
    sl.proc.stop();
    let _ = gm.wait(Duration::from_secs(30));
    let slog = sl.proc.log();
    let ctx = || {
        format!(
            "\nptp4l:\n{}\nours:\n{}",
            procs::tail(&slog, 30),
            procs::tail(&gm.log(), 15)
        )
    };
    let best = logs::last_best_master(&slog);
    assert_eq!(
        best.as_deref(),
        Some(our_node.clock_identity().as_str()),
        "ptp4l did not select us{}",
        ctx()
    );
    let samples = logs::samples(&slog);
    let first = samples.first().map_or(0.0, |x| x.t);
    let late: Vec<f64> = samples
        .iter()
        .filter(|x| x.t > first + 10.0)
        .map(|x| x.offset)
        .collect();
    assert!(late.len() >= 15, "only {} samples{}", late.len(), ctx());
    let mut sorted = late.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(
        median.abs() < 5_000.0,
        "master offset median {median:.0} ns{}",
        ctx()
    );
    let st = Stats::of(&late);
    let delays: Vec<f64> = samples.iter().map(|x| x.delay).collect();
    figures(&format!(
        "gPTP our gptp grandmaster -> ptp4l gPTP.cfg slave: selected; {} samples after 10 s: master offset median \
         {median:.0} ns mean {:.0} ns sd {:.0} ns; ptp4l peer delay mean {:.0} ns",
        st.n,
        st.mean,
        st.sd,
        Stats::of(&delays).mean
    ));
}
