//! Parsing the ptp4l-format logs both programs write, and the statistics
//! the tests report.

/// One `master offset ... path delay ...` line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    /// The line's `ptp4l[T]` time (CLOCK_MONOTONIC seconds).
    pub(crate) t: f64,
    /// Offset from the master (ns).
    pub(crate) offset: f64,
    /// Servo state code (`s0`, `s1`, `s2`).
    pub(crate) state: u8,
    /// Mean path delay (ns).
    pub(crate) delay: f64,
}

/// The `T` of a line starting `ptp4l[T]:`.
pub(crate) fn stamp(line: &str) -> Option<f64> {
    let start = line.find('[')?;
    let end = line.find("]:")?;
    line.get(start + 1..end)?.parse().ok()
}

/// The time of the first log line.
pub(crate) fn first_stamp(log: &str) -> Option<f64> {
    log.lines().find_map(stamp)
}

/// Every per-sample line.
pub(crate) fn samples(log: &str) -> Vec<Sample> {
    log.lines()
        .filter_map(|l| {
            let t = stamp(l)?;
            let rest = l.split("master offset").nth(1)?;
            let tok: Vec<&str> = rest.split_whitespace().collect();
            // OFFSET sN freq FREQ path delay DELAY
            let offset = tok.first()?.parse().ok()?;
            let state = tok.get(1)?.strip_prefix('s')?.parse().ok()?;
            let delay = tok.get(6)?.parse().ok()?;
            Some(Sample {
                t,
                offset,
                state,
                delay,
            })
        })
        .collect()
}

/// The best master a log names last: `Some(identity)` after
/// `selected best master clock X`, `Some("local")` after ptp4l's
/// `selected local clock X as best master` or `assuming the grand master
/// role`.
pub(crate) fn last_best_master(log: &str) -> Option<String> {
    log.lines()
        .filter_map(|l| {
            if let Some(rest) = l.split("selected best master clock ").nth(1) {
                return rest.split_whitespace().next().map(str::to_owned);
            }
            (l.contains("as best master") || l.contains("assuming the grand master role"))
                .then(|| "local".to_owned())
        })
        .next_back()
}

/// The (from, to) states of every port-1 state change line:
/// `port 1 (iface): A to B on EVENT` or ptp4l's `port 1: A to B on EVENT`.
pub(crate) fn transitions(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| {
            let rest = l.split("]: port 1").nth(1)?;
            let rest = rest.split_once(": ")?.1;
            let tok: Vec<&str> = rest.split_whitespace().collect();
            match tok.as_slice() {
                [from, "to", to, "on", ..] => Some(((*from).to_owned(), (*to).to_owned())),
                _ => None,
            }
        })
        .collect()
}

/// The state port 1 is in after the last state change.
pub(crate) fn port_state(log: &str) -> Option<String> {
    transitions(log).pop().map(|(_, to)| to)
}

/// Whether port 1 ever entered `state`.
pub(crate) fn reached(log: &str, state: &str) -> bool {
    transitions(log).iter().any(|(_, to)| to == state)
}

/// What our daemon's `--duration` summary says.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RunSummary {
    /// `locked after X s`.
    pub(crate) locked_after: Option<f64>,
    /// Seconds of true-error samples after lock.
    pub(crate) seconds: u64,
    /// True error (ns): mean, rms, max |error|.
    pub(crate) mean: f64,
    pub(crate) rms: f64,
    pub(crate) max: f64,
}

/// The number right after `key` in `line` (units and commas ignored).
fn number_after(line: &str, key: &str) -> Option<f64> {
    let rest = line.split(key).nth(1)?;
    rest.split_whitespace()
        .next()?
        .trim_end_matches(',')
        .parse()
        .ok()
}

/// Parse `summary: locked after X s, N servo samples` and `summary: true
/// error of the virtual clock over N s after lock: mean M ns, rms R ns,
/// max X ns`. `None` without a true-error line.
pub(crate) fn run_summary(log: &str) -> Option<RunSummary> {
    let mut s = RunSummary::default();
    let mut found = false;
    for l in log.lines() {
        if l.starts_with("summary: locked after") {
            s.locked_after = number_after(l, "locked after");
        }
        if l.starts_with("summary: true error") {
            found = true;
            s.seconds = number_after(l, " over ").map_or(0, |v| v as u64);
            s.mean = number_after(l, "mean ")?;
            s.rms = number_after(l, "rms ")?;
            s.max = number_after(l, "max ")?;
        }
    }
    found.then_some(s)
}

/// Mean, standard deviation and largest magnitude of a sample.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    pub(crate) n: usize,
    pub(crate) mean: f64,
    pub(crate) sd: f64,
    pub(crate) max_abs: f64,
}

impl Stats {
    pub(crate) fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self::default();
        }
        let nf = n as f64;
        let mean = values.iter().sum::<f64>() / nf;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / nf;
        Self {
            n,
            mean,
            sd: var.sqrt(),
            max_abs: values.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        }
    }
}

#[test]
fn parses_both_dialects() {
    let ours = "ptp4l[3860.963]: selected best master clock 00005e.fffe.00530a\n\
                ptp4l[3860.963]: port 1 (ptp1): LISTENING to UNCALIBRATED on RS_SLAVE\n\
                ptp4l[3861.407]: master offset      -1423 s2 freq  -47424 path delay      2346\n\
                ptp4l[3861.407]: port 1 (ptp1): UNCALIBRATED to SLAVE on MASTER_CLOCK_SELECTED\n\
                summary: locked after 2.4 s, 224 servo samples\n\
                summary: true error of the virtual clock over 27 s after lock: mean 174 ns, rms 226 ns, max 436 ns\n";
    assert_eq!(
        last_best_master(ours).as_deref(),
        Some("00005e.fffe.00530a")
    );
    assert_eq!(port_state(ours).as_deref(), Some("SLAVE"));
    let s = samples(ours);
    assert_eq!(s.len(), 1);
    assert!((s[0].offset + 1423.0).abs() < 1e-9 && s[0].state == 2);
    assert!((s[0].delay - 2346.0).abs() < 1e-9 && (s[0].t - 3861.407).abs() < 1e-9);
    let r = run_summary(ours).unwrap();
    assert_eq!(r.seconds, 27);
    assert_eq!((r.mean, r.rms, r.max), (174.0, 226.0, 436.0));
    assert_eq!(r.locked_after, Some(2.4));

    let theirs = "ptp4l[3954.952]: port 0: INITIALIZING to LISTENING on INIT_COMPLETE\n\
                  ptp4l[3958.300]: selected local clock 00005e.fffe.00530b as best master\n\
                  ptp4l[3958.941]: port 1: LISTENING to UNCALIBRATED on RS_SLAVE\n\
                  ptp4l[3960.959]: master offset       -523 s0 freq    -264 path delay      2276\n";
    assert_eq!(port_state(theirs).as_deref(), Some("UNCALIBRATED"));
    assert!(reached(theirs, "UNCALIBRATED") && !reached(theirs, "SLAVE"));
    assert_eq!(last_best_master(theirs).as_deref(), Some("local"));
    assert_eq!(samples(theirs).len(), 1);
    assert_eq!(first_stamp(theirs), Some(3954.952));
    let st = Stats::of(&[1.0, -3.0]);
    assert_eq!((st.n, st.mean, st.sd, st.max_abs), (2, -1.0, 2.0, 3.0));
}
