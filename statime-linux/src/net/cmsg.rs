//! Bounds-checked parsing of the ancillary data (control messages) that
//! recvmsg returns: SCM_TIMESTAMPING and the `sock_extended_err` that
//! carries the OPT_ID counter of a transmit timestamp.
//!
//! The parser works on the bytes the kernel wrote and never trusts a
//! length field: a truncated or malformed record ends the walk instead of
//! reading out of bounds. No unsafe code is needed here.

use std::mem::size_of;

/// `SO_TIMESTAMPING_OLD` (asm-generic/socket.h): the record carries three
/// `struct timespec` of the kernel ABI (`long tv_sec; long tv_nsec`).
pub(crate) const SO_TIMESTAMPING_OLD: libc::c_int = 37;
/// `SO_TIMESTAMPING_NEW`: three `struct __kernel_timespec` (two `s64`).
pub(crate) const SO_TIMESTAMPING_NEW: libc::c_int = 65;
/// `SCM_TSTAMP_SND` (linux/errqueue.h): the timestamp of a transmission,
/// as opposed to SCHED (1) or ACK (2), which this stack never requests.
pub(crate) const SCM_TSTAMP_SND: u32 = 0;

/// `struct scm_timestamping` (linux/errqueue.h), absent from libc 0.2.191:
/// `ts[0]` software, `ts[1]` legacy (unused), `ts[2]` raw hardware.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ScmTimestamping {
    /// `{tv_sec, tv_nsec}` as two C `long`s.
    pub(crate) ts: [[libc::c_long; 2]; 3],
}

/// `struct scm_timestamping64`: the same with 64-bit fields (sent instead
/// when the socket option was set as SO_TIMESTAMPING_NEW).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ScmTimestamping64 {
    /// `{tv_sec, tv_nsec}` as two `s64`.
    pub(crate) ts: [[i64; 2]; 3],
}

/// A seconds/nanoseconds pair as the kernel reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawTs {
    pub(crate) sec: i64,
    pub(crate) nsec: i64,
}

impl RawTs {
    /// All-zero means "not reported" in scm_timestamping.
    fn present(self) -> Option<Self> {
        (self.sec != 0 || self.nsec != 0).then_some(self)
    }
}

/// The fields of `sock_extended_err` this layer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExtendedErr {
    pub(crate) errno: u32,
    pub(crate) origin: u8,
    pub(crate) info: u32,
    pub(crate) data: u32,
}

/// What one recvmsg's control data held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// `ts[0]`, when non-zero.
    pub(crate) software: Option<RawTs>,
    /// `ts[2]`, when non-zero.
    pub(crate) hardware: Option<RawTs>,
    /// Whether an SCM_TIMESTAMPING record was present at all.
    pub(crate) had_timestamping: bool,
    /// The extended error of an error-queue message.
    pub(crate) extended_err: Option<ExtendedErr>,
}

const ALIGN: usize = size_of::<usize>();

const fn align_up(n: usize) -> usize {
    // Callers bound `n` by the buffer length, so this cannot overflow.
    (n + ALIGN - 1) & !(ALIGN - 1)
}

/// The kernel's `struct cmsghdr`: `size_t cmsg_len; int level; int type`.
const HEADER: usize = size_of::<usize>() + 2 * size_of::<libc::c_int>();

fn read_usize(b: &[u8]) -> Option<usize> {
    let arr: [u8; size_of::<usize>()] = b.get(..size_of::<usize>())?.try_into().ok()?;
    Some(usize::from_ne_bytes(arr))
}

fn read_i32(b: &[u8]) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

fn read_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

fn read_i64(b: &[u8]) -> Option<i64> {
    Some(i64::from_ne_bytes(b.get(..8)?.try_into().ok()?))
}

// `c_long` is i64 on 64-bit targets but i32 on 32-bit ones.
#[allow(clippy::useless_conversion)]
fn read_long(b: &[u8]) -> Option<i64> {
    const N: usize = size_of::<libc::c_long>();
    let arr: [u8; N] = b.get(..N)?.try_into().ok()?;
    Some(i64::from(libc::c_long::from_ne_bytes(arr)))
}

/// Parse the three timespecs of an SCM_TIMESTAMPING record.
fn parse_timestamping(data: &[u8], wide: bool) -> Option<[RawTs; 3]> {
    type Reader = fn(&[u8]) -> Option<i64>;
    let (size, field, read): (usize, usize, Reader) = if wide {
        (size_of::<ScmTimestamping64>(), 8, read_i64)
    } else {
        (
            size_of::<ScmTimestamping>(),
            size_of::<libc::c_long>(),
            read_long,
        )
    };
    if data.len() < size {
        return None;
    }
    let mut out = [RawTs { sec: 0, nsec: 0 }; 3];
    for (i, ts) in out.iter_mut().enumerate() {
        let at = i * 2 * field;
        ts.sec = read(data.get(at..)?)?;
        ts.nsec = read(data.get(at + field..)?)?;
    }
    Some(out)
}

fn parse_extended_err(data: &[u8]) -> Option<ExtendedErr> {
    if data.len() < size_of::<libc::sock_extended_err>() {
        return None;
    }
    Some(ExtendedErr {
        errno: read_u32(data)?,
        origin: *data.get(4)?,
        info: read_u32(data.get(8..)?)?,
        data: read_u32(data.get(12..)?)?,
    })
}

/// Walk the control messages in `control` (the `msg_controllen` bytes the
/// kernel wrote). Unknown records are skipped; a malformed one ends the walk.
pub(crate) fn parse(control: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let mut at = 0usize;
    while let Some(rest) = control.get(at..) {
        if rest.len() < HEADER {
            break;
        }
        let (Some(len), Some(level), Some(kind)) = (
            read_usize(rest),
            read_i32(&rest[size_of::<usize>()..]),
            read_i32(&rest[size_of::<usize>() + 4..]),
        ) else {
            break;
        };
        if len < HEADER || len > rest.len() {
            break;
        }
        let data_start = align_up(HEADER).min(len);
        let data = &rest[data_start..len];
        match (level, kind) {
            (libc::SOL_SOCKET, SO_TIMESTAMPING_OLD | SO_TIMESTAMPING_NEW) => {
                if let Some(ts) = parse_timestamping(data, kind == SO_TIMESTAMPING_NEW) {
                    out.had_timestamping = true;
                    out.software = ts[0].present();
                    out.hardware = ts[2].present();
                }
            }
            (libc::SOL_IP, libc::IP_RECVERR)
            | (libc::SOL_IPV6, libc::IPV6_RECVERR)
            | (libc::SOL_PACKET, libc::PACKET_TX_TIMESTAMP) => {
                if let Some(e) = parse_extended_err(data) {
                    out.extended_err = Some(e);
                }
            }
            _ => {}
        }
        let step = align_up(len);
        if step == 0 {
            break;
        }
        at = at.saturating_add(step);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
        let len = align_up(HEADER) + data.len();
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&level.to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.resize(align_up(HEADER), 0);
        v.extend_from_slice(data);
        v.resize(align_up(v.len()), 0);
        v
    }

    fn ts_old(ts: [(i64, i64); 3]) -> Vec<u8> {
        let mut v = Vec::new();
        for (s, n) in ts {
            v.extend_from_slice(&libc::c_long::try_from(s).unwrap().to_ne_bytes());
            v.extend_from_slice(&libc::c_long::try_from(n).unwrap().to_ne_bytes());
        }
        v
    }

    #[test]
    fn layouts_match_the_kernel() {
        assert_eq!(size_of::<ScmTimestamping64>(), 48);
        assert_eq!(size_of::<ScmTimestamping>(), 6 * size_of::<libc::c_long>());
        assert_eq!(HEADER, size_of::<libc::cmsghdr>());
    }

    #[test]
    fn software_and_hardware_slots() {
        let data = ts_old([(10, 5), (0, 0), (20, 7)]);
        let p = parse(&record(libc::SOL_SOCKET, SO_TIMESTAMPING_OLD, &data));
        assert!(p.had_timestamping);
        assert_eq!(p.software, Some(RawTs { sec: 10, nsec: 5 }));
        assert_eq!(p.hardware, Some(RawTs { sec: 20, nsec: 7 }));
    }

    #[test]
    fn extended_error_after_timestamp() {
        let mut bytes = record(
            libc::SOL_SOCKET,
            SO_TIMESTAMPING_OLD,
            &ts_old([(1, 2), (0, 0), (0, 0)]),
        );
        let mut ee = Vec::new();
        ee.extend_from_slice(&(libc::ENOMSG as u32).to_ne_bytes());
        ee.extend_from_slice(&[libc::SO_EE_ORIGIN_TIMESTAMPING, 0, 0, 0]);
        ee.extend_from_slice(&0u32.to_ne_bytes());
        ee.extend_from_slice(&42u32.to_ne_bytes());
        bytes.extend(record(libc::SOL_IP, libc::IP_RECVERR, &ee));
        let p = parse(&bytes);
        assert_eq!(p.hardware, None);
        let e = p.extended_err.unwrap();
        assert_eq!(e.data, 42);
        assert_eq!(e.origin, libc::SO_EE_ORIGIN_TIMESTAMPING);
    }

    #[test]
    fn hostile_lengths_never_panic() {
        let good = record(
            libc::SOL_SOCKET,
            SO_TIMESTAMPING_OLD,
            &ts_old([(1, 2), (0, 0), (0, 0)]),
        );
        for cut in 0..good.len() {
            let _ = parse(&good[..cut]);
        }
        for len in [0usize, 1, HEADER - 1, usize::MAX, usize::MAX - 3, 4096] {
            let mut bad = good.clone();
            bad[..size_of::<usize>()].copy_from_slice(&len.to_ne_bytes());
            let p = parse(&bad);
            assert!(!p.had_timestamping || len == good.len());
        }
        // A record too short for its payload type is ignored.
        let short = record(libc::SOL_SOCKET, SO_TIMESTAMPING_OLD, &[1, 2, 3]);
        assert_eq!(parse(&short), Parsed::default());
    }
}
