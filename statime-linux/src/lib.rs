//! The Linux side of the statime PTP stack: capture-file reading and
//! message decoding for `statime-ctl` (the daemon, sockets and clocks
//! follow).

pub mod clock;
pub mod config;
pub mod ctl;
pub mod daemon;
pub mod decode;
pub mod lab;
pub mod net;
pub mod observe;
pub mod pcap;
pub mod ptp4l_conf;
