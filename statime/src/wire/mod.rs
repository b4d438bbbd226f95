//! The PTP wire format: every message of IEEE 1588-2019 clause 13 and the
//! TLVs of clauses 14, 15 and 16.
//!
//! # Model
//!
//! Each message body and TLV is a small `Copy` struct (its *repr*) holding
//! the meaningful fields, with:
//! - `parse(&[u8]) -> Result<Self>` for untrusted input, and
//! - `emit(&self, &mut [u8]) -> Result<usize>` writing into a buffer the
//!   caller owns, returning the number of bytes written.
//!
//! A whole packet is a [`Message`]: the common [`Header`] (clause 13.3), a
//! [`MessageBody`] (clauses 13.4 to 13.13) and the TLVs that follow the body
//! as a borrowed, already-validated [`TlvSet`] (clause 14). Typed TLVs
//! ([`tlv`]) are parsed on demand from the set, so a Sync costs nothing for
//! TLV support it does not use.
//!
//! Code points the standard leaves open, or that we do not know, are kept as
//! `Unknown(x)` variants rather than rejected, so that every packet can be
//! logged and re-emitted exactly. Reserved fields are ignored on parse and
//! written as zero on emit.
//!
//! # The no-panic contract
//!
//! **No function in this module panics, and none reads or writes outside the
//! slice it was given, whatever the input bytes.** The rule that makes this
//! hold:
//!
//! 1. A parser first takes a fixed-size array view of exactly the bytes it
//!    needs (`<[u8]>::first_chunk::<N>()` or the crate-private `Reader`), returning
//!    [`Error::Truncated`] when the slice is shorter.
//! 2. From then on it reads only constant offsets inside that array, through
//!    the `field` constants of its module; offsets are checked by the unit
//!    tests that every wire file carries (bytes -> fields, fields -> bytes).
//! 3. Variable-length parts (TLVs, PTPText, path traces) are walked with
//!    `get`/`split_at_checked`, never with unchecked indexing or arithmetic
//!    that could overflow (lengths are `u16`, offsets `usize`).
//! 4. Emitters check the destination length once, up front, returning
//!    [`Error::BufferTooSmall`].
//!
//! The property tests in `tests/wire_props.rs` feed arbitrary bytes to every
//! parser and check that `emit(parse(emit(x)))` is byte-identical to
//! `emit(x)` for every message and TLV; the `fuzz/` crate does the same under
//! libFuzzer.

use core::fmt;

mod header;
mod macros;
mod message;
pub mod messages;
pub mod tlv;
mod types;

pub use header::{FlagField, Header, MessageType, PTP_VERSION_MAJOR, SdoId};
pub use message::{Message, MessageBody};
pub use tlv::{RawTlv, TlvSet, TlvType, TlvWriter};
pub use types::{
    ClockAccuracy, ClockIdentity, ClockQuality, PortIdentity, PtpText, TimeSource, Timestamp,
};

/// Why a packet or structure could not be parsed or emitted.
///
/// The variants are kinds a daemon counts separately: a malformed packet is
/// counted under its kind and dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the structure does.
    Truncated,
    /// A length field disagrees with the data (messageLength shorter than the
    /// message's fixed part or longer than the datagram; a TLV's lengthField
    /// running past the end of the message; a TLV too short for its type).
    BadLength,
    /// versionPTP is not 2 (clause 13.3.2.4); PTPv1 packets are not supported.
    UnsupportedVersion(u8),
    /// A field holds a value the structure cannot carry (for example a
    /// management TLV whose ID does not fit the action).
    InvalidValue,
    /// The output buffer is too small for what is to be emitted.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated"),
            Self::BadLength => f.write_str("length field inconsistent with data"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported versionPTP {v}"),
            Self::InvalidValue => f.write_str("invalid field value"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// The result type of this module.
pub type Result<T> = core::result::Result<T, Error>;

/// A forward-only reader over untrusted bytes; every read is checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self(buf)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<&'a [u8; N]> {
        let (head, tail) = self.0.split_first_chunk::<N>().ok_or(Error::Truncated)?;
        self.0 = tail;
        Ok(head)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n).ok_or(Error::Truncated)?;
        self.0 = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        self.array::<1>().map(|a| a[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        self.array::<2>().map(|a| u16::from_be_bytes(*a))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        self.array::<4>().map(|a| u32::from_be_bytes(*a))
    }

    pub(crate) const fn rest(&self) -> &'a [u8] {
        self.0
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A forward-only writer into a caller-owned buffer; every write is checked.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<&mut [u8; N]> {
        let end = self.pos.checked_add(N).ok_or(Error::BufferTooSmall)?;
        let out = self
            .buf
            .get_mut(self.pos..end)
            .and_then(|s| s.first_chunk_mut::<N>())
            .ok_or(Error::BufferTooSmall)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn bytes(&mut self, data: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(data.len())
            .ok_or(Error::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(data);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn zeros(&mut self, n: usize) -> Result<()> {
        let end = self.pos.checked_add(n).ok_or(Error::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?
            .fill(0);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn u8(&mut self, v: u8) -> Result<()> {
        self.array::<1>().map(|a| a[0] = v)
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<()> {
        self.array::<2>().map(|a| *a = v.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> Result<()> {
        self.array::<4>().map(|a| *a = v.to_be_bytes())
    }

    pub(crate) const fn position(&self) -> usize {
        self.pos
    }
}

/// Big-endian `u16` at a constant offset of a checked array.
#[inline(always)]
pub(crate) const fn be_u16<const N: usize>(b: &[u8; N], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Write a big-endian `u16` at a constant offset of a checked array.
#[inline(always)]
pub(crate) fn put_u16<const N: usize>(b: &mut [u8; N], at: usize, v: u16) {
    let [hi, lo] = v.to_be_bytes();
    b[at] = hi;
    b[at + 1] = lo;
}
