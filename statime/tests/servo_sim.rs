//! Closed-loop servo simulation at the sample level.
//!
//! Reproduces the linuxptp-testsuite baseline of
//! `shared/reference/baselines.md` section 1 (two nodes, E2E, 1 Hz Sync and
//! Delay_Req) without the port: a perfect master, a slave clock with a
//! +100 ppm frequency error and a random walk of N(0, 1 ppb) per second,
//! an initial offset of +0.1 s, one-way delays of 100 ns + Exp(mean) per
//! message and direction. The four timestamps of every exchange are produced
//! exactly as E2E PTP would (clause 11.3): hardware timestamps are exact;
//! software timestamps are each late by Exp(mean 20 ns) (interrupt and
//! stack latency; the constant part of a software RX stamp, the frame's
//! serialisation time, is the same for Sync and Delay_Req and cancels).
//! Delay_Req messages leave at random intervals of U(0, 2) s, as ptp4l's
//! randomised delay timer sends them (clause 9.5.11.2).
//!
//! Two ways of turning timestamps into servo samples are simulated:
//! - `Ptp4l`: at every Sync, offset = t2 - t1 - median of the last 10 path
//!   delays (ptp4l's default `delay_filter moving_median`, length 10);
//! - `Paired`: one sample per complete exchange (a Sync and the first
//!   Delay_Req after it): offset and path delay from the same four
//!   timestamps, at the midpoint of t2 and t3, handled when the Delay_Resp
//!   arrives.
//!
//! The figures are the true clock error (slave minus true time) sampled once
//! per simulated second after the reset time: RMS, max, p99 of |offset|, and
//! the sync time (first second after which |offset| <= 2 us and the total
//! frequency error <= 2 ppm hold for good), counted from the slave's start.
//! The table test is `#[ignore]`d; run it with
//! `cargo test -p statime --test servo_sim -- --ignored --nocapture`.
//! Tests assert invariants only, never performance figures.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use statime::servo::{
    AnyServo, ServoAction, ServoAlgorithm, ServoConfig, ServoOutput, ServoSample, ServoState,
};
use statime::servo::{KalmanServo, Servo};
use statime::time::{Duration, Time};

// ---------------------------------------------------------------- PRNG ---

/// splitmix64: tiny, seedable, good enough for a simulation.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Exponential with `mean` (inverse CDF).
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

// ---------------------------------------------------------- scenario ---

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stamping {
    Hardware,
    Software,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sampling {
    Ptp4l,
    Paired,
}

/// Something odd to inject into the run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Event {
    None,
    /// One forged sample with this offset (seconds) and path delay (s) at
    /// second `at`.
    Forged {
        at: u32,
        offset: f64,
        delay: f64,
    },
    /// `count` samples of garbage (uniform offsets in ±1 s) from second `at`.
    Garbage {
        at: u32,
        count: u32,
    },
    /// The master's time jumps by `by` seconds at second `at`.
    MasterStep {
        at: u32,
        by: f64,
    },
    /// No messages from second `from` to second `to`; `holdover()` is called.
    Outage {
        from: u32,
        to: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct Scenario {
    jitter_ns: f64,
    stamping: Stamping,
    sampling: Sampling,
    run_s: u32,
    reset_s: u32,
    event: Event,
}

impl Scenario {
    fn baseline(jitter_ns: f64, stamping: Stamping, run_s: u32, reset_s: u32) -> Self {
        Self {
            jitter_ns,
            stamping,
            sampling: Sampling::Paired,
            run_s,
            reset_s,
            event: Event::None,
        }
    }
}

const BASE_DELAY_NS: f64 = 100.0;
const SW_STAMP_NS: f64 = 20.0;
const INITIAL_OFFSET_NS: f64 = 1e8;
const INITIAL_FREQ_PPB: f64 = 100_000.0;
const WANDER_PPB: f64 = 1.0;

fn base_time() -> Time {
    Time::from_secs_nanos(1_700_000_000, 0)
}

/// The slave clock: local = true + x, with x moving at f0 + u.
struct SimClock {
    x_ns: f64,
    f0_ppb: f64,
    u_ppb: f64,
    t: f64,
}

impl SimClock {
    fn advance(&mut self, to: f64) {
        self.x_ns += (self.f0_ppb + self.u_ppb) * (to - self.t);
        self.t = to;
    }
    fn local(&self, extra_ns: f64) -> Time {
        base_time() + Duration::from_nanos_f64(self.t * 1e9 + self.x_ns + extra_ns)
    }
    fn apply(&mut self, out: &ServoOutput) {
        match out.action {
            ServoAction::None => {}
            ServoAction::Frequency { ppb } => self.u_ppb = ppb,
            ServoAction::Step { by, frequency_ppb } => {
                self.u_ppb = frequency_ppb;
                self.x_ns += by.nanos_f64();
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Measure(u32),
    SyncSend(u32),
    SyncRx {
        seq: u32,
        t1: Time,
    },
    DelayReq,
    DelayResp {
        sync: SyncStamps,
        t3: Time,
        t4: Time,
    },
}

#[derive(Clone, Copy, Debug)]
struct SyncStamps {
    seq: u32,
    t1: Time,
    t2: Time,
}

struct Queued(f64, u64, Ev);
impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap pops the earliest first.
        o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
    }
}

#[derive(Clone, Debug, Default)]
struct RunResult {
    /// |true offset| in ns once per second after the reset time.
    abs_offsets: Vec<f64>,
    /// Seconds after the slave's start; None if never.
    sync_time: Option<u32>,
    /// |true offset| at the end, ns.
    final_abs: f64,
    steps: u64,
    rejected: u64,
    reacquisitions: u64,
    /// True offsets (ns) per second over the whole run.
    trace: Vec<f64>,
}

impl RunResult {
    fn rms(&self) -> f64 {
        let n = self.abs_offsets.len().max(1) as f64;
        (self.abs_offsets.iter().map(|v| v * v).sum::<f64>() / n).sqrt()
    }
    fn max(&self) -> f64 {
        self.abs_offsets.iter().copied().fold(0.0, f64::max)
    }
    fn p99(&self) -> f64 {
        let mut v = self.abs_offsets.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64) * 0.99).ceil() as usize;
        v[i.clamp(1, v.len()) - 1]
    }
}

fn servo_config(algorithm: ServoAlgorithm, stamping: Stamping) -> ServoConfig {
    ServoConfig {
        algorithm,
        software_timestamping: stamping == Stamping::Software,
        ..ServoConfig::default()
    }
}

/// Runs one seed of `sc` with `servo`.
fn simulate<S: Servo>(sc: &Scenario, servo: &mut S, seed: u64) -> RunResult {
    let mut rng = Rng::new(seed);
    let mut clock = SimClock {
        x_ns: INITIAL_OFFSET_NS,
        f0_ppb: INITIAL_FREQ_PPB,
        u_ppb: 0.0,
        t: 0.0,
    };
    // The master's own offset from true time (non-zero after a MasterStep).
    let mut master_ns = 0.0;
    let sw = |rng: &mut Rng| match sc.stamping {
        Stamping::Hardware => 0.0,
        Stamping::Software => rng.exp(SW_STAMP_NS),
    };
    let delay = |rng: &mut Rng| (BASE_DELAY_NS + rng.exp(sc.jitter_ns)) * 1e-9;

    let mut queue = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |q: &mut BinaryHeap<Queued>, t: f64, ev: Ev| {
        order += 1;
        q.push(Queued(t, order, ev));
    };
    for n in 0..=sc.run_s {
        push(&mut queue, f64::from(n), Ev::Measure(n));
        push(&mut queue, f64::from(n) + 0.25, Ev::SyncSend(n));
    }
    push(&mut queue, rng.uniform() * 2.0, Ev::DelayReq);

    let mut result = RunResult::default();
    let mut last_bad: Option<u32> = Some(0);
    let mut latest_sync: Option<SyncStamps> = None;
    let mut used_sync: Option<u32> = None;
    let mut delays: Vec<Duration> = Vec::new();
    let in_outage = |n: u32| match sc.event {
        Event::Outage { from, to } => n >= from && n < to,
        _ => false,
    };
    let mut held = false;
    let mut garbage_left = 0;
    let mut forged = false;

    while let Some(Queued(t, _, ev)) = queue.pop() {
        if t > f64::from(sc.run_s) + 0.5 {
            break;
        }
        clock.advance(t);
        let master_time =
            |extra_ns: f64, m: f64| base_time() + Duration::from_nanos_f64(t * 1e9 + m + extra_ns);
        let mut sample: Option<ServoSample> = None;
        match ev {
            Ev::Measure(n) => {
                let err = clock.x_ns - master_ns;
                let freq = clock.f0_ppb + clock.u_ppb;
                result.trace.push(err);
                if n >= sc.reset_s {
                    result.abs_offsets.push(err.abs());
                }
                if err.abs() > 2000.0 || freq.abs() > 2000.0 {
                    last_bad = Some(n);
                }
                clock.f0_ppb += WANDER_PPB * rng.normal();
                if let Event::MasterStep { at, by } = sc.event
                    && n == at
                {
                    master_ns += by * 1e9;
                }
                if in_outage(n) && !held {
                    held = true;
                    let out = servo.holdover();
                    assert_eq!(out.state, ServoState::Holdover);
                    clock.apply(&out);
                }
                if !in_outage(n) {
                    held = false;
                }
            }
            Ev::SyncSend(n) => {
                if in_outage(n) {
                    continue;
                }
                let t1 = master_time(sw(&mut rng), master_ns);
                let d = delay(&mut rng);
                push(&mut queue, t + d, Ev::SyncRx { seq: n, t1 });
            }
            Ev::SyncRx { seq, t1 } => {
                let t2 = clock.local(sw(&mut rng));
                let stamps = SyncStamps { seq, t1, t2 };
                latest_sync = Some(stamps);
                if sc.sampling == Sampling::Ptp4l && !delays.is_empty() {
                    let mut v = delays.clone();
                    v.sort();
                    let median = if v.len() % 2 == 1 {
                        v[v.len() / 2]
                    } else {
                        (v[v.len() / 2 - 1] + v[v.len() / 2]).half()
                    };
                    let offset = (t2 - t1) - median;
                    sample = Some(ServoSample::new(offset, median, t2));
                }
            }
            Ev::DelayReq => {
                push(&mut queue, t + rng.uniform() * 2.0, Ev::DelayReq);
                if in_outage(t as u32) {
                    continue;
                }
                if let Some(sync) = latest_sync {
                    let t3 = clock.local(sw(&mut rng));
                    let d = delay(&mut rng);
                    let t4 = base_time()
                        + Duration::from_nanos_f64((t + d) * 1e9 + master_ns + sw(&mut rng));
                    let back = delay(&mut rng);
                    push(&mut queue, t + d + back, Ev::DelayResp { sync, t3, t4 });
                }
            }
            Ev::DelayResp { sync, t3, t4 } => {
                let ms = sync.t2 - sync.t1;
                let sm = t4 - t3;
                let path_delay = (ms + sm).half();
                match sc.sampling {
                    Sampling::Ptp4l => {
                        delays.push(path_delay);
                        if delays.len() > 10 {
                            delays.remove(0);
                        }
                    }
                    Sampling::Paired => {
                        if used_sync != Some(sync.seq) {
                            used_sync = Some(sync.seq);
                            let offset = ms - path_delay;
                            let mid = sync.t2 + (t3 - sync.t2).half();
                            sample = Some(ServoSample {
                                offset,
                                path_delay,
                                local_time: mid,
                                now: clock.local(0.0),
                            });
                        }
                    }
                }
            }
        }
        if let Some(mut s) = sample {
            let second = t as u32;
            match sc.event {
                Event::Forged { at, offset, delay } if second >= at && !forged => {
                    forged = true;
                    s.offset = Duration::from_nanos_f64(offset * 1e9);
                    s.path_delay = Duration::from_nanos_f64(delay * 1e9);
                }
                Event::Garbage { at, count } if second >= at && garbage_left < count => {
                    garbage_left += 1;
                    s.offset = Duration::from_nanos_f64((rng.uniform() * 2.0 - 1.0) * 1e9);
                }
                _ => {}
            }
            let out = servo.sample(s);
            clock.apply(&out);
        }
    }
    result.sync_time = match last_bad {
        Some(n) if n >= sc.run_s => None,
        Some(n) => Some(n + 1),
        None => Some(0),
    };
    result.final_abs = (clock.x_ns - master_ns).abs();
    let st = servo.stats();
    result.steps = st.steps;
    result.rejected = st.rejected;
    result.reacquisitions = st.reacquisitions;
    result
}

fn run(sc: &Scenario, config: &ServoConfig, seed: u64) -> RunResult {
    let mut servo = AnyServo::new(config, 0.0);
    simulate(sc, &mut servo, seed)
}

// ------------------------------------------------------------- tests ---

fn hw_short() -> Scenario {
    Scenario::baseline(100.0, Stamping::Hardware, 300, 100)
}

#[test]
fn pi_closed_loop_hw_baseline_converges() {
    let mut sc = hw_short();
    sc.sampling = Sampling::Ptp4l;
    let r = run(
        &sc,
        &servo_config(ServoAlgorithm::Pi, Stamping::Hardware),
        1,
    );
    assert_eq!(r.steps, 1, "the first offset of 0.1 s is stepped once");
    let sync = r.sync_time.expect("PI converges");
    assert!(sync < 100, "sync time {sync}");
    assert!(r.max() < 5_000.0, "max {} ns", r.max());
}

#[test]
fn kalman_closed_loop_hw_baseline_converges() {
    let r = run(
        &hw_short(),
        &servo_config(ServoAlgorithm::Kalman, Stamping::Hardware),
        1,
    );
    assert_eq!(r.steps, 1, "the first offset of 0.1 s is stepped once");
    let sync = r.sync_time.expect("Kalman converges");
    assert!(sync < 60, "sync time {sync}");
    assert!(r.max() < 2_000.0, "max {} ns", r.max());
    assert!(r.final_abs < 1_000.0);
}

#[test]
fn kalman_with_ptp4l_style_samples_converges() {
    let mut sc = hw_short();
    sc.sampling = Sampling::Ptp4l;
    let r = run(
        &sc,
        &servo_config(ServoAlgorithm::Kalman, Stamping::Hardware),
        2,
    );
    assert!(r.sync_time.is_some());
    assert!(r.max() < 2_000.0, "max {} ns", r.max());
}

#[test]
fn kalman_learns_large_noise_without_locking_out() {
    // Software stamps and Exp(10 us) queueing: the initial noise guess is
    // far too small and must be learnt, not rejected forever.
    let sc = Scenario::baseline(10_000.0, Stamping::Software, 400, 200);
    let r = run(
        &sc,
        &servo_config(ServoAlgorithm::Kalman, Stamping::Software),
        3,
    );
    assert_eq!(r.steps, 1);
    assert!(r.max() < 50_000.0, "max {} ns", r.max());
    assert!(r.rejected < 40, "rejected {}", r.rejected);
}

#[test]
fn forged_offset_never_moves_the_clock() {
    for (offset, delay) in [(1e9, 1e-7), (-1e9, 1e-7), (1e9, -5e8), (3e-3, 1e-7)] {
        let mut sc = hw_short();
        sc.event = Event::Forged {
            at: 150,
            offset,
            delay,
        };
        let cfg = servo_config(ServoAlgorithm::Kalman, Stamping::Hardware);
        let r = run(&sc, &cfg, 4);
        assert_eq!(r.steps, 1, "only the initial step ({offset} s)");
        assert!(r.rejected >= 1, "the forged sample is rejected");
        assert_eq!(r.reacquisitions, 0);
        let after = &r.trace[150..];
        let worst = after.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(worst < 1_000.0, "clock moved to {worst} ns ({offset} s)");
    }
}

#[test]
fn forged_offset_with_a_step_threshold_does_not_step() {
    let mut sc = hw_short();
    sc.event = Event::Forged {
        at: 150,
        offset: 1e9,
        delay: 1e-7,
    };
    let cfg = ServoConfig {
        step_threshold: 1e-3,
        ..servo_config(ServoAlgorithm::Kalman, Stamping::Hardware)
    };
    let r = run(&sc, &cfg, 5);
    assert_eq!(r.steps, 1);
    let worst = r.trace[150..].iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(worst < 1_000.0, "clock moved to {worst} ns");
}

#[test]
fn garbage_burst_never_steps_and_recovers() {
    let mut sc = Scenario::baseline(100.0, Stamping::Hardware, 500, 100);
    sc.event = Event::Garbage { at: 150, count: 10 };
    let cfg = servo_config(ServoAlgorithm::Kalman, Stamping::Hardware);
    let r = run(&sc, &cfg, 6);
    assert_eq!(r.steps, 1);
    assert_eq!(r.reacquisitions, 0);
    let worst = r.trace[150..].iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(worst < 5_000.0, "clock moved to {worst} ns");
    let late = r.trace[300..].iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(late < 1_000.0, "not recovered: {late} ns");
}

#[test]
fn master_step_is_followed_by_slewing() {
    let mut sc = Scenario::baseline(100.0, Stamping::Hardware, 400, 100);
    sc.event = Event::MasterStep { at: 150, by: 1e-3 };
    let cfg = servo_config(ServoAlgorithm::Kalman, Stamping::Hardware);
    let r = run(&sc, &cfg, 7);
    assert_eq!(r.steps, 1, "step_threshold 0: slew, do not step");
    assert!(r.reacquisitions >= 1);
    assert!(r.final_abs < 1_000.0, "final {} ns", r.final_abs);
}

#[test]
fn master_step_is_followed_by_stepping_with_a_threshold() {
    let mut sc = Scenario::baseline(100.0, Stamping::Hardware, 300, 100);
    sc.event = Event::MasterStep { at: 150, by: 1e-3 };
    let cfg = ServoConfig {
        step_threshold: 1e-4,
        ..servo_config(ServoAlgorithm::Kalman, Stamping::Hardware)
    };
    let r = run(&sc, &cfg, 8);
    assert_eq!(r.steps, 2);
    assert!(r.final_abs < 1_000.0, "final {} ns", r.final_abs);
}

#[test]
fn holdover_keeps_frequency_and_relocks() {
    let mut sc = Scenario::baseline(100.0, Stamping::Hardware, 400, 100);
    sc.event = Event::Outage { from: 200, to: 260 };
    let cfg = servo_config(ServoAlgorithm::Kalman, Stamping::Hardware);
    let r = run(&sc, &cfg, 9);
    assert_eq!(r.steps, 1);
    // 60 s of 1 ppb/sqrt(s) wander: a few hundred ns at most.
    let during = r.trace[200..262]
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(during < 5_000.0, "holdover drifted {during} ns");
    assert!(r.final_abs < 1_000.0);
}

#[test]
fn kalman_unit_behaviour() {
    let cfg = servo_config(ServoAlgorithm::Kalman, Stamping::Hardware);
    let mut s = KalmanServo::new(&cfg, 0.0);
    let t0 = base_time();
    let at = |sec: f64| t0 + Duration::from_nanos_f64(sec * 1e9);
    let d = Duration::from_nanos(150);
    assert_eq!(s.estimate().offset_uncertainty, f64::INFINITY);
    let o = s.sample(ServoSample::new(Duration::from_nanos(500), d, at(0.0)));
    assert_eq!(o.action, ServoAction::None);
    // Time going backwards restarts the acquisition.
    let o = s.sample(ServoSample::new(Duration::from_nanos(500), d, at(-1.0)));
    assert_eq!(o.state, ServoState::Unlocked);
    // +10 ppm between the samples, 5 us offset: below the first step
    // threshold, so the clock is slewed.
    let o = s.sample(ServoSample::new(Duration::from_nanos(10_500), d, at(0.0)));
    // Slewing, but not yet locked: two samples cannot pin the frequency
    // down to a ppm (the lock needs phase within 1 us and frequency within
    // 1 ppm of certainty).
    assert_eq!(o.state, ServoState::Unlocked);
    match o.action {
        ServoAction::Frequency { ppb } => assert!(ppb < -10_000.0, "{ppb}"),
        other => panic!("{other:?}"),
    }
    // The correction worked: the following samples read zero, and the
    // servo locks.
    let mut state = o.state;
    for k in 1..=10 {
        state = s
            .sample(ServoSample::new(Duration::ZERO, d, at(f64::from(k))))
            .state;
    }
    assert_eq!(state, ServoState::Locked);
    assert!(s.estimate().offset_uncertainty.is_finite());
    let held = s.holdover();
    assert_eq!(held.state, ServoState::Holdover);
    match held.action {
        ServoAction::Frequency { ppb } => assert!((ppb + 10_000.0).abs() < 1.0, "{ppb}"),
        other => panic!("{other:?}"),
    }
    s.set_max_frequency(5_000.0);
    assert_eq!(
        s.holdover().action,
        ServoAction::Frequency { ppb: -5_000.0 }
    );
    s.reset();
    assert_eq!(s.state(), ServoState::Unlocked);
    assert!(s.min_path_delay().is_none());
    assert!(s.extra_noise_variance() >= 0.0);
}

// ------------------------------------------------------------- table ---

struct Anchor {
    name: &'static str,
    jitter_ns: f64,
    stamping: Stamping,
    /// (run, reset) of the ptp4l PI row and of the linreg row.
    pi_run: (u32, u32),
    lr_run: (u32, u32),
    /// ptp4l figures: (sync time, RMS ns, max ns, p99 ns) for PI and linreg.
    pi: (&'static str, f64, f64, f64),
    linreg: (&'static str, f64, f64, f64),
}

const ANCHORS: [Anchor; 4] = [
    Anchor {
        name: "HW E2E, Exp(100 ns)",
        jitter_ns: 100.0,
        stamping: Stamping::Hardware,
        pi_run: (1000, 100),
        lr_run: (1000, 100),
        pi: ("27..30", 96.0, 666.0, 303.0),
        linreg: ("28..34", 56.0, 327.0, 158.0),
    },
    Anchor {
        name: "SW E2E, Exp(100 ns)",
        jitter_ns: 100.0,
        stamping: Stamping::Software,
        pi_run: (3000, 600),
        lr_run: (1000, 100),
        pi: ("110..222", 70.0, 251.0, 173.0),
        linreg: ("25..31", 62.0, 635.0, 187.0),
    },
    Anchor {
        name: "HW E2E, Exp(1 us)",
        jitter_ns: 1000.0,
        stamping: Stamping::Hardware,
        pi_run: (3000, 600),
        lr_run: (3000, 600),
        pi: ("never", 955.0, 7960.0, 3060.0),
        linreg: ("43..165", 276.0, 1060.0, 710.0),
    },
    Anchor {
        name: "SW E2E, Exp(10 us)",
        jitter_ns: 10_000.0,
        stamping: Stamping::Software,
        pi_run: (3000, 600),
        lr_run: (3000, 600),
        pi: ("32..2714", 2670.0, 13400.0, 7500.0),
        linreg: ("33..716", 2640.0, 27900.0, 6900.0),
    },
];

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

struct Summary {
    sync: String,
    rms: f64,
    max: f64,
    p99: f64,
}

fn summarize(results: &[RunResult]) -> Summary {
    let n = results.len() as f64;
    let rms = results.iter().map(RunResult::rms).sum::<f64>() / n;
    let max = results.iter().map(RunResult::max).fold(0.0, f64::max);
    let p99 = results.iter().map(RunResult::p99).sum::<f64>() / n;
    let times: Vec<Option<u32>> = results.iter().map(|r| r.sync_time).collect();
    let sync = if times.iter().any(Option::is_none) {
        let never = times.iter().filter(|t| t.is_none()).count();
        format!("{never}/{} never", times.len())
    } else {
        let lo = times.iter().flatten().min().copied().unwrap_or(0);
        let hi = times.iter().flatten().max().copied().unwrap_or(0);
        format!("{lo}..{hi}")
    };
    Summary {
        sync,
        rms,
        max,
        p99,
    }
}

fn fmt_ns(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} us", v / 1000.0)
    } else {
        format!("{v:.0} ns")
    }
}

fn row(label: &str, s: &Summary) {
    println!(
        "| {label:<40} | {:>10} | {:>9} | {:>9} | {:>9} |",
        s.sync,
        fmt_ns(s.rms),
        fmt_ns(s.max),
        fmt_ns(s.p99)
    );
}

fn measure(a: &Anchor, cfg: &ServoConfig, sampling: Sampling, runs: (u32, u32)) -> Summary {
    let mut sc = Scenario::baseline(a.jitter_ns, a.stamping, runs.0, runs.1);
    sc.sampling = sampling;
    let results: Vec<RunResult> = SEEDS.iter().map(|&seed| run(&sc, cfg, seed)).collect();
    for r in &results {
        // Figures are not asserted; sanity is: every run ends near the master.
        assert!(r.final_abs < 100_000.0, "diverged: {} ns", r.final_abs);
    }
    summarize(&results)
}

/// The baseline table: ours beside ptp4l's. Figures are printed, not
/// asserted (`--ignored --nocapture`).
#[test]
#[ignore = "long: prints the measured table"]
fn baseline_table() {
    println!();
    println!(
        "| {:<40} | {:>10} | {:>9} | {:>9} | {:>9} |",
        "scenario / servo", "sync (s)", "RMS", "max", "p99"
    );
    println!(
        "|{:-<42}|{:-<12}|{:-<11}|{:-<11}|{:-<11}|",
        "", "", "", "", ""
    );
    for a in &ANCHORS {
        let pi_cfg = servo_config(ServoAlgorithm::Pi, a.stamping);
        let k_cfg = servo_config(ServoAlgorithm::Kalman, a.stamping);
        println!("| **{}** | | | | |", a.name);
        let (s, r, m, p) = a.pi;
        row(
            &format!("ptp4l PI ({}/{} s)", a.pi_run.0, a.pi_run.1),
            &Summary {
                sync: s.into(),
                rms: r,
                max: m,
                p99: p,
            },
        );
        let (s, r, m, p) = a.linreg;
        row(
            &format!("ptp4l linreg ({}/{} s)", a.lr_run.0, a.lr_run.1),
            &Summary {
                sync: s.into(),
                rms: r,
                max: m,
                p99: p,
            },
        );
        row(
            &format!("ours PI, ptp4l samples ({}/{})", a.pi_run.0, a.pi_run.1),
            &measure(a, &pi_cfg, Sampling::Ptp4l, a.pi_run),
        );
        row(
            &format!("ours PI, paired samples ({}/{})", a.lr_run.0, a.lr_run.1),
            &measure(a, &pi_cfg, Sampling::Paired, a.lr_run),
        );
        row(
            &format!("ours Kalman, ptp4l samples ({}/{})", a.lr_run.0, a.lr_run.1),
            &measure(a, &k_cfg, Sampling::Ptp4l, a.lr_run),
        );
        let mut no_w = k_cfg;
        no_w.kalman.delay_weight = 0.0;
        row(
            &format!(
                "ours Kalman, no delay weight ({}/{})",
                a.lr_run.0, a.lr_run.1
            ),
            &measure(a, &no_w, Sampling::Paired, a.lr_run),
        );
        row(
            &format!("**ours Kalman** ({}/{})", a.lr_run.0, a.lr_run.1),
            &measure(a, &k_cfg, Sampling::Paired, a.lr_run),
        );
    }
}

/// Sensitivity of the Kalman servo to its clock-stability assumption
/// (the simulated clock wanders at 1 ppb/sqrt(s)).
#[test]
#[ignore = "long: prints a sensitivity table"]
fn kalman_sensitivity_table() {
    println!();
    for a in &ANCHORS {
        for wander in [0.1, 0.3, 1.0, 3.0, 10.0] {
            let mut cfg = servo_config(ServoAlgorithm::Kalman, a.stamping);
            cfg.kalman.frequency_wander = wander;
            row(
                &format!("{} wander {wander}", a.name),
                &measure(a, &cfg, Sampling::Paired, a.lr_run),
            );
        }
    }
}
