//! The system calls of the generator: two UDP sockets bound to 0.0.0.0
//! (ports 319 and 320), batched sends whose source address is chosen per
//! datagram with an IP_PKTINFO control message (`ipi_spec_dst`), batched
//! receives that read each datagram's destination address from
//! IP_PKTINFO (`ipi_addr`) and the socket's drop counter from
//! SO_RXQ_OVFL, poll(2), and the CPU time of a process.
//!
//! With `ip route add local 10.0.0.0/8 dev lo` every 10.x address is
//! local to the generator's namespace (AnyIP), so the kernel accepts it as
//! a source and delivers datagrams sent to it to these sockets.
#![allow(unsafe_code)] // FFI into libc; every block states why it is sound.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Datagrams per sendmmsg/recvmmsg call.
pub(crate) const BATCH: usize = 64;
/// The largest datagram the generator sends.
pub(crate) const MAX_SEND: usize = 96;
/// The largest datagram it reads (longer ones are truncated and ignored).
const MAX_RECV: usize = 512;

/// Control-message space, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; 64]);

const CMSG_HDR: usize = size_of::<libc::cmsghdr>();
const PKTINFO_LEN: usize = size_of::<libc::in_pktinfo>();

const fn cmsg_align(n: usize) -> usize {
    (n + size_of::<usize>() - 1) & !(size_of::<usize>() - 1)
}

/// A UDP/IPv4 socket bound to 0.0.0.0:`port`, non-blocking, with
/// IP_PKTINFO and SO_RXQ_OVFL on and buffers of `buffer` octets (forced
/// past the sysctl limits when running as root).
///
/// # Errors
/// The failing system call's error.
pub(crate) fn open(port: u16, buffer: usize) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes only integers and returns a new descriptor or -1.
    let raw = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a freshly created descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let b = fd.as_fd_borrow();
    set_int(b, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    set_int(b, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
    set_int(b, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1)?;
    let size = libc::c_int::try_from(buffer).unwrap_or(libc::c_int::MAX);
    if set_int(b, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size).is_err() {
        set_int(b, libc::SOL_SOCKET, libc::SO_RCVBUF, size)?;
    }
    if set_int(b, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, size).is_err() {
        set_int(b, libc::SOL_SOCKET, libc::SO_SNDBUF, size)?;
    }
    let addr = sockaddr(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
    // SAFETY: `addr` is a valid sockaddr_in that lives across the call and
    // the length passed is its size.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast::<libc::sockaddr>(),
            socklen::<libc::sockaddr_in>(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

trait Borrow {
    fn as_fd_borrow(&self) -> BorrowedFd<'_>;
}

impl Borrow for OwnedFd {
    fn as_fd_borrow(&self) -> BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self)
    }
}

fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

fn set_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a c_int that lives across the call and
    // the length passed is its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw const v).cast::<libc::c_void>(),
            socklen::<libc::c_int>(),
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// One datagram to send: from `src` (a local address) to `dst`.
#[derive(Clone, Copy)]
pub(crate) struct Datagram {
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: SocketAddrV4,
    pub(crate) len: usize,
    pub(crate) data: [u8; MAX_SEND],
}

/// The IP_PKTINFO control message choosing source address `src`.
fn pktinfo_control(src: Ipv4Addr) -> (Control, usize) {
    let mut c = Control([0; 64]);
    let len = CMSG_HDR + PKTINFO_LEN;
    // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }
    c.0[..size_of::<usize>()].copy_from_slice(&len.to_ne_bytes());
    let at = size_of::<usize>();
    c.0[at..at + 4].copy_from_slice(&libc::IPPROTO_IP.to_ne_bytes());
    c.0[at + 4..at + 8].copy_from_slice(&libc::IP_PKTINFO.to_ne_bytes());
    // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
    let d = CMSG_HDR;
    c.0[d + 4..d + 8].copy_from_slice(&src.octets());
    (c, cmsg_align(len))
}

/// Send `items` with sendmmsg, [`BATCH`] at a time. Returns how many the
/// kernel took; it stops at the first batch it did not take whole (a full
/// send buffer: the rest is the caller's loss to count).
///
/// # Errors
/// A sendmmsg error other than EAGAIN.
pub(crate) fn send_batch(fd: BorrowedFd<'_>, items: &[Datagram]) -> io::Result<usize> {
    let mut sent = 0;
    for chunk in items.chunks(BATCH) {
        let mut names = [sockaddr(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)); BATCH];
        let mut controls = [Control([0; 64]); BATCH];
        let mut iovs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        let mut data = [[0u8; MAX_SEND]; BATCH];
        let mut control_lens = [0usize; BATCH];
        for (k, d) in chunk.iter().enumerate() {
            names[k] = sockaddr(d.dst);
            (controls[k], control_lens[k]) = pktinfo_control(d.src);
            data[k] = d.data;
            iovs[k] = libc::iovec {
                iov_base: data[k].as_mut_ptr().cast(),
                iov_len: d.len.min(MAX_SEND),
            };
        }
        let mut hdrs = [empty_mmsghdr(); BATCH];
        for k in 0..chunk.len() {
            let h = &mut hdrs[k].msg_hdr;
            h.msg_name = (&raw mut names[k]).cast();
            h.msg_namelen = socklen::<libc::sockaddr_in>();
            h.msg_iov = &raw mut iovs[k];
            h.msg_iovlen = 1;
            h.msg_control = controls[k].0.as_mut_ptr().cast();
            h.msg_controllen = control_lens[k] as _;
        }
        let n = libc::c_uint::try_from(chunk.len()).unwrap_or(0);
        // SAFETY: every header points at a name, one iovec, its data and a
        // control buffer that all live on this stack frame until the call
        // returns; the lengths given are those of the initialised parts.
        let r = unsafe { libc::sendmmsg(fd.as_raw_fd(), hdrs.as_mut_ptr(), n, 0) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(sent);
            }
            return Err(e);
        }
        let r = usize::try_from(r).unwrap_or(0);
        sent += r;
        if r < chunk.len() {
            return Ok(sent);
        }
    }
    Ok(sent)
}

fn empty_mmsghdr() -> libc::mmsghdr {
    // SAFETY: mmsghdr is plain data; all zeroes is a valid value (null
    // pointers, zero lengths).
    unsafe { std::mem::zeroed() }
}

/// Reusable receive buffers for recvmmsg.
pub(crate) struct Receiver {
    data: Box<[[u8; MAX_RECV]; BATCH]>,
    controls: Box<[Control; BATCH]>,
    /// The last SO_RXQ_OVFL value seen: datagrams the kernel dropped on
    /// this socket for want of buffer space, since it was opened.
    pub(crate) dropped: u32,
}

impl Receiver {
    pub(crate) fn new() -> Self {
        Self {
            data: Box::new([[0; MAX_RECV]; BATCH]),
            controls: Box::new([Control([0; 64]); BATCH]),
            dropped: 0,
        }
    }

    /// Take up to [`BATCH`] waiting datagrams without blocking and hand
    /// each to `f` with its destination address. Returns how many.
    ///
    /// # Errors
    /// A recvmmsg error other than EAGAIN.
    pub(crate) fn recv_batch(
        &mut self,
        fd: BorrowedFd<'_>,
        mut f: impl FnMut(&[u8], Option<Ipv4Addr>),
    ) -> io::Result<usize> {
        let mut iovs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        let mut hdrs = [empty_mmsghdr(); BATCH];
        for (k, (buf, ctl)) in self
            .data
            .iter_mut()
            .zip(self.controls.iter_mut())
            .enumerate()
        {
            iovs[k] = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: MAX_RECV,
            };
            let h = &mut hdrs[k].msg_hdr;
            h.msg_iov = &raw mut iovs[k];
            h.msg_iovlen = 1;
            h.msg_control = ctl.0.as_mut_ptr().cast();
            h.msg_controllen = ctl.0.len() as _;
        }
        // SAFETY: every header points at one iovec over a MAX_RECV-octet
        // buffer and a 64-octet control buffer, all alive and not otherwise
        // borrowed until the call returns; no name buffer is given.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(0);
            }
            return Err(e);
        }
        let n = usize::try_from(r).unwrap_or(0);
        for (k, h) in hdrs.iter().enumerate().take(n) {
            let len = (h.msg_len as usize).min(MAX_RECV);
            #[allow(clippy::unnecessary_cast)] // usize on glibc, u32 on musl
            let control_len = (h.msg_hdr.msg_controllen as usize).min(64);
            let (dst, dropped) = read_control(&self.controls[k].0[..control_len]);
            if let Some(d) = dropped {
                self.dropped = self.dropped.max(d);
            }
            f(&self.data[k][..len], dst);
        }
        Ok(n)
    }
}

/// The destination address (IP_PKTINFO) and the drop counter
/// (SO_RXQ_OVFL) of received control messages.
fn read_control(mut c: &[u8]) -> (Option<Ipv4Addr>, Option<u32>) {
    let (mut dst, mut dropped) = (None, None);
    while c.len() >= CMSG_HDR {
        let mut len_bytes = [0u8; size_of::<usize>()];
        len_bytes.copy_from_slice(&c[..size_of::<usize>()]);
        let len = usize::from_ne_bytes(len_bytes);
        if len < CMSG_HDR || len > c.len() {
            break;
        }
        let at = size_of::<usize>();
        let level = i32::from_ne_bytes([c[at], c[at + 1], c[at + 2], c[at + 3]]);
        let kind = i32::from_ne_bytes([c[at + 4], c[at + 5], c[at + 6], c[at + 7]]);
        let body = &c[CMSG_HDR..len];
        if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO && body.len() >= PKTINFO_LEN {
            dst = Some(Ipv4Addr::new(body[8], body[9], body[10], body[11]));
        } else if level == libc::SOL_SOCKET && kind == libc::SO_RXQ_OVFL && body.len() >= 4 {
            dropped = Some(u32::from_ne_bytes([body[0], body[1], body[2], body[3]]));
        }
        c = c.get(cmsg_align(len)..).unwrap_or(&[]);
    }
    (dst, dropped)
}

/// Wait until one of `fds` is readable or `timeout_ms` has passed.
///
/// # Errors
/// A poll(2) error other than EINTR.
pub(crate) fn wait_readable(fds: [BorrowedFd<'_>; 2], timeout_ms: i32) -> io::Result<()> {
    let mut p = fds.map(|fd| libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    // SAFETY: `p` is an array of two initialised pollfd that lives across
    // the call; the count passed is its length.
    let r = unsafe { libc::poll(p.as_mut_ptr(), 2, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// Clock ticks per second of /proc/PID/stat's times.
pub(crate) fn clock_ticks() -> f64 {
    // SAFETY: sysconf takes an integer and returns an integer.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// A process's user+system CPU time in seconds and its resident set in
/// KiB, from /proc (`None` when it is gone).
pub(crate) fn process_usage(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may contain spaces: state is
    // field 3; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(((utime + stime) / clock_ticks(), rss))
}

/// A process's main thread: seconds run on a CPU and seconds spent
/// runnable but waiting for one (/proc/PID/schedstat).
pub(crate) fn sched_times(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let mut f = s.split_whitespace().map(|x| x.parse::<f64>().ok());
    let run = f.next()??;
    let wait = f.next()??;
    Some((run / 1e9, wait / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pktinfo_is_written_and_read_back() {
        let (c, len) = pktinfo_control(Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(len, cmsg_align(CMSG_HDR + PKTINFO_LEN));
        // The receive side reads ipi_addr (octets 8..12); write it there too.
        let mut b = c.0;
        b[CMSG_HDR + 8..CMSG_HDR + 12].copy_from_slice(&[10, 9, 8, 7]);
        assert_eq!(
            read_control(&b[..len]),
            (Some(Ipv4Addr::new(10, 9, 8, 7)), None)
        );
        assert_eq!(read_control(&[1, 2, 3]), (None, None), "truncated");
    }

    #[test]
    fn own_usage_is_readable() {
        let (cpu, rss) = process_usage(std::process::id()).expect("/proc");
        assert!(cpu >= 0.0);
        assert!(rss > 0);
    }
}
