//! The transport layer: the sockets of one PTP port and their kernel
//! timestamps, for the daemon's poll(2) loop.
//!
//! Three transports, each a mapping of IEEE 1588-2019 messages onto a
//! network:
//! - [`Transport::UdpIpv4`]: annex C, UDP over IPv4: event messages to port
//!   319, general messages to 320, multicast groups 224.0.1.129 (primary)
//!   and 224.0.0.107 (peer delay).
//! - [`Transport::UdpIpv6`]: annex D, UDP over IPv6: the same ports, groups
//!   FF0X::181 (X = the configurable scope, default E = global) and
//!   FF02::6B (peer delay, link-local).
//! - [`Transport::Ethernet`]: annex E, IEEE 802.3 with ethertype 0x88F7 to
//!   01-1B-19-00-00-00 (primary) and 01-80-C2-00-00-0E (peer delay, not
//!   forwarded by bridges).
//!
//! # Socket choices
//! - UDP: two sockets per port (event and general), each created as
//!   `socket(AF_INET[6], SOCK_DGRAM, 0)` then made non-blocking and
//!   close-on-exec with fcntl, with SO_REUSEADDR (several ports, i.e. a
//!   boundary clock, bind 319/320 once per interface), SO_BINDTODEVICE,
//!   bound to the wildcard address, and joined to both groups on the
//!   interface index. Only the event socket timestamps; the general socket
//!   carries no SO_TIMESTAMPING and so never fills an error queue. This is
//!   the shape clknetsim understands (it supports AF_INET datagram sockets,
//!   SO_BINDTODEVICE, SIOCGIFINDEX and SO_TIMESTAMPING, and loops a
//!   transmitted packet back to the error queue).
//! - Ethernet: one `AF_PACKET` socket of type **SOCK_DGRAM**, created with
//!   protocol 0 (so it receives nothing before it is bound) and then bound
//!   to ETH_P_1588 on the interface. SOCK_DGRAM lets the kernel write and
//!   strip the Ethernet header (source MAC and VLAN acceleration included),
//!   so no frame parsing happens in user space and the received bytes start
//!   at the PTP header, exactly as with UDP; the sender's MAC comes back in
//!   `sockaddr_ll`. The binding to ETH_P_1588 replaces a BPF filter (which a
//!   SOCK_RAW + ETH_P_ALL socket would need), and a protocol-bound packet
//!   socket does not see its own transmissions. The cost: the destination
//!   MAC of a received frame is not visible (no port needs it) and frames
//!   cannot be sent with a forged source MAC (none should be). clknetsim
//!   has no AF_PACKET support either way.
//! - Timestamping: `SO_TIMESTAMPING` with OPT_ID and OPT_TSONLY plus
//!   `SO_SELECT_ERR_QUEUE`, so a transmit timestamp wakes poll(2) with
//!   POLLPRI. See [`TimestampingMode`].
//!
//! Nothing here blocks: every receive returns `None` when no data is
//! queued; wait with poll(2) on [`PortSockets::sockets`] (POLLIN for
//! messages, POLLPRI for transmit timestamps).
//!
//! The daemon watches each port's link with [`PortSockets::link_state`]
//! and opens the sockets again with [`PortSockets::reopen`] when the link
//! comes back; [`link`] says what the kernel does to the sockets meanwhile.
mod cmsg;
mod error;
pub mod link;
mod peer;
mod socket;
mod sys;
mod timestamping;
mod tracker;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use statime::time::Time;

pub use error::NetError;
pub use link::LinkState;
pub use peer::{PeerDatagram, PeerSocket};
pub use socket::{PortSockets, PtpSocket, Readiness, SocketRole};
pub use timestamping::{
    HwTimestampConfig, TimestampSource, TimestampingMode, TsInfo, so_timestamping_flags,
    timestamping_info,
};
pub use tracker::TxTracker;

/// UDP port of event messages (annex C.2 / D.2).
pub const EVENT_PORT: u16 = 319;
/// UDP port of general messages.
pub const GENERAL_PORT: u16 = 320;
/// The primary IPv4 group (annex C.3).
pub const PRIMARY_IPV4: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 129);
/// The IPv4 peer delay group.
pub const PDELAY_IPV4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 107);
/// The IPv6 peer delay group FF02::6B (annex D.3).
pub const PDELAY_IPV6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x6b);
/// The primary Ethernet address (annex E.3).
pub const PRIMARY_MAC: [u8; 6] = [0x01, 0x1b, 0x19, 0x00, 0x00, 0x00];
/// The peer delay Ethernet address.
pub const PDELAY_MAC: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
/// The PTP ethertype (annex E.2).
pub const ETH_P_1588: u16 = 0x88f7;

/// The primary IPv6 group FF0X::181 for scope nibble `scope` (annex D.3;
/// 0xE = global, linuxptp's default `udp6_scope`).
#[must_use]
pub fn primary_ipv6(scope: u8) -> Ipv6Addr {
    Ipv6Addr::new(0xff00 | u16::from(scope & 0x0f), 0, 0, 0, 0, 0, 0, 0x181)
}

/// How PTP messages travel on a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP over IPv4, IEEE 1588-2019 annex C.
    UdpIpv4,
    /// UDP over IPv6, annex D.
    UdpIpv6,
    /// IEEE 802.3 Ethernet, annex E.
    Ethernet,
}

/// Tunables of [`PortSockets::open`]; the defaults match linuxptp's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetOptions {
    /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (default 1: the local link).
    pub multicast_ttl: u8,
    /// The scope nibble X of FF0X::181 (default 0xE).
    pub ipv6_scope: u8,
    /// The event port (default 319); other values only for experiments.
    pub event_port: u16,
    /// The general port (default 320).
    pub general_port: u16,
    /// Ethernet: where messages other than peer delay ones go (default
    /// [`PRIMARY_MAC`]; IEEE 802.1AS sends everything to [`PDELAY_MAC`]).
    pub primary_mac: [u8; 6],
    /// SO_RCVBUF of the UDP sockets in octets (default none: the kernel's).
    /// Set with SO_RCVBUFFORCE (CAP_NET_ADMIN) when allowed, beyond
    /// `net.core.rmem_max`; else SO_RCVBUF, which the kernel caps. A unicast
    /// server needs room for a burst of Delay_Req and transmit stamps.
    pub receive_buffer: Option<usize>,
}

impl Default for NetOptions {
    fn default() -> Self {
        Self {
            multicast_ttl: 1,
            ipv6_scope: 0x0e,
            event_port: EVENT_PORT,
            general_port: GENERAL_PORT,
            primary_mac: PRIMARY_MAC,
            receive_buffer: None,
        }
    }
}

/// A kernel timestamp and the clock it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KernelTimestamp {
    /// Seconds and nanoseconds as the clock read them: UTC for
    /// [`TimestampSource::Software`], the PHC's timescale (usually TAI) for
    /// [`TimestampSource::Hardware`]. Converting to the PTP timescale is the
    /// daemon's job.
    pub time: Time,
    /// The clock.
    pub source: TimestampSource,
}

/// Who sent a received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerAddress {
    /// An IPv4 sender.
    V4(SocketAddrV4),
    /// An IPv6 sender.
    V6(SocketAddrV6),
    /// An Ethernet sender's MAC address.
    Ethernet([u8; 6]),
}

/// A message taken from a socket by [`PortSockets::recv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Octets written at the start of the caller's buffer.
    pub len: usize,
    /// The datagram was longer than the buffer and was cut.
    pub truncated: bool,
    /// The receive timestamp (event messages; `None` for general ones and
    /// when the kernel reported none).
    pub timestamp: Option<KernelTimestamp>,
    /// An event message: it came on the event socket (UDP) or its
    /// messageType is below 8 (Ethernet).
    pub event: bool,
    /// The sender, when known.
    pub source: Option<PeerAddress>,
}

/// The result of [`PortSockets::send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendOutcome {
    /// The OPT_ID number the kernel gave this datagram: its transmit
    /// timestamp will come back from [`PortSockets::recv_tx_timestamp`]
    /// with the same id. `None` when the socket does not timestamp (general
    /// messages over UDP).
    pub tx_id: Option<u32>,
}

/// A transmit timestamp from the error queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxTimestamp {
    /// The OPT_ID number of the datagram ([`SendOutcome::tx_id`]); `None`
    /// when the kernel (or a simulator such as clknetsim) sent no
    /// `sock_extended_err`, in which case [`TxTracker`] matches the oldest
    /// outstanding message.
    pub id: Option<u32>,
    /// When the datagram left.
    pub timestamp: KernelTimestamp,
}

/// Check that `name` can name a Linux interface (net/core/dev.c rules).
pub(crate) fn validate_interface_name(name: &str) -> Result<(), NetError> {
    let bad = name.is_empty()
        || name.len() >= libc::IFNAMSIZ
        || name == "."
        || name == ".."
        || name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace());
    if bad {
        return Err(NetError::InvalidInterfaceName {
            interface: name.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(primary_ipv6(0x0e).to_string(), "ff0e::181");
        assert_eq!(primary_ipv6(0x02).to_string(), "ff02::181");
        assert_eq!(primary_ipv6(0xf5).to_string(), "ff05::181");
        assert_eq!(PDELAY_IPV6.to_string(), "ff02::6b");
        assert_eq!(NetOptions::default().multicast_ttl, 1);
    }

    #[test]
    fn interface_names() {
        assert!(validate_interface_name("eth0").is_ok());
        assert!(validate_interface_name("a-very-long-nam").is_ok());
        for bad in ["", "a-very-long-name", "a/b", "a b", "eth0:1", ".", "a\0"] {
            assert!(matches!(
                validate_interface_name(bad),
                Err(NetError::InvalidInterfaceName { .. })
            ));
        }
    }
}
