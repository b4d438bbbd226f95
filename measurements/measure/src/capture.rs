//! `measure capture`: record offset series from running daemons into a run
//! directory, with progress on stderr, until a duration passes, a wrapped
//! command exits, or Ctrl-C (SIGINT/SIGTERM): whatever was captured stays
//! on disk (series files are flushed on every poll, ~5 times a second).
//!
//! Sources (`--source NAME=KIND:ARG`, repeatable):
//! - `log:FILE`: a ptp4l, phc2sys or statime log (followed as it grows;
//!   it may appear later), per-sample `offset` lines;
//! - `cmd:COMMAND`: run `sh -c COMMAND`, keep its output in `raw/NAME.log`
//!   and follow it as a log (e.g. `ptp4l -m …`);
//! - `status:SOCKET`: our daemon's JSON status socket (`follow`); series
//!   `NAME` (servo offsets) and `NAME-true` (true error of a virtual clock);
//! - `truth:FILE`: the true-error dump of `veth-bench/true-errors.gdb` in a
//!   slave's log, read when the capture ends and checked against the
//!   daemon's own summary;
//! - `pps:DEVICE,pin=P,channel=C[,cable-ns=D]`: PPS lab mode, rising edges
//!   time-stamped by the reference PHC `DEVICE`: each edge's offset from the
//!   reference's whole second, minus the cable delay.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pps::{
    ExttsEvent, PtpPinDevice, install_stop_handlers, read_pending, start_pps_input, stop_pps_input,
    stop_requested,
};

use crate::manifest::{Kind, Manifest, SeriesSpec};
use crate::parse::{LogRecord, parse_log_line, parse_snapshot, parse_truth_dump};
use crate::report::fmt_ns;
use crate::series::{Point, Writer};

/// A parsed `--source`.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSpec {
    /// Follow a log file.
    Log(PathBuf),
    /// Run a command and follow its output.
    Cmd(String),
    /// Follow the JSON status socket.
    Status(PathBuf),
    /// The gdb true-error dump in a log, at the end.
    Truth(PathBuf),
    /// PPS edges on a reference PHC.
    Pps {
        /// The device.
        device: String,
        /// The SDP pin.
        pin: u32,
        /// The EXTTS channel.
        channel: u32,
        /// Cable and buffer delay subtracted from every edge, ns.
        cable_ns: f64,
    },
}

/// Parses `NAME=KIND:ARG`.
///
/// # Errors
/// What is wrong with it.
pub fn parse_source(s: &str) -> Result<(String, SourceSpec), String> {
    let (name, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("--source {s:?}: expected NAME=KIND:ARG"))?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "--source {s:?}: NAME must be letters, digits, '-' and '_'"
        ));
    }
    let (kind, arg) = rest
        .split_once(':')
        .ok_or_else(|| format!("--source {s:?}: expected KIND:ARG after NAME="))?;
    let spec = match kind {
        "log" => SourceSpec::Log(arg.into()),
        "cmd" => SourceSpec::Cmd(arg.into()),
        "status" => SourceSpec::Status(arg.into()),
        "truth" => SourceSpec::Truth(arg.into()),
        "pps" => {
            let mut parts = arg.split(',');
            let device = parts.next().unwrap_or_default().to_owned();
            let (mut pin, mut channel, mut cable_ns) = (None, None, 0.0);
            for p in parts {
                let (k, v) = p
                    .split_once('=')
                    .ok_or_else(|| format!("--source {s:?}: {p:?} is not KEY=VALUE"))?;
                let bad = || format!("--source {s:?}: bad value for {k}: {v:?}");
                match k {
                    "pin" => pin = Some(v.parse().map_err(|_| bad())?),
                    "channel" => channel = Some(v.parse().map_err(|_| bad())?),
                    "cable-ns" => cable_ns = v.parse().map_err(|_| bad())?,
                    _ => {
                        return Err(format!(
                            "--source {s:?}: unknown key {k:?} (pin, channel, cable-ns)"
                        ));
                    }
                }
            }
            SourceSpec::Pps {
                device,
                pin: pin.ok_or_else(|| format!("--source {s:?}: pin= is required"))?,
                channel: channel.unwrap_or(0),
                cable_ns,
            }
        }
        _ => {
            return Err(format!(
                "--source {s:?}: unknown kind {kind:?} (log, cmd, status, truth, pps)"
            ));
        }
    };
    Ok((name.to_owned(), spec))
}

/// Edges farther than this from a whole second of the reference are not
/// PPS edges of interest: the i210 time-stamps both edges of a pulse, and
/// the falling edge of a 50% duty-cycle PPS comes half a second later.
pub const PPS_WINDOW_NS: f64 = 250e6;

/// PPS edges as samples: time = the reference's whole second the edge
/// belongs to, offset = the edge's offset from it minus the cable delay.
/// Edges outside ±[`PPS_WINDOW_NS`] are dropped.
#[must_use]
pub fn pps_points(events: &[ExttsEvent], cable_ns: f64) -> Vec<Point> {
    events
        .iter()
        .filter(|ev| ev.offset_from_second_ns().abs() <= PPS_WINDOW_NS)
        .map(|ev| {
            #[allow(clippy::cast_precision_loss)]
            let t = ev.second() as f64;
            Point::new(t, ev.offset_from_second_ns() - cable_ns)
        })
        .collect()
}

/// Follows a growing text file line by line (it may not exist yet).
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    pos: u64,
    partial: String,
}

impl Follower {
    /// Follows `path` from its start.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            pos: 0,
            partial: String::new(),
        }
    }

    /// The complete lines added since the last call.
    ///
    /// # Errors
    /// Read errors (a missing file is not an error).
    pub fn poll(&mut self) -> std::io::Result<Vec<String>> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        f.seek(SeekFrom::Start(self.pos))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        self.pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut lines: Vec<String> = self.partial.split('\n').map(str::to_owned).collect();
        self.partial = lines.pop().unwrap_or_default();
        Ok(lines)
    }

    /// The last line if it has no newline yet (at the end of a capture).
    pub fn rest(&mut self) -> Option<String> {
        let r = std::mem::take(&mut self.partial);
        (!r.is_empty()).then_some(r)
    }
}

/// One running source.
enum Source {
    Log {
        follow: Follower,
        out: usize,
        summaries: u64,
    },
    Status {
        stream: Option<BufReader<UnixStream>>,
        path: PathBuf,
        out: usize,
        out_true: usize,
        last_samples: Option<u64>,
        retry_at: Instant,
        /// A line read in part before a read timed out.
        pending: Vec<u8>,
    },
    Truth {
        path: PathBuf,
        out: usize,
    },
    Pps {
        dev: PtpPinDevice,
        pin: u32,
        channel: u32,
        cable_ns: f64,
        out: usize,
    },
}

/// The state of a capture.
struct Capture {
    dir: PathBuf,
    manifest: Manifest,
    writers: Vec<Writer>,
    sources: Vec<Source>,
    children: Vec<(String, Child)>,
    warnings: Vec<String>,
}

/// Options of `measure capture`.
#[derive(Clone, Debug, Default)]
pub struct CaptureOptions {
    /// The run directory.
    pub out: PathBuf,
    /// Setup name.
    pub setup: String,
    /// Title.
    pub title: String,
    /// Description (Markdown).
    pub description: String,
    /// How to reproduce.
    pub reproduce: String,
    /// Sources.
    pub sources: Vec<(String, SourceSpec)>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Run this (`sh -c`) and stop when it exits.
    pub wrap: Option<String>,
    /// Configuration files to copy into `cfg/`.
    pub configs: Vec<PathBuf>,
    /// Statistics skip the first seconds of every series.
    pub skip_s: Option<f64>,
    /// Convergence bound, ns.
    pub converge_ns: f64,
    /// Progress line interval.
    pub progress: Duration,
    /// Presentation settings merged into the manifest.
    pub template: Option<crate::manifest::Template>,
}

impl Capture {
    fn add_series(&mut self, name: &str, kind: Kind, source: String) -> Result<usize, String> {
        if self.manifest.series.iter().any(|s| s.name == name) {
            return Err(format!(
                "two series named {name:?} (a status source NAME also makes NAME-true)"
            ));
        }
        let file = format!("data/{name}.csv");
        let w = Writer::create(&self.dir.join(&file))
            .map_err(|e| format!("{}: {e}", self.dir.join(&file).display()))?;
        self.writers.push(w);
        self.manifest.series.push(SeriesSpec {
            name: name.to_owned(),
            label: name.to_owned(),
            group: name.to_owned(),
            kind,
            file: Some(file),
            skip_s: None,
            source,
            ..SeriesSpec::default()
        });
        Ok(self.writers.len() - 1)
    }

    fn push(&mut self, out: usize, p: Point) {
        if let Err(e) = self.writers[out].push(p) {
            self.warn(format!("writing {}: {e}", self.manifest.series[out].name));
        }
    }

    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            eprintln!("measure: warning: {w}");
            self.warnings.push(w);
        }
    }

    /// Reads every source once.
    fn poll(&mut self, last: bool) {
        let mut sources = std::mem::take(&mut self.sources);
        for s in &mut sources {
            match s {
                Source::Log {
                    follow,
                    out,
                    summaries,
                } => {
                    let mut lines = match follow.poll() {
                        Ok(l) => l,
                        Err(e) => {
                            self.warn(format!("{}: {e}", follow.path.display()));
                            Vec::new()
                        }
                    };
                    if last {
                        lines.extend(follow.rest());
                    }
                    for l in lines {
                        match parse_log_line(&l) {
                            Some(LogRecord::Sample(p)) => self.push(*out, p),
                            Some(LogRecord::Summary { .. }) => *summaries += 1,
                            None => {}
                        }
                    }
                }
                Source::Status {
                    stream,
                    path,
                    out,
                    out_true,
                    last_samples,
                    retry_at,
                    pending,
                } => {
                    if stream.is_none() && Instant::now() >= *retry_at {
                        *retry_at = Instant::now() + Duration::from_secs(1);
                        if let Ok(mut st) = UnixStream::connect(&*path)
                            && st.write_all(b"follow\n").is_ok()
                            && st.set_read_timeout(Some(Duration::from_millis(50))).is_ok()
                        {
                            *stream = Some(BufReader::new(st));
                            pending.clear();
                        }
                    }
                    let mut closed = false;
                    if let Some(r) = stream.as_mut() {
                        loop {
                            // read_until keeps what it read before a timeout in
                            // `pending`: a line split across reads is not lost.
                            match r.read_until(b'\n', pending) {
                                Ok(0) => {
                                    closed = true;
                                    break;
                                }
                                Ok(_) if pending.last() != Some(&b'\n') => {}
                                Ok(_) => match parse_snapshot(
                                    String::from_utf8_lossy(&std::mem::take(pending)).trim_end(),
                                    *last_samples,
                                ) {
                                    Ok((snap, got)) => {
                                        *last_samples = Some(snap.servo.samples);
                                        if let Some(p) = got.offset {
                                            self.push(*out, p);
                                        }
                                        if let Some(p) = got.true_error {
                                            self.push(*out_true, p);
                                        }
                                    }
                                    Err(e) => self
                                        .warn(format!("{}: bad status line: {e}", path.display())),
                                },
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                            | std::io::ErrorKind::Interrupted
                                    ) =>
                                {
                                    break;
                                }
                                Err(e) => {
                                    self.warn(format!("{}: {e}", path.display()));
                                    closed = true;
                                    break;
                                }
                            }
                        }
                    }
                    if closed {
                        *stream = None;
                    }
                }
                Source::Truth { path, out } => {
                    if last {
                        match std::fs::read_to_string(&*path) {
                            Ok(text) => match parse_truth_dump(&text) {
                                Ok(Some(d)) => {
                                    if let Err(e) = d.check() {
                                        self.warn(format!("{}: {e}", path.display()));
                                    }
                                    for p in d.points() {
                                        self.push(*out, p);
                                    }
                                }
                                Ok(None) => self.warn(format!(
                                    "{}: no true-error dump (the daemon must end by --duration under true-errors.gdb)",
                                    path.display()
                                )),
                                Err((line, m)) => self.warn(format!("{}:{line}: {m}", path.display())),
                            },
                            Err(e) => self.warn(format!("{}: {e}", path.display())),
                        }
                    }
                }
                Source::Pps {
                    dev, cable_ns, out, ..
                } => match read_pending(dev) {
                    Ok(events) => {
                        for p in pps_points(&events, *cable_ns) {
                            self.push(*out, p);
                        }
                    }
                    Err(e) => self.warn(format!("PPS: {e}")),
                },
            }
        }
        self.sources = sources;
        for i in 0..self.writers.len() {
            if let Err(e) = self.writers[i].flush() {
                self.warn(format!("flushing {}: {e}", self.manifest.series[i].name));
            }
        }
    }

    fn progress(&self, elapsed: f64) -> String {
        let mut s = format!("[{elapsed:6.0} s]");
        for (w, spec) in self.writers.iter().zip(&self.manifest.series) {
            let last = w
                .last
                .as_ref()
                .map_or_else(|| "-".to_owned(), |p| fmt_ns(p.offset_ns));
            s.push_str(&format!(
                " {}: {} samples, offset {last} |",
                spec.name, w.count
            ));
        }
        s.trim_end_matches([' ', '|']).to_owned()
    }

    fn finish(&mut self, status: &str) -> Result<(), String> {
        for s in &mut self.sources {
            if let Source::Pps {
                dev, pin, channel, ..
            } = s
                && let Err(e) = stop_pps_input(dev, *pin, *channel)
            {
                eprintln!("measure: warning: {e}");
            }
        }
        for (i, w) in self.writers.iter().enumerate() {
            self.manifest.series[i].samples = Some(w.count);
        }
        self.manifest.status = status.to_owned();
        self.manifest
            .save(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))
    }
}

fn spawn(cmd: &str, log: &Path) -> Result<Child, String> {
    let f = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let g = f
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        // Its own process group: at the end every process it started gets
        // SIGINT together, whether the capture ended by Ctrl-C, kill or time.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(f)
        .stderr(g)
        .spawn()
        .map_err(|e| format!("running {cmd:?}: {e}"))
}

/// Asks a child's process group to stop with SIGINT (as Ctrl-C would),
/// through kill(1).
fn interrupt(child: &Child) {
    let _ = Command::new("kill")
        .arg("-INT")
        .arg("--")
        .arg(format!("-{}", child.id()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Runs a capture. Returns the number of samples per series.
///
/// # Errors
/// Setup errors (directory, sources); once running, problems are warnings
/// and the capture keeps what it has.
pub fn run(o: &CaptureOptions) -> Result<Vec<(String, u64)>, String> {
    if o.sources.is_empty() {
        return Err("no --source given".into());
    }
    if o.duration.is_none() && o.wrap.is_none() {
        eprintln!("measure: no --duration and no --wrap: capturing until Ctrl-C");
    }
    for d in ["data", "raw", "cfg"] {
        std::fs::create_dir_all(o.out.join(d))
            .map_err(|e| format!("{}: {e}", o.out.join(d).display()))?;
    }
    install_stop_handlers().map_err(|e| format!("installing the SIGINT handler: {e}"))?;
    let mut configs = Vec::new();
    for c in &o.configs {
        let name = c
            .file_name()
            .ok_or_else(|| format!("{}: not a file", c.display()))?;
        let rel = format!("cfg/{}", name.to_string_lossy());
        std::fs::copy(c, o.out.join(&rel)).map_err(|e| format!("{}: {e}", c.display()))?;
        configs.push(rel);
    }
    let mut cap = Capture {
        dir: o.out.clone(),
        manifest: Manifest {
            setup: o.setup.clone(),
            title: o.title.clone(),
            date: crate::manifest::today_utc(),
            status: "running".into(),
            description: o.description.clone(),
            reproduce: o.reproduce.clone(),
            configs,
            converge_ns: o.converge_ns,
            ..Manifest::default()
        },
        writers: Vec::new(),
        sources: Vec::new(),
        children: Vec::new(),
        warnings: Vec::new(),
    };
    if let Some(w) = &o.wrap {
        let child = spawn(w, &o.out.join("raw/wrapped.log"))?;
        cap.children.push(("wrapped".into(), child));
    }
    for (name, spec) in &o.sources {
        let src = match spec {
            SourceSpec::Log(p) => {
                let out = cap.add_series(name, Kind::Offset, format!("log {}", p.display()))?;
                Source::Log {
                    follow: Follower::new(p.clone()),
                    out,
                    summaries: 0,
                }
            }
            SourceSpec::Cmd(c) => {
                let log = o.out.join(format!("raw/{name}.log"));
                let child = spawn(c, &log)?;
                cap.children.push((name.clone(), child));
                let out = cap.add_series(
                    name,
                    Kind::Offset,
                    format!("output of `{c}` (raw/{name}.log)"),
                )?;
                Source::Log {
                    follow: Follower::new(log),
                    out,
                    summaries: 0,
                }
            }
            SourceSpec::Status(p) => {
                let out =
                    cap.add_series(name, Kind::Offset, format!("status socket {}", p.display()))?;
                let out_true = cap.add_series(
                    &format!("{name}-true"),
                    Kind::TrueError,
                    format!("status socket {}", p.display()),
                )?;
                Source::Status {
                    stream: None,
                    path: p.clone(),
                    out,
                    out_true,
                    last_samples: None,
                    retry_at: Instant::now(),
                    pending: Vec::new(),
                }
            }
            SourceSpec::Truth(p) => {
                let out = cap.add_series(
                    name,
                    Kind::TrueError,
                    format!("true-error dump in {}", p.display()),
                )?;
                Source::Truth {
                    path: p.clone(),
                    out,
                }
            }
            SourceSpec::Pps {
                device,
                pin,
                channel,
                cable_ns,
            } => {
                let mut dev = PtpPinDevice::open(device).map_err(|e| e.to_string())?;
                start_pps_input(&mut dev, *pin, *channel).map_err(|e| format!("{device}: {e}"))?;
                let out = cap.add_series(
                    name,
                    Kind::Pps,
                    format!("EXTTS {device} pin {pin} channel {channel}, cable {cable_ns} ns"),
                )?;
                Source::Pps {
                    dev,
                    pin: *pin,
                    channel: *channel,
                    cable_ns: *cable_ns,
                    out,
                }
            }
        };
        cap.sources.push(src);
    }
    for s in &mut cap.manifest.series {
        s.skip_s = o.skip_s;
    }
    if let Some(t) = &o.template {
        t.apply(&mut cap.manifest)?;
        // The result must be a valid manifest (plots name existing groups).
        let text = toml::to_string(&cap.manifest).map_err(|e| e.to_string())?;
        Manifest::parse(&text, &o.out.join(crate::manifest::FILE))
            .map_err(|e| format!("with the template: {e}"))?;
    }
    cap.manifest
        .save(&o.out)
        .map_err(|e| format!("{}: {e}", o.out.display()))?;
    let tty = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut next_progress = start;
    let status = loop {
        std::thread::sleep(Duration::from_millis(200));
        cap.poll(false);
        let elapsed = start.elapsed();
        if Instant::now() >= next_progress {
            next_progress += o.progress;
            let line = cap.progress(elapsed.as_secs_f64());
            if tty {
                eprint!("\r{line}\x1b[K");
            } else {
                eprintln!("{line}");
            }
        }
        if stop_requested() {
            break "interrupted";
        }
        if o.duration.is_some_and(|d| elapsed >= d) {
            break "complete";
        }
        if let Some((_, c)) = cap.children.iter_mut().find(|(n, _)| n == "wrapped")
            && c.try_wait().ok().flatten().is_some()
        {
            break "complete";
        }
    };
    if tty {
        eprintln!();
    }
    // Stop what we started and give it time to leave (a wrapped run.sh
    // cleans its namespaces up on SIGINT), then read the last lines.
    for (name, c) in &mut cap.children {
        if c.try_wait().ok().flatten().is_none() {
            eprintln!("measure: stopping {name} (pid {})", c.id());
            interrupt(c);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for (name, c) in &mut cap.children {
        while c.try_wait().ok().flatten().is_none() {
            if Instant::now() >= deadline {
                eprintln!(
                    "measure: {name} (pid {}) still running after 60 s; killing it",
                    c.id()
                );
                let _ = c.kill();
                let _ = c.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    cap.poll(true);
    eprintln!("{}", cap.progress(start.elapsed().as_secs_f64()));
    cap.finish(status)?;
    eprintln!(
        "measure: capture {status}; {} (run.toml, data/*.csv)",
        o.out.display()
    );
    Ok(cap
        .manifest
        .series
        .iter()
        .map(|s| (s.name.clone(), s.samples.unwrap_or(0)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_specs() {
        assert_eq!(
            parse_source("ours=log:/tmp/a.log").expect("ok"),
            ("ours".into(), SourceSpec::Log("/tmp/a.log".into()))
        );
        assert_eq!(
            parse_source("ref=pps:/dev/ptp0,pin=1,channel=0,cable-ns=12.5")
                .expect("ok")
                .1,
            SourceSpec::Pps {
                device: "/dev/ptp0".into(),
                pin: 1,
                channel: 0,
                cable_ns: 12.5
            }
        );
        assert!(
            parse_source("x=pps:/dev/ptp0")
                .expect_err("pin")
                .contains("pin= is required")
        );
        assert!(
            parse_source("x=foo:bar")
                .expect_err("kind")
                .contains("unknown kind")
        );
        assert!(parse_source("a b=log:x").is_err());
        assert!(parse_source("nolog").is_err());
    }

    #[test]
    fn pps_edges_become_offsets_from_the_reference_second() {
        let ev = [
            ExttsEvent {
                channel: 0,
                sec: 100,
                nsec: 130,
            },
            ExttsEvent {
                channel: 0,
                sec: 100,
                nsec: 500_000_130,
            },
            ExttsEvent {
                channel: 0,
                sec: 100,
                nsec: 999_999_990,
            },
        ];
        // The falling edge half a second later is not a PPS edge.
        let p = pps_points(&ev, 5.0);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].t_s, p[0].offset_ns), (100.0, 125.0));
        assert_eq!((p[1].t_s, p[1].offset_ns), (101.0, -15.0));
    }

    #[test]
    fn duplicate_series_names_are_refused() {
        let dir = std::env::temp_dir().join(format!("measure-dup-{}", std::process::id()));
        let o = CaptureOptions {
            out: dir.clone(),
            setup: "unit".into(),
            sources: vec![
                ("a".into(), SourceSpec::Status("/nonexistent.sock".into())),
                ("a-true".into(), SourceSpec::Log("/nonexistent.log".into())),
            ],
            duration: Some(Duration::from_millis(10)),
            progress: Duration::from_secs(1),
            ..CaptureOptions::default()
        };
        assert!(
            run(&o)
                .expect_err("duplicate")
                .contains("two series named \"a-true\"")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn status_socket_stream_with_a_line_split_across_reads() {
        use std::os::unix::net::UnixListener;
        let dir = std::env::temp_dir().join(format!("measure-status-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let sock = dir.join("status.sock");
        let listener = UnixListener::bind(&sock).expect("bind");
        let server = std::thread::spawn(move || {
            let (mut c, _) = listener.accept().expect("client");
            let line = |t: f64, n: u64, off: f64| {
                format!(
                    "{{\"monotonic_s\":{t},\"servo\":{{\"state\":\"locked\",\"offset_s\":{off},\"frequency_ppb\":1.5,\"path_delay_s\":1e-6,\"samples\":{n},\"rejected\":0}},\"true_error_s\":2e-9}}\n"
                )
            };
            // The first snapshot comes at once, before `follow` (as the daemon does).
            c.write_all(line(1.0, 1, -1e-8).as_bytes()).expect("write");
            let mut buf = [0u8; 7];
            c.read_exact(&mut buf).expect("follow");
            assert_eq!(&buf, b"follow\n");
            let second = line(2.0, 2, 3e-8);
            let (a, b) = second.split_at(20);
            c.write_all(a.as_bytes()).expect("write");
            std::thread::sleep(Duration::from_millis(300));
            c.write_all(b.as_bytes()).expect("write");
            // Same sample count: only a true-error sample.
            c.write_all(line(2.5, 2, 3e-8).as_bytes()).expect("write");
            std::thread::sleep(Duration::from_millis(300));
        });
        let o = CaptureOptions {
            out: dir.join("run"),
            setup: "unit".into(),
            sources: vec![("d".into(), SourceSpec::Status(sock))],
            duration: Some(Duration::from_millis(1500)),
            progress: Duration::from_secs(1),
            converge_ns: 2000.0,
            ..CaptureOptions::default()
        };
        let got = run(&o).expect("capture");
        server.join().expect("server");
        assert_eq!(got, vec![("d".to_owned(), 2), ("d-true".to_owned(), 3)]);
        let pts = crate::series::read_csv(&dir.join("run/data/d.csv")).expect("csv");
        assert_eq!(
            (pts[1].t_s, pts[1].offset_ns, pts[1].freq_ppb),
            (2.0, 30.0, Some(1.5))
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn follower_reads_only_complete_new_lines() {
        let dir = std::env::temp_dir().join(format!("measure-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("x.log");
        let mut f = Follower::new(p.clone());
        assert!(f.poll().expect("missing is fine").is_empty());
        std::fs::write(&p, "a\nb").expect("write");
        assert_eq!(f.poll().expect("read"), vec!["a".to_owned()]);
        let mut h = std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .expect("open");
        h.write_all(b"c\nd\n").expect("append");
        assert_eq!(
            f.poll().expect("read"),
            vec!["bc".to_owned(), "d".to_owned()]
        );
        assert_eq!(f.rest(), None);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn capture_of_a_command_until_it_exits() {
        let dir = std::env::temp_dir().join(format!("measure-cap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = CaptureOptions {
            out: dir.clone(),
            setup: "unit".into(),
            sources: vec![(
                "p".into(),
                SourceSpec::Cmd(
                    "for i in 1 2 3; do echo \"ptp4l[$i.5]: master offset $((i*10)) s2 freq +1 path delay 100\"; done".into(),
                ),
            )],
            wrap: Some("sleep 1".into()),
            progress: Duration::from_secs(1),
            converge_ns: 2000.0,
            ..CaptureOptions::default()
        };
        let got = run(&o).expect("capture");
        assert_eq!(got, vec![("p".to_owned(), 3)]);
        let pts = crate::series::read_csv(&dir.join("data/p.csv")).expect("csv");
        assert_eq!(pts[2].offset_ns, 30.0);
        assert_eq!(pts[2].t_s, 3.5);
        let m = Manifest::load(&dir).expect("manifest");
        assert_eq!(m.status, "complete");
        assert_eq!(m.series[0].samples, Some(3));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
