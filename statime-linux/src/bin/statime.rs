//! `statime`: the PTP daemon. See `statime_linux::daemon` and statime(8).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use statime_linux::config::{
    Config, DelayMechanism, Overrides, Timestamping, Transport, parse_duration,
};
use statime_linux::daemon::{Daemon, TcDaemon, sys};

/// Command line, in ptp4l's style where ptp4l has the option.
#[derive(Debug, Parser)]
#[command(name = "statime", version, about = "PTP (IEEE 1588-2019) daemon")]
struct Cli {
    /// Configuration file (TOML; see statime.toml(5)).
    #[arg(
        short = 'c',
        long = "config",
        default_value = "/etc/statime/statime.toml"
    )]
    config: PathBuf,
    /// Run PTP on this interface (repeatable; adds to the file's ports).
    #[arg(short = 'i', long = "interface")]
    interfaces: Vec<String>,
    /// UDP over IPv4 on every port.
    #[arg(short = '4', group = "transport")]
    udp4: bool,
    /// UDP over IPv6 on every port.
    #[arg(short = '6', group = "transport")]
    udp6: bool,
    /// IEEE 802.3 (L2) on every port.
    #[arg(short = '2', group = "transport")]
    l2: bool,
    /// Delay request-response (E2E) on every port.
    #[arg(short = 'E', group = "delay")]
    e2e: bool,
    /// Peer delay (P2P) on every port.
    #[arg(short = 'P', group = "delay")]
    p2p: bool,
    /// Software time stamps.
    #[arg(short = 'S', group = "ts")]
    software: bool,
    /// Hardware time stamps.
    #[arg(short = 'H', group = "ts")]
    hardware: bool,
    /// Slave only.
    #[arg(short = 's', long = "slave-only")]
    slave_only: bool,
    /// Log to standard output.
    #[arg(short = 'm')]
    stdout: bool,
    /// Do not log to syslog.
    #[arg(short = 'q')]
    quiet: bool,
    /// Stop after this long (e.g. `90s`), printing a summary: for labs.
    #[arg(long)]
    duration: Option<String>,
}

fn overrides(cli: &Cli) -> Overrides {
    Overrides {
        interfaces: cli.interfaces.clone(),
        transport: if cli.udp4 {
            Some(Transport::UdpIpv4)
        } else if cli.udp6 {
            Some(Transport::UdpIpv6)
        } else if cli.l2 {
            Some(Transport::Ethernet)
        } else {
            None
        },
        delay_mechanism: if cli.e2e {
            Some(DelayMechanism::E2e)
        } else if cli.p2p {
            Some(DelayMechanism::P2p)
        } else {
            None
        },
        timestamping: if cli.software {
            Some(Timestamping::Software)
        } else if cli.hardware {
            Some(Timestamping::Hardware)
        } else {
            None
        },
        slave_only: cli.slave_only,
        log_stdout: cli.stdout,
        no_syslog: cli.quiet,
        ..Overrides::default()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let duration = match cli.duration.as_deref().map(parse_duration).transpose() {
        Ok(d) => d.map(|d| statime::time::Duration::from_nanos_f64(d.as_secs_f64() * 1e9)),
        Err(e) => {
            eprintln!("statime: --duration: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::load_with_overrides(&cli.config, &overrides(&cli)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = sys::install_stop_handlers() {
        eprintln!("statime: cannot install signal handlers: {e}");
        return ExitCode::from(1);
    }
    if config.clock_type.is_transparent() {
        return run_transparent(&config, duration);
    }
    let mut daemon = match Daemon::new(&config, Box::new(std::io::stdout())) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("statime: {e}");
            return ExitCode::from(1);
        }
    };
    match daemon.run(duration) {
        Ok(summary) => {
            if duration.is_some() {
                print_summary(&summary);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("statime: {e}");
            ExitCode::from(1)
        }
    }
}

/// A transparent clock: forwards and corrects, steers nothing.
fn run_transparent(config: &Config, duration: Option<statime::time::Duration>) -> ExitCode {
    let mut daemon = match TcDaemon::new(config, Box::new(std::io::stdout())) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("statime: {e}");
            return ExitCode::from(1);
        }
    };
    match daemon.run(duration) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("statime: {e}");
            ExitCode::from(1)
        }
    }
}

fn print_summary(s: &statime_linux::daemon::RunSummary) {
    match s.time_to_lock {
        Some(t) => println!(
            "summary: locked after {t:.1} s, {} servo samples",
            s.samples
        ),
        None => println!("summary: never locked ({} servo samples)", s.samples),
    }
    if !s.true_errors.is_empty() {
        let n = s.true_errors.len() as f64;
        let mean = s.true_errors.iter().sum::<f64>() / n;
        let rms = (s.true_errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
        let max = s.true_errors.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        println!(
            "summary: true error of the virtual clock over {} s after lock: mean {mean:.0} ns, rms {rms:.0} ns, max {max:.0} ns",
            s.true_errors.len()
        );
    }
}
