//! The UDP socket of the overlay peer layer (`[overlay] listen`): one
//! socket, bound to an address and port, sending 128-byte datagrams to the
//! peers' configured addresses, with software receive and transmit time
//! stamps (`SO_TIMESTAMPING`, transmit stamps from the error queue, as the
//! PTP event sockets do).
//!
//! Created the clknetsim-compatible way (`socket(dom, SOCK_DGRAM, 0)`, then
//! fcntl), not bound to a device: peers may be reached over any interface.

use std::cell::Cell;
use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::cmsg;
use super::socket::{pick, read_tx_timestamp};
use super::sys::{self, ControlBuf, RawAddr};
use super::timestamping::{TimestampingMode, so_timestamping_flags};
use super::{KernelTimestamp, NetError, PeerAddress, TxTimestamp};

/// A datagram taken from the peer socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerDatagram {
    /// Octets written at the start of the caller's buffer.
    pub len: usize,
    /// The datagram was longer than the buffer.
    pub truncated: bool,
    /// Its sender (unauthenticated).
    pub from: Option<SocketAddr>,
    /// The kernel's software receive stamp (CLOCK_REALTIME), if any.
    pub timestamp: Option<KernelTimestamp>,
}

/// The peer layer's UDP socket.
pub struct PeerSocket {
    fd: OwnedFd,
    local: SocketAddr,
    /// Transmit stamps were asked for.
    timestamps: bool,
    /// The OPT_ID the kernel gives the next datagram.
    next_tx_id: Cell<u32>,
}

impl fmt::Debug for PeerSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerSocket")
            .field("fd", &self.fd.as_raw_fd())
            .field("local", &self.local)
            .field("timestamps", &self.timestamps)
            .finish_non_exhaustive()
    }
}

fn raw(addr: SocketAddr) -> RawAddr {
    match addr {
        SocketAddr::V4(a) => RawAddr::v4(*a.ip(), a.port()),
        SocketAddr::V6(a) => RawAddr::v6(*a.ip(), a.port(), a.scope_id()),
    }
}

impl PeerSocket {
    /// Open the socket bound to `listen`, with software receive stamps and,
    /// when `tx_timestamps`, software transmit stamps.
    ///
    /// # Errors
    /// [`NetError`] naming the address when the socket cannot be created,
    /// bound (in use, or a privileged port) or set up.
    pub fn open(listen: SocketAddr, tx_timestamps: bool) -> Result<Self, NetError> {
        let what = format!("overlay peer socket {listen}");
        let domain = if listen.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        let fd = sys::dgram_socket(domain).map_err(|e| NetError::io(&what, "open", e))?;
        let b = fd.as_fd();
        if listen.is_ipv6() {
            sys::set_option(b, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &1 as &libc::c_int)
                .map_err(|e| NetError::io(&what, "set IPV6_V6ONLY", e))?;
        }
        sys::bind(b, &raw(listen)).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRINUSE) => NetError::AddressInUse {
                interface: what.clone(),
                what: format!("UDP {listen}"),
            },
            _ => NetError::privileged(&what, "bind", "CAP_NET_BIND_SERVICE", e),
        })?;
        let mut flags = so_timestamping_flags(TimestampingMode::Software);
        if !tx_timestamps {
            flags &= !(libc::SOF_TIMESTAMPING_TX_SOFTWARE | libc::SOF_TIMESTAMPING_OPT_ID);
        }
        let value = libc::c_int::try_from(flags).unwrap_or(0);
        let ts_err = |source| NetError::TimestampingSetup {
            interface: what.clone(),
            source,
        };
        sys::set_option(b, libc::SOL_SOCKET, libc::SO_TIMESTAMPING, &value).map_err(ts_err)?;
        if tx_timestamps {
            sys::set_option(
                b,
                libc::SOL_SOCKET,
                libc::SO_SELECT_ERR_QUEUE,
                &1 as &libc::c_int,
            )
            .map_err(ts_err)?;
        }
        Ok(Self {
            fd,
            local: listen,
            timestamps: tx_timestamps,
            next_tx_id: Cell::new(0),
        })
    }

    /// The address it is bound to.
    #[must_use]
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Send `data` to `to`; the OPT_ID of its transmit stamp when they
    /// were asked for.
    ///
    /// # Errors
    /// [`NetError::Io`] when the kernel refuses the datagram. The OPT_ID
    /// counter then starts again at 0 (see [`super::PortSockets::send`]).
    pub fn send_to(&self, data: &[u8], to: SocketAddr) -> Result<Option<u32>, NetError> {
        match sys::send_to(self.fd.as_fd(), data, &raw(to)) {
            Ok(_) => Ok(self.timestamps.then(|| {
                let id = self.next_tx_id.get();
                self.next_tx_id.set(id.wrapping_add(1));
                id
            })),
            Err(e) => {
                if self.timestamps {
                    self.reset_tx_ids();
                }
                Err(NetError::io(
                    &format!("overlay peer socket {}", self.local),
                    format!("send to {to}"),
                    e,
                ))
            }
        }
    }

    fn reset_tx_ids(&self) {
        let fd = self.fd.as_fd();
        let all = so_timestamping_flags(TimestampingMode::Software);
        let without = all & !libc::SOF_TIMESTAMPING_OPT_ID;
        let set = |flags: u32| {
            let v = libc::c_int::try_from(flags).unwrap_or(0);
            sys::set_option(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPING, &v).is_ok()
        };
        if set(without) && set(all) {
            self.next_tx_id.set(0);
        }
    }

    /// Take one datagram without blocking: `Ok(None)` when none is queued.
    ///
    /// # Errors
    /// [`NetError::Io`] when recvmsg fails other than with EAGAIN.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<PeerDatagram>, NetError> {
        let mut control = ControlBuf::new();
        let meta = sys::recv_msg(self.fd.as_fd(), buf, &mut control, 0).map_err(|e| {
            NetError::io(&format!("overlay peer socket {}", self.local), "receive", e)
        })?;
        let Some(meta) = meta else {
            return Ok(None);
        };
        let parsed = cmsg::parse(control.0.get(..meta.control_len).unwrap_or(&[]));
        let from = match meta.source {
            Some(PeerAddress::V4(a)) => Some(SocketAddr::V4(a)),
            Some(PeerAddress::V6(a)) => Some(SocketAddr::V6(a)),
            Some(PeerAddress::Ethernet(_)) | None => None,
        };
        Ok(Some(PeerDatagram {
            len: meta.len,
            truncated: meta.truncated,
            from,
            timestamp: pick(&parsed),
        }))
    }

    /// Take one transmit stamp from the error queue without blocking.
    ///
    /// # Errors
    /// [`NetError::Io`] when recvmsg fails other than with EAGAIN.
    pub fn recv_tx_timestamp(&self) -> Result<Option<TxTimestamp>, NetError> {
        if !self.timestamps {
            return Ok(None);
        }
        read_tx_timestamp(self.fd.as_fd()).map_err(|e| {
            NetError::io(
                &format!("overlay peer socket {}", self.local),
                "read the error queue",
                e,
            )
        })
    }
}

impl AsRawFd for PeerSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_datagrams_carry_receive_and_transmit_stamps() {
        let a = PeerSocket::open("127.0.0.1:0".parse().expect("addr"), true).expect("open a");
        let b = PeerSocket::open("127.0.0.1:0".parse().expect("addr"), false).expect("open b");
        // Port 0 binds an ephemeral port: find it through a send to self.
        let probe = [7u8; 128];
        let b_addr = local_port(&b);
        let id = a.send_to(&probe, b_addr).expect("send");
        assert_eq!(id, Some(0));
        let mut buf = [0u8; 256];
        let got = wait(|| b.recv(&mut buf).expect("recv"));
        assert_eq!(got.len, 128);
        assert!(got.timestamp.is_some(), "software receive stamp");
        assert_eq!(
            got.from.map(|f| f.ip()),
            Some("127.0.0.1".parse().expect("ip"))
        );
        let tx = wait(|| a.recv_tx_timestamp().expect("errqueue"));
        assert_eq!(tx.id, Some(0));
        assert_eq!(b.send_to(&probe, local_port(&a)).expect("send"), None);
    }

    fn local_port(s: &PeerSocket) -> SocketAddr {
        // The bound port through std: a duplicate of the descriptor.
        let dup = s.fd.try_clone().expect("dup");
        let std_sock = std::net::UdpSocket::from(dup);
        std_sock.local_addr().expect("local addr")
    }

    fn wait<T>(mut f: impl FnMut() -> Option<T>) -> T {
        for _ in 0..200 {
            if let Some(v) = f() {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("nothing arrived");
    }
}
