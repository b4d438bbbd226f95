//! ALTERNATE_TIME_OFFSET_INDICATOR TLV (IEEE 1588-2019 clause 16.3.3).

use super::{TlvRepr, TlvType, need};
use crate::wire::{Error, PtpText, Reader, Result, Writer};

/// ALTERNATE_TIME_OFFSET_INDICATOR (clause 16.3.3): the offset of an
/// alternate timescale (for example a local time zone) from the PTP time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AlternateTimeOffsetIndicatorTlv<'a> {
    /// keyField: which alternate timescale (clause 16.3.3.3).
    pub key_field: u8,
    /// currentOffset in seconds (clause 16.3.3.4).
    pub current_offset: i32,
    /// jumpSeconds: the change at the next discontinuity (clause 16.3.3.5).
    pub jump_seconds: i32,
    /// timeOfNextJump, 48-bit seconds of the PTP timescale (clause 16.3.3.6).
    pub time_of_next_jump: u64,
    /// displayName (clause 16.3.3.7), such as "CET".
    pub display_name: PtpText<'a>,
}

impl<'a> TlvRepr<'a> for AlternateTimeOffsetIndicatorTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        TlvType::AlternateTimeOffsetIndicator
    }

    fn value_len(&self) -> usize {
        15 + self.display_name.wire_len()
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        if self.time_of_next_jump >= 1 << 48 {
            return Err(Error::InvalidValue);
        }
        let mut w = Writer::new(out);
        w.u8(self.key_field)?;
        w.u32(self.current_offset as u32)?;
        w.u32(self.jump_seconds as u32)?;
        w.bytes(&self.time_of_next_jump.to_be_bytes()[2..])?;
        self.display_name.write(&mut w)
    }

    fn parse_value(_: TlvType, value: &'a [u8]) -> Result<Self> {
        need::<16>(value)?;
        let mut r = Reader::new(value);
        let key_field = r.u8()?;
        let current_offset = r.u32()? as i32;
        let jump_seconds = r.u32()? as i32;
        let j = r.array::<6>()?;
        let time_of_next_jump = u64::from_be_bytes([0, 0, j[0], j[1], j[2], j[3], j[4], j[5]]);
        let display_name = PtpText::read(&mut r).map_err(|_| Error::BadLength)?;
        Ok(Self {
            key_field,
            current_offset,
            jump_seconds,
            time_of_next_jump,
            display_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_fixture;
    use super::*;

    #[test]
    fn fixture() {
        let bytes = [
            0x00, 0x09, 0x00, 0x14, // type, length 20 (19 + pad)
            0x01, // key
            0x00, 0x00, 0x0e, 0x10, // +3600 s
            0xff, 0xff, 0xf1, 0xf0, // -3600 s
            0x00, 0x00, 0x67, 0x5c, 0x12, 0x34, // next jump
            0x03, b'C', b'E', b'T', // display name
            0x00, // pad
        ];
        let t = AlternateTimeOffsetIndicatorTlv {
            key_field: 1,
            current_offset: 3600,
            jump_seconds: -3600,
            time_of_next_jump: 0x675c_1234,
            display_name: PtpText::new(b"CET").unwrap(),
        };
        check_fixture(&bytes, &t);
    }

    #[test]
    fn truncated_name() {
        let v = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, b'a'];
        assert_eq!(
            AlternateTimeOffsetIndicatorTlv::parse_value(TlvType::AlternateTimeOffsetIndicator, &v),
            Err(Error::BadLength)
        );
    }
}
