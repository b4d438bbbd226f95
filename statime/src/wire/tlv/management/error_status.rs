//! The MANAGEMENT_ERROR_STATUS TLV (IEEE 1588-2019 clause 15.5.4).

use super::ManagementId;
use crate::wire::macros::wire_enum;
use crate::wire::tlv::{TlvRepr, TlvSet, TlvType, need};
use crate::wire::{Error, PtpText, Reader, Result, Writer};

wire_enum! {
    /// managementErrorId (IEEE 1588-2019 clause 15.5.4.4, table 109).
    pub enum ManagementErrorId(u16) {
        /// RESPONSE_TOO_BIG: the response would not fit one message.
        ResponseTooBig = 0x0001,
        /// NO_SUCH_ID: the managementId is not recognized.
        NoSuchId = 0x0002,
        /// WRONG_LENGTH: the managementId was recognized but the length of
        /// the data was wrong.
        WrongLength = 0x0003,
        /// WRONG_VALUE: a value in the data was out of range.
        WrongValue = 0x0004,
        /// NOT_SETABLE: a SET was sent for a read-only member.
        NotSetable = 0x0005,
        /// NOT_SUPPORTED: the managementId is known but not supported.
        NotSupported = 0x0006,
        /// UNPOPULATED: the target exists but holds nothing (new in 2019).
        Unpopulated = 0x0007,
        /// GENERAL_ERROR: any other error.
        GeneralError = 0xFFFE,
    }
}

/// MANAGEMENT_ERROR_STATUS (IEEE 1588-2019 clause 15.5.4): sent instead of
/// a MANAGEMENT TLV when a request cannot be honoured.
///
/// valueField: managementErrorId, managementId, 4 reserved octets, then an
/// optional displayData PTPText (clause 15.5.4.3), present when the TLV is
/// longer than 8 octets. linuxptp sends it without displayData (length 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ManagementErrorStatusTlv<'a> {
    /// managementErrorId (clause 15.5.4.1.3).
    pub management_error_id: ManagementErrorId,
    /// managementId of the request that failed (clause 15.5.4.1.4).
    pub management_id: ManagementId,
    /// displayData: a human-readable explanation, if present.
    pub display_data: Option<PtpText<'a>>,
}

impl<'a> ManagementErrorStatusTlv<'a> {
    /// Octets of the valueField before displayData.
    pub const FIXED_LEN: usize = 8;

    /// The first MANAGEMENT_ERROR_STATUS TLV of a message's TLVs, parsed;
    /// `None` if there is none.
    #[must_use]
    pub fn find(set: &TlvSet<'a>) -> Option<Result<Self>> {
        set.find(TlvType::ManagementErrorStatus).map(Self::parse)
    }
}

impl<'a> TlvRepr<'a> for ManagementErrorStatusTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        TlvType::ManagementErrorStatus
    }

    fn value_len(&self) -> usize {
        Self::FIXED_LEN + self.display_data.map_or(0, |t| t.wire_len())
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        let mut w = Writer::new(out);
        w.u16(self.management_error_id.into())?;
        w.u16(self.management_id.into())?;
        w.zeros(4)?;
        if let Some(t) = self.display_data {
            t.write(&mut w)?;
        }
        if w.position() == self.value_len() {
            Ok(())
        } else {
            Err(Error::InvalidValue)
        }
    }

    fn parse_value(_: TlvType, value: &'a [u8]) -> Result<Self> {
        need::<8>(value)?;
        let mut r = Reader::new(value);
        let management_error_id = ManagementErrorId::from(r.u16()?);
        let management_id = ManagementId::from(r.u16()?);
        r.array::<4>()?; // reserved
        let display_data = if r.is_empty() {
            None
        } else {
            Some(PtpText::read(&mut r).map_err(|_| Error::BadLength)?)
        };
        Ok(Self {
            management_error_id,
            management_id,
            display_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tlv::check_fixture;

    #[test]
    fn without_display_data() {
        // As linuxptp 3.1.1 sends it (mgmt-error-status-port_properties_np).
        let bytes = [
            0x00, 0x02, 0x00, 0x08, // MANAGEMENT_ERROR_STATUS, length 8
            0x00, 0x06, // NOT_SUPPORTED
            0xC0, 0x04, // PORT_PROPERTIES_NP
            0x00, 0x00, 0x00, 0x00, // reserved
        ];
        check_fixture(
            &bytes,
            &ManagementErrorStatusTlv {
                management_error_id: ManagementErrorId::NotSupported,
                management_id: ManagementId::PortPropertiesNp,
                display_data: None,
            },
        );
    }

    #[test]
    fn with_display_data() {
        let bytes = [
            0x00, 0x02, 0x00, 0x0E, // MANAGEMENT_ERROR_STATUS, length 14 (13 + pad)
            0x00, 0x05, // NOT_SETABLE
            0x20, 0x00, // DEFAULT_DATA_SET
            0x00, 0x00, 0x00, 0x00, // reserved
            0x04, b'r', b'e', b'a', b'd', // displayData
            0x00, // pad
        ];
        check_fixture(
            &bytes,
            &ManagementErrorStatusTlv {
                management_error_id: ManagementErrorId::NotSetable,
                management_id: ManagementId::DefaultDataSet,
                display_data: PtpText::new(b"read"),
            },
        );
    }

    #[test]
    fn bad_lengths() {
        fn parse(v: &[u8]) -> Result<ManagementErrorStatusTlv<'_>> {
            ManagementErrorStatusTlv::parse_value(TlvType::ManagementErrorStatus, v)
        }
        assert_eq!(parse(&[0, 1, 0, 0, 0, 0, 0]), Err(Error::BadLength));
        assert_eq!(
            parse(&[0, 1, 0, 0, 0, 0, 0, 0, 3, b'a']),
            Err(Error::BadLength)
        );
        // An empty text and its pad octet.
        let t = parse(&[0xFF, 0xFE, 0, 0, 9, 9, 9, 9, 0, 0]).unwrap();
        assert_eq!(t.management_error_id, ManagementErrorId::GeneralError);
        assert_eq!(t.management_id, ManagementId::NullManagement);
        assert_eq!(t.display_data, PtpText::new(b""));
        assert_eq!(
            ManagementErrorId::from(0x0008),
            ManagementErrorId::Unknown(8)
        );
    }
}
