//! Kernel timestamping: the SO_TIMESTAMPING flag sets, the NIC's
//! capabilities (ETHTOOL_GET_TS_INFO) and hardware timestamp configuration
//! (SIOCSHWTSTAMP with linuxptp-like receive-filter fallbacks).
//!
//! Sources: the kernel's `Documentation/networking/timestamping.rst` and the
//! UAPI headers `net_tstamp.h`, `ethtool.h`, `sockios.h`.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use super::NetError;
use super::sys;

/// How a port's event messages are timestamped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimestampingMode {
    /// The kernel stamps packets in the network stack with CLOCK_REALTIME
    /// (UTC): `SOF_TIMESTAMPING_TX_SOFTWARE | RX_SOFTWARE | SOFTWARE`.
    #[default]
    Software,
    /// The NIC stamps packets with its PTP hardware clock (PHC, usually
    /// TAI): `SOF_TIMESTAMPING_TX_HARDWARE | RX_HARDWARE | RAW_HARDWARE`,
    /// after enabling the NIC with SIOCSHWTSTAMP.
    Hardware,
}

/// Which clock a kernel timestamp was taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimestampSource {
    /// CLOCK_REALTIME (UTC): `scm_timestamping.ts[0]`.
    Software,
    /// The NIC's PHC (its own timescale, usually TAI): `ts[2]`.
    Hardware,
}

/// The flags for `setsockopt(SO_TIMESTAMPING)` in `mode`: always with
/// OPT_ID (a per-socket counter identifies each transmit timestamp) and
/// OPT_TSONLY (the error queue returns no packet copy), as the kernel
/// documentation recommends.
#[must_use]
pub fn so_timestamping_flags(mode: TimestampingMode) -> u32 {
    let base = match mode {
        TimestampingMode::Software => {
            libc::SOF_TIMESTAMPING_TX_SOFTWARE
                | libc::SOF_TIMESTAMPING_RX_SOFTWARE
                | libc::SOF_TIMESTAMPING_SOFTWARE
        }
        TimestampingMode::Hardware => {
            libc::SOF_TIMESTAMPING_TX_HARDWARE
                | libc::SOF_TIMESTAMPING_RX_HARDWARE
                | libc::SOF_TIMESTAMPING_RAW_HARDWARE
        }
    };
    base | libc::SOF_TIMESTAMPING_OPT_ID | libc::SOF_TIMESTAMPING_OPT_TSONLY
}

/// `ETHTOOL_GET_TS_INFO` (linux/ethtool.h), absent from libc 0.2.191.
const ETHTOOL_GET_TS_INFO: u32 = 0x41;

/// `struct ethtool_ts_info` (linux/ethtool.h), absent from libc 0.2.191.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct EthtoolTsInfo {
    cmd: u32,
    so_timestamping: u32,
    phc_index: i32,
    tx_types: u32,
    tx_reserved: [u32; 3],
    rx_filters: u32,
    rx_reserved: [u32; 3],
}

/// What an interface can timestamp, as `ethtool -T` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TsInfo {
    /// `SOF_TIMESTAMPING_*` capability bits.
    pub so_timestamping: u32,
    /// The PHC behind the interface: `/dev/ptpN`; `None` without one.
    pub phc_index: Option<u32>,
    /// Bit `1 << HWTSTAMP_TX_*` for each supported transmit mode.
    pub tx_types: u32,
    /// Bit `1 << HWTSTAMP_FILTER_*` for each supported receive filter.
    pub rx_filters: u32,
}

impl TsInfo {
    /// Software transmit and receive timestamps are available.
    #[must_use]
    pub fn supports_software(&self) -> bool {
        let need = libc::SOF_TIMESTAMPING_TX_SOFTWARE;
        self.so_timestamping & need == need
    }

    /// Hardware transmit and receive timestamps with a raw PHC time are
    /// available and the NIC can timestamp every transmitted packet.
    #[must_use]
    pub fn supports_hardware(&self) -> bool {
        let need = libc::SOF_TIMESTAMPING_TX_HARDWARE
            | libc::SOF_TIMESTAMPING_RX_HARDWARE
            | libc::SOF_TIMESTAMPING_RAW_HARDWARE;
        self.so_timestamping & need == need && self.tx_types & (1 << libc::HWTSTAMP_TX_ON) != 0
    }

    /// `/dev/ptpN` of the interface's PHC.
    #[must_use]
    pub fn phc_path(&self) -> Option<PathBuf> {
        self.phc_index
            .map(|n| PathBuf::from(format!("/dev/ptp{n}")))
    }

    fn missing_hardware(&self) -> String {
        let mut missing = Vec::new();
        for (bit, name) in [
            (libc::SOF_TIMESTAMPING_TX_HARDWARE, "hardware-transmit"),
            (libc::SOF_TIMESTAMPING_RX_HARDWARE, "hardware-receive"),
            (libc::SOF_TIMESTAMPING_RAW_HARDWARE, "hardware-raw-clock"),
        ] {
            if self.so_timestamping & bit == 0 {
                missing.push(name);
            }
        }
        if self.tx_types & (1 << libc::HWTSTAMP_TX_ON) == 0 {
            missing.push("tx-type on");
        }
        format!("`ethtool -T` lacks {}", missing.join(", "))
    }
}

/// Ask the kernel what `interface` can timestamp (ETHTOOL_GET_TS_INFO via
/// SIOCETHTOOL; needs no privilege).
///
/// # Errors
/// [`NetError::InterfaceNotFound`] for a missing interface, and
/// [`NetError::Io`] when the query fails otherwise.
pub fn timestamping_info(interface: &str) -> Result<TsInfo, NetError> {
    super::validate_interface_name(interface)?;
    let fd = sys::dgram_socket(libc::AF_INET)
        .map_err(|e| NetError::io(interface, "open a query socket", e))?;
    query_ts_info(fd.as_fd(), interface)
        .map_err(|e| NetError::io(interface, "query timestamping capabilities", e))
}

pub(crate) fn query_ts_info(fd: BorrowedFd<'_>, interface: &str) -> io::Result<TsInfo> {
    let mut info = EthtoolTsInfo {
        cmd: ETHTOOL_GET_TS_INFO,
        ..EthtoolTsInfo::default()
    };
    sys::ioctl_ifreq_data(fd, interface, libc::SIOCETHTOOL, &mut info)?;
    Ok(TsInfo {
        so_timestamping: info.so_timestamping,
        phc_index: u32::try_from(info.phc_index).ok(),
        tx_types: info.tx_types,
        rx_filters: info.rx_filters,
    })
}

/// What the driver actually configured (`struct hwtstamp_config` as read
/// back after SIOCSHWTSTAMP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwTimestampConfig {
    /// `HWTSTAMP_TX_*`.
    pub tx_type: i32,
    /// `HWTSTAMP_FILTER_*`; drivers may widen the request (often to ALL).
    pub rx_filter: i32,
}

fn filter(f: libc::c_uint) -> i32 {
    i32::try_from(f).unwrap_or(0)
}

/// The receive filters to try, in order, as linuxptp does: all PTPv2 event
/// messages, then the transport-specific event filter, then everything.
fn filter_candidates(layer2: bool) -> [i32; 3] {
    let specific = if layer2 {
        libc::HWTSTAMP_FILTER_PTP_V2_L2_EVENT
    } else {
        libc::HWTSTAMP_FILTER_PTP_V2_L4_EVENT
    };
    [
        filter(libc::HWTSTAMP_FILTER_PTP_V2_EVENT),
        filter(specific),
        filter(libc::HWTSTAMP_FILTER_ALL),
    ]
}

/// Whether the filter the driver set still stamps every event message we
/// need on this transport.
fn filter_covers(set: i32, requested: i32, layer2: bool) -> bool {
    let specific = if layer2 {
        libc::HWTSTAMP_FILTER_PTP_V2_L2_EVENT
    } else {
        libc::HWTSTAMP_FILTER_PTP_V2_L4_EVENT
    };
    set == requested
        || set == filter(libc::HWTSTAMP_FILTER_ALL)
        || set == filter(libc::HWTSTAMP_FILTER_PTP_V2_EVENT)
        || set == filter(specific)
}

/// Enable hardware timestamping on `interface` (device-wide; needs
/// CAP_NET_ADMIN). `info` are its capabilities.
pub(crate) fn enable_hardware(
    fd: BorrowedFd<'_>,
    interface: &str,
    layer2: bool,
    info: &TsInfo,
) -> Result<HwTimestampConfig, NetError> {
    let unsupported = |detail: String| NetError::HardwareTimestampingUnsupported {
        interface: interface.to_owned(),
        detail,
    };
    if !info.supports_hardware() {
        return Err(unsupported(info.missing_hardware()));
    }
    let mut last = String::from("no receive filter accepted");
    for rx_filter in filter_candidates(layer2) {
        let mut cfg = libc::hwtstamp_config {
            flags: 0,
            tx_type: filter(libc::HWTSTAMP_TX_ON),
            rx_filter,
        };
        match sys::ioctl_ifreq_data(fd, interface, libc::SIOCSHWTSTAMP, &mut cfg) {
            Ok(()) => {
                if cfg.tx_type == filter(libc::HWTSTAMP_TX_ON)
                    && filter_covers(cfg.rx_filter, rx_filter, layer2)
                {
                    return Ok(HwTimestampConfig {
                        tx_type: cfg.tx_type,
                        rx_filter: cfg.rx_filter,
                    });
                }
                last = format!(
                    "driver set tx_type {} rx_filter {} for request {rx_filter}",
                    cfg.tx_type, cfg.rx_filter
                );
            }
            Err(e) => match e.raw_os_error() {
                Some(libc::EPERM | libc::EACCES) => {
                    return Err(NetError::privileged(
                        interface,
                        "configure hardware timestamping (SIOCSHWTSTAMP)",
                        "CAP_NET_ADMIN",
                        e,
                    ));
                }
                Some(libc::ENODEV) => return Err(NetError::io(interface, "", e)),
                Some(libc::EOPNOTSUPP) => {
                    return Err(unsupported(format!("SIOCSHWTSTAMP: {e}")));
                }
                // ERANGE: this mode is unsupported; EINVAL: some drivers say
                // so for a filter they lack. Try the next filter.
                _ => last = format!("SIOCSHWTSTAMP: {e}"),
            },
        }
    }
    Err(unsupported(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_sets() {
        let sw = so_timestamping_flags(TimestampingMode::Software);
        assert_eq!(sw, (1 << 1) | (1 << 3) | (1 << 4) | (1 << 7) | (1 << 11));
        let hw = so_timestamping_flags(TimestampingMode::Hardware);
        assert_eq!(hw, 1 | (1 << 2) | (1 << 6) | (1 << 7) | (1 << 11));
    }

    #[test]
    fn ethtool_layout() {
        assert_eq!(size_of::<EthtoolTsInfo>(), 44);
    }

    #[test]
    fn filter_order_and_acceptance() {
        assert_eq!(filter_candidates(false), [12, 6, 1]);
        assert_eq!(filter_candidates(true), [12, 9, 1]);
        assert!(filter_covers(1, 12, false));
        assert!(filter_covers(12, 6, false));
        assert!(!filter_covers(13, 12, false)); // V2_SYNC misses Delay_Req
        assert!(!filter_covers(0, 12, true));
    }

    #[test]
    fn capability_checks() {
        let sw_only = TsInfo {
            so_timestamping: (1 << 1) | (1 << 3) | (1 << 4),
            phc_index: None,
            tx_types: 0,
            rx_filters: 0,
        };
        assert!(sw_only.supports_software());
        assert!(!sw_only.supports_hardware());
        assert!(sw_only.missing_hardware().contains("hardware-transmit"));
        let hw = TsInfo {
            so_timestamping: 0x5f,
            phc_index: Some(2),
            tx_types: 3,
            rx_filters: 1 << 12,
        };
        assert!(hw.supports_hardware());
        assert_eq!(hw.phc_path(), Some(PathBuf::from("/dev/ptp2")));
    }
}
