//! The few system calls of the data plane that are not sockets or clocks:
//! poll(2), CLOCK_MONOTONIC, and SIGINT/SIGTERM as a flag.
//!
//! Chosen for clknetsim compatibility (ARCHITECTURE.md principle 4): the
//! loop waits only in poll(2), computes timeouts from CLOCK_MONOTONIC, and
//! learns about signals through a flag set by a plain `sigaction` handler
//! (poll returns EINTR), with no signalfd and no threads.
#![allow(unsafe_code)] // poll, clock_gettime and sigaction through libc; each block says why it is sound.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use statime::time::Instant;

/// Read CLOCK_MONOTONIC as an [`Instant`].
#[must_use]
pub fn monotonic_now() -> Instant {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    if rc != 0 {
        return Instant::ZERO;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    Instant::from_nanos(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

static STOP: AtomicBool = AtomicBool::new(false);
static RELOAD: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGHUP {
        RELOAD.store(true, Ordering::SeqCst);
    } else {
        STOP.store(true, Ordering::SeqCst);
    }
}

/// Install handlers that set the stop flag on SIGINT and SIGTERM, and the
/// reload flag on SIGHUP (the overlay's keys file is read again). The
/// handlers are installed without SA_RESTART, so a blocked poll(2) returns
/// EINTR at once.
///
/// # Errors
/// When sigaction fails.
pub fn install_stop_handlers() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        // SAFETY: `sa.sa_mask` is a valid sigset_t owned by us.
        unsafe { libc::sigemptyset(&raw mut sa.sa_mask) };
        // SAFETY: `sa` is fully initialised and the handler only stores to an
        // atomic, which is async-signal-safe.
        let rc = unsafe { libc::sigaction(sig, &raw const sa, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM arrived.
#[must_use]
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Whether SIGHUP arrived since the last call (the flag is cleared).
#[must_use]
pub fn take_reload_request() -> bool {
    RELOAD.swap(false, Ordering::SeqCst)
}

/// Ask the loop to stop (as a signal would).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// What poll(2) reported for one descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Data to read (POLLIN).
    pub readable: bool,
    /// The error queue holds something, e.g. a transmit timestamp (POLLPRI
    /// with SO_SELECT_ERR_QUEUE, or POLLERR).
    pub error_queue: bool,
}

/// Wait until one of `fds` is ready or `timeout_ms` passes (negative =
/// forever). Fills `ready` (same length as `fds`). Returns false when
/// interrupted by a signal.
///
/// # Errors
/// Any poll(2) error other than EINTR.
pub fn poll(fds: &[RawFd], timeout_ms: i32, ready: &mut [Readiness]) -> std::io::Result<bool> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN | libc::POLLPRI,
            revents: 0,
        })
        .collect();
    let n = libc::nfds_t::try_from(pfds.len()).unwrap_or(libc::nfds_t::MAX);
    // SAFETY: `pfds` is a valid array of `n` pollfd structs that poll may write.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), n, timeout_ms) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(false);
        }
        return Err(e);
    }
    for (r, p) in ready.iter_mut().zip(&pfds) {
        r.readable = p.revents & libc::POLLIN != 0;
        r.error_queue = p.revents & (libc::POLLPRI | libc::POLLERR) != 0;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_advances() {
        let a = monotonic_now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = monotonic_now();
        assert!(b > a);
        assert!((b - a).nanos_f64() >= 2e6);
    }

    #[test]
    fn poll_times_out_and_sees_data() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let mut ready = [Readiness::default()];
        assert!(poll(&fds[..1], 1, &mut ready).unwrap());
        assert!(!ready[0].readable);
        // SAFETY: writing one byte from a valid buffer to our pipe.
        assert_eq!(unsafe { libc::write(fds[1], b"x".as_ptr().cast(), 1) }, 1);
        assert!(poll(&fds[..1], 1000, &mut ready).unwrap());
        assert!(ready[0].readable);
        for fd in fds {
            // SAFETY: closing descriptors this test opened.
            unsafe { libc::close(fd) };
        }
    }
}
