//! Replays the committed inputs of the `port_sequence` and `port_two_port`
//! fuzz targets (`fuzz/regressions/<target>/`) through the same harnesses
//! and checks, on stable: a handful of inputs that reach deep paths (a slave
//! measuring over E2E and P2P, a master answering requests, hostile and
//! mutated messages; with two ports, one port SLAVE while the other goes
//! through PRE_MASTER to MASTER), kept so that CI notices when a change
//! breaks what the fuzzer once explored. The harnesses are
//! `fuzz/harness/port_sequence.rs` and `fuzz/harness/port_two_port.rs`; see
//! `fuzz/README.md`.
#![allow(
    clippy::duplicate_mod,
    reason = "each harness carries its own copy of fuzz/harness/input.rs, as in its fuzz target"
)]

#[path = "../../fuzz/harness/port_sequence.rs"]
mod port_sequence;
#[path = "../../fuzz/harness/port_two_port.rs"]
mod port_two_port;

use std::fs;
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn port_sequence_regressions_replay() {
    let files = inputs("port_sequence");
    assert!(!files.is_empty(), "no regression inputs");
    for path in files {
        let data = fs::read(&path).expect("read a regression input");
        let stats = port_sequence::run(&data);
        eprintln!("{}: {stats:?}", path.display());
    }
}

/// The inputs kept for the paths they reach still reach them: if one stops
/// doing so, the harness (or the core) changed and the regression inputs
/// need a look.
#[test]
fn port_sequence_inputs_still_reach_their_paths() {
    const MASTER: u16 = 1 << 6;
    const PASSIVE: u16 = 1 << 7;
    const UNCALIBRATED: u16 = 1 << 8;
    const SLAVE: u16 = 1 << 9;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/port_sequence");
    for (name, state, measures) in [
        ("seed-e2e-slave", SLAVE, true),
        ("seed-p2p-slave", UNCALIBRATED, true),
        ("corpus-e2e-slave-exchanges", SLAVE, true),
        ("corpus-master-sends", MASTER, false),
        ("corpus-passive", PASSIVE, false),
    ] {
        let data = fs::read(dir.join(name)).expect("read a regression input");
        let stats = port_sequence::run(&data);
        assert!(
            stats.states & state != 0 && (!measures || stats.measurements > 0),
            "{name}: {stats:?}"
        );
    }
}

#[test]
fn port_two_port_regressions_replay() {
    let files = inputs("port_two_port");
    assert!(!files.is_empty(), "no regression inputs");
    for path in files {
        let data = fs::read(&path).expect("read a regression input");
        let stats = port_two_port::run(&data);
        eprintln!("{}: {stats:?}", path.display());
    }
}

/// The boundary-clock inputs still reach what they were made for: one port
/// SLAVE while the other goes through PRE_MASTER (decision code M3) and,
/// at the qualification timeout, to MASTER, passing the grandmaster on;
/// a redundant path ends PASSIVE; a slave-only clock never leaves the
/// slave side (the `seed-*` inputs, written by
/// `fuzz/regressions/make_port_two_port_seeds.py`); and what three corpus
/// entries of the first run reached.
#[test]
fn port_two_port_inputs_still_reach_their_paths() {
    const FAULTY: u16 = 1 << 2;
    const LISTENING: u16 = 1 << 4;
    const PRE_MASTER: u16 = 1 << 5;
    const MASTER: u16 = 1 << 6;
    const PASSIVE: u16 = 1 << 7;
    const UNCALIBRATED: u16 = 1 << 8;
    const SLAVE: u16 = 1 << 9;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/port_two_port");
    let run = |name: &str| {
        let data = fs::read(dir.join(name)).expect("read a regression input");
        let stats = port_two_port::run(&data);
        eprintln!("{name}: {stats:?}");
        stats
    };

    let s = run("seed-premaster-master");
    assert!(
        s.states[0] & SLAVE != 0
            && s.states[1] & (PRE_MASTER | MASTER) == PRE_MASTER | MASTER
            && s.pre_master >= 1
            && s.qualification_timeouts >= 1
            && s.boundary > 0
            && s.relayed_announces > 0,
        "seed-premaster-master: {s:?}"
    );

    let s = run("seed-m2-then-m3");
    assert!(
        s.states[1] & SLAVE != 0 && s.states[0] & MASTER != 0 && s.boundary > 0,
        "seed-m2-then-m3: {s:?}"
    );

    let s = run("seed-redundant-path");
    assert!(
        s.states[0] & UNCALIBRATED != 0 && s.states[1] & PASSIVE != 0,
        "seed-redundant-path: {s:?}"
    );

    let s = run("seed-slave-only");
    assert!(
        s.states[0] & UNCALIBRATED != 0
            && s.states[1] & LISTENING != 0
            && (s.states[0] | s.states[1]) & (PRE_MASTER | MASTER) == 0,
        "seed-slave-only: {s:?}"
    );

    // Corpus entries: a port FAULTY (transmit timestamps that never came)
    // and recovered, and a qualification timeout; PRE_MASTER left for
    // MASTER by a decision (M1/M2) before the timeout; the slave port
    // moving from one port to the other.
    let s = run("corpus-faulty-then-qualified");
    assert!(
        (s.states[0] | s.states[1]) & FAULTY != 0 && s.qualification_timeouts > 0,
        "corpus-faulty-then-qualified: {s:?}"
    );
    let s = run("corpus-premaster-to-master-by-decision");
    assert!(
        s.qualified > s.qualification_timeouts,
        "corpus-premaster-to-master-by-decision: {s:?}"
    );
    let s = run("corpus-slave-moves-between-ports");
    assert!(
        s.states[0] & SLAVE != 0 && s.states[1] & SLAVE != 0 && s.qualification_timeouts > 0,
        "corpus-slave-moves-between-ports: {s:?}"
    );
}

/// The bug `port_two_port` found (`regressions/port_two_port/
/// crash-announce-after-leaving-master`): in one `handle_timeout` a MASTER
/// port queued its Announce and Sync, the other port (the slave) hit its
/// announce receipt timeout, and the state decision that followed made the
/// first port the slave. The queued Announce and Sync then went out from
/// a port in UNCALIBRATED, and the old slave port, MASTER now, sent the
/// Delay_Req it had queued. Clause 9.2.5: only a MASTER port sends
/// Announce, Sync and Delay_Resp, and Delay_Req goes out only in SLAVE or
/// UNCALIBRATED. Fixed in `Port::set_state`, which now drops what was
/// queued for the role the port leaves.
#[test]
fn a_port_that_leaves_master_sends_nothing_queued_for_that_role() {
    use statime::datasets::{DefaultDS, TimePropertiesDS};
    use statime::instance::PtpInstance;
    use statime::port::PortConfig;
    use statime::time::{Instant, Time};
    use statime::wire::tlv::PortState;
    use statime::wire::{ClockIdentity, Message, MessageType, PortIdentity};

    const OURS: ClockIdentity = ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x53, 9]);
    const A: ClockIdentity = ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x77, 1]);
    const B: ClockIdentity = ClockIdentity([0, 0, 0x5e, 0xff, 0xfe, 0, 0x77, 2]);
    const MS: u64 = 1_000_000;

    /// An Announce of grandmaster `gm` (priority1 `p1`) from its port 1.
    fn announce(gm: ClockIdentity, p1: u8, seq: u16) -> Vec<u8> {
        let mut m = vec![0x0B, 0x12, 0, 64, 0, 0, 0, 0];
        m.extend_from_slice(&[0; 12]); // correctionField, messageTypeSpecific
        m.extend_from_slice(&gm.0);
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&[5, 0]); // controlField, logMessageInterval 0
        m.extend_from_slice(&[0; 10]); // originTimestamp
        m.extend_from_slice(&[0, 37, 0, p1, 248, 0xFE, 0xFF, 0xFF, 128]);
        m.extend_from_slice(&gm.0);
        m.extend_from_slice(&[0, 0, 0xA0]); // stepsRemoved 0, timeSource
        m
    }

    let mut default = DefaultDS::new(OURS, 2);
    default.priority1 = 200; // A and B are both better
    let port = |n: u16| {
        let mut c = PortConfig::new(PortIdentity {
            clock_identity: OURS,
            port_number: n,
        });
        c.port_ds.log_announce_interval = 0;
        c.port_ds.log_sync_interval = 0;
        c.port_ds.log_min_delay_req_interval = 0;
        c
    };
    let mut inst: PtpInstance<2> =
        PtpInstance::new(default, TimePropertiesDS::default(), [port(1), port(2)]);
    // Write everything queued, hand every transmit timestamp back, and
    // check who sent what.
    let drain = |inst: &mut PtpInstance<2>, now: u64| {
        let mut buf = [0u8; 1500];
        let mut contexts = Vec::new();
        while let Some((i, r)) =
            inst.poll_transmit(Instant::from_nanos(now), Time::from_nanos(now), &mut buf)
        {
            let t = r.expect("fits");
            let ty = Message::parse(&buf[..t.len])
                .expect("parses")
                .header
                .message_type;
            let state = inst.ports()[i].state();
            match ty {
                MessageType::Announce | MessageType::Sync | MessageType::DelayResp => {
                    assert_eq!(
                        state,
                        PortState::Master,
                        "port {i} sent {ty:?} in {state:?}"
                    );
                }
                MessageType::DelayReq => assert!(
                    matches!(state, PortState::Slave | PortState::Uncalibrated),
                    "port {i} sent {ty:?} in {state:?}"
                ),
                _ => {}
            }
            if let Some(ctx) = t.context {
                contexts.push((i, ctx));
            }
        }
        for (i, ctx) in contexts {
            inst.handle_send_timestamp(i, ctx, Time::from_nanos(now), Instant::from_nanos(now));
        }
        while inst.poll_event().is_some() {}
    };
    let rx = |inst: &mut PtpInstance<2>, port: usize, m: &[u8], now: u64| {
        inst.handle_receive(port, m, None, Instant::from_nanos(now))
            .expect("an Announce is taken");
        drain(inst, now);
    };
    let states = |inst: &PtpInstance<2>| [inst.ports()[0].state(), inst.ports()[1].state()];

    inst.enable(Instant::from_nanos(0));
    // A (the better) on port 2, B on port 1: port 2 follows A, port 1 is
    // M3 and, after the qualification timeout, MASTER.
    rx(&mut inst, 1, &announce(A, 100, 0), 0);
    rx(&mut inst, 0, &announce(B, 128, 0), 0);
    rx(&mut inst, 1, &announce(A, 100, 1), 100 * MS);
    rx(&mut inst, 0, &announce(B, 128, 1), 100 * MS);
    assert_eq!(
        states(&inst),
        [PortState::PreMaster, PortState::Uncalibrated]
    );
    inst.handle_timeout(Instant::from_nanos(2_200 * MS));
    drain(&mut inst, 2_200 * MS);
    assert_eq!(states(&inst), [PortState::Master, PortState::Uncalibrated]);
    // A announces once more and falls silent; B goes on.
    rx(&mut inst, 1, &announce(A, 100, 2), 2_300 * MS);
    rx(&mut inst, 1, &announce(A, 100, 3), 2_400 * MS);
    rx(&mut inst, 0, &announce(B, 128, 2), 4_500 * MS);
    rx(&mut inst, 0, &announce(B, 128, 3), 4_600 * MS);
    assert_eq!(states(&inst), [PortState::Master, PortState::Uncalibrated]);
    // Port 1's Announce and Sync timers and port 2's announce receipt
    // timeout are due together: port 1 becomes B's slave, port 2 MASTER.
    inst.handle_timeout(Instant::from_nanos(6_500 * MS));
    assert_eq!(states(&inst), [PortState::Uncalibrated, PortState::Master]);
    drain(&mut inst, 6_500 * MS);
}
