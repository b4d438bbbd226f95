//! The operating-system edge of the publication: shared mappings and clock
//! reads. Every `unsafe` block of the time publication lives in this file.
#![allow(
    unsafe_code,
    reason = "mmap/munmap and clock_gettime are FFI calls; each block carries its SAFETY argument"
)]

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;

/// A `#[repr(C)]` type made only of atomic integers, which may therefore be
/// viewed in a shared mapping that other processes modify at any time.
///
/// # Safety
///
/// An implementor must be `#[repr(C)]`, contain only `core::sync::atomic`
/// integer types (or arrays of them), so that every bit pattern is a valid
/// value and concurrent modification by another process is never undefined
/// behaviour from this process's point of view, and have an alignment of at
/// most 4096 (a page: `mmap` returns page-aligned addresses).
pub(crate) unsafe trait AtomicLayout: Sync {}

/// A `MAP_SHARED` mapping of the first `size_of::<T>()` bytes of a file.
///
/// The mapping owns the file descriptor and unmaps on drop.
pub(crate) struct Mapping<T: AtomicLayout> {
    ptr: NonNull<T>,
    file: File,
    _marker: PhantomData<T>,
}

// SAFETY: the mapping is only ever accessed through `&T`, and `T: Sync`
// (atomics only), so sharing or sending the handle between threads is as
// sound as sharing a `&T`. The raw pointer is never used to create `&mut T`.
unsafe impl<T: AtomicLayout> Send for Mapping<T> {}
// SAFETY: as above: every access goes through `&T` with `T: Sync`.
unsafe impl<T: AtomicLayout> Sync for Mapping<T> {}

impl<T: AtomicLayout> Mapping<T> {
    /// Map the first `size_of::<T>()` bytes of `file`, read-only or
    /// read-write. Fails if the file is shorter than that (touching a mapped
    /// page past the end of the file would raise SIGBUS).
    pub(crate) fn new(file: File, writable: bool) -> io::Result<Self> {
        let len = size_of::<T>();
        let file_len = file.metadata()?.len();
        if file_len < len as u64 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shorter than the layout",
            ));
        }
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh mapping (address hint null, so no existing mapping is
        // replaced) of `len` bytes of a file descriptor we own and keep open
        // for the mapping's lifetime. The result is checked for MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(ptr.cast::<T>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Self {
            ptr,
            file,
            _marker: PhantomData,
        })
    }

    /// The mapped layout.
    #[inline(always)]
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `ptr` is a live, page-aligned (so aligned for `T`, whose
        // alignment is at most a page by the `AtomicLayout` contract) mapping
        // of `size_of::<T>()` bytes, valid until `drop` unmaps it, which cannot
        // happen while this borrow of `self` lives. `T` is made of atomics, so
        // any bytes are a valid `T` and concurrent writes by other processes
        // are atomic modifications, not data races. The file was at least
        // `size_of::<T>()` long when mapped; if its owner truncates it later a
        // load raises SIGBUS (see the module documentation for that policy).
        unsafe { self.ptr.as_ref() }
    }

    /// The mapped file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

impl<T: AtomicLayout> Drop for Mapping<T> {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the range `new` mapped; no reference into
        // it can outlive `self` (all borrows come from `get(&self)`).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), size_of::<T>());
        }
    }
}

/// Read `clock` as (seconds, nanoseconds), or `None` if the call fails.
#[inline(always)]
pub(crate) fn clock_timespec(clock: libc::clockid_t) -> Option<(i64, i64)> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(clock, &raw mut ts) };
    if rc == 0 {
        Some((ts.tv_sec, ts.tv_nsec))
    } else {
        None
    }
}

/// Read `clock` in nanoseconds (`None` if the call fails or overflows).
#[inline(always)]
pub(crate) fn clock_ns(clock: libc::clockid_t) -> Option<i64> {
    let (s, ns) = clock_timespec(clock)?;
    s.checked_mul(1_000_000_000)?.checked_add(ns)
}

/// The resolution of `clock` in nanoseconds.
pub(crate) fn clock_res_ns(clock: libc::clockid_t) -> Option<i64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_getres(clock, &raw mut ts) };
    if rc == 0 {
        ts.tv_sec
            .checked_mul(1_000_000_000)?
            .checked_add(ts.tv_nsec)
    } else {
        None
    }
}
