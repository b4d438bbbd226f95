//! The daemon `statime`: the data plane (one thread, one poll(2) loop over
//! every socket, error queue and timer), its clock, its logs.

pub mod auth;
pub mod clock;
pub mod log;
pub mod management;
pub mod overlay;
pub mod peers;
pub mod ptp4l_log;
pub mod publish;
mod run;
pub mod sys;
pub mod sysync;
mod tc;
mod unicast;

pub use run::{Daemon, DaemonError, MAX_PORTS, RunSummary};
pub use tc::{TcDaemon, TcSummary};
