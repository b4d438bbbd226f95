//! PNG figures with `plotters` (bitmap backend, pure Rust): offset over
//! time, histogram, and the stability curves (TDEV, MTIE, ADEV) of several
//! series overlaid.
//!
//! Text is drawn with a TrueType font read at run time: DejaVu Sans from the
//! Debian package `fonts-dejavu-core`
//! (`/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf`), or the file named by
//! the environment variable `MEASURE_FONT`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

/// The default font file.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const W: u32 = 960;
const H: u32 = 540;

static FONT: OnceLock<Result<(), String>> = OnceLock::new();

/// Loads and registers the font once.
///
/// # Errors
/// The font file is missing or not a TrueType font; the message names the
/// file and the Debian package.
pub fn init_font() -> Result<(), String> {
    FONT.get_or_init(|| {
        let path = std::env::var_os("MEASURE_FONT").map_or_else(|| PathBuf::from(DEFAULT_FONT), PathBuf::from);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "cannot read the plot font {}: {e} (install the Debian package fonts-dejavu-core, or set MEASURE_FONT to a .ttf file)",
                path.display()
            )
        })?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{}: not a usable TrueType font", path.display()))
    })
    .clone()
}

/// One curve.
#[derive(Clone, Debug)]
pub struct Curve {
    /// Legend.
    pub label: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

fn err<E: std::fmt::Debug>(file: &Path) -> impl Fn(E) -> String + '_ {
    move |e| format!("{}: {e:?}", file.display())
}

/// Renders into an RGB buffer and writes it as a PNG with the best
/// compression.
fn render(
    file: &Path,
    (w, h): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<(), String> {
    use image::ImageEncoder as _;
    init_font()?;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err(file))?;
        draw(&root)?;
        root.present().map_err(err(file))?;
    }
    let f = std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
    image::codecs::png::PngEncoder::new_with_quality(
        std::io::BufWriter::new(f),
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(&buf, w, h, image::ColorType::Rgb8)
    .map_err(|e| format!("{}: {e}", file.display()))
}

/// A tick label: plain for 0.001..99999, else scientific.
#[must_use]
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.0e}")
    }
}

fn range(curves: &[Curve], f: impl Fn(&(f64, f64)) -> f64, positive: bool) -> Option<(f64, f64)> {
    let v: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.points.iter().map(&f))
        .filter(|v| v.is_finite() && (!positive || *v > 0.0))
        .collect();
    let lo = v.iter().copied().reduce(f64::min)?;
    let hi = v.iter().copied().reduce(f64::max)?;
    Some((lo, hi))
}

fn pad((lo, hi): (f64, f64)) -> (f64, f64) {
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - 0.05 * span, hi + 0.05 * span)
}

const LEGEND_ROW: u32 = 20;

/// Draws the legend (a coloured bar and the label per curve) in its own
/// strip under the charts, so it never hides data.
fn legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    labels: &[String],
    file: &Path,
) -> Result<(), String> {
    for (i, l) in labels.iter().enumerate() {
        let y = i32::try_from(i).unwrap_or(0) * i32::try_from(LEGEND_ROW).unwrap_or(20) + 4;
        area.draw(&Rectangle::new(
            [(70, y + 5), (100, y + 9)],
            colour(i).filled(),
        ))
        .map_err(err(file))?;
        area.draw(&Text::new(
            l.clone(),
            (110, y),
            ("sans-serif", 14).into_font(),
        ))
        .map_err(err(file))?;
    }
    Ok(())
}

fn legend_height(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(0) * LEGEND_ROW + 10
}

/// Lines on linear axes (offset over time, histograms drawn as steps).
///
/// # Errors
/// Font or drawing errors, naming the file.
pub fn lines(
    file: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
) -> Result<(), String> {
    let (Some(xr), Some(yr)) = (range(curves, |p| p.0, false), range(curves, |p| p.1, false))
    else {
        return Ok(());
    };
    let (xr, yr) = (pad(xr), pad(yr));
    let lh = legend_height(curves.len());
    render(file, (W, H + lh), |root| {
        let (top, bottom) = root.split_vertically(H);
        let mut chart = ChartBuilder::on(&top)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(err(file))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err(file))?;
        for (i, c) in curves.iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    c.points.iter().copied(),
                    colour(i).stroke_width(1),
                ))
                .map_err(err(file))?;
        }
        let labels: Vec<String> = curves.iter().map(|c| c.label.clone()).collect();
        legend(&bottom, &labels, file)
    })
}

/// Curves on log-log axes, one panel per `(title, y label, curves)`, side
/// by side in one image; the legend (of the first panel's curves) below.
///
/// # Errors
/// Font or drawing errors, naming the file.
pub fn loglog_panels(file: &Path, panels: &[(&str, &str, Vec<Curve>)]) -> Result<(), String> {
    let n = u32::try_from(panels.len().max(1)).unwrap_or(1);
    let labels: Vec<String> = panels
        .first()
        .map(|p| p.2.iter().map(|c| c.label.clone()).collect())
        .unwrap_or_default();
    let lh = legend_height(labels.len());
    let w = W.max(440 * n);
    render(file, (w, H + lh), |root| {
        let (top, bottom) = root.split_vertically(H);
        let areas = top.split_evenly((1, n as usize));
        for ((title, y_label, curves), area) in panels.iter().zip(areas) {
            let (Some(xr), Some(yr)) = (range(curves, |p| p.0, true), range(curves, |p| p.1, true))
            else {
                continue;
            };
            let xr = (xr.0 / 1.3, xr.1 * 1.3);
            let yr = (yr.0 / 1.5, yr.1 * 1.5);
            let mut chart = ChartBuilder::on(&area)
                .caption(*title, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d((xr.0..xr.1).log_scale(), (yr.0..yr.1).log_scale())
                .map_err(err(file))?;
            chart
                .configure_mesh()
                .x_desc("tau (s)")
                .y_desc(*y_label)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(err(file))?;
            for (i, c) in curves.iter().enumerate() {
                let col = colour(i);
                let pts: Vec<(f64, f64)> = c
                    .points
                    .iter()
                    .copied()
                    .filter(|p| p.0 > 0.0 && p.1 > 0.0)
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), col.stroke_width(2)))
                    .map_err(err(file))?;
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled())))
                    .map_err(err(file))?;
            }
        }
        legend(&bottom, &labels, file)
    })
}

/// A histogram of `values` over `[lo, hi]` in `bins` bins as a step curve
/// of the share of samples per bin (values outside are not counted).
#[must_use]
pub fn histogram_steps(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64)> {
    if values.is_empty() || hi <= lo || bins == 0 {
        return Vec::new();
    }
    let mut counts = vec![0usize; bins];
    #[allow(clippy::cast_precision_loss)]
    let width = (hi - lo) / bins as f64;
    for v in values {
        if *v >= lo && *v <= hi {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = (((v - lo) / width) as usize).min(bins - 1);
            counts[k] += 1;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let n = values.len() as f64;
    let mut out = vec![(lo, 0.0)];
    for (k, c) in counts.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let (a, b) = (lo + k as f64 * width, lo + (k + 1) as f64 * width);
        #[allow(clippy::cast_precision_loss)]
        let share = *c as f64 / n;
        out.push((a, share));
        out.push((b, share));
    }
    out.push((hi, 0.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(-2.5), "-2.5");
        assert_eq!(tick(1e-9), "1e-9");
        assert_eq!(tick(0.0), "0");
    }

    #[test]
    fn histogram_counts_shares() {
        let h = histogram_steps(&[0.0, 0.1, 0.6, 1.0, 5.0], 0.0, 1.0, 2);
        assert_eq!(
            h,
            vec![
                (0.0, 0.0),
                (0.0, 0.4),
                (0.5, 0.4),
                (0.5, 0.4),
                (1.0, 0.4),
                (1.0, 0.0)
            ]
        );
        assert!(histogram_steps(&[], 0.0, 1.0, 2).is_empty());
    }

    #[test]
    fn draws_png_files() {
        if std::fs::metadata(DEFAULT_FONT).is_err() && std::env::var_os("MEASURE_FONT").is_none() {
            // The error path is what a machine without the font gets.
            assert!(
                init_font()
                    .expect_err("no font")
                    .contains("fonts-dejavu-core")
            );
            return;
        }
        let dir = std::env::temp_dir().join(format!("measure-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let c = vec![Curve {
            label: "a".into(),
            points: (1..100)
                .map(|i| (f64::from(i), f64::from(i).sqrt()))
                .collect(),
        }];
        lines(&dir.join("l.png"), "t", "x", "y", &c).expect("lines");
        loglog_panels(
            &dir.join("s.png"),
            &[("TDEV", "ns", c.clone()), ("MTIE", "ns", c)],
        )
        .expect("loglog");
        for f in ["l.png", "s.png"] {
            let b = std::fs::read(dir.join(f)).expect("written");
            assert_eq!(&b[1..4], b"PNG");
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
