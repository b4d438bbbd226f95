//! The overlay simulator (issue 8, "Verify / Simulator"): short runs
//! (2 x 10^4 guard rounds) of every `measurements/scenarios/overlay/*.toml`,
//! checked against the requirements: no round with true time outside the
//! published interval while at most `f` sources are faulty, liars detected
//! within 3 polls of crossing the bound, the half-width within twice the
//! best honest source's bound, one-way delay attacks harmless to the bound,
//! and `f + 1` liars reported (Unknown, or a confident wrong answer shown as
//! such), never hidden. The full-length run is `#[ignore]`d.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use statime_sim::overlay::report::{MAX_DETECTION_POLLS, outcome_word};
use statime_sim::overlay::{
    LiarSpec, OverlayScenario, ScenarioOutcome, beyond_f_table, bmca_pick, main_table, run, run_all,
};

/// Guard rounds per scenario in the short runs.
const SAMPLES: u64 = 20_000;

/// The scenarios with n = 2f + 1 and f liars pushing one side, whose
/// honest sources are unequal enough (paths of 10 to 25 us, one under a
/// one-way delay attack) that the ratio target is out of reach of the
/// intersection; checked against the theorem's bound instead.
const RATIO_EXCEPTIONS: &[&str] = &["overlay-n7-f3-two-faced-bmca", "overlay-n7-f3-two-faced-x3"];

/// The scenario that shows the daemon's `measured_at` convention letting
/// honest intervals miss true time (see the report); in short runs it may
/// or may not show it, so it is checked on its own below.
fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/overlay")
}

fn load(name: &str) -> OverlayScenario {
    OverlayScenario::load(&scenario_dir().join(format!("{name}.toml"))).unwrap()
}

fn scenarios() -> Vec<OverlayScenario> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("overlay-") && n.ends_with(".toml"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| OverlayScenario::load(f).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn outcomes() -> &'static [ScenarioOutcome] {
    static CELL: OnceLock<Vec<ScenarioOutcome>> = OnceLock::new();
    CELL.get_or_init(|| run_all(&scenarios(), &[], Some(SAMPLES), 2))
}

fn outcome(name: &str) -> &'static ScenarioOutcome {
    outcomes()
        .iter()
        .find(|o| o.scenario.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

fn within_f() -> impl Iterator<Item = &'static ScenarioOutcome> {
    outcomes().iter().filter(|o| !o.scenario.beyond_f())
}

#[test]
fn the_scenarios_cover_the_matrix() {
    let all = scenarios();
    assert!(all.len() >= 20, "{} scenarios", all.len());
    for n in [3, 4, 5, 7] {
        assert!(
            all.iter().any(|s| s.sources.len() == n && !s.beyond_f()),
            "no scenario with n = {n}"
        );
    }
    for f in 1..=3 {
        assert!(
            all.iter()
                .any(|s| s.faults == f && s.liars() == f && !s.beyond_f()),
            "no scenario with f = {f} liars"
        );
    }
    for kind in ["offset", "drift", "small-error", "two-faced"] {
        assert!(
            all.iter().any(|s| !s.beyond_f()
                && s.sources
                    .iter()
                    .any(|x| x.liar.as_ref().is_some_and(|l| l.kind_name() == kind))),
            "no liar of kind {kind}"
        );
    }
    assert!(
        all.iter()
            .any(|s| s.sources.iter().any(|x| x.attack.is_some()))
    );
    assert!(
        all.iter()
            .any(|s| s.sources[bmca_pick(s)].liar.is_some() && !s.beyond_f()),
        "no scenario where BMCA would pick a liar"
    );
    // f + 1 liars with n = 2f + 1 and with n >= 2f + 2.
    assert!(
        all.iter()
            .any(|s| s.beyond_f() && s.sources.len() == 2 * s.faults + 1)
    );
    assert!(
        all.iter()
            .any(|s| s.beyond_f() && s.sources.len() >= 2 * s.faults + 2)
    );
}

#[test]
fn true_time_stays_inside_while_at_most_f_are_faulty() {
    for o in outcomes() {
        let s = &o.summary;
        let name = &o.scenario.name;
        assert_eq!(s.samples, SAMPLES, "{name}");
        assert_eq!(s.outside_le_f, 0, "{name}: {:?}", s.first_violation);
        assert_eq!(s.provable_missed, 0, "{name}");
        assert_eq!(s.falseticker_selected, 0, "{name}");
    }
    for o in within_f() {
        let s = &o.summary;
        let name = &o.scenario.name;
        assert_eq!(s.outside_any, 0, "{name}: {:?}", s.first_wrong);
        assert_eq!(s.honest_misses, 0, "{name}: {:?}", s.first_honest_miss);
        assert_eq!(s.drift_breaches, 0, "{name}");
        assert!(o.failures().is_empty(), "{name}: {:?}", o.failures());
        // Unknown only while the sources first report and after the step.
        assert!(s.frac(s.unknown()) < 0.001, "{name}: {}", s.unknown());
    }
    // The provable-falseticker check was exercised: a liar 1 ms off is one
    // in every round after the start.
    let s = &outcome("overlay-n3-f1-offset").summary;
    assert!(
        s.provable_rounds > SAMPLES * 9 / 10,
        "{}",
        s.provable_rounds
    );
}

#[test]
fn drifting_liars_are_detected_within_three_polls_of_crossing() {
    let drifting: Vec<&ScenarioOutcome> = within_f()
        .filter(|o| {
            o.scenario
                .sources
                .iter()
                .any(|s| matches!(s.liar, Some(LiarSpec::Drift { .. })))
        })
        .collect();
    assert!(drifting.len() >= 4);
    for o in drifting {
        let s = &o.summary;
        let name = &o.scenario.name;
        let drift_detections = s
            .detections
            .iter()
            .filter(|d| {
                matches!(
                    o.scenario.sources[d.source].liar,
                    Some(LiarSpec::Drift { .. })
                )
            })
            .count();
        assert!(
            drift_detections >= 2,
            "{name}: {drift_detections} detections"
        );
        // A liar whose reported interval meets no honest one is called a
        // falseticker in that very round.
        assert_eq!(s.provable_missed, 0, "{name}");
        // Counted from the start of the stretch it has stayed beyond every
        // honest interval: within 3 polls, always.
        let last = s.detect_continuous_max_polls.unwrap();
        assert!(last <= MAX_DETECTION_POLLS, "{name}: {last} polls");
        // Counted from its very first crossing (it may fall back within
        // reach of an honest interval in between): within 3 polls for 99 %
        // of the crossings, and never much later.
        let p99 = s.detect_p99_polls.unwrap();
        assert!(p99 <= MAX_DETECTION_POLLS, "{name}: p99 {p99} polls");
        let max = s.detect_max_polls.unwrap();
        assert!(max <= 3.0 * MAX_DETECTION_POLLS, "{name}: {max} polls");
        // A crossing an interval test can see (beyond the honest intervals
        // by more than half the liar's exchange asymmetry) is never
        // overdue: the guard judges each source also at its own completion
        // and by its last two samples.
        assert_eq!(s.overdue, 0, "{name}");
        // By the asymmetry-blind definition (until 2026-12-07) too, never
        // much later than 3 polls.
        let blind = s.blind_detect_max_s / o.scenario.poll_interval_s;
        assert!(blind <= 3.0 * MAX_DETECTION_POLLS, "{name}: {blind} polls");
        // Crossing happens at a true error of a few times the bounds, not
        // at some trivially huge one.
        for d in &s.detections {
            assert!(d.error_at_detect_ns.abs() > 1_000.0, "{name}: {d:?}");
        }
    }
    // The triangle walks out and back: many crossings in 2 x 10^4 rounds.
    let s = &outcome("overlay-n3-f1-drift").summary;
    assert!(s.detections.len() >= 5, "{}", s.detections.len());
}

#[test]
fn the_published_half_width_stays_within_twice_the_best_honest_source() {
    for o in within_f() {
        let s = &o.summary;
        let name = &o.scenario.name;
        let ratio = s.ratio.unwrap();
        let (_, best) = s.best_honest.unwrap();
        // Guarantee 4 of intersection.md: at most twice the (f+1)-th
        // narrowest honest interval (medians: a loose check of it).
        let theorem = 2.0 * s.honest_f1_median_ns.unwrap() / best;
        assert!(ratio <= theorem * 1.05, "{name}: {ratio} > {theorem}");
        if !RATIO_EXCEPTIONS.contains(&name.as_str()) {
            assert!(ratio <= 2.0, "{name}: ratio {ratio}");
            assert!(o.targets_missed().is_empty(), "{name}");
        }
    }
}

#[test]
fn one_way_delay_attacks_shift_the_offset_but_never_break_the_bound() {
    let attacked: Vec<&ScenarioOutcome> = outcomes()
        .iter()
        .filter(|o| o.scenario.sources.iter().any(|s| s.attack.is_some()))
        .collect();
    assert!(attacked.len() >= 3);
    for o in &attacked {
        assert_eq!(o.summary.outside_any, 0, "{}", o.scenario.name);
        assert_eq!(o.summary.honest_misses, 0, "{}", o.scenario.name);
    }
    // Source gm-a of overlay-n3-f1-one-way: +50 us towards the local node
    // from 100 s on (of about 830 s simulated, statistics from 30 s). The
    // offset moves by half the extra delay, the exchange's path delay grows
    // by as much, and the interval keeps holding true time.
    let o = outcome("overlay-n3-f1-one-way");
    let spec = &o.scenario.sources[0];
    let extra = spec.attack.unwrap().extra_ns;
    let st = &o.summary.sources[0];
    #[allow(clippy::cast_precision_loss)]
    let k = st.exchanges as f64;
    let bias = st.bias_sum / k;
    let path = st.path_sum / k;
    assert!(
        bias < -0.4 * extra && bias > -0.55 * extra,
        "offset error {bias} for extra {extra}"
    );
    let base = f64::midpoint(spec.to_local.base_ns, spec.to_source.base_ns);
    assert!(path > base + 0.4 * extra, "path delay {path}");
    assert!(st.min_slack >= 0.0, "slack {}", st.min_slack);
    assert_eq!(st.misses, 0);
}

#[test]
fn f_plus_one_liars_are_reported_not_hidden() {
    let table = beyond_f_table(outcomes());
    // n = 2f + 1 colluding on one side: no rule can tell, and the table
    // says so.
    for name in [
        "overlay-n3-f1-plus1-collude",
        "overlay-n5-f2-plus1-collude",
        "overlay-n7-f3-plus1-collude",
    ] {
        let s = &outcome(name).summary;
        assert!(s.frac(s.outside_any) > 0.9, "{name}: {}", s.outside_any);
        assert!(outcome_word(s).contains("WRONG"), "{name}");
        let row = table.lines().find(|l| l.contains(name)).unwrap();
        assert!(row.contains("confident WRONG"), "{row}");
        assert!(o_fails_only_beyond_f(name));
    }
    // n >= 2f + 2: the intersection is empty, the status Unknown.
    for name in [
        "overlay-n4-f1-plus1-collude",
        "overlay-n4-f1-plus1-disagree",
        "overlay-n5-f1-plus1-collude",
        "overlay-n7-f2-plus1-collude",
    ] {
        let s = &outcome(name).summary;
        assert!(s.frac(s.no_agreement) > 0.99, "{name}: {}", s.no_agreement);
        // At most the first round or two, before every source reported.
        assert!(s.outside_any <= 2, "{name}: {}", s.outside_any);
        let row = table.lines().find(|l| l.contains(name)).unwrap();
        assert!(row.contains("Unknown"), "{row}");
    }
    // Liars on opposite sides cancel out: the answer stays right.
    let s = &outcome("overlay-n3-f1-plus1-opposite").summary;
    assert_eq!(s.outside_any, 0);
    assert!(s.frac(s.agreement) > 0.999);
}

/// A scenario beyond `f` is never flagged as failing the requirements that
/// only hold within `f` (it is reported, not judged).
fn o_fails_only_beyond_f(name: &str) -> bool {
    outcome(name).failures().is_empty()
}

#[test]
fn the_source_bmca_would_pick_is_refused_when_it_lies() {
    for name in ["overlay-n3-f1-bmca", "overlay-n5-f1-bmca"] {
        let o = outcome(name);
        let pick = bmca_pick(&o.scenario);
        assert!(o.scenario.sources[pick].liar.is_some(), "{name}");
        assert_eq!(o.summary.bmca_followed, 0, "{name}");
        assert_eq!(o.summary.sources[pick].selected, 0, "{name}");
        assert!(o.summary.frac(o.summary.agreement) > 0.999, "{name}");
        // The clock follows the honest sources.
        assert!(o.summary.err_max_ns < 5_000.0, "{name}");
    }
}

#[test]
fn a_falsely_small_bound_is_followed_but_cannot_leave_the_intersection() {
    let o = outcome("overlay-n3-f1-small-error");
    let s = &o.summary;
    let Some(LiarSpec::SmallError { offset_ns, .. }) = o.scenario.sources[2].liar else {
        panic!("source 2 is the liar");
    };
    // It is the narrowest truechimer, so it is followed ...
    assert!(s.liar_selected > s.agreement * 9 / 10);
    // ... and drags the clock by its lie, which stays inside the published
    // interval: true time never leaves it.
    assert!(
        (s.err_rms_ns - offset_ns).abs() < 0.2 * offset_ns,
        "{}",
        s.err_rms_ns
    );
    assert!(s.err_max_ns < s.half_width_median_ns.unwrap());
    assert_eq!(s.outside_any, 0);
    // Its interval often misses true time: it is faulty, yet harmless.
    assert!(s.sources[2].misses > 0);
}

#[test]
fn same_seed_same_figures() {
    let sc = load("overlay-n5-f2-small-two-faced");
    let a = run(&sc, 3, 5_000);
    let b = run(&sc, 3, 5_000);
    assert_eq!(a.samples, b.samples);
    assert_eq!(a.half_widths, b.half_widths);
    assert_eq!(a.detections, b.detections);
    assert_eq!(a.sources, b.sources);
    assert!(a.err_sum_sq.to_bits() == b.err_sum_sq.to_bits());
    let c = run(&sc, 4, 5_000);
    assert_ne!(a.half_widths, c.half_widths);
    // The thread count does not matter either.
    let one = run_all(std::slice::from_ref(&sc), &[3, 4], Some(5_000), 1);
    let two = run_all(std::slice::from_ref(&sc), &[3, 4], Some(5_000), 2);
    assert_eq!(one[0].runs[0].half_widths, a.half_widths);
    assert_eq!(two[0].runs[1].half_widths, c.half_widths);
}

#[test]
fn honest_intervals_hold_on_short_paths_while_the_servo_slews_back() {
    // On sub-microsecond paths the drift term dominates: a sample must be
    // dated no later than its Sync (the offset holds at the midpoint of t2
    // and t3, up to one poll before completion) and widened by the servo's
    // slew. Until 2026-12-07 the daemon dated it at completion and honest
    // intervals missed true time here (first at round ~82 000 of seed 1;
    // measurements/reports/2026-11-22-overlay-sim).
    let r = run(&load("overlay-n4-f1-short-paths"), 1, 200_000);
    assert_eq!(r.honest_misses, 0, "{:?}", r.first_honest_miss);
    assert_eq!(r.outside_any, 0);
    assert_eq!(r.drift_breaches, 0);
}

#[test]
fn a_servo_slewing_beyond_max_drift_keeps_honest_intervals_sound() {
    // 500 ppm of slew against a 15 ppm max-drift: the guard hears every
    // frequency setting and widens the intervals by their range.
    let r = run(&load("overlay-n3-f1-fast-servo"), 1, 200_000);
    assert_eq!(r.honest_misses, 0, "{:?}", r.first_honest_miss);
    assert_eq!(r.outside_any, 0);
}

#[test]
fn a_broken_drift_assumption_is_caught() {
    // A local clock 50 ppm off that the servo cannot correct (1 ppb slew),
    // against a guard that assumes no drift at all: aged honest intervals
    // must miss true time, and the figures must say so.
    let text = r#"
faults = 1
[guard]
max-drift-ppm = 0
[local]
frequency-ppm = 50
max-frequency-ppb = 1
[[source]]
id = "a"
to-local = { base-ns = 200 }
to-source = { base-ns = 200 }
[[source]]
id = "b"
to-local = { base-ns = 300 }
to-source = { base-ns = 300 }
[[source]]
id = "c"
to-local = { base-ns = 250 }
to-source = { base-ns = 250 }
"#;
    let sc = OverlayScenario::parse(text, Path::new("broken.toml"), "broken").unwrap();
    let r = run(&sc, 1, 3_000);
    assert!(r.honest_misses > 100, "{}", r.honest_misses);
    assert!(r.drift_breaches > 0);
    let o = &run_all(&[sc], &[1], Some(3_000), 1)[0];
    assert!(!o.failures().is_empty());
    assert!(main_table(std::slice::from_ref(o)).contains("MISSED"));
}

#[test]
fn the_table_has_a_row_per_scenario() {
    let t = main_table(outcomes());
    for o in outcomes() {
        let row = t
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", o.scenario.name)))
            .unwrap();
        assert!(row.contains(&o.summary.samples.to_string()), "{row}");
    }
    assert!(t.contains("(f+1)"));
}

#[test]
fn liar_behaviours() {
    let drift = LiarSpec::Drift {
        rate_ppb: 1000.0,
        start_s: 10.0,
        period_s: 100.0,
    };
    assert_eq!(drift.error_at(5.0, 0), 0.0);
    assert!((drift.error_at(60.0, 0) - 50_000.0).abs() < 1e-6);
    assert!((drift.error_at(80.0, 0) - 30_000.0).abs() < 1e-6);
    assert!((drift.error_at(110.0, 0)).abs() < 1e-6);
    let two = LiarSpec::TwoFaced {
        face_a_ns: 0.0,
        face_b_ns: 7.0,
        window_s: 0.0,
    };
    assert_eq!((two.error_at(1.0, 4), two.error_at(1.0, 5)), (0.0, 7.0));
    let windows = LiarSpec::TwoFaced {
        face_a_ns: 1.0,
        face_b_ns: 2.0,
        window_s: 10.0,
    };
    assert_eq!(
        (windows.error_at(5.0, 9), windows.error_at(15.0, 9)),
        (1.0, 2.0)
    );
    let offset = LiarSpec::Offset {
        offset_ns: 3.0,
        start_s: 2.0,
    };
    assert_eq!(
        (offset.error_at(1.0, 0), offset.error_at(2.0, 0)),
        (0.0, 3.0)
    );
    let small = LiarSpec::SmallError {
        offset_ns: 1.0,
        path_shrink_ns: 9.0,
    };
    assert_eq!(small.path_shrink_ns(), 9.0);
}

#[test]
fn bad_scenarios_name_the_file_and_the_key() {
    let parse = |top: &str, tail: &str| {
        let text = format!(
            "{top}\n[[source]]\nid = \"a\"\n[[source]]\nid = \"b\"\n[[source]]\nid = \"c\"\n{tail}"
        );
        OverlayScenario::parse(&text, Path::new("bad.toml"), "bad")
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(parse("faults = 1", ""), Ok(()));
    let cases = [
        ("faults = 1\ncolour = 1", "", "colour"),
        ("", "", "faults"),
        ("faults = 2", "", "faults"),
        ("faults = 1", "noise-ns = 500", "noise-ns"),
        ("faults = 1", "loss = 1.5", "loss"),
        ("faults = 1\npoll-interval-s = -1", "", "poll-interval-s"),
        ("faults = 1\nsamples = 0", "", "samples"),
        ("faults = 1", "[source.liar]\nkind = \"psychic\"", "psychic"),
        (
            "faults = 1",
            "[source.liar]\nkind = \"drift\"\nrate-ppb = 1e9",
            "liar.rate-ppb",
        ),
        (
            "faults = 1",
            "[source.attack]\ndirection = \"to-local\"\nextra-ns = 1e9",
            "attack.extra-ns",
        ),
        (
            "faults = 1\n[local]\nmax-frequency-ppb = 0",
            "",
            "local.max-frequency-ppb",
        ),
        (
            "faults = 1\n[guard]\nswitch-below-percent = 101",
            "",
            "guard.switch-below-percent",
        ),
    ];
    for (top, tail, key) in cases {
        let err = parse(top, tail).expect_err(key);
        assert!(err.starts_with("bad.toml"), "{err}");
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
#[ignore = "10^6 guard rounds per scenario: seconds in a release build, minutes in debug; \
            run with `cargo test --release -p statime-sim --test overlay -- --ignored`"]
fn full_length_runs_meet_the_requirements() {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let outs = run_all(&scenarios(), &[], None, threads);
    for o in &outs {
        let s = &o.summary;
        let name = o.scenario.name.as_str();
        assert!(s.samples >= 1_000_000, "{name}");
        assert_eq!(s.outside_le_f, 0, "{name}: {:?}", s.first_violation);
        assert!(o.failures().is_empty(), "{name}: {:?}", o.failures());
        if !o.scenario.beyond_f() && !s.detections.is_empty() {
            let p99 = s.detect_p99_polls.unwrap();
            let last = s.detect_continuous_max_polls.unwrap();
            assert!(p99 <= MAX_DETECTION_POLLS, "{name}: p99 {p99}");
            assert!(last <= MAX_DETECTION_POLLS, "{name}: {last}");
        }
    }
}
