//! A deterministic reader of fuzz input, shared by the fuzz targets and by
//! the stable replay tests of the main workspace.
//!
//! It plays the role of `arbitrary::Unstructured` (integers are taken from
//! the front of the input, lengths are bounded, an exhausted input yields
//! zeros), but it is a few lines of plain `core`: the replay tests in
//! `statime/tests/` and `bft-overlay/tests/` include these harnesses with
//! `#[path]` and must build on stable without the `arbitrary` crate, and a
//! committed regression file must decode to the same operations on both
//! sides.

/// The unread rest of a fuzz input.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Read from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `N` octets, zero-padded once the input runs out.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        out
    }

    /// One octet (0 when exhausted).
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// One bit (the low bit of an octet).
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// Little-endian integers.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// See [`Input::u16`].
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// See [`Input::u16`].
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// See [`Input::u16`].
    pub fn i8(&mut self) -> i8 {
        i8::from_le_bytes(self.array())
    }

    /// See [`Input::u16`].
    pub fn i16(&mut self) -> i16 {
        i16::from_le_bytes(self.array())
    }

    /// See [`Input::u16`].
    pub fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.array())
    }

    /// See [`Input::u16`].
    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.array())
    }

    /// A value in `0..n` (`n > 0`) from one octet, or two when `n > 256`.
    pub fn below(&mut self, n: usize) -> usize {
        let v = if n > 256 {
            usize::from(self.u16())
        } else {
            usize::from(self.u8())
        };
        v % n.max(1)
    }

    /// A value in `lo..=hi` of an `i8` range.
    pub fn i8_in(&mut self, lo: i8, hi: i8) -> i8 {
        let span = usize::try_from(i16::from(hi) - i16::from(lo) + 1).unwrap_or(1);
        let k = i16::try_from(self.below(span)).unwrap_or(0);
        i8::try_from(i16::from(lo) + k).unwrap_or(lo)
    }

    /// A byte string of at most `max` octets (length from one or two
    /// octets, cut to what is left).
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let len = self.below(max + 1).min(self.data.len());
        let (head, tail) = self.data.split_at(len);
        self.data = tail;
        head
    }
}
