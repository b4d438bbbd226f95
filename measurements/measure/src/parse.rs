//! Parsers for what daemons print: ptp4l/phc2sys log lines (ours print the
//! same text with `format = "ptp4l"`, or with a `statime[…]` prefix
//! natively), the JSON status stream of our daemon's `status-socket`, and
//! the true-error dump of `measurements/veth-bench/true-errors.gdb`.

use serde::Deserialize;

use crate::series::Point;

/// What one log line holds.
#[derive(Clone, Debug, PartialEq)]
pub enum LogRecord {
    /// A per-sample offset line (`master offset`, `phc offset`,
    /// `sys offset`).
    Sample(Point),
    /// A ptp4l summary line: `rms … max … freq … +/- … delay … +/- …`.
    Summary {
        /// CLOCK_MONOTONIC seconds of the line.
        t_s: f64,
        /// RMS offset, ns.
        rms_ns: f64,
        /// max |offset|, ns.
        max_ns: f64,
        /// Mean frequency, ppb.
        freq_ppb: f64,
    },
}

/// The bracketed CLOCK_MONOTONIC time and the text after `]: ` of a line
/// such as `ptp4l[123.456]: text` (any program name).
fn split_prefix(line: &str) -> Option<(f64, &str)> {
    let open = line.find('[')?;
    let close = open + line[open..].find("]: ")?;
    let t: f64 = line[open + 1..close].trim().parse().ok()?;
    let mut rest = &line[close + 3..];
    // An optional message tag `[tag] ` (ptp4l's message_tag option).
    if rest.starts_with('[')
        && let Some(end) = rest.find("] ")
    {
        rest = &rest[end + 2..];
    }
    Some((t, rest))
}

fn num(tok: Option<&&str>) -> Option<f64> {
    let v: f64 = tok?.trim_start_matches('+').parse().ok()?;
    v.is_finite().then_some(v)
}

/// Parses one log line; `None` for lines that carry no sample.
///
/// Recognised: `master offset X sN freq F path delay D` (ptp4l, ours),
/// `CLOCK_REALTIME phc offset X sN freq F delay D` and `sys offset` (phc2sys),
/// and summary lines `rms R max M freq F +/- S delay D +/- S`.
#[must_use]
pub fn parse_log_line(line: &str) -> Option<LogRecord> {
    let (t, rest) = split_prefix(line)?;
    let tok: Vec<&str> = rest.split_whitespace().collect();
    if tok.first() == Some(&"rms") && tok.get(2) == Some(&"max") && tok.get(4) == Some(&"freq") {
        return Some(LogRecord::Summary {
            t_s: t,
            rms_ns: num(tok.get(1))?,
            max_ns: num(tok.get(3))?,
            freq_ppb: num(tok.get(5))?,
        });
    }
    let i = tok.iter().position(|w| *w == "offset")?;
    let kind = *tok.get(i.checked_sub(1)?)?;
    if !matches!(kind, "master" | "phc" | "sys") {
        return None;
    }
    let offset = num(tok.get(i + 1))?;
    let state = tok
        .get(i + 2)
        .filter(|s| s.starts_with('s'))
        .map_or("", |s| s);
    let after = |key: &str| {
        tok.iter()
            .position(|w| *w == key)
            .and_then(|k| num(tok.get(k + 1)))
    };
    Some(LogRecord::Sample(Point {
        t_s: t,
        offset_ns: offset,
        freq_ppb: after("freq"),
        path_delay_ns: after("delay"),
        state: state.to_owned(),
    }))
}

/// The servo part of a status snapshot.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ServoSnapshot {
    /// Servo state name.
    pub state: String,
    /// Last measured offset, s.
    pub offset_s: Option<f64>,
    /// Frequency adjustment, ppb.
    pub frequency_ppb: Option<f64>,
    /// Path delay, s.
    pub path_delay_s: Option<f64>,
    /// Samples fed to the servo.
    pub samples: u64,
    /// Samples rejected.
    pub rejected: u64,
}

/// One line of the daemon's JSON status stream (`follow`). Unknown fields
/// are ignored: the snapshot carries much more.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Snapshot {
    /// CLOCK_MONOTONIC seconds.
    pub monotonic_s: f64,
    /// The servo.
    pub servo: ServoSnapshot,
    /// True error of a virtual clock, s.
    pub true_error_s: Option<f64>,
}

/// Seconds to nanoseconds, rounded to the picosecond (no binary noise in
/// the files).
fn s_to_ns(s: f64) -> f64 {
    (s * 1e12).round() / 1e3
}

/// The samples of one status line: the measured offset (if the servo took a
/// new sample since `last_samples`) and the true error (if any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotSamples {
    /// The servo's offset sample.
    pub offset: Option<Point>,
    /// The virtual clock's true error.
    pub true_error: Option<Point>,
}

/// Parses one JSON status line. `last_samples` is the servo sample count of
/// the previous snapshot: an offset is reported only when it grew, so a
/// snapshot sent for another reason does not repeat the last sample.
///
/// # Errors
/// The JSON error.
pub fn parse_snapshot(
    line: &str,
    last_samples: Option<u64>,
) -> Result<(Snapshot, SnapshotSamples), String> {
    let s: Snapshot = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let t = s.monotonic_s;
    let new_sample = last_samples.is_none_or(|n| s.servo.samples > n);
    let offset = s.servo.offset_s.filter(|_| new_sample).map(|o| Point {
        t_s: t,
        offset_ns: s_to_ns(o),
        freq_ppb: s.servo.frequency_ppb,
        path_delay_ns: s.servo.path_delay_s.map(s_to_ns),
        state: s.servo.state.clone(),
    });
    let true_error = s.true_error_s.map(|e| Point {
        t_s: t,
        offset_ns: s_to_ns(e),
        freq_ppb: None,
        path_delay_ns: None,
        state: s.servo.state.clone(),
    });
    Ok((s, SnapshotSamples { offset, true_error }))
}

/// The true-error series dumped by `true-errors.gdb` into a slave's log:
/// one value per second after lock, between `TRUE_ERRORS_BEGIN` and
/// `TRUE_ERRORS_END`, with the daemon's own summary lines
/// (`summary: locked after X s`, `… mean M ns, rms R ns, max X ns`).
#[derive(Clone, Debug, PartialEq)]
pub struct TruthDump {
    /// The values, ns.
    pub values_ns: Vec<f64>,
    /// Lock time after the start, s.
    pub locked_after_s: Option<f64>,
    /// CLOCK_MONOTONIC of the first log line (the daemon's start), s.
    pub first_line_s: Option<f64>,
    /// The daemon's summary figures (mean, rms, max), ns.
    pub summary: Option<(f64, f64, f64)>,
}

impl TruthDump {
    /// The series with times: the daemon samples the true error on its
    /// 1-s ticks from its start, once locked, so the k-th value is at
    /// `start + ceil(lock) + k` (±1 s: the start is the first log line).
    #[must_use]
    pub fn points(&self) -> Vec<Point> {
        let t0 = self.first_line_s.unwrap_or(0.0) + self.locked_after_s.unwrap_or(0.0).ceil();
        self.values_ns
            .iter()
            .enumerate()
            .map(|(k, v)| {
                #[allow(clippy::cast_precision_loss)]
                let t = t0 + k as f64;
                Point::new(t, *v)
            })
            .collect()
    }

    /// Checks the dumped series against the daemon's own summary line
    /// (mean, rms, max to ±1 ns, as `analyze.py` does).
    ///
    /// # Errors
    /// What does not match.
    pub fn check(&self) -> Result<(), String> {
        let Some((m, r, x)) = self.summary else {
            return Err("no `summary: true error` line to check the dump against".into());
        };
        let v = &self.values_ns;
        let mean = crate::stats::mean(v);
        let rms = crate::stats::rms(v);
        let max = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let ok = (mean - m).abs() <= 1.0 && (rms - r).abs() <= 1.0 && (max - x).abs() <= 1.0;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "dump (mean {mean:.0}, rms {rms:.0}, max {max:.0} ns) does not match the daemon's summary (mean {m:.0}, rms {r:.0}, max {x:.0} ns)"
            ))
        }
    }
}

/// Parses a gdb true-error dump out of a whole log. `None` if there is no
/// `TRUE_ERRORS_BEGIN`.
///
/// # Errors
/// A bad value, with its 1-based line number.
pub fn parse_truth_dump(text: &str) -> Result<Option<TruthDump>, (usize, String)> {
    let mut values = None;
    let mut locked = None;
    let mut first = None;
    let mut summary = None;
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if first.is_none()
            && let Some((t, _)) = split_prefix(line)
        {
            first = Some(t);
        }
        if line.trim() == "TRUE_ERRORS_BEGIN" {
            let mut v = Vec::new();
            for (j, l) in lines.by_ref() {
                if l.trim() == "TRUE_ERRORS_END" {
                    break;
                }
                for w in l.split_whitespace() {
                    let x: f64 = w.parse().map_err(|_| {
                        (j + 1, format!("not a number in the true-error dump: {w:?}"))
                    })?;
                    v.push(x);
                }
            }
            values = Some(v);
            let _ = i;
        } else if let Some(r) = line.strip_prefix("summary: locked after ") {
            locked = r.split_whitespace().next().and_then(|s| s.parse().ok());
        } else if line.starts_with("summary: true error") {
            let get = |key: &str| {
                let k = line.find(key)? + key.len();
                line[k..].split_whitespace().next()?.parse::<f64>().ok()
            };
            if let (Some(m), Some(r), Some(x)) = (get("mean "), get("rms "), get("max ")) {
                summary = Some((m, r, x));
            }
        }
    }
    Ok(values.map(|values_ns| TruthDump {
        values_ns,
        locked_after_s: locked,
        first_line_s: first,
        summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(line: &str) -> Point {
        match parse_log_line(line) {
            Some(LogRecord::Sample(p)) => p,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn ptp4l_and_our_lines() {
        let p =
            sample("ptp4l[123.456]: master offset        -12 s2 freq    +305 path delay      1234");
        assert_eq!(
            p,
            Point {
                t_s: 123.456,
                offset_ns: -12.0,
                freq_ppb: Some(305.0),
                path_delay_ns: Some(1234.0),
                state: "s2".into()
            }
        );
        let q =
            sample("statime[9.5]: master offset    1063493 s0 freq      +0 path delay      2668");
        assert_eq!(
            (q.t_s, q.offset_ns, q.state.as_str()),
            (9.5, 1_063_493.0, "s0")
        );
        let tagged = sample("ptp4l[7.0]: [eth0] master offset 5 s1 freq -3 path delay 10");
        assert_eq!((tagged.offset_ns, tagged.freq_ppb), (5.0, Some(-3.0)));
    }

    #[test]
    fn phc2sys_lines() {
        let p =
            sample("phc2sys[55.1]: CLOCK_REALTIME phc offset   -12 s2 freq  -4000 delay    512");
        assert_eq!(
            (p.offset_ns, p.freq_ppb, p.path_delay_ns),
            (-12.0, Some(-4000.0), Some(512.0))
        );
        let s = sample("phc2sys[55.1]: sys offset 7 s2 freq +1 delay 600");
        assert_eq!(s.offset_ns, 7.0);
    }

    #[test]
    fn summary_and_other_lines() {
        assert_eq!(
            parse_log_line(
                "ptp4l[10.0]: rms   12 max   34 freq   +305 +/-   3 delay  1234 +/-   5"
            ),
            Some(LogRecord::Summary {
                t_s: 10.0,
                rms_ns: 12.0,
                max_ns: 34.0,
                freq_ppb: 305.0
            })
        );
        for l in [
            "ptp4l[6213.470]: port 1: INITIALIZING to LISTENING on INIT_COMPLETE",
            "ptp4l[6216.400]: selected best master clock 00005e.fffe.00530a",
            "Breakpoint 1 at 0x6098a: file statime-linux/src/bin/statime.rs, line 136.",
            "ptp4l[x]: master offset 1 s2 freq 0 path delay 1",
            "ptp4l[1.0]: master offset nope s2",
            "",
        ] {
            assert_eq!(parse_log_line(l), None, "{l:?}");
        }
    }

    #[test]
    fn json_snapshot_line() {
        let line = r#"{"monotonic_s":1234.5,"port":[{"state":"SLAVE"}],"servo":{"state":"locked","offset_s":-1.2e-8,"frequency_ppb":305.5,"path_delay_s":1.234e-6,"samples":42,"rejected":1},"true_error_s":3.5e-9}"#;
        let (s, got) = parse_snapshot(line, Some(41)).expect("parses");
        assert_eq!(s.servo.samples, 42);
        let o = got.offset.expect("a new sample");
        assert_eq!(o.t_s, 1234.5);
        assert_eq!(o.offset_ns, -12.0);
        assert!((o.path_delay_ns.expect("delay") - 1234.0).abs() < 1e-6);
        assert_eq!(o.state, "locked");
        assert!((got.true_error.expect("virtual clock").offset_ns - 3.5).abs() < 1e-9);
        // The same sample count: no repeated offset sample.
        assert!(
            parse_snapshot(line, Some(42))
                .expect("parses")
                .1
                .offset
                .is_none()
        );
        let nulls = r#"{"monotonic_s":1.0,"servo":{"state":"unlocked","offset_s":null,"frequency_ppb":null,"path_delay_s":null,"samples":0,"rejected":0},"true_error_s":null}"#;
        assert_eq!(
            parse_snapshot(nulls, None).expect("parses").1,
            SnapshotSamples::default()
        );
        assert!(parse_snapshot("{\"monotonic_s\":1}", None).is_err());
    }

    #[test]
    fn truth_dump_with_check() {
        let log = "junk\nptp4l[100.25]: port 1 (vbs0): INITIALIZING to LISTENING on INIT_COMPLETE\n\
                   TRUE_ERRORS_BEGIN\n10.0 -20.0 30.0\nTRUE_ERRORS_END\n\
                   summary: locked after 3.2 s, 5186 servo samples\n\
                   summary: true error of the virtual clock over 3 s after lock: mean 7 ns, rms 22 ns, max 30 ns\n";
        let d = parse_truth_dump(log).expect("ok").expect("dump");
        assert_eq!(d.values_ns, vec![10.0, -20.0, 30.0]);
        assert_eq!(d.locked_after_s, Some(3.2));
        d.check().expect("matches");
        let pts = d.points();
        assert_eq!(pts[0].t_s, 104.25);
        assert_eq!(pts[2].t_s, 106.25);
        let bad = log.replace("max 30 ns", "max 31.5 ns");
        assert!(
            parse_truth_dump(&bad)
                .expect("ok")
                .expect("dump")
                .check()
                .is_err()
        );
        assert_eq!(parse_truth_dump("x\ny\n").expect("ok"), None);
        let e = parse_truth_dump("TRUE_ERRORS_BEGIN\n1 zz\nTRUE_ERRORS_END\n").expect_err("bad");
        assert_eq!(e.0, 2);
    }
}
