//! The system calls of the transport layer, each wrapped in a small safe
//! function: socket creation, socket options, bind, sendto, recvmsg, the
//! interface ioctls and poll(2).
//!
//! Every call goes through libc (no raw syscalls) and sockets are created
//! as `socket(domain, SOCK_DGRAM, 0)` followed by fcntl for O_NONBLOCK and
//! FD_CLOEXEC, so the data plane runs under LD_PRELOAD simulators such as
//! clknetsim (ARCHITECTURE.md principle 4).
#![allow(unsafe_code)] // FFI into libc; every block states why it is sound.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::PeerAddress;

/// Create `socket(domain, SOCK_DGRAM, 0)` and make it non-blocking and
/// close-on-exec with fcntl.
pub(crate) fn dgram_socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes only integers and returns a new descriptor or -1.
    let raw = unsafe { libc::socket(domain, libc::SOCK_DGRAM, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a freshly created descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    set_fd_flags(fd.as_raw_fd())?;
    Ok(fd)
}

fn set_fd_flags(fd: libc::c_int) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL/F_GETFD/F_SETFD and integer
    // arguments on a descriptor we own; no memory is passed.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl < 0 || libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fdfl = libc::fcntl(fd, libc::F_GETFD);
        if fdfl < 0 || libc::fcntl(fd, libc::F_SETFD, fdfl | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn socklen_of<T>() -> libc::socklen_t {
    // All option structs here are a few dozen bytes.
    libc::socklen_t::try_from(size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// setsockopt with a plain-old-data value.
pub(crate) fn set_option<T: Copy>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of exactly `size_of::<T>()`
    // bytes, which the kernel only reads during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(value).cast(),
            socklen_of::<T>(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// SO_BINDTODEVICE with a NUL-terminated interface name (`name` must not
/// contain NUL; the caller validated it).
pub(crate) fn bind_to_device(fd: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let mut buf = [0u8; libc::IFNAMSIZ];
    let bytes = name.as_bytes();
    if bytes.len() >= buf.len() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    buf[..bytes.len()].copy_from_slice(bytes);
    let len = libc::socklen_t::try_from(bytes.len() + 1).unwrap_or(0);
    // SAFETY: `buf` is a live array of IFNAMSIZ bytes holding a
    // NUL-terminated name; `len` is at most IFNAMSIZ.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            buf.as_ptr().cast(),
            len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A socket address in the C layout the kernel expects.
#[derive(Clone, Copy)]
pub(crate) enum RawAddr {
    V4(libc::sockaddr_in),
    V6(libc::sockaddr_in6),
    Link(libc::sockaddr_ll),
}

impl RawAddr {
    pub(crate) fn v4(addr: Ipv4Addr, port: u16) -> Self {
        // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
        let mut sa: libc::sockaddr_in = unsafe { zeroed() };
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_port = port.to_be();
        sa.sin_addr = libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        };
        Self::V4(sa)
    }

    pub(crate) fn v6(addr: Ipv6Addr, port: u16, scope_id: u32) -> Self {
        // SAFETY: sockaddr_in6 is plain old data; all-zero is a valid value.
        let mut sa: libc::sockaddr_in6 = unsafe { zeroed() };
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_port = port.to_be();
        sa.sin6_addr = libc::in6_addr {
            s6_addr: addr.octets(),
        };
        sa.sin6_scope_id = scope_id;
        Self::V6(sa)
    }

    /// A link-layer address for an AF_PACKET SOCK_DGRAM socket: the kernel
    /// builds the Ethernet header from `mac`, `protocol` and the interface.
    pub(crate) fn link(ifindex: u32, protocol: u16, mac: Option<[u8; 6]>) -> Self {
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut sa: libc::sockaddr_ll = unsafe { zeroed() };
        sa.sll_family = libc::AF_PACKET as libc::c_ushort;
        sa.sll_protocol = protocol.to_be();
        sa.sll_ifindex = libc::c_int::try_from(ifindex).unwrap_or(0);
        if let Some(mac) = mac {
            sa.sll_halen = 6;
            sa.sll_addr[..6].copy_from_slice(&mac);
        }
        Self::Link(sa)
    }

    fn as_ptr_len(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        match self {
            Self::V4(sa) => (
                std::ptr::from_ref(sa).cast(),
                socklen_of::<libc::sockaddr_in>(),
            ),
            Self::V6(sa) => (
                std::ptr::from_ref(sa).cast(),
                socklen_of::<libc::sockaddr_in6>(),
            ),
            Self::Link(sa) => (
                std::ptr::from_ref(sa).cast(),
                socklen_of::<libc::sockaddr_ll>(),
            ),
        }
    }
}

/// bind(2).
pub(crate) fn bind(fd: BorrowedFd<'_>, addr: &RawAddr) -> io::Result<()> {
    let (ptr, len) = addr.as_ptr_len();
    // SAFETY: `ptr` points to a live sockaddr of `len` bytes inside `addr`.
    let rc = unsafe { libc::bind(fd.as_raw_fd(), ptr, len) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// sendto(2); returns the number of bytes sent.
pub(crate) fn send_to(fd: BorrowedFd<'_>, data: &[u8], addr: &RawAddr) -> io::Result<usize> {
    let (ptr, len) = addr.as_ptr_len();
    loop {
        // SAFETY: `data` is a live slice of `data.len()` bytes the kernel only
        // reads; `ptr`/`len` describe a live sockaddr inside `addr`.
        let rc = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                0,
                ptr,
                len,
            )
        };
        if rc >= 0 {
            return Ok(usize::try_from(rc).unwrap_or(0));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Control buffer for recvmsg: aligned for `cmsghdr`, with room for a
/// timestamp, an extended error and a packet-info record to spare.
#[repr(C, align(8))]
pub(crate) struct ControlBuf(pub(crate) [u8; 512]);

impl ControlBuf {
    pub(crate) const fn new() -> Self {
        Self([0; 512])
    }
}

/// What recvmsg returned besides the payload.
pub(crate) struct RecvMeta {
    /// Payload bytes written into the caller's buffer.
    pub(crate) len: usize,
    /// The datagram was longer than the buffer (MSG_TRUNC).
    pub(crate) truncated: bool,
    /// Valid bytes of the control buffer.
    pub(crate) control_len: usize,
    /// The sender, when the kernel reported a known address family.
    pub(crate) source: Option<PeerAddress>,
}

/// recvmsg(2) with one iovec. Returns `Ok(None)` on EAGAIN.
pub(crate) fn recv_msg(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    control: &mut ControlBuf,
    flags: libc::c_int,
) -> io::Result<Option<RecvMeta>> {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let control_bytes = control.0.len();
    loop {
        // SAFETY: msghdr is plain old data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = std::ptr::from_mut(&mut name).cast();
        msg.msg_namelen = socklen_of::<libc::sockaddr_storage>();
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = control_bytes as _;
        // SAFETY: every pointer in `msg` refers to a live, writable buffer of
        // the stated length (`name`, `buf` through `iov`, `control`), all of
        // which outlive the call.
        let rc = unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, flags) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(None),
                _ => return Err(err),
            }
        }
        let len = usize::try_from(rc).unwrap_or(0).min(buf.len());
        // msg_controllen is size_t with glibc but socklen_t with musl.
        #[allow(clippy::useless_conversion)]
        let control_len = usize::try_from(msg.msg_controllen)
            .unwrap_or(0)
            .min(control_bytes);
        let namelen = usize::try_from(msg.msg_namelen).unwrap_or(0);
        return Ok(Some(RecvMeta {
            len,
            truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
            control_len,
            source: decode_name(&name, namelen),
        }));
    }
}

fn decode_name(name: &libc::sockaddr_storage, len: usize) -> Option<PeerAddress> {
    let family = libc::c_int::from(name.ss_family);
    let storage: *const libc::sockaddr_storage = name;
    match family {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for
            // every sockaddr type, and the kernel wrote an AF_INET address of
            // at least this size.
            let sa = unsafe { &*storage.cast::<libc::sockaddr_in>() };
            Some(PeerAddress::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
                u16::from_be(sa.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for an AF_INET6 address.
            let sa = unsafe { &*storage.cast::<libc::sockaddr_in6>() };
            Some(PeerAddress::V6(SocketAddrV6::new(
                Ipv6Addr::from(sa.sin6_addr.s6_addr),
                u16::from_be(sa.sin6_port),
                sa.sin6_flowinfo,
                sa.sin6_scope_id,
            )))
        }
        libc::AF_PACKET if len >= 12 => {
            // SAFETY: as above, for an AF_PACKET address; the kernel may report
            // a length shorter than the struct, but the storage behind it is
            // fully initialised (zeroed before the call).
            let sa = unsafe { &*storage.cast::<libc::sockaddr_ll>() };
            if usize::from(sa.sll_halen) < 6 {
                return None;
            }
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&sa.sll_addr[..6]);
            Some(PeerAddress::Ethernet(mac))
        }
        _ => None,
    }
}

/// An ifreq naming `interface` (validated: shorter than IFNAMSIZ, no NUL).
fn ifreq_for(interface: &str) -> io::Result<libc::ifreq> {
    // SAFETY: ifreq is plain old data (a name and a union of plain data and a
    // pointer); all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { zeroed() };
    let bytes = interface.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    for (dst, &src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

/// The interface index by SIOCGIFINDEX on `fd` (an ioctl on our own socket
/// rather than if_nametoindex, so simulators that intercept ioctl see it).
pub(crate) fn interface_index(fd: BorrowedFd<'_>, interface: &str) -> io::Result<u32> {
    let mut req = ifreq_for(interface)?;
    // SAFETY: `req` is a live ifreq; SIOCGIFINDEX reads the name and writes
    // the index into the union.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::SIOCGIFINDEX as libc::Ioctl,
            &raw mut req,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: after a successful SIOCGIFINDEX the kernel has written the
    // ifindex member of the union (an int, valid for any bit pattern).
    let index = unsafe { req.ifr_ifru.ifru_ifindex };
    Ok(u32::try_from(index).unwrap_or(0))
}

/// The interface flags (IFF_UP, IFF_RUNNING, ...) by SIOCGIFFLAGS on `fd`.
/// IFF_RUNNING is the kernel's "operationally up": set while the device
/// is up and has its carrier (RFC 2863 operstate up or unknown).
pub(crate) fn interface_flags(fd: BorrowedFd<'_>, interface: &str) -> io::Result<libc::c_int> {
    let mut req = ifreq_for(interface)?;
    // SAFETY: `req` is a live ifreq; SIOCGIFFLAGS reads the name and writes
    // the flags member of the union.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::SIOCGIFFLAGS as libc::Ioctl,
            &raw mut req,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: after a successful SIOCGIFFLAGS the kernel has written the
    // flags member of the union (a short, valid for any bit pattern).
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    // The short holds the low 16 flag bits; keep them as unsigned.
    Ok(libc::c_int::from(flags as u16))
}

/// An ioctl whose ifreq carries a pointer to `data` (SIOCETHTOOL,
/// SIOCSHWTSTAMP, SIOCGHWTSTAMP). `T` must be the C struct the request
/// expects.
pub(crate) fn ioctl_ifreq_data<T: Copy>(
    fd: BorrowedFd<'_>,
    interface: &str,
    request: libc::c_ulong,
    data: &mut T,
) -> io::Result<()> {
    let mut req = ifreq_for(interface)?;
    req.ifr_ifru.ifru_data = std::ptr::from_mut(data).cast();
    // SAFETY: `req` is a live ifreq whose data pointer refers to `data`, a
    // live, writable value of the layout `request` expects (the callers pair
    // each request with its repr(C) struct); both outlive the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as libc::Ioctl, &raw mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// poll(2) on one descriptor for POLLIN and POLLPRI (the error queue when
/// SO_SELECT_ERR_QUEUE is set). Returns the revents bits, 0 on timeout.
pub(crate) fn poll_one(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<libc::c_short> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN | libc::POLLPRI,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    loop {
        // SAFETY: `pfd` is one live pollfd and nfds is 1.
        let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        return Ok(if rc == 0 { 0 } else { pfd.revents });
    }
}
