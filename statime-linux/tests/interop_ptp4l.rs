//! Interoperability with linuxptp's ptp4l (3.1.1) over real sockets.
//!
//! Every scenario builds its own network namespaces (a veth pair, or a
//! bridge for three nodes; see `interop/lab.rs`), so all traffic stays
//! inside them and scenarios run side by side. Time stamps are software
//! (kernel) ones. No real clock is ever adjusted: our daemon steers a
//! virtual clock (over CLOCK_MONOTONIC_RAW) or only observes the system
//! clock, and ptp4l runs with `free_running 1` under `setpriv` without
//! CAP_SYS_TIME (checked in the running process).
//!
//! What is checked, for UDPv4, UDPv6 and L2 with E2E, and UDPv4 and L2
//! with P2P:
//! 1. **ptp4l master -> our slave** (`ptp4l_master_our_slave`): our port
//!    reaches SLAVE under ptp4l's clock; our virtual clock, started +1 ms
//!    and +50 ppm off, locks, and its true error (virtual clock minus
//!    CLOCK_REALTIME, which ptp4l serves as PTP time with software time
//!    stamps) stays below 10 us from lock to the end of a 60 s run. This
//!    also checks the timescale: a 37 s error would be TAI against UTC.
//! 2. **our master -> ptp4l slave** (`our_master_ptp4l_slave`): ptp4l
//!    (`slaveOnly 1`) selects our clock (log and `pmc GET
//!    PARENT_DATA_SET`), its port leaves LISTENING for UNCALIBRATED (with
//!    `free_running 1` ptp4l never goes on to SLAVE), and the mean of its
//!    `master offset` samples after the first 10 s is within 5 us: our
//!    master, on the observe-only system clock, serves CLOCK_REALTIME.
//!
//! And on a bridge (UDPv4/E2E):
//! 3. **BMCA** (`bmca_three_nodes`): two of our daemons and one ptp4l;
//!    priority1 decides the grandmaster, and all three agree on it (ours
//!    by their `selected best master clock` lines and port states, ptp4l
//!    by `pmc GET PARENT_DATA_SET`) in three phases: ptp4l best; one of
//!    ours restarted with a better priority1; ptp4l's priority1 raised
//!    again over its management socket (`pmc SET PRIORITY1`).
//!
//! Each scenario prints one line of figures (also appended to
//! `target/tmp/interop_ptp4l-figures.txt`). The variants of a scenario
//! run concurrently; the whole file takes about 75 s.
//!
//! Needs root, `ip`, `setpriv`, and linuxptp (`apt-get install -y
//! linuxptp`). In CI (`CI` set) a missing one is a failure; elsewhere,
//! without root, the tests print why they skip and pass.

mod interop;

use std::thread;
use std::time::{Duration, Instant};

use interop::lab::{Lab, Node};
use interop::logs::{self, Stats};
use interop::procs::{self, Ptp4l, pmc_field};
use interop::{Delay, Transport, environment_ready, figures, label};

/// The transport / delay-mechanism matrix of scenarios 1 and 2.
const MATRIX: [(Transport, Delay); 5] = [
    (Transport::Udp4, Delay::E2e),
    (Transport::Udp6, Delay::E2e),
    (Transport::L2, Delay::E2e),
    (Transport::Udp4, Delay::P2p),
    (Transport::L2, Delay::P2p),
];

/// A ptp4l configuration: never adjusts a clock (`free_running 1`),
/// software time stamps, 8 Sync/s, Announce every second, one `master
/// offset` line per second (`freq_est_interval 0`; `summary_interval -3`
/// keeps them per-sample lines). `extra` adds role settings.
fn ptp4l_config(t: Transport, d: Delay, extra: &str) -> String {
    format!(
        "[global]\n\
         free_running 1\n\
         time_stamping software\n\
         use_syslog 0\n\
         verbose 1\n\
         logging_level 6\n\
         summary_interval -3\n\
         freq_est_interval 0\n\
         tx_timestamp_timeout 20\n\
         network_transport {}\n\
         delay_mechanism {}\n\
         logAnnounceInterval 0\n\
         logSyncInterval -3\n\
         logMinDelayReqInterval -3\n\
         logMinPdelayReqInterval 0\n\
         {extra}\n",
        t.ptp4l(),
        d.name()
    )
}

/// Our configuration: the same intervals, ptp4l-format log lines on
/// stdout. `top` holds instance keys, `clock` the `[clock]` table.
fn our_config(node: &Node, t: Transport, d: Delay, top: &str, clock: &str) -> String {
    let delay_interval = match d {
        Delay::E2e => "delay-interval = -3",
        Delay::P2p => "pdelay-interval = 0",
    };
    format!(
        "{top}\n\
         [[port]]\n\
         interface = \"{}\"\n\
         transport = \"{}\"\n\
         delay-mechanism = \"{}\"\n\
         timestamping = \"software\"\n\
         announce-interval = 0\n\
         sync-interval = -3\n\
         {delay_interval}\n\
         \n\
         [clock]\n\
         {clock}\n\
         \n\
         [logging]\n\
         level = \"info\"\n\
         format = \"ptp4l\"\n\
         stdout = true\n\
         syslog = false\n\
         summary-interval = 0\n",
        node.iface,
        t.ours(),
        d.name()
    )
}

/// The virtual clock of scenario 1: 1 ms ahead and 50 ppm fast.
const OFF_VIRTUAL_CLOCK: &str =
    "kind = \"virtual\"\ninitial-offset = \"+1ms\"\nfrequency-error = 50.0";
/// CLOCK_REALTIME, read but never adjusted.
const OBSERVE_ONLY_SYSTEM_CLOCK: &str = "kind = \"system\"\nobserve-only = true";
/// A virtual clock without offset or frequency error.
const VIRTUAL_CLOCK: &str = "kind = \"virtual\"";

/// How long our slave runs in scenario 1.
const SLAVE_RUN_S: u64 = 60;
/// The bound on the true error after lock in scenario 1 (ns).
const TRUE_ERROR_BOUND_NS: f64 = 10_000.0;
/// The bound on |mean| of ptp4l's offsets in scenario 2 (ns).
const PTP4L_MEAN_BOUND_NS: f64 = 5_000.0;
/// TAI - UTC: an error this size is a timescale mix-up.
const UTC_OFFSET_NS: f64 = 37e9;

/// Run `f` for every entry of the matrix on its own thread (starts
/// staggered by 200 ms), then fail listing every variant that failed.
fn run_matrix(scenario: &str, f: fn(Transport, Delay)) {
    let failed: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = MATRIX
            .iter()
            .map(|&(t, d)| {
                thread::sleep(Duration::from_millis(200));
                (label(t, d), s.spawn(move || f(t, d)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|(name, h)| h.join().is_err().then_some(name))
            .collect()
    });
    assert!(
        failed.is_empty(),
        "{scenario} failed for {failed:?} (messages above)"
    );
}

/// Scenario 1 for one transport and delay mechanism.
fn ptp4l_master_to_our_slave(t: Transport, d: Delay) {
    let tag = format!("m{}{}", t.ptp4l(), d.name()).to_lowercase();
    let lab = Lab::pair(&tag);
    let (master, slave) = (lab.node(0), lab.node(1));
    let ptp4l = procs::ptp4l(
        &lab,
        master,
        "ptp4l-master",
        &ptp4l_config(t, d, "priority1 10"),
    );
    // Let ptp4l become master first (its announce-receipt timeout).
    thread::sleep(Duration::from_secs(2));
    let started = Instant::now();
    let mut ours = procs::statime(
        &lab,
        slave,
        "statime-slave",
        &our_config(slave, t, d, "slave-only = true", OFF_VIRTUAL_CLOCK),
        &format!("{SLAVE_RUN_S}s"),
    );
    let status = ours.wait(Duration::from_secs(SLAVE_RUN_S + 20));
    let log = ours.log();
    let context = format!("{}\n{}", ours.describe(), ptp4l.proc.describe());
    let name = label(t, d);
    assert!(
        status.is_some_and(|s| s.success()),
        "{name}: our daemon did not finish its {SLAVE_RUN_S} s run cleanly ({status:?}) after {:.0} s\n{context}",
        started.elapsed().as_secs_f64()
    );

    let samples = logs::samples(&log);
    let summary = logs::run_summary(&log);
    let locked: Vec<f64> = samples
        .iter()
        .filter(|s| s.state == 2)
        .map(|s| s.offset)
        .collect();
    let tail = &locked[locked.len().saturating_sub(locked.len() / 2)..];
    let offsets = Stats::of(tail);
    let delays = Stats::of(&samples.iter().map(|s| s.delay).collect::<Vec<_>>());
    match summary {
        Some(s) => figures(&format!(
            "interop 1 ptp4l master -> statime slave {name}: locked after {:.1} s; \
             true error over {} s after lock: mean {:.0} ns, rms {:.0} ns, max {:.0} ns; \
             our measured offset (last half, {} samples): mean {:.0} ns, SD {:.0} ns; \
             path delay {:.0} ns",
            s.locked_after.unwrap_or(f64::NAN),
            s.seconds,
            s.mean,
            s.rms,
            s.max,
            offsets.n,
            offsets.mean,
            offsets.sd,
            delays.mean
        )),
        None => figures(&format!(
            "interop 1 ptp4l master -> statime slave {name}: NO true-error summary"
        )),
    }

    assert!(
        logs::reached(&log, "SLAVE"),
        "{name}: our port never reached SLAVE\n{context}"
    );
    assert_eq!(
        logs::last_best_master(&log).as_deref(),
        Some(master.clock_identity().as_str()),
        "{name}: our daemon did not select ptp4l's clock\n{context}"
    );
    let s = summary
        .unwrap_or_else(|| panic!("{name}: no true-error summary: never locked?\n{context}"));
    assert!(
        s.locked_after.is_some_and(|t| t < 30.0),
        "{name}: did not lock within 30 s ({:?})\n{context}",
        s.locked_after
    );
    assert!(
        s.seconds >= 20,
        "{name}: only {} s of true error after lock\n{context}",
        s.seconds
    );
    assert!(
        (s.mean.abs() - UTC_OFFSET_NS).abs() > 1e9,
        "{name}: the virtual clock is off by ~37 s (mean {} ns): TAI and UTC mixed up \
         (with software time stamps ptp4l serves CLOCK_REALTIME)\n{context}",
        s.mean
    );
    assert!(
        s.max < TRUE_ERROR_BOUND_NS,
        "{name}: true error reached {:.0} ns after lock (bound {TRUE_ERROR_BOUND_NS} ns)\n{context}",
        s.max
    );
}

#[test]
fn ptp4l_master_our_slave() {
    if !environment_ready() {
        return;
    }
    run_matrix("ptp4l master -> our slave", ptp4l_master_to_our_slave);
}

/// Instance keys of our master in scenario 2: the defaults, as a user
/// would run it. (Until the daemon stops announcing the PTP timescale while
/// serving CLOCK_REALTIME with software time stamps, ptp4l sees it 37 s
/// off; `ptp-timescale = false` here is the workaround.)
const OUR_MASTER_TOP: &str = "";

/// How long ptp4l listens to our master in scenario 2.
const PTP4L_RUN_S: u64 = 40;
/// ptp4l samples before this (since its start) are not judged.
const PTP4L_SETTLE_S: f64 = 10.0;

/// Scenario 2 for one transport and delay mechanism.
fn our_master_to_ptp4l_slave(t: Transport, d: Delay) {
    let tag = format!("s{}{}", t.ptp4l(), d.name()).to_lowercase();
    let lab = Lab::pair(&tag);
    let (master, slave) = (lab.node(0), lab.node(1));
    let run = PTP4L_RUN_S + 6;
    let mut ours = procs::statime(
        &lab,
        master,
        "statime-master",
        &our_config(master, t, d, OUR_MASTER_TOP, OBSERVE_ONLY_SYSTEM_CLOCK),
        &format!("{run}s"),
    );
    thread::sleep(Duration::from_secs(2));
    let ptp4l = procs::ptp4l(
        &lab,
        slave,
        "ptp4l-slave",
        &ptp4l_config(t, d, "slaveOnly 1"),
    );
    thread::sleep(Duration::from_secs(PTP4L_RUN_S - 3));
    let parent = ptp4l.pmc(&["GET PARENT_DATA_SET", "GET PORT_DATA_SET"]);
    thread::sleep(Duration::from_secs(3));
    let log = ptp4l.proc.log();
    let context = format!(
        "{}\n{}\n--- pmc:\n{parent}",
        ptp4l.proc.describe(),
        ours.describe()
    );
    drop(ptp4l);
    let status = ours.wait(Duration::from_secs(15));
    let name = label(t, d);

    let start = logs::first_stamp(&log).unwrap_or(0.0);
    let all = logs::samples(&log);
    let judged: Vec<_> = all
        .iter()
        .filter(|s| s.t - start >= PTP4L_SETTLE_S)
        .collect();
    let offsets = Stats::of(&judged.iter().map(|s| s.offset).collect::<Vec<_>>());
    let delays = Stats::of(&judged.iter().map(|s| s.delay).collect::<Vec<_>>());
    // With the timescale mix-up, also show the figures without the 37 s.
    let shifted = (offsets.mean.abs() - UTC_OFFSET_NS).abs() < 1e9;
    let residual: Vec<f64> = judged
        .iter()
        .map(|s| s.offset - if shifted { UTC_OFFSET_NS } else { 0.0 })
        .collect();
    let residual = Stats::of(&residual);
    figures(&format!(
        "interop 2 statime master -> ptp4l slave {name}: ptp4l master offset over {} samples \
         after {PTP4L_SETTLE_S:.0} s: {}mean {:.0} ns, SD {:.0} ns, max |offset| {:.0} ns; \
         path delay {:.0} ns (SD {:.0}); ptp4l port {}",
        offsets.n,
        if shifted { "37 s (TAI - UTC) + " } else { "" },
        residual.mean,
        residual.sd,
        residual.max_abs,
        delays.mean,
        delays.sd,
        logs::port_state(&log).unwrap_or_default()
    ));

    let ours_id = master.clock_identity();
    assert!(
        status.is_some_and(|s| s.success()),
        "{name}: our daemon did not finish cleanly ({status:?})\n{context}"
    );
    assert_eq!(
        logs::last_best_master(&log).as_deref(),
        Some(ours_id.as_str()),
        "{name}: ptp4l did not select our clock\n{context}"
    );
    assert_eq!(
        pmc_field(&parent, "grandmasterIdentity").as_deref(),
        Some(ours_id.as_str()),
        "{name}: ptp4l's PARENT_DATA_SET does not name our clock\n{context}"
    );
    let state = logs::port_state(&log).unwrap_or_default();
    assert!(
        state == "UNCALIBRATED" || state == "SLAVE",
        "{name}: ptp4l's port is in {state}, not following us\n{context}"
    );
    assert!(
        offsets.n >= 15,
        "{name}: only {} ptp4l offset samples after {PTP4L_SETTLE_S} s\n{context}",
        offsets.n
    );
    assert!(
        (offsets.mean.abs() - UTC_OFFSET_NS).abs() > 1e9,
        "{name}: ptp4l sees our master {:.0} ns off: about TAI - UTC (37 s). Our \
         master serves CLOCK_REALTIME (UTC) while announcing the PTP (TAI) timescale, \
         so ptp4l converts it as TAI\n{context}",
        offsets.mean
    );
    assert!(
        offsets.mean.abs() < PTP4L_MEAN_BOUND_NS,
        "{name}: ptp4l's mean offset {:.0} ns exceeds {PTP4L_MEAN_BOUND_NS} ns\n{context}",
        offsets.mean
    );
}

#[test]
fn our_master_ptp4l_slave() {
    if !environment_ready() {
        return;
    }
    run_matrix("our master -> ptp4l slave", our_master_to_ptp4l_slave);
}

/// What every node of the BMCA lab believes.
struct Views {
    /// ptp4l's `grandmasterIdentity` (pmc).
    ptp4l_gm: Option<String>,
    /// ptp4l's port state (pmc).
    ptp4l_state: Option<String>,
    /// Each of ours: (last best master line, port state).
    ours: Vec<(Option<String>, Option<String>)>,
}

impl Views {
    fn read(ptp4l: &Ptp4l, ours: &[&procs::Proc]) -> Self {
        let out = ptp4l.pmc(&["GET PARENT_DATA_SET", "GET PORT_DATA_SET"]);
        Self {
            ptp4l_gm: pmc_field(&out, "grandmasterIdentity"),
            ptp4l_state: pmc_field(&out, "portState"),
            ours: ours
                .iter()
                .map(|p| {
                    let log = p.log();
                    (logs::last_best_master(&log), logs::port_state(&log))
                })
                .collect(),
        }
    }

    /// Whether all agree that `gm` (node index `gm_index`; 2 is ptp4l) is
    /// the grandmaster, its port is MASTER and every other port follows.
    fn agree(&self, gm: &str, gm_index: usize) -> bool {
        let ptp4l_ok = self.ptp4l_gm.as_deref() == Some(gm)
            && if gm_index == 2 {
                self.ptp4l_state.as_deref() == Some("MASTER")
            } else {
                matches!(self.ptp4l_state.as_deref(), Some("UNCALIBRATED" | "SLAVE"))
            };
        let ours_ok = self.ours.iter().enumerate().all(|(i, (best, state))| {
            if i == gm_index {
                state.as_deref() == Some("MASTER") && best.as_deref().is_none_or(|b| b == "local")
            } else {
                best.as_deref() == Some(gm) && state.as_deref() == Some("SLAVE")
            }
        });
        ptp4l_ok && ours_ok
    }

    fn describe(&self) -> String {
        format!(
            "ptp4l: gm {:?} port {:?}; ours: {:?}",
            self.ptp4l_gm, self.ptp4l_state, self.ours
        )
    }
}

/// Poll until everyone agrees on `gm`; the seconds it took, or the last
/// views on timeout.
fn wait_agreement(
    ptp4l: &Ptp4l,
    ours: &[&procs::Proc],
    gm: &Node,
    gm_index: usize,
    timeout: Duration,
) -> Result<f64, String> {
    let start = Instant::now();
    loop {
        let views = Views::read(ptp4l, ours);
        if views.agree(&gm.clock_identity(), gm_index) {
            return Ok(start.elapsed().as_secs_f64());
        }
        if start.elapsed() > timeout {
            return Err(views.describe());
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// The panic message of a BMCA phase that did not settle.
fn bmca_failure(phase: &str, views: &str, ours: &[&procs::Proc], ptp4l: &Ptp4l) -> String {
    let logs: Vec<String> = ours.iter().map(|p| p.describe()).collect();
    format!(
        "BMCA {phase}: the nodes do not agree: {views}\n{}\n{}",
        logs.join("\n"),
        ptp4l.proc.describe()
    )
}

#[test]
fn bmca_three_nodes() {
    if !environment_ready() {
        return;
    }
    let (t, d) = (Transport::Udp4, Delay::E2e);
    let lab = Lab::bridged("bmca", 3);
    let (a, b, c) = (lab.node(0), lab.node(1), lab.node(2));
    let ours = |node: &Node, name: &str, priority1: u8| {
        procs::statime(
            &lab,
            node,
            name,
            &our_config(
                node,
                t,
                d,
                &format!("priority1 = {priority1}"),
                VIRTUAL_CLOCK,
            ),
            "120s",
        )
    };
    let timeout = Duration::from_secs(25);

    // Phase 1: ptp4l (priority1 110) beats ours (120, 130).
    let ptp4l = procs::ptp4l(&lab, c, "ptp4l", &ptp4l_config(t, d, "priority1 110"));
    let node_a = ours(a, "statime-a", 120);
    let mut node_b = ours(b, "statime-b", 130);
    let phase1 = wait_agreement(&ptp4l, &[&node_a, &node_b], c, 2, timeout).unwrap_or_else(|v| {
        let phase = "phase 1 (ptp4l best)";
        panic!("{}", bmca_failure(phase, &v, &[&node_a, &node_b], &ptp4l));
    });

    // Phase 2: restart B with priority1 100: B becomes grandmaster.
    node_b.stop();
    let node_b2 = ours(b, "statime-b2", 100);
    let phase2 = wait_agreement(&ptp4l, &[&node_a, &node_b2], b, 1, timeout).unwrap_or_else(|v| {
        let phase = "phase 2 (B restarted with priority1 100)";
        panic!("{}", bmca_failure(phase, &v, &[&node_a, &node_b2], &ptp4l));
    });

    // Phase 3: ptp4l's priority1 set to 90 over its management socket.
    let set = ptp4l.pmc(&["SET PRIORITY1 90"]);
    assert_eq!(
        pmc_field(&set, "priority1").as_deref(),
        Some("90"),
        "pmc SET PRIORITY1 failed: {set}"
    );
    let phase3 = wait_agreement(&ptp4l, &[&node_a, &node_b2], c, 2, timeout).unwrap_or_else(|v| {
        let phase = "phase 3 (ptp4l priority1 90)";
        panic!("{}", bmca_failure(phase, &v, &[&node_a, &node_b2], &ptp4l));
    });

    figures(&format!(
        "interop 3 BMCA on a bridge ({}): all three agree on the grandmaster after \
         {phase1:.1} s (ptp4l, priority1 110 vs ours 120/130), {phase2:.1} s after \
         restarting ours B with priority1 100 (B), {phase3:.1} s after pmc SET \
         PRIORITY1 90 on ptp4l (ptp4l)",
        label(t, d)
    ));
}
