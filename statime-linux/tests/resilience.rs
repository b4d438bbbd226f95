//! Resilience of the daemon against bad and hostile input on the link
//! (issue 9, items 1 and 2), over real sockets in network namespaces.
//!
//! Three namespaces on a bridge (`interop/lab.rs`): our grandmaster
//! daemon (192.0.2.10), our slave daemon (192.0.2.11; virtual clock
//! started +1 ms / +50 ppm off, software time stamps, UDPv4/E2E, 8 Sync/s)
//! and an attacker (192.0.2.12). The attacker is this test binary
//! re-executed in its namespace (`attacker_process`, see
//! `resilience/attack.rs`): std UDP sockets only, sending only to the
//! lab's addresses and the PTP group, at bounded rates for bounded times.
//! No real clock is touched (both daemons steer virtual clocks).
//!
//! 1. `malformed_flood_keeps_time`: after lock, a 20 s baseline; then
//!    ~10,000 packets/s for 36 s in four parts: structural garbage
//!    (truncated, oversized, wrong version, wrong domain, bad
//!    messageLength, bad TLV lengths; 10% of it to the PTP group, so the
//!    grandmaster gets some too), random bytes and zero-length datagrams,
//!    mutated copies of the grandmaster's own Sync, Follow_Up and
//!    Delay_Resp (sniffed on the link; flipped bits in timestamps,
//!    correctionField, sequenceId, requestingPortIdentity) and of its
//!    Announce, re-sent with its identity; then 10 s after. The slave must
//!    keep running and logging, keep its RSS flat, never step (`s1`) or
//!    fault after lock, keep its true error (the `--duration` summary)
//!    within max(10 us, 5x the baseline's max |offset|), log no forged
//!    offset, stay SLAVE, select no forged grandmaster, and log at most
//!    50 lines in any second.
//! 2. `hostile_single_packets_and_fake_masters`: single packets 2 s apart
//!    (a zero-length datagram to 319 and one to 320; a one-step Sync from
//!    the master's identity with originTimestamp 0 and the next
//!    sequenceId; a Pdelay_Resp to the E2E port; the master's Announce
//!    with a fresh sequenceId and another grandmasterIdentity; the same
//!    with stepsRemoved 255): none may fault the port, step the clock,
//!    change the port state or show up as a measurement. Then 1,000 fake
//!    masters announcing priority1 0 (2 Announces/s each for 8 s, to the
//!    slave) and one rogue master with priority1 0 (2/s for 5 s): memory
//!    flat, no fault, no step, and back on the real grandmaster and
//!    locked within 25 s after they stop; whether it switched is reported
//!    (following a better master is the standard's BMCA). Last, 20,000
//!    fake masters (one Announce every 2 s each, 10,000/s, 8 s): the
//!    foreign-master table stays bounded (RSS flat), CPU under 0.8 of a
//!    core, no fault, no step, back and locked within 25 s.
//!
//! `explore_kinds` (ignored; by hand) floods one kind at a time to tell
//! which kind causes what.
//!
//! Figures go to stderr and `target/tmp/resilience-figures.txt`. Needs
//! root and iproute2; in CI (`CI` set) their absence is a failure,
//! elsewhere without root the tests print why they skip. The two tests
//! run one after the other (a lock; the flood needs the CPUs): about 2 min.

#[allow(dead_code)]
#[path = "resilience/attack.rs"]
mod attack;
#[allow(dead_code)]
#[path = "resilience/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "interop/lab.rs"]
mod lab;
#[allow(dead_code)]
#[path = "interop/logs.rs"]
mod logs;
#[allow(dead_code)]
#[path = "interop/procs.rs"]
mod procs;

use std::thread::sleep;
use std::time::{Duration, Instant};

use harness::{
    Checks, Mark, alive, attack, between, environment_ready, figures, phase, start_daemons,
};

/// The flood's target rate (packets/s).
const RATE: u64 = 10_000;

/// The attacker's entry point: only does something when the parent test
/// re-executes this binary with `RESILIENCE_ATTACK` set.
#[test]
#[ignore = "the attacker child of the resilience tests, started by them"]
fn attacker_process() {
    if let Ok(kinds) = std::env::var("RESILIENCE_ATTACK") {
        attack::run_child(&kinds);
    }
}

#[test]
fn malformed_flood_keeps_time() {
    if !environment_ready() {
        return;
    }
    let _serial = harness::serial();
    let started = Instant::now();
    let lab = harness::three_nodes("flood");
    let (mut gm, mut slave) = start_daemons(&lab);
    let atk = lab.node(2).clone();
    let gm_id = lab.node(0).clock_identity();
    let lock_s = harness::wait_lock(&mut slave, &mut gm, Duration::from_secs(40));
    sleep(Duration::from_secs(3));

    // Phase 0: baseline.
    let m0 = Mark::now(&slave);
    sleep(Duration::from_secs(20));
    let m1 = Mark::now(&slave);
    alive(&mut slave, "baseline");

    // Phase 1: the flood, in four parts.
    let parts: [(&str, &str, f64); 4] = [
        (
            "structural",
            "truncated,oversized,wrong-version,wrong-domain,bad-length,bad-tlv",
            12.0,
        ),
        ("random", "random,zero-length", 8.0),
        (
            "mutated timing",
            "mut-sync,mut-follow-up,mut-delay-resp",
            10.0,
        ),
        ("mutated announce", "mut-announce", 6.0),
    ];
    let mut marks = vec![m1];
    let mut reports = Vec::new();
    for (name, kinds, seconds) in parts {
        let r = attack(&atk, kinds, RATE, seconds, 0);
        alive(&mut slave, name);
        alive(&mut gm, name);
        marks.push(Mark::now(&slave));
        reports.push((name, r));
    }
    let flood_end = *marks.last().expect("marks");

    // After: 10 s.
    sleep(Duration::from_secs(10));
    let m_after = Mark::now(&slave);
    alive(&mut slave, "after the flood");
    let gm_rss = harness::rss_kb(gm.pid());
    slave.stop();
    gm.stop();
    let log = slave.log();
    let summary = logs::run_summary(&log);

    // Figures.
    let base = phase(&log, m0, m1);
    let flood = phase(&log, m1, flood_end);
    let after = phase(&log, flood_end, m_after);
    figures(&format!(
        "resilience flood: locked {lock_s:.1} s after start; test ran {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    figures(&base.line("resilience flood: baseline"));
    let mut per_part = Vec::new();
    for (i, (name, r)) in reports.iter().enumerate() {
        let p = phase(&log, marks[i], marks[i + 1]);
        figures(&format!(
            "resilience flood: {name}: sent {} in {:.1} s ({:.0}/s), send errors {}, by kind {:?}, \
             not buildable {:?}, sniffed {:?}",
            r.total(),
            r.seconds,
            r.total() as f64 / r.seconds.max(1e-9),
            r.send_errors,
            r.sent,
            r.unavailable,
            r.sniffed
        ));
        figures(&p.line(&format!("resilience flood: during {name}")));
        per_part.push((*name, p));
    }
    figures(&flood.line("resilience flood: whole flood"));
    figures(&after.line("resilience flood: after"));
    figures(&format!(
        "resilience flood: slave RSS {} kB before, {} kB after the flood, {} kB at the end; \
         grandmaster RSS {gm_rss} kB; summary {summary:?}",
        m1.rss_kb, flood_end.rss_kb, m_after.rss_kb
    ));

    // Checks.
    let mut c = Checks::default();
    c.check(after.samples >= 40, || {
        format!(
            "the slave stopped measuring after the flood ({} samples in 10 s)",
            after.samples
        )
    });
    for (name, r) in &reports {
        c.check(r.total() as f64 >= 0.5 * RATE as f64 * r.seconds, || {
            format!(
                "{name}: the generator reached only {} packets in {:.1} s",
                r.total(),
                r.seconds
            )
        });
        c.check(r.unavailable.is_empty(), || {
            format!("{name}: could not build {:?}", r.unavailable)
        });
    }
    let margin = 1024 + m1.rss_kb / 20;
    c.check(m_after.rss_kb <= m1.rss_kb + margin, || {
        format!(
            "RSS grew from {} kB to {} kB (margin {margin} kB)",
            m1.rss_kb, m_after.rss_kb
        )
    });
    let since_lock = phase(&log, m0, m_after);
    c.check(since_lock.step_lines == 0, || {
        format!(
            "the slave stepped its clock after lock ({} s1 lines)",
            since_lock.step_lines
        )
    });
    c.check(since_lock.faulty_lines == 0, || {
        "the slave's port went FAULTY".to_owned()
    });
    let bound = (5.0 * base.offsets.max_abs).max(10_000.0);
    let summary_max = summary.map_or(f64::INFINITY, |s| s.max);
    c.check(summary_max <= bound, || {
        format!(
            "true error max {summary_max:.0} ns over the run exceeds max(10 us, 5x baseline max \
             |offset| {:.0} ns) = {bound:.0} ns (or no summary)",
            base.offsets.max_abs
        )
    });
    for (name, p) in &per_part {
        c.check(p.max_lines_in_a_second <= 50, || {
            format!(
                "{name}: the log floods: up to {} lines/s ({} lines in {:.1} s; baseline max {}/s)",
                p.max_lines_in_a_second, p.lines, p.seconds, base.max_lines_in_a_second
            )
        });
        c.check(p.offsets.max_abs <= bound, || {
            format!(
                "{name}: forged measurements reached the servo and the log: max |offset| {:.0} ns \
                 (bound {bound:.0} ns)",
                p.offsets.max_abs
            )
        });
        c.check(p.state_changes.is_empty(), || {
            format!(
                "{name}: the port left SLAVE: {} state changes, first {:?}",
                p.state_changes.len(),
                p.state_changes.first()
            )
        });
        let foreign = p.foreign_masters(&gm_id);
        c.check(foreign.is_empty(), || {
            format!(
                "{name}: the slave selected {} forged grandmaster identities (first {:?})",
                foreign.len(),
                foreign.first()
            )
        });
    }
    // Re-acquiring after the flood may flap the lock for a few seconds
    // (reported); by the end of the 10 s the port must be SLAVE again.
    let end_state = logs::port_state(between(&log, m0, m_after));
    c.check(end_state.as_deref().is_none_or(|s| s == "SLAVE"), || {
        format!(
            "10 s after the flood the port is {end_state:?}, not SLAVE ({} state changes after)",
            after.state_changes.len()
        )
    });
    c.finish(&slave.describe());
}

#[test]
fn hostile_single_packets_and_fake_masters() {
    if !environment_ready() {
        return;
    }
    let _serial = harness::serial();
    let started = Instant::now();
    let lab = harness::three_nodes("hostile");
    let (mut gm, mut slave) = start_daemons(&lab);
    let atk = lab.node(2).clone();
    let gm_id = lab.node(0).clock_identity();
    harness::wait_lock(&mut slave, &mut gm, Duration::from_secs(40));
    sleep(Duration::from_secs(3));
    let m0 = Mark::now(&slave);
    sleep(Duration::from_secs(6));
    let m1 = Mark::now(&slave);

    // Single packets, 2 s apart.
    let mut singles = Vec::new();
    let mut single_marks = vec![m1];
    for kind in [
        "zero-319",
        "zero-320",
        "one-step-sync",
        "pdelay-resp",
        "stray-grandmaster",
        "steps-removed-255",
    ] {
        let r = attack(&atk, kind, 1, 0.0, 0);
        singles.push((kind, r.total()));
        sleep(Duration::from_secs(2));
        alive(&mut slave, kind);
        single_marks.push(Mark::now(&slave));
    }
    let m2 = *single_marks.last().expect("marks");

    // 1,000 fake masters with priority1 0, 2 Announces/s each, for 8 s.
    let fakes = attack(&atk, "fake-masters", 2_000, 8.0, 1_000);
    let m3 = Mark::now(&slave);
    alive(&mut slave, "fake masters");
    let back_fakes = wait_back(&mut slave, &gm_id, m3);
    sleep(Duration::from_secs(2));
    let m4 = Mark::now(&slave);

    // One rogue master with priority1 0, 2 Announces/s, for 5 s.
    let rogue = attack(&atk, "fake-masters", 2, 5.0, 1);
    let m5 = Mark::now(&slave);
    let back_rogue = wait_back(&mut slave, &gm_id, m5);
    sleep(Duration::from_secs(2));
    let m6 = Mark::now(&slave);
    alive(&mut slave, "after the rogue master");

    // 20,000 fake masters with priority1 0, one Announce every 2 s each
    // (10,000 packets/s), for 8 s: enough to qualify every one of them
    // (two Announces within four announce intervals, clause 9.3.2.4.5).
    let many = attack(&atk, "fake-masters", 10_000, 8.0, 20_000);
    let m7 = Mark::now(&slave);
    alive(&mut slave, "20,000 fake masters");
    let back_many = wait_back(&mut slave, &gm_id, m7);
    sleep(Duration::from_secs(2));
    let m8 = Mark::now(&slave);
    slave.stop();
    gm.stop();
    let log = slave.log();
    let summary = logs::run_summary(&log);

    let base = phase(&log, m0, m1);
    let single = phase(&log, m1, m2);
    let during = phase(&log, m2, m3);
    let after = phase(&log, m3, m4);
    let rogue_during = phase(&log, m4, m5);
    let rogue_after = phase(&log, m5, m6);
    let many_during = phase(&log, m6, m7);
    let many_after = phase(&log, m7, m8);
    figures(&format!(
        "resilience hostile: test ran {:.0} s; singles sent {singles:?}; summary {summary:?}",
        started.elapsed().as_secs_f64()
    ));
    figures(&base.line("resilience hostile: baseline"));
    figures(&single.line("resilience hostile: all single packets"));
    for (i, (kind, _)) in singles.iter().enumerate() {
        let p = phase(&log, single_marks[i], single_marks[i + 1]);
        figures(&p.line(&format!("resilience hostile: single {kind}")));
    }
    figures(&format!(
        "resilience hostile: fake masters: sent {} in {:.1} s, send errors {}",
        fakes.total(),
        fakes.seconds,
        fakes.send_errors
    ));
    figures(&during.line("resilience hostile: during 1,000 fake masters"));
    figures(&after.line("resilience hostile: after 1,000 fake masters"));
    figures(&format!(
        "resilience hostile: 1,000 fakes: selected {} fake grandmaster(s); back on {gm_id} and \
         locked {back_fakes:?} s after they stopped; RSS {} -> {} -> {} kB",
        during.foreign_masters(&gm_id).len() + after.foreign_masters(&gm_id).len(),
        m2.rss_kb,
        m3.rss_kb,
        m4.rss_kb
    ));
    figures(&rogue_during.line(&format!(
        "resilience hostile: during one rogue master ({} Announces)",
        rogue.total()
    )));
    figures(&rogue_after.line("resilience hostile: after the rogue master"));
    figures(&format!(
        "resilience hostile: rogue: selected {:?}; back on {gm_id} and locked {back_rogue:?} s after it stopped",
        rogue_during
            .foreign_masters(&gm_id)
            .first()
            .or(rogue_after.foreign_masters(&gm_id).first())
    ));

    let mut c = Checks::default();
    c.check(singles.iter().all(|(_, n)| *n == 1), || {
        format!("singles not all sent: {singles:?}")
    });
    for (i, (kind, _)) in singles.iter().enumerate() {
        let p = phase(&log, single_marks[i], single_marks[i + 1]);
        c.check(p.faulty_lines == 0, || format!("{kind}: faulted the port"));
        c.check(p.step_lines == 0, || format!("{kind}: stepped the clock"));
        c.check(p.state_changes.is_empty(), || {
            format!("{kind}: changed the port state: {:?}", p.state_changes)
        });
        // A packet that broke measurement leaves the phase (2 s, 16 Syncs)
        // nearly empty; a loaded machine can delay or reject a handful of
        // samples (CI once logged 7), so the per-packet floor is low and the
        // rate over all single packets is held to half the baseline's below.
        c.check(p.samples >= 3, || {
            format!(
                "{kind}: the slave stopped measuring ({} samples in {:.1} s)",
                p.samples, p.seconds
            )
        });
        let bound = (5.0 * base.offsets.max_abs).max(10_000.0);
        c.check(p.offsets.max_abs <= bound, || {
            format!(
                "{kind}: a single packet became a measurement: logged offset {:.0} ns (bound {bound:.0} ns)",
                p.offsets.max_abs
            )
        });
    }
    let rate = |p: &harness::Phase| p.samples as f64 / p.seconds.max(1e-9);
    c.check(rate(&single) >= 0.5 * rate(&base), || {
        format!(
            "single packets: the slave measured {:.1}/s against {:.1}/s before them",
            rate(&single),
            rate(&base)
        )
    });
    // The run ends with a rogue master that the slave follows, as the
    // standard says (only the overlay's guarded mode refuses it), and that
    // sends no Sync: the clock holds over for its 5 s and re-acquires the
    // real grandmaster afterwards, which moves the true error by tens of
    // microseconds with software time stamps. The whole-run bound allows
    // that episode; every earlier phase is held to the baseline bound by
    // its logged offsets above.
    let bound = (5.0 * base.offsets.max_abs).max(10_000.0).max(250_000.0);
    let summary_max = summary.map_or(f64::INFINITY, |s| s.max);
    c.check(summary_max <= bound, || {
        format!("true error max {summary_max:.0} ns exceeds {bound:.0} ns (or no summary)")
    });
    c.check(fakes.total() >= 8_000, || {
        format!("only {} fake Announces sent", fakes.total())
    });
    let since = phase(&log, m2, m6);
    c.check(since.faulty_lines == 0, || {
        "fake or rogue masters faulted the port".to_owned()
    });
    c.check(since.step_lines == 0, || {
        format!(
            "fake or rogue masters made the clock step ({} s1 lines)",
            since.step_lines
        )
    });
    let margin = 1024 + m2.rss_kb / 20;
    c.check(m6.rss_kb <= m2.rss_kb + margin, || {
        format!(
            "RSS grew from {} kB to {} kB with fake masters",
            m2.rss_kb, m6.rss_kb
        )
    });
    c.check(back_fakes.is_some(), || {
        format!("not back on {gm_id} and locked within 25 s after the 1,000 fakes stopped")
    });
    figures(&many_during.line(&format!(
        "resilience hostile: during 20,000 fake masters ({} Announces in {:.1} s)",
        many.total(),
        many.seconds
    )));
    figures(&many_after.line("resilience hostile: after 20,000 fake masters"));
    figures(&format!(
        "resilience hostile: 20,000 fakes: back on {gm_id} and locked {back_many:?} s after they \
         stopped; RSS {} -> {} -> {} kB; CPU during {:.1}%",
        m6.rss_kb,
        m7.rss_kb,
        m8.rss_kb,
        100.0 * (m7.cpu_s - m6.cpu_s) / (m7.at - m6.at).as_secs_f64()
    ));
    c.check(many.total() >= 40_000, || {
        format!("only {} Announces of 20,000 fakes sent", many.total())
    });
    let since_many = phase(&log, m6, m8);
    c.check(
        since_many.faulty_lines == 0 && since_many.step_lines == 0,
        || "20,000 fake masters faulted the port or stepped the clock".to_owned(),
    );
    // The foreign-master table is bounded: memory stays where it was.
    c.check(m8.rss_kb <= m6.rss_kb + 1024 + m6.rss_kb / 20, || {
        format!(
            "RSS grew from {} kB to {} kB with 20,000 fake masters",
            m6.rss_kb, m8.rss_kb
        )
    });
    // CPU stays bounded: under one core at 10,000 Announces/s (39 % for
    // the debug build on a 2-core machine that was busy with fuzzers).
    let cpu = (m7.cpu_s - m6.cpu_s) / (m7.at - m6.at).as_secs_f64();
    c.check(cpu < 0.8, || {
        format!("{:.0}% CPU with 20,000 fake masters", 100.0 * cpu)
    });
    c.check(back_many.is_some(), || {
        format!("not back on {gm_id} and locked within 25 s after the 20,000 fakes stopped")
    });
    c.check(back_rogue.is_some(), || {
        format!("not back on {gm_id} and locked within 25 s after the rogue master stopped")
    });
    c.finish(&slave.describe());
}

/// Seconds until the slave names `gm_id` as best master again, its port is
/// SLAVE and its last sample after `since` is locked (at most 25 s).
fn wait_back(slave: &mut procs::Proc, gm_id: &str, since: Mark) -> Option<f64> {
    let deadline = Instant::now() + Duration::from_secs(25);
    while Instant::now() < deadline {
        let log = slave.log();
        let tail = log.get(since.log_len.min(log.len())..).unwrap_or_default();
        let on_gm = logs::last_best_master(&log).as_deref() == Some(gm_id);
        if on_gm
            && logs::port_state(&log).as_deref() == Some("SLAVE")
            && logs::samples(tail).last().is_some_and(|s| s.state >= 2)
        {
            return Some(since.at.elapsed().as_secs_f64());
        }
        sleep(Duration::from_millis(250));
    }
    None
}

/// Not in CI: one kind (or `;`-separated group of comma-separated kinds)
/// at a time, `RESILIENCE_FLOOD_SECONDS` (default 5) at `RESILIENCE_RATE`
/// (default 10,000/s), then 6 s quiet, to find which kind causes what.
/// `RESILIENCE_KINDS='mut-announce;mut-sync,mut-follow-up' cargo test
/// --test resilience -- --ignored explore_kinds --nocapture`.
#[test]
#[ignore = "exploration, run by hand"]
fn explore_kinds() {
    if !environment_ready() || std::env::var_os("RESILIENCE_ATTACK").is_some() {
        return;
    }
    let _serial = harness::serial();
    let lab = harness::three_nodes("explore");
    let kinds = std::env::var("RESILIENCE_KINDS").unwrap_or_else(|_| {
        "truncated;oversized;wrong-version;wrong-domain;bad-length;bad-tlv;random;zero-length;\
         mut-sync;mut-follow-up;mut-delay-resp;mut-announce"
            .to_owned()
    });
    let rate = std::env::var("RESILIENCE_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RATE);
    let (mut gm, mut slave) = start_daemons(&lab);
    let atk = lab.node(2).clone();
    harness::wait_lock(&mut slave, &mut gm, Duration::from_secs(40));
    sleep(Duration::from_secs(3));
    let seconds = std::env::var("RESILIENCE_FLOOD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0f64);
    for kind in kinds.split(';') {
        let a = Mark::now(&slave);
        let r = attack(&atk, kind, rate, seconds, 0);
        let b = Mark::now(&slave);
        sleep(Duration::from_secs(6));
        let q = Mark::now(&slave);
        let log = slave.log();
        figures(&phase(&log, a, b).line(&format!(
            "explore {kind} ({} sent, {:.0}/s)",
            r.total(),
            r.total() as f64 / r.seconds.max(1e-9)
        )));
        figures(&phase(&log, b, q).line(&format!("explore {kind}: 6 s after")));
    }
    slave.stop();
    gm.stop();
    figures(&format!(
        "explore: summary {:?}",
        logs::run_summary(&slave.log())
    ));
}
