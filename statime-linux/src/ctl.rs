//! `statime-ctl`: the command-line tool. Today it decodes PTP traffic from
//! capture files; status, validation and management queries join it as the
//! daemon grows.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use statime::wire::Message;

use crate::decode::{Tally, summary, tlv_details};
use crate::pcap::{Capture, ptp_payload};

/// Command line of `statime-ctl`.
#[derive(Debug, Parser)]
#[command(
    name = "statime-ctl",
    version,
    about = "Control and inspect the statime PTP daemon"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode PTP messages from pcap files (UDPv4, UDPv6, L2), one line
    /// each, and count malformed ones by kind. Without FILE, decode an
    /// embedded sample of linuxptp 3.1.1 traffic.
    Decode {
        /// Capture files (classic pcap; `tshark -F pcap -w FILE` writes one).
        files: Vec<PathBuf>,
        /// Treat each FILE as one raw PTP message instead of a capture.
        #[arg(long)]
        raw: bool,
        /// Also print every TLV decoded.
        #[arg(short, long)]
        verbose: bool,
        /// Exit with status 2 if any PTP message was malformed.
        #[arg(long)]
        strict: bool,
    },
    /// Check daemon configuration files (statime.toml(5)): print `FILE: ok`,
    /// or each error as `FILE:LINE:COLUMN: KEY: message`. Exit status 0 if
    /// every file is valid, 1 if one is not, 2 if one cannot be read.
    Validate {
        /// Configuration files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Fail (exit status 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run a lab on this machine: a grandmaster and a slave daemon in two
    /// network namespaces joined by a veth pair, the slave's virtual clock
    /// started +1 ms and +50 ppm off; print its offsets until it locks, then
    /// a summary (time to lock, true error). Needs root; no real clock is
    /// adjusted and nothing leaves the machine.
    Lab {
        /// How long the slave runs, in seconds.
        #[arg(long, default_value_t = 40)]
        seconds: u32,
    },
    /// Show the running daemon's state from its status socket
    /// (`[observability] status-socket`): clock, master, servo (offset,
    /// delay, frequency), ports and counters, published time, overlay.
    Status {
        /// The status socket.
        #[arg(short, long, default_value = DEFAULT_STATUS_SOCKET, conflicts_with = "config")]
        socket: PathBuf,
        /// Take the socket path from this daemon configuration instead.
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// Print the full snapshot as JSON (one object; with `--follow`, one
        /// line per update).
        #[arg(long)]
        json: bool,
        /// Keep printing on every update until interrupted.
        #[arg(short, long)]
        follow: bool,
    },
    /// Show the overlay from the daemon's status socket: each source's
    /// interval (offset of its time from the local clock, plus or minus its
    /// bound), its state (truechimer, falseticker), the intersection and
    /// the source the clock follows.
    Overlay {
        /// The status socket.
        #[arg(short, long, default_value = DEFAULT_STATUS_SOCKET, conflicts_with = "config")]
        socket: PathBuf,
        /// Take the socket path from this daemon configuration instead.
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// Print the overlay part of the snapshot as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read the time the daemon publishes (`[observability] time-file`):
    /// `earliest latest status`, nanoseconds since the Unix epoch (UTC).
    Now {
        /// The time file.
        path: PathBuf,
    },
    /// Convert a linuxptp ptp4l configuration file to statime.toml(5):
    /// the TOML goes to standard output (or `--output`), each option that is
    /// not carried over exactly to standard error as
    /// `FILE:LINE: not carried over: OPTION = VALUE (reason)`. Exit status 0
    /// on success, 1 if FILE is not a valid ptp4l configuration, 2 if it
    /// cannot be read or the output cannot be written.
    Convert {
        /// The ptp4l configuration file (e.g. /etc/linuxptp/ptp4l.conf).
        file: PathBuf,
        /// Write the TOML to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// A sample of real linuxptp 3.1.1 traffic (see
/// `statime/tests/fixtures/ptp4l/README.md`), for `decode` without files.
const SAMPLE: &[(&str, &[u8])] = &[
    (
        "udp4-e2e-announce",
        include_bytes!("../../statime/tests/fixtures/ptp4l/udp4-e2e-announce.bin"),
    ),
    (
        "udp4-e2e-sync",
        include_bytes!("../../statime/tests/fixtures/ptp4l/udp4-e2e-sync.bin"),
    ),
    (
        "udp4-e2e-follow_up",
        include_bytes!("../../statime/tests/fixtures/ptp4l/udp4-e2e-follow_up.bin"),
    ),
    (
        "udp4-e2e-delay_req",
        include_bytes!("../../statime/tests/fixtures/ptp4l/udp4-e2e-delay_req.bin"),
    ),
    (
        "udp4-e2e-delay_resp",
        include_bytes!("../../statime/tests/fixtures/ptp4l/udp4-e2e-delay_resp.bin"),
    ),
    (
        "l2-p2p-pdelay_req",
        include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_req.bin"),
    ),
    (
        "l2-p2p-pdelay_resp",
        include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_resp.bin"),
    ),
    (
        "l2-p2p-pdelay_resp_follow_up",
        include_bytes!("../../statime/tests/fixtures/ptp4l/l2-p2p-pdelay_resp_follow_up.bin"),
    ),
    (
        "gptp-follow_up",
        include_bytes!("../../statime/tests/fixtures/ptp4l/gptp-follow_up.bin"),
    ),
    (
        "gptp-announce",
        include_bytes!("../../statime/tests/fixtures/ptp4l/gptp-announce.bin"),
    ),
    (
        "unicast-signaling-request",
        include_bytes!(
            "../../statime/tests/fixtures/ptp4l/unicast-signaling-request_unicast_transmission-sync.bin"
        ),
    ),
    (
        "mgmt-get-current_data_set",
        include_bytes!("../../statime/tests/fixtures/ptp4l/mgmt-get-current_data_set.bin"),
    ),
    (
        "mgmt-response-current_data_set",
        include_bytes!("../../statime/tests/fixtures/ptp4l/mgmt-response-current_data_set.bin"),
    ),
    (
        "mgmt-error-status",
        include_bytes!(
            "../../statime/tests/fixtures/ptp4l/mgmt-error-status-port_properties_np.bin"
        ),
    ),
    (
        "truncated-sync (deliberately broken)",
        &[0x00, 0x12, 0x00, 0x2c, 0x00],
    ),
];

/// Run `statime-ctl` with parsed arguments, writing to `out` and `err`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
    match cli.command {
        Command::Decode {
            files,
            raw,
            verbose,
            strict,
        } => decode(&files, raw, verbose, strict, out, err),
        Command::Validate {
            files,
            deny_warnings,
        } => ExitCode::from(crate::config::validate_files(
            &files,
            deny_warnings,
            out,
            err,
        )),
        Command::Lab { seconds } => crate::lab::lab(seconds, out, err),
        Command::Now { path } => now(&path, out, err),
        Command::Convert { file, output } => {
            crate::ptp4l_conf::convert_command(&file, output.as_deref(), out, err)
        }
        Command::Overlay {
            socket,
            config,
            json,
        } => overlay(&socket, config.as_deref(), json, out, err),
        Command::Status {
            socket,
            config,
            json,
            follow,
        } => status(&socket, config.as_deref(), json, follow, out, err),
    }
}

fn print_message(
    label: &str,
    bytes: &[u8],
    verbose: bool,
    tally: &mut Tally,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let parsed = Message::parse(bytes);
    tally.count(parsed.as_ref().map_err(|e| *e));
    match parsed {
        Ok(m) => {
            writeln!(out, "{label} {}", summary(&m))?;
            if verbose {
                for line in tlv_details(&m) {
                    writeln!(out, "{line}")?;
                }
            }
        }
        Err(e) => writeln!(out, "{label} malformed: {e} ({} octets)", bytes.len())?,
    }
    Ok(())
}

fn decode(
    files: &[PathBuf],
    raw: bool,
    verbose: bool,
    strict: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let mut tally = Tally::default();
    let result = (|| -> Result<(), String> {
        if files.is_empty() {
            writeln!(
                out,
                "# embedded sample: linuxptp 3.1.1 traffic (pass capture files to decode your own)"
            )
            .map_err(|e| e.to_string())?;
            for (name, bytes) in SAMPLE {
                print_message(&format!("{name}:"), bytes, verbose, &mut tally, out)
                    .map_err(|e| e.to_string())?;
            }
            return Ok(());
        }
        for path in files {
            let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if raw {
                print_message(
                    &format!("{}:", path.display()),
                    &data,
                    verbose,
                    &mut tally,
                    out,
                )
                .map_err(|e| e.to_string())?;
                continue;
            }
            let cap = Capture::new(&data).map_err(|e| format!("{}: {e}", path.display()))?;
            let link = cap.link_type;
            for (n, record) in cap.enumerate() {
                let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
                if let Some((transport, payload)) = ptp_payload(link, record.data) {
                    let label = format!(
                        "{} #{} {}.{:09} {transport}",
                        path.display(),
                        n + 1,
                        record.ts_sec,
                        record.ts_nsec
                    );
                    print_message(&label, payload, verbose, &mut tally, out)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = writeln!(err, "statime-ctl decode: {e}");
        return ExitCode::from(1);
    }
    let _ = writeln!(out, "# {tally}");
    if strict && tally.malformed_total() > 0 {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// Where `statime-ctl status` looks when not told (the path the packaged
/// configuration and systemd unit use).
pub const DEFAULT_STATUS_SOCKET: &str = "/run/statime/status.sock";

/// `statime-ctl overlay`.
fn overlay(
    socket: &std::path::Path,
    config: Option<&std::path::Path>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let mut buf = Vec::new();
    let code = status(socket, config, true, false, &mut buf, err);
    if code != ExitCode::SUCCESS {
        return code;
    }
    let snapshot: crate::observe::Snapshot = match serde_json::from_slice(&buf) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "not a status snapshot: {e}");
            return ExitCode::from(1);
        }
    };
    let text = if json {
        let mut t = serde_json::to_string_pretty(&snapshot.overlay).unwrap_or_default();
        t.push('\n');
        t
    } else {
        crate::observe::human::overlay_table(&snapshot.overlay)
    };
    if out.write_all(text.as_bytes()).is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn status(
    socket: &std::path::Path,
    config: Option<&std::path::Path>,
    json: bool,
    follow: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    use std::io::{BufRead, BufReader};
    let path = match config {
        Some(file) => match crate::config::Config::load(file) {
            Ok(c) => match c.observability.status_socket {
                Some(p) => p,
                None => {
                    let _ = writeln!(
                        err,
                        "{}: no [observability] status-socket configured",
                        file.display()
                    );
                    return ExitCode::from(1);
                }
            },
            Err(e) => {
                let _ = writeln!(err, "{e}");
                return ExitCode::from(1);
            }
        },
        None => socket.to_path_buf(),
    };
    let mut stream = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                err,
                "cannot connect to {}: {e}; is statime running with \
                 `[observability] status-socket = \"{}\"` (and may this user open it)?",
                path.display(),
                path.display()
            );
            return ExitCode::from(1);
        }
    };
    let request = if follow {
        stream.write_all(b"follow\n")
    } else {
        stream.shutdown(std::net::Shutdown::Write)
    };
    if let Err(e) = request {
        let _ = writeln!(err, "{}: {e}", path.display());
        return ExitCode::from(1);
    }
    let mut got_one = false;
    for line in BufReader::new(stream).lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                let _ = writeln!(err, "{}: {e}", path.display());
                return ExitCode::from(1);
            }
        };
        let snapshot: crate::observe::Snapshot = match serde_json::from_str(&line) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "{}: not a status snapshot: {e}", path.display());
                return ExitCode::from(1);
            }
        };
        got_one = true;
        let text = if json && follow {
            format!("{line}\n")
        } else if json {
            let mut t = serde_json::to_string_pretty(&snapshot).unwrap_or(line);
            t.push('\n');
            t
        } else {
            crate::observe::human::summary(&snapshot)
        };
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::SUCCESS; // the reader went away (a pipe to head)
        }
        if follow && !json {
            let _ = writeln!(out);
        }
    }
    if got_one {
        ExitCode::SUCCESS
    } else {
        let _ = writeln!(
            err,
            "{}: the daemon closed without a snapshot",
            path.display()
        );
        ExitCode::from(1)
    }
}

fn now(path: &std::path::Path, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
    let client = match bft_overlay::shm::Client::open(path) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "statime-ctl now: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    match client.now() {
        Ok(t) => {
            let _ = writeln!(
                out,
                "earliest {} latest {} status {:?} half-width {} ns",
                t.earliest,
                t.latest,
                t.status,
                (i128::from(t.latest) - i128::from(t.earliest)) / 2
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(err, "statime-ctl now: {}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}
