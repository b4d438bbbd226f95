//! A measured series and its CSV file.
//!
//! One file per series, header `t_s,offset_ns,freq_ppb,path_delay_ns,state`,
//! one sample per line, empty fields for missing values. `t_s` is the
//! sample's time in seconds: CLOCK_MONOTONIC for daemon and ptp4l logs,
//! simulated true time for the simulator, the reference clock's second for
//! PPS edges. Files are written line by line and flushed on every poll of
//! a capture, so an interrupted capture keeps every sample it saw.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The CSV header line.
pub const HEADER: &str = "t_s,offset_ns,freq_ppb,path_delay_ns,state";

/// One sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Time, s.
    pub t_s: f64,
    /// Offset (measured or true clock error), ns.
    pub offset_ns: f64,
    /// Frequency (servo adjustment or true error), ppb.
    pub freq_ppb: Option<f64>,
    /// Path delay, ns.
    pub path_delay_ns: Option<f64>,
    /// Servo or port state (`s0`/`s1`/`s2`, `SLAVE`, …), may be empty.
    pub state: String,
}

impl Point {
    /// A sample with only a time and an offset.
    #[must_use]
    pub fn new(t_s: f64, offset_ns: f64) -> Self {
        Self {
            t_s,
            offset_ns,
            freq_ppb: None,
            path_delay_ns: None,
            state: String::new(),
        }
    }

    /// The CSV line (without newline).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
        format!(
            "{},{},{},{},{}",
            self.t_s,
            self.offset_ns,
            opt(self.freq_ppb),
            opt(self.path_delay_ns),
            self.state.replace([',', '\n'], " ")
        )
    }
}

/// A bad line in a series file.
#[derive(Debug)]
pub struct CsvError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number (0: the file itself).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for CsvError {}

/// Parses one CSV line of a series file.
///
/// # Errors
/// A message naming the bad field.
pub fn parse_csv_line(line: &str) -> Result<Point, String> {
    let f: Vec<&str> = line.split(',').collect();
    if f.len() != 5 {
        return Err(format!("expected 5 fields ({HEADER}), found {}", f.len()));
    }
    let num = |i: usize, name: &str| -> Result<f64, String> {
        let v: f64 = f[i]
            .trim()
            .parse()
            .map_err(|_| format!("{name}: not a number: {:?}", f[i]))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("{name}: not finite: {:?}", f[i]))
        }
    };
    let opt = |i: usize, name: &str| -> Result<Option<f64>, String> {
        if f[i].trim().is_empty() {
            Ok(None)
        } else {
            num(i, name).map(Some)
        }
    };
    Ok(Point {
        t_s: num(0, "t_s")?,
        offset_ns: num(1, "offset_ns")?,
        freq_ppb: opt(2, "freq_ppb")?,
        path_delay_ns: opt(3, "path_delay_ns")?,
        state: f[4].trim().to_owned(),
    })
}

/// Reads a series file.
///
/// # Errors
/// I/O errors and bad lines, naming the file and line.
pub fn read_csv(path: &Path) -> Result<Vec<Point>, CsvError> {
    let err = |line, message: String| CsvError {
        file: path.to_owned(),
        line,
        message,
    };
    let file = File::open(path).map_err(|e| err(0, e.to_string()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| err(i + 1, e.to_string()))?;
        if i == 0 {
            if line.trim() != HEADER {
                return Err(err(1, format!("header must be `{HEADER}`")));
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_csv_line(&line).map_err(|m| err(i + 1, m))?);
    }
    Ok(out)
}

/// Writes a series file incrementally.
#[derive(Debug)]
pub struct Writer {
    out: BufWriter<File>,
    /// Samples written so far.
    pub count: u64,
    /// The last sample written.
    pub last: Option<Point>,
}

impl Writer {
    /// Creates (truncates) `path` and writes the header.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut out = BufWriter::new(File::create(path)?);
        writeln!(out, "{HEADER}")?;
        out.flush()?;
        Ok(Self {
            out,
            count: 0,
            last: None,
        })
    }

    /// Appends a sample (buffered; see [`Writer::flush`]).
    ///
    /// # Errors
    /// I/O errors.
    pub fn push(&mut self, p: Point) -> std::io::Result<()> {
        writeln!(self.out, "{}", p.to_csv())?;
        self.count += 1;
        self.last = Some(p);
        Ok(())
    }

    /// Flushes to the file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes a whole series.
///
/// # Errors
/// I/O errors.
pub fn write_csv(path: &Path, points: &[Point]) -> std::io::Result<()> {
    let mut w = Writer::create(path)?;
    for p in points {
        w.push(p.clone())?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_errors_name_the_line() {
        let dir = std::env::temp_dir().join(format!("measure-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a.csv");
        let pts = vec![
            Point {
                t_s: 1.5,
                offset_ns: -12.0,
                freq_ppb: Some(305.0),
                path_delay_ns: Some(1234.0),
                state: "s2".into(),
            },
            Point::new(2.5, 0.25),
        ];
        write_csv(&path, &pts).expect("write");
        assert_eq!(read_csv(&path).expect("read"), pts);
        std::fs::write(&path, format!("{HEADER}\n1,2,,,s2\n1,x,,,s2\n")).expect("write");
        let e = read_csv(&path).expect_err("bad line");
        assert_eq!(e.line, 3);
        assert!(
            e.to_string().contains("a.csv:3: offset_ns: not a number"),
            "{e}"
        );
        std::fs::write(&path, "nope\n").expect("write");
        assert_eq!(read_csv(&path).expect_err("bad header").line, 1);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
