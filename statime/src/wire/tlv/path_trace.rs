//! PATH_TRACE TLV (IEEE 1588-2019 clause 16.2.5).

use core::fmt;

use super::{TlvRepr, TlvType};
use crate::wire::{ClockIdentity, Error, Result};

/// PATH_TRACE (clause 16.2.5): the clockIdentity of every boundary clock an
/// Announce passed, in order. Used to reject Announces that loop back
/// (clause 16.2.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PathTraceTlv<'a> {
    path: &'a [u8],
}

impl<'a> PathTraceTlv<'a> {
    /// A path from the octets of consecutive clock identities, or `None` if
    /// the length is not a multiple of 8.
    #[must_use]
    pub const fn from_bytes(path: &'a [u8]) -> Option<Self> {
        if path.len().is_multiple_of(8) {
            Some(Self { path })
        } else {
            None
        }
    }

    /// The clock identities of the path, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = ClockIdentity> + 'a {
        self.path.chunks_exact(8).map(|c| {
            let mut id = [0u8; 8];
            id.copy_from_slice(c);
            ClockIdentity(id)
        })
    }

    /// Number of identities in the path.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.path.len() / 8
    }

    /// Whether the path is empty.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.path.is_empty()
    }

    /// Whether `id` appears in the path (the loop check of clause 16.2.3).
    #[must_use]
    pub fn contains(&self, id: &ClockIdentity) -> bool {
        self.iter().any(|c| c == *id)
    }

    /// The raw octets.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.path
    }
}

impl<'a> TlvRepr<'a> for PathTraceTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        TlvType::PathTrace
    }

    fn value_len(&self) -> usize {
        self.path.len()
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        out.get_mut(..self.path.len())
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(self.path);
        Ok(())
    }

    fn parse_value(_: TlvType, value: &'a [u8]) -> Result<Self> {
        Self::from_bytes(value).ok_or(Error::BadLength)
    }
}

impl fmt::Debug for PathTraceTlv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_fixture;
    use super::*;

    const BYTES: [u8; 20] = [
        0x00, 0x08, 0x00, 0x10, //
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01, //
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02,
    ];

    #[test]
    fn fixture() {
        let t = PathTraceTlv::from_bytes(&BYTES[4..]).unwrap();
        check_fixture(&BYTES, &t);
        assert_eq!(t.len(), 2);
        let id2 = ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02]);
        assert!(t.contains(&id2));
        assert!(!t.contains(&ClockIdentity::ALL));
    }

    #[test]
    fn ragged_length() {
        assert_eq!(
            PathTraceTlv::parse_value(TlvType::PathTrace, &[0; 9]),
            Err(Error::BadLength)
        );
    }
}
