//! The errors users meet when reading or steering a clock.
//!
//! Every variant renders as one line that says what went wrong and how to
//! fix it; none of the clock code panics on a system-call failure.

use std::fmt;
use std::io;

/// Why a clock operation failed.
///
/// Operating-system errors are kept as their `errno` value so the type is
/// `Clone + Eq` (handy in tests and in status snapshots); the message is
/// rendered from it on display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockError {
    /// The PHC device node does not exist.
    PhcNotFound {
        /// The device path, e.g. `/dev/ptp3`.
        path: String,
        /// The network interface the PHC was looked up for, if known.
        interface: Option<String>,
    },
    /// The PHC device exists but may not be opened read-write.
    DeviceAccess {
        /// The device path.
        path: String,
    },
    /// The network interface has no PTP hardware clock.
    NoPhc {
        /// The interface name.
        interface: String,
    },
    /// The process may not perform the operation (EPERM or EACCES).
    PermissionDenied {
        /// What was attempted, e.g. "adjust the frequency of".
        operation: &'static str,
        /// The clock, e.g. `CLOCK_REALTIME` or `/dev/ptp0`.
        clock: String,
    },
    /// The kernel rejected the arguments (EINVAL), for instance a step whose
    /// nanoseconds are out of range or an unknown clock id.
    InvalidArgument {
        /// What was attempted.
        operation: &'static str,
        /// The clock.
        clock: String,
    },
    /// A frequency beyond what the clock supports (ERANGE from a PHC).
    FrequencyOutOfRange {
        /// The requested frequency offset in ppb.
        requested_ppb: i64,
        /// The clock's limit in ppb.
        max_ppb: i64,
    },
    /// The device or driver does not implement the operation (EOPNOTSUPP,
    /// ENOTTY).
    Unsupported {
        /// What was attempted.
        operation: &'static str,
        /// The clock.
        clock: String,
    },
    /// The network interface does not exist (ENODEV).
    NoSuchInterface {
        /// The interface name.
        interface: String,
    },
    /// Querying the network interface failed (the net layer's message).
    Interface {
        /// The net layer's one-line explanation.
        message: String,
    },
    /// Any other operating-system error.
    Os {
        /// What was attempted.
        operation: &'static str,
        /// The clock or device.
        clock: String,
        /// The raw errno value.
        errno: i32,
    },
    /// A PHC offset measurement returned no usable sample (every system
    /// window was negative: CLOCK_REALTIME was stepped during the call).
    NoUsableSample {
        /// The PHC.
        clock: String,
    },
    /// A clock reading that no `Time` can hold (before 1970, or absurdly
    /// far in the future), or an offset that overflows.
    TimeOutOfRange {
        /// Where it happened.
        what: &'static str,
    },
}

impl ClockError {
    /// Classifies an operating-system error from `operation` on `clock`.
    #[must_use]
    pub fn from_io(operation: &'static str, clock: &str, err: &io::Error) -> Self {
        let clock = clock.to_owned();
        match err.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => Self::PermissionDenied { operation, clock },
            Some(libc::EINVAL) => Self::InvalidArgument { operation, clock },
            Some(libc::EOPNOTSUPP | libc::ENOTTY | libc::ENOSYS) => {
                Self::Unsupported { operation, clock }
            }
            Some(errno) => Self::Os {
                operation,
                clock,
                errno,
            },
            None => Self::Os {
                operation,
                clock,
                errno: 0,
            },
        }
    }

    /// The `errno` behind this error, when it came from the kernel.
    #[must_use]
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::PhcNotFound { .. } => Some(libc::ENOENT),
            Self::DeviceAccess { .. } => Some(libc::EACCES),
            Self::NoPhc { .. } => None,
            Self::PermissionDenied { .. } => Some(libc::EPERM),
            Self::InvalidArgument { .. } => Some(libc::EINVAL),
            Self::FrequencyOutOfRange { .. } => Some(libc::ERANGE),
            Self::Unsupported { .. } => Some(libc::EOPNOTSUPP),
            Self::NoSuchInterface { .. } => Some(libc::ENODEV),
            Self::Interface { .. } => None,
            Self::Os { errno, .. } => Some(*errno),
            Self::NoUsableSample { .. } | Self::TimeOutOfRange { .. } => None,
        }
    }
}

impl fmt::Display for ClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PhcNotFound { path, interface } => {
                let iface = interface.as_deref().unwrap_or("<interface>");
                write!(
                    f,
                    "PHC {path} not found: does the NIC support hardware timestamping? \
                     `ethtool -T {iface}`"
                )
            }
            Self::DeviceAccess { path } => write!(
                f,
                "cannot open {path} read-write: permission denied; run as root or give the \
                 daemon's user access to the device (e.g. a udev rule)"
            ),
            Self::NoPhc { interface } => write!(
                f,
                "{interface} has no PTP hardware clock: use software timestamping, or check \
                 `ethtool -T {interface}`"
            ),
            Self::PermissionDenied { operation, clock } => write!(
                f,
                "cannot {operation} {clock}: need CAP_SYS_TIME to adjust the clock; \
                 run as root or grant the capability, or use `observe-only`"
            ),
            Self::InvalidArgument { operation, clock } => write!(
                f,
                "cannot {operation} {clock}: the kernel rejected the request as invalid \
                 (EINVAL); check that the clock exists and the value is in range"
            ),
            Self::FrequencyOutOfRange {
                requested_ppb,
                max_ppb,
            } => write!(
                f,
                "frequency offset {requested_ppb} ppb is beyond the clock's limit of \
                 {max_ppb} ppb; lower the servo's max frequency"
            ),
            Self::Unsupported { operation, clock } => write!(
                f,
                "cannot {operation} {clock}: the driver does not support it; \
                 use software timestamping or another clock"
            ),
            Self::NoSuchInterface { interface } => write!(
                f,
                "network interface {interface} does not exist; check the name with `ip link`"
            ),
            Self::Interface { message } => f.write_str(message),
            Self::Os {
                operation,
                clock,
                errno,
            } => write!(
                f,
                "cannot {operation} {clock}: {}",
                io::Error::from_raw_os_error(*errno)
            ),
            Self::NoUsableSample { clock } => write!(
                f,
                "no usable offset sample from {clock}: the system clock was stepped during \
                 the measurement; measure again"
            ),
            Self::TimeOutOfRange { what } => {
                write!(
                    f,
                    "{what}: time out of range (clock before 1970 or overflow)"
                )
            }
        }
    }
}

impl std::error::Error for ClockError {}
