//! The state of a port's network link, as the daemon's link monitor sees
//! it: one SIOCGIFFLAGS and one SIOCGIFINDEX ioctl on the port's own
//! socket (so the answer is about the socket's network namespace, and
//! LD_PRELOAD simulators that intercept ioctl see the calls).
//!
//! What the kernel does to a port's sockets when its link goes away (run on
//! Linux 6.x with veth pairs, see `tests/failures.rs`):
//! - `ip link set IF down`: sends fail at once with ENETUNREACH (UDP) or
//!   ENETDOWN (AF_PACKET, whose socket also gets one ENETDOWN on receive);
//!   nothing arrives. The sockets stay valid, SO_BINDTODEVICE stays, and
//!   the sockets' multicast memberships (IPv4, IPv6 and packet) survive:
//!   the kernel re-programs them into the device when it comes back up
//!   (`ip maddr show dev IF` lists the same groups before and after).
//! - Lost carrier (cable out, the veth peer down): sends succeed but the
//!   frames are dropped before the driver, so no transmit timestamp comes.
//! - The interface removed and created again (a driver reload, a USB NIC
//!   re-plugged): it has a new index; sockets bound to the old one hear
//!   nothing and must be opened again.
//!
//! IFF_RUNNING follows the operational state, which the kernel updates
//! from its linkwatch work: up to a second after a carrier change when
//! other link events came just before (an interface just created), at once
//! otherwise. IFF_UP changes at once.
//!
//! The daemon therefore opens a port's sockets again whenever its link
//! comes back (as ptp4l re-opens its transport when a port leaves FAULTY),
//! which also re-applies the hardware timestamping configuration a NIC
//! reset may have lost.

use std::fmt;
use std::io;

/// What the link monitor saw on a port's interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkState {
    /// Up and running (IFF_UP and IFF_RUNNING) with the index the sockets
    /// were opened on.
    Up,
    /// Administratively down (`ip link set IF down`).
    AdminDown,
    /// Up but not running: no carrier (cable out, the veth peer down) or
    /// dormant.
    NoCarrier,
    /// No interface of that name exists any more.
    Missing,
    /// An interface of that name is up and running, but it is not the one
    /// the sockets were opened on (its index changed): the sockets must be
    /// opened again.
    Replaced,
    /// The kernel (or a simulator) did not answer the ioctl: assumed up.
    Unknown,
}

impl LinkState {
    /// Whether messages can go out and come in on the port's sockets.
    #[must_use]
    pub const fn is_usable(self) -> bool {
        matches!(self, Self::Up | Self::Unknown)
    }

    /// Classify the answers of SIOCGIFFLAGS and SIOCGIFINDEX for sockets
    /// opened on interface index `own_index`. `carrier_seen`: IFF_RUNNING
    /// has been seen on this interface before. Until then a missing
    /// IFF_RUNNING proves nothing (clknetsim, for one, reports IFF_UP
    /// without it) and the link counts as [`LinkState::Unknown`].
    #[must_use]
    pub fn classify(
        flags: io::Result<libc::c_int>,
        index: io::Result<u32>,
        own_index: u32,
        carrier_seen: bool,
    ) -> Self {
        let gone = |e: &io::Error| e.raw_os_error() == Some(libc::ENODEV);
        let flags = match flags {
            Ok(f) => f,
            Err(e) if gone(&e) => return Self::Missing,
            Err(_) => return Self::Unknown,
        };
        if flags & libc::IFF_UP == 0 {
            return Self::AdminDown;
        }
        if flags & libc::IFF_RUNNING == 0 {
            return if carrier_seen {
                Self::NoCarrier
            } else {
                Self::Unknown
            };
        }
        match index {
            Ok(i) if i != own_index => Self::Replaced,
            Err(e) if gone(&e) => Self::Missing,
            _ => Self::Up,
        }
    }

    /// Whether `e` (from a send or receive) says the link may have gone:
    /// the daemon then checks the link at once instead of at its next
    /// periodic check.
    #[must_use]
    pub fn error_suggests_link_change(e: &io::Error) -> bool {
        matches!(
            e.raw_os_error(),
            Some(
                libc::ENETDOWN
                    | libc::ENETUNREACH
                    | libc::ENODEV
                    | libc::ENXIO
                    | libc::EADDRNOTAVAIL
                    | libc::EHOSTUNREACH
            )
        )
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Up => "up",
            Self::AdminDown => "administratively down",
            Self::NoCarrier => "no carrier",
            Self::Missing => "interface removed",
            Self::Replaced => "interface replaced (it has a new index)",
            Self::Unknown => "unknown",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i32) -> io::Error {
        io::Error::from_raw_os_error(code)
    }

    #[test]
    fn flags_and_index_classify() {
        let up = libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_MULTICAST;
        assert_eq!(LinkState::classify(Ok(up), Ok(4), 4, true), LinkState::Up);
        assert_eq!(
            LinkState::classify(Ok(libc::IFF_MULTICAST), Ok(4), 4, true),
            LinkState::AdminDown
        );
        assert_eq!(
            LinkState::classify(Ok(libc::IFF_UP), Ok(4), 4, true),
            LinkState::NoCarrier
        );
        assert_eq!(
            LinkState::classify(Ok(up), Ok(9), 4, true),
            LinkState::Replaced,
            "same name, new index"
        );
        assert_eq!(
            LinkState::classify(Ok(0), Ok(9), 4, true),
            LinkState::AdminDown,
            "a new interface that is still down is just down"
        );
        assert_eq!(
            LinkState::classify(Err(err(libc::ENODEV)), Err(err(libc::ENODEV)), 4, true),
            LinkState::Missing
        );
        assert_eq!(
            LinkState::classify(Ok(up), Err(err(libc::ENODEV)), 4, true),
            LinkState::Missing,
            "removed between the two ioctls"
        );
        // A simulator that does not know SIOCGIFFLAGS: assume up.
        assert_eq!(
            LinkState::classify(Err(err(libc::EINVAL)), Ok(4), 4, true),
            LinkState::Unknown
        );
        assert_eq!(
            LinkState::classify(Ok(up), Err(err(libc::EINVAL)), 4, true),
            LinkState::Up
        );
        // clknetsim answers IFF_UP | IFF_BROADCAST, never IFF_RUNNING: no
        // carrier is ever inferred from an interface that never showed one.
        let clknetsim = libc::IFF_UP | libc::IFF_BROADCAST;
        assert_eq!(
            LinkState::classify(Ok(clknetsim), Ok(1), 1, false),
            LinkState::Unknown
        );
        assert_eq!(
            LinkState::classify(Ok(libc::IFF_BROADCAST), Ok(1), 1, false),
            LinkState::AdminDown,
            "IFF_UP gone is down either way"
        );
    }

    #[test]
    fn usable_states_and_names() {
        assert!(LinkState::Up.is_usable());
        assert!(LinkState::Unknown.is_usable());
        for s in [
            LinkState::AdminDown,
            LinkState::NoCarrier,
            LinkState::Missing,
            LinkState::Replaced,
        ] {
            assert!(!s.is_usable(), "{s}");
            assert!(!s.to_string().is_empty());
        }
        assert!(LinkState::error_suggests_link_change(&err(libc::ENETDOWN)));
        assert!(LinkState::error_suggests_link_change(&err(
            libc::ENETUNREACH
        )));
        assert!(!LinkState::error_suggests_link_change(&err(libc::ENOBUFS)));
    }
}
