//! Errors of the transport layer: one line each, naming what is missing
//! and how to fix it.

use std::fmt;
use std::io;

/// Why opening or using a port's sockets failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetError {
    /// The interface name cannot name a Linux interface.
    InvalidInterfaceName {
        /// The name as given.
        interface: String,
    },
    /// No interface of that name exists (in this network namespace).
    InterfaceNotFound {
        /// The name as given.
        interface: String,
    },
    /// The kernel refused an operation for lack of privilege.
    PermissionDenied {
        /// The interface of the port.
        interface: String,
        /// What was attempted, e.g. "bind UDP port 319".
        action: String,
        /// The capability that grants it, e.g. "CAP_NET_BIND_SERVICE".
        capability: &'static str,
    },
    /// Another socket holds the port without sharing it.
    AddressInUse {
        /// The interface of the port.
        interface: String,
        /// What was bound, e.g. "UDP port 319".
        what: String,
    },
    /// Joining a multicast group failed.
    MulticastJoin {
        /// The interface of the port.
        interface: String,
        /// The group, e.g. "224.0.1.129" or "01:1b:19:00:00:00".
        group: String,
        /// The kernel's error.
        source: io::Error,
    },
    /// The NIC (or its driver) cannot timestamp PTP packets in hardware.
    HardwareTimestampingUnsupported {
        /// The interface of the port.
        interface: String,
        /// What exactly is missing.
        detail: String,
    },
    /// The kernel rejected the SO_TIMESTAMPING options.
    TimestampingSetup {
        /// The interface of the port.
        interface: String,
        /// The kernel's error.
        source: io::Error,
    },
    /// Any other failed system call.
    Io {
        /// The interface of the port.
        interface: String,
        /// What was attempted, e.g. "send on the event socket".
        action: String,
        /// The kernel's error.
        source: io::Error,
    },
}

impl NetError {
    /// An [`NetError::Io`] unless `source` is a condition with a dedicated
    /// variant (missing interface, missing privilege).
    pub(crate) fn io(interface: &str, action: impl Into<String>, source: io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::ENODEV) => Self::InterfaceNotFound {
                interface: interface.to_owned(),
            },
            _ => Self::Io {
                interface: interface.to_owned(),
                action: action.into(),
                source,
            },
        }
    }

    /// Map EPERM/EACCES to [`NetError::PermissionDenied`], other errors as
    /// [`NetError::io`].
    pub(crate) fn privileged(
        interface: &str,
        action: impl Into<String>,
        capability: &'static str,
        source: io::Error,
    ) -> Self {
        match source.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => Self::PermissionDenied {
                interface: interface.to_owned(),
                action: action.into(),
                capability,
            },
            _ => Self::io(interface, action, source),
        }
    }
}

impl NetError {
    /// Whether this error of a send or receive suggests that the port's
    /// link went down or its interface went away (ENETDOWN, ENETUNREACH,
    /// ENODEV, ...): the daemon then checks the link at once.
    #[must_use]
    pub fn suggests_link_change(&self) -> bool {
        match self {
            Self::InterfaceNotFound { .. } => true,
            Self::Io { source, .. } => super::LinkState::error_suggests_link_change(source),
            _ => false,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInterfaceName { interface } => write!(
                f,
                "invalid interface name {interface:?}: Linux names are 1 to 15 bytes \
                 without '/', ':', whitespace or NUL; see `ip link`"
            ),
            Self::InterfaceNotFound { interface } => {
                write!(f, "interface {interface} not found; see `ip link`")
            }
            Self::PermissionDenied {
                interface,
                action,
                capability,
            } => write!(
                f,
                "permission denied to {action} on {interface}; run as root or grant \
                 {capability} (e.g. AmbientCapabilities={capability} in the systemd unit)"
            ),
            Self::AddressInUse { interface, what } => write!(
                f,
                "{what} on {interface} is already in use; stop the other PTP daemon \
                 (ptp4l?) or choose another interface"
            ),
            Self::MulticastJoin {
                interface,
                group,
                source,
            } => write!(
                f,
                "could not join multicast group {group} on {interface}: {source}; check \
                 that the interface is up with multicast enabled (`ip link set \
                 {interface} up multicast on`)"
            ),
            Self::HardwareTimestampingUnsupported { interface, detail } => write!(
                f,
                "NIC {interface} does not support hardware timestamping for PTP ({detail}); \
                 use `timestamping = \"software\"`"
            ),
            Self::TimestampingSetup { interface, source } => write!(
                f,
                "the kernel rejected socket timestamping (SO_TIMESTAMPING) on {interface}: \
                 {source}; a Linux kernel 4.0 or newer is needed"
            ),
            Self::Io {
                interface,
                action,
                source,
            } => write!(f, "could not {action} on {interface}: {source}"),
        }
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MulticastJoin { source, .. }
            | Self::TimestampingSetup { source, .. }
            | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_actionable() {
        let e = NetError::io("eth9", "x", io::Error::from_raw_os_error(libc::ENODEV));
        assert_eq!(e.to_string(), "interface eth9 not found; see `ip link`");
        let e = NetError::privileged(
            "eth0",
            "bind UDP port 319",
            "CAP_NET_BIND_SERVICE",
            io::Error::from_raw_os_error(libc::EACCES),
        );
        assert!(e.to_string().contains("CAP_NET_BIND_SERVICE"));
        assert!(e.to_string().contains("run as root"));
        let e = NetError::HardwareTimestampingUnsupported {
            interface: "veth0".into(),
            detail: "no TX_HARDWARE".into(),
        };
        assert!(e.to_string().contains("timestamping = \"software\""));
        assert!(!e.suggests_link_change());
        let down = NetError::io(
            "eth0",
            "send a event message",
            io::Error::from_raw_os_error(libc::ENETUNREACH),
        );
        assert!(down.suggests_link_change());
        let gone = NetError::io("eth0", "x", io::Error::from_raw_os_error(libc::ENODEV));
        assert!(gone.suggests_link_change());
        for e in [
            e,
            NetError::InvalidInterfaceName {
                interface: "a/b".into(),
            },
        ] {
            assert!(!e.to_string().contains('\n'));
        }
    }
}
