//! The sockets of one port: opening them for a transport, sending to a
//! [`Destination`], receiving with timestamps, and reading transmit
//! timestamps from the error queue.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use statime::port::Destination;
use statime::time::Time;

use super::cmsg::{self, Parsed, RawTs};
use super::sys::{self, ControlBuf, RawAddr};
use super::timestamping::{self, HwTimestampConfig, TimestampSource, TimestampingMode, TsInfo};
use super::{
    ETH_P_1588, KernelTimestamp, LinkState, NetError, NetOptions, PDELAY_IPV4, PDELAY_IPV6,
    PDELAY_MAC, PRIMARY_IPV4, PRIMARY_MAC, PeerAddress, Received, SendOutcome, Transport,
    TxTimestamp, primary_ipv6, validate_interface_name,
};

/// What a socket of a port carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketRole {
    /// UDP event messages (port 319); timestamped.
    Event,
    /// UDP general messages (port 320); not timestamped.
    General,
    /// Ethernet: event and general messages on one timestamped socket.
    Combined,
}

/// One socket of a port, for poll(2): wait for POLLIN (a message) and
/// POLLPRI (a transmit timestamp on the error queue, thanks to
/// SO_SELECT_ERR_QUEUE) on [`PtpSocket::as_fd`].
pub struct PtpSocket {
    fd: OwnedFd,
    role: SocketRole,
}

/// What [`PtpSocket::poll`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// A message can be received (POLLIN).
    pub readable: bool,
    /// The error queue holds something, normally a transmit timestamp
    /// (POLLPRI or POLLERR).
    pub error_queue: bool,
}

impl PtpSocket {
    /// What this socket carries.
    #[must_use]
    pub fn role(&self) -> SocketRole {
        self.role
    }

    /// Whether transmissions on this socket produce transmit timestamps.
    #[must_use]
    pub fn timestamps(&self) -> bool {
        self.role != SocketRole::General
    }

    /// Wait up to `timeout` with poll(2) for a message or an error-queue
    /// entry. A convenience for tools and tests; the daemon polls all its
    /// descriptors at once.
    ///
    /// # Errors
    /// When poll(2) fails.
    pub fn poll(&self, timeout: Duration) -> io::Result<Readiness> {
        let revents = sys::poll_one(self.fd.as_fd(), timeout)?;
        Ok(Readiness {
            readable: revents & libc::POLLIN != 0,
            error_queue: revents & (libc::POLLPRI | libc::POLLERR) != 0,
        })
    }
}

impl AsFd for PtpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PtpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl fmt::Debug for PtpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtpSocket")
            .field("fd", &self.fd.as_raw_fd())
            .field("role", &self.role)
            .finish()
    }
}

/// Where each (destination, event?) pair goes.
struct Destinations {
    primary_event: RawAddr,
    primary_general: RawAddr,
    pdelay_event: RawAddr,
    pdelay_general: RawAddr,
}

/// The sockets of one PTP port on one interface.
///
/// Single-threaded by design (the data plane is one poll loop): the OPT_ID
/// counter lives in a `Cell`.
pub struct PortSockets {
    interface: String,
    ifindex: u32,
    transport: Transport,
    mode: TimestampingMode,
    event: PtpSocket,
    general: Option<PtpSocket>,
    destinations: Destinations,
    /// The OPT_ID the kernel gives the next datagram on the timestamping
    /// socket.
    next_tx_id: Cell<u32>,
    ts_info: Option<TsInfo>,
    hardware: Option<HwTimestampConfig>,
    /// The tunables it was opened with, for [`PortSockets::reopen`].
    options: NetOptions,
    /// IFF_RUNNING has been seen on the interface (see
    /// [`LinkState::classify`]).
    carrier_seen: Cell<bool>,
}

impl fmt::Debug for PortSockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortSockets")
            .field("interface", &self.interface)
            .field("ifindex", &self.ifindex)
            .field("transport", &self.transport)
            .field("mode", &self.mode)
            .field("event", &self.event)
            .field("general", &self.general)
            .field("hardware", &self.hardware)
            .finish_non_exhaustive()
    }
}

fn on(v: bool) -> libc::c_int {
    libc::c_int::from(v)
}

fn raw_to_time(ts: RawTs) -> Option<Time> {
    let secs = u64::try_from(ts.sec).ok()?;
    let nanos = u32::try_from(ts.nsec).ok().filter(|n| *n < 1_000_000_000)?;
    Some(Time::from_secs_nanos(secs, nanos))
}

/// Take one transmit timestamp from `fd`'s error queue without blocking:
/// `Ok(None)` when none is queued (at most 16 entries that are not
/// transmit timestamps are skipped per call). With OPT_TSONLY the kernel
/// returns no payload; a simulator may return the looped-back frame, which
/// is read and ignored. Shared by the PTP ports and the overlay peer socket.
pub(super) fn read_tx_timestamp(fd: BorrowedFd<'_>) -> io::Result<Option<TxTimestamp>> {
    let mut scratch = [0u8; 256];
    for _ in 0..16 {
        let mut control = ControlBuf::new();
        let Some(meta) = sys::recv_msg(fd, &mut scratch, &mut control, libc::MSG_ERRQUEUE)? else {
            return Ok(None);
        };
        let parsed = cmsg::parse(control.0.get(..meta.control_len).unwrap_or(&[]));
        if let Some(ee) = parsed.extended_err {
            let is_tx_stamp = ee.origin == libc::SO_EE_ORIGIN_TIMESTAMPING
                && ee.errno == libc::ENOMSG.unsigned_abs()
                && ee.info == cmsg::SCM_TSTAMP_SND;
            if !is_tx_stamp {
                continue;
            }
        }
        let Some(timestamp) = pick(&parsed) else {
            continue;
        };
        return Ok(Some(TxTimestamp {
            id: parsed.extended_err.map(|e| e.data),
            timestamp,
        }));
    }
    Ok(None)
}

/// The timestamp of a parsed record: the raw hardware slot when present,
/// else the software slot.
pub(super) fn pick(parsed: &Parsed) -> Option<KernelTimestamp> {
    if let Some(time) = parsed.hardware.and_then(raw_to_time) {
        return Some(KernelTimestamp {
            time,
            source: TimestampSource::Hardware,
        });
    }
    parsed
        .software
        .and_then(raw_to_time)
        .map(|time| KernelTimestamp {
            time,
            source: TimestampSource::Software,
        })
}

/// Whether a PTP message is an event message (messageType 0..=7, clause
/// 13.3.2.3); an empty buffer is not.
fn is_event_message(data: &[u8]) -> bool {
    data.first().is_some_and(|b| b & 0x0f < 8)
}

impl PortSockets {
    /// Open the sockets of a port on `interface`.
    ///
    /// For [`TimestampingMode::Hardware`] this first checks the NIC's
    /// capabilities and enables hardware timestamping on the whole device
    /// (SIOCSHWTSTAMP, needs CAP_NET_ADMIN), as ptp4l does.
    ///
    /// # Errors
    /// A [`NetError`] naming what is missing: the interface, a privilege
    /// (binding 319/320 needs CAP_NET_BIND_SERVICE, SO_BINDTODEVICE and
    /// AF_PACKET need CAP_NET_RAW), multicast, or hardware timestamping.
    pub fn open(
        interface: &str,
        transport: Transport,
        timestamping: TimestampingMode,
        options: NetOptions,
    ) -> Result<Self, NetError> {
        validate_interface_name(interface)?;
        // Resolve the interface with an ioctl on a plain UDP socket first, so
        // a missing interface is reported before any privilege problem.
        let probe = sys::dgram_socket(libc::AF_INET)
            .map_err(|e| NetError::io(interface, "open a UDP socket", e))?;
        let ifindex = sys::interface_index(probe.as_fd(), interface)
            .map_err(|e| NetError::io(interface, "look up the interface index", e))?;

        let (ts_info, hardware) = match timestamping {
            TimestampingMode::Software => (
                timestamping::query_ts_info(probe.as_fd(), interface).ok(),
                None,
            ),
            TimestampingMode::Hardware => {
                let info = timestamping::query_ts_info(probe.as_fd(), interface).map_err(|e| {
                    match e.raw_os_error() {
                        Some(libc::EOPNOTSUPP | libc::EINVAL) => {
                            NetError::HardwareTimestampingUnsupported {
                                interface: interface.to_owned(),
                                detail: format!("ETHTOOL_GET_TS_INFO: {e}"),
                            }
                        }
                        _ => NetError::io(interface, "query timestamping capabilities", e),
                    }
                })?;
                let layer2 = transport == Transport::Ethernet;
                let cfg = timestamping::enable_hardware(probe.as_fd(), interface, layer2, &info)?;
                (Some(info), Some(cfg))
            }
        };
        drop(probe);

        let (event, general, destinations) = match transport {
            Transport::UdpIpv4 => {
                let event = open_udp(interface, ifindex, false, options.event_port, options)?;
                let general = open_udp(interface, ifindex, false, options.general_port, options)?;
                let d = Destinations {
                    primary_event: RawAddr::v4(PRIMARY_IPV4, options.event_port),
                    primary_general: RawAddr::v4(PRIMARY_IPV4, options.general_port),
                    pdelay_event: RawAddr::v4(PDELAY_IPV4, options.event_port),
                    pdelay_general: RawAddr::v4(PDELAY_IPV4, options.general_port),
                };
                (event, Some(general), d)
            }
            Transport::UdpIpv6 => {
                let event = open_udp(interface, ifindex, true, options.event_port, options)?;
                let general = open_udp(interface, ifindex, true, options.general_port, options)?;
                let primary = primary_ipv6(options.ipv6_scope);
                let d = Destinations {
                    primary_event: RawAddr::v6(primary, options.event_port, ifindex),
                    primary_general: RawAddr::v6(primary, options.general_port, ifindex),
                    pdelay_event: RawAddr::v6(PDELAY_IPV6, options.event_port, ifindex),
                    pdelay_general: RawAddr::v6(PDELAY_IPV6, options.general_port, ifindex),
                };
                (event, Some(general), d)
            }
            Transport::Ethernet => {
                let fd = open_packet(interface, ifindex, options.primary_mac)?;
                let primary = RawAddr::link(ifindex, ETH_P_1588, Some(options.primary_mac));
                let pdelay = RawAddr::link(ifindex, ETH_P_1588, Some(PDELAY_MAC));
                let d = Destinations {
                    primary_event: primary,
                    primary_general: primary,
                    pdelay_event: pdelay,
                    pdelay_general: pdelay,
                };
                (fd, None, d)
            }
        };
        enable_socket_timestamping(interface, event.as_fd(), timestamping)?;

        Ok(Self {
            interface: interface.to_owned(),
            ifindex,
            transport,
            mode: timestamping,
            event: PtpSocket {
                fd: event,
                role: if general.is_some() {
                    SocketRole::Event
                } else {
                    SocketRole::Combined
                },
            },
            general: general.map(|fd| PtpSocket {
                fd,
                role: SocketRole::General,
            }),
            destinations,
            next_tx_id: Cell::new(0),
            ts_info,
            hardware,
            options,
            carrier_seen: Cell::new(false),
        })
    }

    /// Open the port's sockets again, as [`PortSockets::open`] did: for
    /// when the link comes back (see [`super::link`]). The new sockets
    /// are bound and joined before the caller drops these (both sets use
    /// SO_REUSEADDR), so a failure leaves the old ones in place.
    ///
    /// # Errors
    /// As [`PortSockets::open`].
    pub fn reopen(&self) -> Result<Self, NetError> {
        let new = Self::open(&self.interface, self.transport, self.mode, self.options)?;
        new.carrier_seen.set(self.carrier_seen.get());
        Ok(new)
    }

    /// The state of the port's link now, by two ioctls on its own socket
    /// (see [`LinkState::classify`]).
    #[must_use]
    pub fn link_state(&self) -> LinkState {
        let fd = self.event.as_fd();
        let flags = sys::interface_flags(fd, &self.interface);
        if flags.as_ref().is_ok_and(|f| f & libc::IFF_RUNNING != 0) {
            self.carrier_seen.set(true);
        }
        LinkState::classify(
            flags,
            sys::interface_index(fd, &self.interface),
            self.ifindex,
            self.carrier_seen.get(),
        )
    }

    /// The interface name.
    #[must_use]
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface index.
    #[must_use]
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The transport.
    #[must_use]
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The timestamping mode.
    #[must_use]
    pub fn timestamping(&self) -> TimestampingMode {
        self.mode
    }

    /// The interface's timestamping capabilities, when the kernel told.
    #[must_use]
    pub fn ts_info(&self) -> Option<TsInfo> {
        self.ts_info
    }

    /// The PHC index of the interface (`/dev/ptpN`), when known.
    #[must_use]
    pub fn phc_index(&self) -> Option<u32> {
        self.ts_info.and_then(|i| i.phc_index)
    }

    /// What the driver configured, in hardware mode.
    #[must_use]
    pub fn hardware_config(&self) -> Option<HwTimestampConfig> {
        self.hardware
    }

    /// All sockets of the port, for poll(2).
    pub fn sockets(&self) -> impl Iterator<Item = &PtpSocket> {
        std::iter::once(&self.event).chain(self.general.as_ref())
    }

    /// The socket that carries (and timestamps) event messages; on
    /// Ethernet it carries general messages too.
    #[must_use]
    pub fn event_socket(&self) -> &PtpSocket {
        &self.event
    }

    /// The UDP general socket; `None` on Ethernet.
    #[must_use]
    pub fn general_socket(&self) -> Option<&PtpSocket> {
        self.general.as_ref()
    }

    /// Send one PTP message to `destination`: event messages (`event`)
    /// through the timestamping socket.
    ///
    /// The returned [`SendOutcome::tx_id`] identifies the transmit
    /// timestamp that will arrive on the error queue; record it in a
    /// [`super::TxTracker`]. On Ethernet, general messages get ids (and
    /// timestamps) too, which the tracker ignores.
    ///
    /// # Errors
    /// [`NetError::Io`] when the kernel refuses the datagram (interface
    /// down, buffer full, ...). After an error the OPT_ID counter is reset
    /// (the kernel may or may not have consumed a number), so ids restart
    /// at 0.
    pub fn send(
        &self,
        data: &[u8],
        destination: Destination,
        event: bool,
    ) -> Result<SendOutcome, NetError> {
        let d = &self.destinations;
        let addr = match (destination, event) {
            (Destination::Primary, true) => &d.primary_event,
            (Destination::Primary, false) => &d.primary_general,
            (Destination::PeerDelay, true) => &d.pdelay_event,
            (Destination::PeerDelay, false) => &d.pdelay_general,
        };
        self.send_raw(data, addr, event)
    }

    /// Send `data` to one node (unicast, IEEE 1588-2019 clause 16.1): over
    /// UDP to `peer`'s address on the event or general port, over Ethernet
    /// to its MAC address. The same OPT_ID accounting as [`Self::send`].
    ///
    /// # Errors
    /// As [`Self::send`]; [`NetError::Io`] with `EAFNOSUPPORT` when the
    /// address family does not match the port's transport.
    pub fn send_unicast(
        &self,
        data: &[u8],
        peer: PeerAddress,
        event: bool,
    ) -> Result<SendOutcome, NetError> {
        let port = if event {
            self.options.event_port
        } else {
            self.options.general_port
        };
        let addr = match (self.transport, peer) {
            (Transport::UdpIpv4, PeerAddress::V4(a)) => RawAddr::v4(*a.ip(), port),
            (Transport::UdpIpv6, PeerAddress::V6(a)) => RawAddr::v6(*a.ip(), port, self.ifindex),
            (Transport::Ethernet, PeerAddress::Ethernet(mac)) => {
                RawAddr::link(self.ifindex, ETH_P_1588, Some(mac))
            }
            _ => {
                return Err(NetError::io(
                    &self.interface,
                    format!("send to {peer:?} (not an address of this transport)"),
                    io::Error::from_raw_os_error(libc::EAFNOSUPPORT),
                ));
            }
        };
        self.send_raw(data, &addr, event)
    }

    fn send_raw(&self, data: &[u8], addr: &RawAddr, event: bool) -> Result<SendOutcome, NetError> {
        let socket = match (&self.general, event) {
            (Some(general), false) => general,
            _ => &self.event,
        };
        match sys::send_to(socket.as_fd(), data, addr) {
            Ok(_) => {
                let tx_id = socket.timestamps().then(|| {
                    let id = self.next_tx_id.get();
                    self.next_tx_id.set(id.wrapping_add(1));
                    id
                });
                Ok(SendOutcome { tx_id })
            }
            Err(e) => {
                if socket.timestamps() {
                    self.reset_tx_ids();
                }
                let what = if event { "event" } else { "general" };
                Err(NetError::io(
                    &self.interface,
                    format!("send a {what} message"),
                    e,
                ))
            }
        }
    }

    /// Restart the kernel's OPT_ID counter at 0 by turning OPT_ID off and
    /// on again (the kernel resets it when the flag is newly set).
    fn reset_tx_ids(&self) {
        let fd = self.event.as_fd();
        let all = timestamping::so_timestamping_flags(self.mode);
        let without = all & !libc::SOF_TIMESTAMPING_OPT_ID;
        let ok = set_timestamping(fd, without).is_ok() && set_timestamping(fd, all).is_ok();
        if ok {
            self.next_tx_id.set(0);
        }
    }

    /// Take one message from any socket of the port, without blocking:
    /// `Ok(None)` when none is queued.
    ///
    /// # Errors
    /// [`NetError::Io`] when recvmsg fails other than with EAGAIN.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<Received>, NetError> {
        for socket in self.sockets() {
            if let Some(r) = self.recv_from(socket.role(), buf)? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Take one message from the socket of `role` (the one poll(2) said is
    /// readable), without blocking. A role the port does not have yields
    /// `Ok(None)`.
    ///
    /// # Errors
    /// [`NetError::Io`] when recvmsg fails other than with EAGAIN.
    pub fn recv_from(
        &self,
        role: SocketRole,
        buf: &mut [u8],
    ) -> Result<Option<Received>, NetError> {
        let Some(socket) = self.sockets().find(|s| s.role() == role) else {
            return Ok(None);
        };
        let mut control = ControlBuf::new();
        let meta = sys::recv_msg(socket.as_fd(), buf, &mut control, 0)
            .map_err(|e| NetError::io(&self.interface, "receive a message", e))?;
        let Some(meta) = meta else {
            return Ok(None);
        };
        let control_bytes = control.0.get(..meta.control_len).unwrap_or(&[]);
        let parsed = cmsg::parse(control_bytes);
        let payload = buf.get(..meta.len).unwrap_or(&[]);
        let event = match socket.role() {
            SocketRole::Event => true,
            SocketRole::General => false,
            SocketRole::Combined => is_event_message(payload),
        };
        Ok(Some(Received {
            len: meta.len,
            truncated: meta.truncated,
            timestamp: pick(&parsed),
            event,
            source: meta.source,
        }))
    }

    /// Take one transmit timestamp from the error queue of the
    /// timestamping socket, without blocking: `Ok(None)` when none is
    /// queued. Entries that are not transmit timestamps are skipped.
    ///
    /// # Errors
    /// [`NetError::Io`] when recvmsg fails other than with EAGAIN.
    pub fn recv_tx_timestamp(&self) -> Result<Option<TxTimestamp>, NetError> {
        read_tx_timestamp(self.event.as_fd())
            .map_err(|e| NetError::io(&self.interface, "read the error queue", e))
    }
}

fn set_timestamping(fd: BorrowedFd<'_>, flags: u32) -> io::Result<()> {
    let value = libc::c_int::try_from(flags).unwrap_or(0);
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPING, &value)
}

fn enable_socket_timestamping(
    interface: &str,
    fd: BorrowedFd<'_>,
    mode: TimestampingMode,
) -> Result<(), NetError> {
    let err = |source| NetError::TimestampingSetup {
        interface: interface.to_owned(),
        source,
    };
    set_timestamping(fd, timestamping::so_timestamping_flags(mode)).map_err(err)?;
    // A transmit timestamp then wakes poll(2) with POLLPRI.
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_SELECT_ERR_QUEUE, &on(true)).map_err(err)?;
    Ok(())
}

fn join_error(interface: &str, group: String, source: io::Error) -> NetError {
    match source.raw_os_error() {
        Some(libc::ENODEV) => NetError::io(interface, "", source),
        _ => NetError::MulticastJoin {
            interface: interface.to_owned(),
            group,
            source,
        },
    }
}

/// One UDP socket bound to `port` on the interface, joined to both groups.
fn open_udp(
    interface: &str,
    ifindex: u32,
    v6: bool,
    port: u16,
    options: NetOptions,
) -> Result<OwnedFd, NetError> {
    let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    let fd = sys::dgram_socket(domain).map_err(|e| {
        NetError::io(
            interface,
            if v6 {
                "open a UDP/IPv6 socket"
            } else {
                "open a UDP/IPv4 socket"
            },
            e,
        )
    })?;
    let b = fd.as_fd();
    let opt_err = |what: &'static str| move |e| NetError::io(interface, format!("set {what}"), e);
    if v6 {
        sys::set_option(b, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &on(true))
            .map_err(opt_err("IPV6_V6ONLY"))?;
    }
    sys::set_option(b, libc::SOL_SOCKET, libc::SO_REUSEADDR, &on(true))
        .map_err(opt_err("SO_REUSEADDR"))?;
    if let Some(size) = options.receive_buffer {
        // Best effort: a smaller buffer only loses what overflows it.
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        if sys::set_option(b, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
            let _ = sys::set_option(b, libc::SOL_SOCKET, libc::SO_RCVBUF, &size);
        }
    }
    let local = if v6 {
        RawAddr::v6(Ipv6Addr::UNSPECIFIED, port, 0)
    } else {
        RawAddr::v4(Ipv4Addr::UNSPECIFIED, port)
    };
    sys::bind(b, &local).map_err(|e| match e.raw_os_error() {
        Some(libc::EADDRINUSE) => NetError::AddressInUse {
            interface: interface.to_owned(),
            what: format!("UDP port {port}"),
        },
        _ => NetError::privileged(
            interface,
            format!("bind UDP port {port}"),
            "CAP_NET_BIND_SERVICE",
            e,
        ),
    })?;
    // After bind(), as ptp4l does: clknetsim's bind() to the wildcard
    // address would otherwise forget the device again.
    sys::bind_to_device(b, interface).map_err(|e| {
        NetError::privileged(
            interface,
            "bind a socket to the interface (SO_BINDTODEVICE)",
            "CAP_NET_RAW",
            e,
        )
    })?;
    let index = libc::c_int::try_from(ifindex).unwrap_or(0);
    let ttl = libc::c_int::from(options.multicast_ttl);
    if v6 {
        sys::set_option(b, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF, &index)
            .map_err(opt_err("IPV6_MULTICAST_IF"))?;
        sys::set_option(b, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, &ttl)
            .map_err(opt_err("IPV6_MULTICAST_HOPS"))?;
        sys::set_option(b, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, &on(false))
            .map_err(opt_err("IPV6_MULTICAST_LOOP"))?;
        for group in [primary_ipv6(options.ipv6_scope), PDELAY_IPV6] {
            let mreq = libc::ipv6_mreq {
                ipv6mr_multiaddr: libc::in6_addr {
                    s6_addr: group.octets(),
                },
                ipv6mr_interface: ifindex,
            };
            sys::set_option(b, libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP, &mreq)
                .map_err(|e| join_error(interface, group.to_string(), e))?;
        }
    } else {
        let mreqn = |group: Ipv4Addr| libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from(group).to_be(),
            },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: index,
        };
        sys::set_option(
            b,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            &mreqn(Ipv4Addr::UNSPECIFIED),
        )
        .map_err(opt_err("IP_MULTICAST_IF"))?;
        sys::set_option(b, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, &ttl)
            .map_err(opt_err("IP_MULTICAST_TTL"))?;
        sys::set_option(b, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &on(false))
            .map_err(opt_err("IP_MULTICAST_LOOP"))?;
        for group in [PRIMARY_IPV4, PDELAY_IPV4] {
            sys::set_option(b, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &mreqn(group))
                .map_err(|e| join_error(interface, group.to_string(), e))?;
        }
    }
    Ok(fd)
}

/// The AF_PACKET SOCK_DGRAM socket of an Ethernet port, bound to
/// ETH_P_1588 on the interface and joined to both PTP MAC groups.
fn open_packet(interface: &str, ifindex: u32, primary: [u8; 6]) -> Result<OwnedFd, NetError> {
    let fd = sys::dgram_socket(libc::AF_PACKET).map_err(|e| {
        NetError::privileged(interface, "open an AF_PACKET socket", "CAP_NET_RAW", e)
    })?;
    let b = fd.as_fd();
    sys::bind(b, &RawAddr::link(ifindex, ETH_P_1588, None)).map_err(|e| {
        NetError::privileged(
            interface,
            "bind an AF_PACKET socket to ethertype 0x88F7",
            "CAP_NET_RAW",
            e,
        )
    })?;
    let extra = (primary != PRIMARY_MAC && primary != PDELAY_MAC).then_some(primary);
    for mac in [PRIMARY_MAC, PDELAY_MAC].into_iter().chain(extra) {
        let mut address = [0u8; 8];
        address[..6].copy_from_slice(&mac);
        let mreq = libc::packet_mreq {
            mr_ifindex: libc::c_int::try_from(ifindex).unwrap_or(0),
            mr_type: libc::PACKET_MR_MULTICAST as libc::c_ushort,
            mr_alen: 6,
            mr_address: address,
        };
        sys::set_option(b, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq).map_err(|e| {
            let group = mac
                .iter()
                .map(|o| format!("{o:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            join_error(interface, group, e)
        })?;
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_timestamps_convert_or_are_rejected() {
        assert_eq!(
            raw_to_time(RawTs { sec: 5, nsec: 7 }),
            Some(Time::from_secs_nanos(5, 7))
        );
        assert_eq!(raw_to_time(RawTs { sec: -1, nsec: 0 }), None);
        assert_eq!(
            raw_to_time(RawTs {
                sec: 1,
                nsec: 1_000_000_000
            }),
            None
        );
        assert_eq!(raw_to_time(RawTs { sec: 1, nsec: -1 }), None);
    }

    #[test]
    fn hardware_slot_wins() {
        let p = Parsed {
            software: Some(RawTs { sec: 1, nsec: 0 }),
            hardware: Some(RawTs { sec: 2, nsec: 0 }),
            had_timestamping: true,
            extended_err: None,
        };
        assert_eq!(pick(&p).unwrap().source, TimestampSource::Hardware);
        let p = Parsed {
            hardware: None,
            ..p
        };
        assert_eq!(pick(&p).unwrap().source, TimestampSource::Software);
        assert_eq!(pick(&Parsed::default()), None);
    }

    #[test]
    fn event_classification() {
        assert!(is_event_message(&[0x00]));
        assert!(is_event_message(&[0x13]));
        assert!(!is_event_message(&[0x0b]));
        assert!(!is_event_message(&[]));
    }

    #[test]
    fn missing_interface_is_reported_before_privileges() {
        for transport in [Transport::UdpIpv4, Transport::UdpIpv6, Transport::Ethernet] {
            let e = PortSockets::open(
                "nosuchif0",
                transport,
                TimestampingMode::Software,
                NetOptions::default(),
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                "interface nosuchif0 not found; see `ip link`"
            );
        }
    }
}
