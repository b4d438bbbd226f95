//! PAD TLV (IEEE 1588-2019 clause 14.4).

use super::{TlvRepr, TlvType};
use crate::wire::{Error, Result};

/// PAD (clause 14.4): zero octets that lengthen a message, for example to
/// make a request as long as its response. Receivers ignore the contents;
/// emitting always writes zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PadTlv {
    /// Octets of the valueField.
    pub len: u16,
}

impl TlvRepr<'_> for PadTlv {
    fn tlv_type(&self) -> TlvType {
        TlvType::Pad
    }

    fn value_len(&self) -> usize {
        usize::from(self.len)
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        out.get_mut(..usize::from(self.len))
            .ok_or(Error::BufferTooSmall)?
            .fill(0);
        Ok(())
    }

    fn parse_value(_: TlvType, value: &[u8]) -> Result<Self> {
        let len = u16::try_from(value.len()).map_err(|_| Error::BadLength)?;
        Ok(Self { len })
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_fixture;
    use super::*;

    #[test]
    fn fixture() {
        check_fixture(&[0x80, 0x08, 0x00, 0x04, 0, 0, 0, 0], &PadTlv { len: 4 });
        check_fixture(&[0x80, 0x08, 0x00, 0x00], &PadTlv { len: 0 });
    }
}
