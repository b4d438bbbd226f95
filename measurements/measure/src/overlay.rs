//! The overlay's intervals over time, from status snapshots (JSON lines, as
//! the daemon's status socket and `statime-ctl status --json -f` give
//! them, and as `ptp-sim overlay --trace` writes them).
//!
//! Each snapshot's `overlay.sources[]` gives a source's interval relative
//! to the local clock (`offset_s ± bound_s`, "source minus local"),
//! `overlay.intersection_s` the guard's result and, with a virtual clock,
//! `true_error_s` (local minus true): true time relative to the local clock
//! is `-true_error_s`. The plot draws each source's lower and upper edge,
//! the intersection's, and that truth line, against `monotonic_s`; the
//! table counts the snapshots where truth lies outside the intersection.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::plot::{Curve, lines};

/// One snapshot's overlay view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OverlayPoint {
    /// `monotonic_s`.
    pub t_s: f64,
    /// (name, lower, upper, state) per source, seconds.
    pub sources: Vec<(String, f64, f64, String)>,
    /// The intersection (lower, upper), seconds.
    pub intersection: Option<(f64, f64)>,
    /// True time relative to the local clock, seconds.
    pub truth: Option<f64>,
}

/// Parses JSON-lines snapshots; lines without an overlay view (or not
/// JSON) are skipped and counted.
///
/// # Errors
/// None of the lines had an overlay view.
pub fn parse_snapshots(text: &str) -> Result<(Vec<OverlayPoint>, usize), String> {
    let mut points = Vec::new();
    let mut skipped = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| point(&v))
        {
            Some(p) => points.push(p),
            None => skipped += 1,
        }
    }
    if points.is_empty() {
        return Err(format!(
            "no snapshot with overlay sources ({skipped} lines skipped): is `[overlay] mode` set?"
        ));
    }
    Ok((points, skipped))
}

fn point(v: &Value) -> Option<OverlayPoint> {
    let t_s = v.get("monotonic_s")?.as_f64()?;
    let o = v.get("overlay")?;
    let sources: Vec<(String, f64, f64, String)> = o
        .get("sources")?
        .as_array()?
        .iter()
        .filter_map(|s| {
            let off = s.get("offset_s")?.as_f64()?;
            let b = s.get("bound_s")?.as_f64()?;
            Some((
                s.get("name")?.as_str()?.to_owned(),
                off - b,
                off + b,
                s.get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ))
        })
        .collect();
    if sources.is_empty() {
        return None;
    }
    let intersection = o.get("intersection_s").and_then(|x| {
        let a = x.as_array()?;
        Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
    });
    let truth = v.get("true_error_s").and_then(Value::as_f64).map(|e| -e);
    Some(OverlayPoint {
        t_s,
        sources,
        intersection,
        truth,
    })
}

/// What the snapshots show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OverlaySummary {
    /// Snapshots with an overlay view.
    pub snapshots: usize,
    /// Of those, with an intersection (agreement).
    pub with_intersection: usize,
    /// Of those, with a known truth.
    pub with_truth: usize,
    /// Truth outside the intersection.
    pub truth_outside: usize,
    /// Median intersection half-width, seconds.
    pub median_half_width: Option<f64>,
    /// Per source: snapshots as falseticker.
    pub falseticker: BTreeMap<String, usize>,
}

/// Counts what `points` show.
#[must_use]
pub fn summarise(points: &[OverlayPoint]) -> OverlaySummary {
    let mut s = OverlaySummary {
        snapshots: points.len(),
        ..OverlaySummary::default()
    };
    let mut half: Vec<f64> = Vec::new();
    for p in points {
        for (name, _, _, state) in &p.sources {
            let e = s.falseticker.entry(name.clone()).or_insert(0);
            if state == "falseticker" {
                *e += 1;
            }
        }
        if let Some((lo, hi)) = p.intersection {
            s.with_intersection += 1;
            half.push((hi - lo) / 2.0);
            if let Some(t) = p.truth {
                s.with_truth += 1;
                if t < lo || t > hi {
                    s.truth_outside += 1;
                }
            }
        }
    }
    half.sort_by(f64::total_cmp);
    s.median_half_width = half.get(half.len() / 2).copied();
    s
}

/// Draws the intervals (µs) over time (s since the first snapshot) into
/// `file`. Sources whose interval lies beyond `clip_us` of the
/// intersection (a liar 1 ms off) are drawn clipped to that range, so the
/// honest ones stay readable; their label says so.
///
/// # Errors
/// Drawing errors, naming the file.
pub fn plot(file: &Path, title: &str, points: &[OverlayPoint], clip_us: f64) -> Result<(), String> {
    let t0 = points.first().map_or(0.0, |p| p.t_s);
    let us = 1e6;
    let clip = |v: f64| v.clamp(-clip_us, clip_us);
    let mut names: Vec<String> = Vec::new();
    for p in points {
        for (n, ..) in &p.sources {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let mut curves = Vec::new();
    let mut push_pair = |label: &str, lo: Vec<(f64, f64)>, hi: Vec<(f64, f64)>| {
        curves.push(Curve {
            label: format!("{label}, lower"),
            points: lo,
        });
        curves.push(Curve {
            label: format!("{label}, upper"),
            points: hi,
        });
    };
    for n in &names {
        let mut clipped = false;
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for p in points {
            if let Some((_, l, h, _)) = p.sources.iter().find(|s| &s.0 == n) {
                let (l, h) = (l * us, h * us);
                clipped |= l.abs() > clip_us || h.abs() > clip_us;
                lo.push((p.t_s - t0, clip(l)));
                hi.push((p.t_s - t0, clip(h)));
            }
        }
        let label = if clipped {
            format!("{n} (clipped to ±{clip_us:.0} us)")
        } else {
            n.clone()
        };
        push_pair(&label, lo, hi);
    }
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    for p in points {
        if let Some((l, h)) = p.intersection {
            lo.push((p.t_s - t0, clip(l * us)));
            hi.push((p.t_s - t0, clip(h * us)));
        }
    }
    push_pair("intersection (published)", lo, hi);
    // Truth first: the palette has eight colours and repeats after that.
    let truth: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((p.t_s - t0, clip(p.truth? * us))))
        .collect();
    if !truth.is_empty() {
        curves.insert(
            0,
            Curve {
                label: "true time (virtual clock)".into(),
                points: truth,
            },
        );
    }
    lines(
        file,
        title,
        "time, s",
        "relative to the local clock, us",
        &curves,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: f64, truth_err: f64, x: Option<(f64, f64)>) -> String {
        let x = x.map_or("null".to_owned(), |(a, b)| format!("[{a},{b}]"));
        format!(
            r#"{{"monotonic_s":{t},"true_error_s":{truth_err},"overlay":{{"status":"agreement","sources":[{{"name":"domain 1","state":"falseticker","offset_s":1e-3,"bound_s":2e-5}},{{"name":"domain 2","state":"truechimer","offset_s":1e-6,"bound_s":2e-5}},{{"name":"domain 3","state":"truechimer","offset_s":-1e-6,"bound_s":2e-5}}],"intersection_s":{x}}}}}"#
        )
    }

    #[test]
    fn snapshots_give_intervals_truth_and_counts() {
        let text = [
            line(10.0, 0.0, Some((-1.9e-5, 1.9e-5))),
            "not json".to_owned(),
            r#"{"monotonic_s":11,"overlay":{"status":"disabled","sources":[]}}"#.to_owned(),
            // Local clock 30 us behind true: truth at +30 us, outside.
            line(12.0, -3e-5, Some((-1.9e-5, 1.9e-5))),
            line(13.0, 0.0, None),
        ]
        .join("\n");
        let (points, skipped) = parse_snapshots(&text).unwrap();
        assert_eq!((points.len(), skipped), (3, 2));
        let p = &points[0];
        assert_eq!(p.sources.len(), 3);
        assert!((p.sources[0].1 - 9.8e-4).abs() < 1e-12);
        assert!((p.sources[0].2 - 1.02e-3).abs() < 1e-12);
        assert_eq!(p.truth, Some(-0.0));
        let s = summarise(&points);
        assert_eq!(s.snapshots, 3);
        assert_eq!(s.with_intersection, 2);
        assert_eq!((s.with_truth, s.truth_outside), (2, 1));
        assert_eq!(s.falseticker.get("domain 1"), Some(&3));
        assert_eq!(s.falseticker.get("domain 2"), Some(&0));
        assert!((s.median_half_width.unwrap() - 1.9e-5).abs() < 1e-12);
        let dir = std::env::temp_dir().join(format!("measure-overlay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("overlay.png");
        crate::plot::init_font().unwrap();
        plot(&png, "test", &points, 100.0).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn snapshots_without_an_overlay_are_an_error_that_says_why() {
        let e = parse_snapshots("{\"monotonic_s\":1}\n\n").unwrap_err();
        assert!(e.contains("[overlay] mode"), "{e}");
    }
}
