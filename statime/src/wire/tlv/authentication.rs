//! AUTHENTICATION TLV (IEEE 1588-2019 clause 16.14.3).

use super::{TlvRepr, TlvType};
use crate::wire::{Error, Result};

/// AUTHENTICATION (clause 16.14.3, tlvType 0x8009): an integrity check
/// value over the message, with the parameters that select the key.
///
/// The optional fields (disclosedKey, sequenceNo, RES) and the ICV have
/// lengths fixed by the security association that `spp` names, not by the
/// TLV itself, so they are kept together in [`AuthenticationTlv::trailer`]
/// and split with [`AuthenticationTlv::fields`] once the association is
/// known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuthenticationTlv<'a> {
    /// spp: the security parameter pointer, naming the security association.
    pub spp: u8,
    /// secParamIndicator: which optional fields are present
    /// ([`Self::RES_PRESENT`], [`Self::SEQUENCE_NO_PRESENT`],
    /// [`Self::DELAYED`]).
    pub sec_param_indicator: u8,
    /// keyID: the key within the association.
    pub key_id: u32,
    /// The optional fields, then the ICV.
    pub trailer: &'a [u8],
}

/// Field lengths of a security association (from its configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AuthenticationLayout {
    /// Octets of disclosedKey when [`AuthenticationTlv::DELAYED`] is set.
    pub disclosed_key_len: usize,
    /// Octets of sequenceNo when present.
    pub sequence_no_len: usize,
    /// Octets of RES when present.
    pub res_len: usize,
    /// Octets of the ICV (16 for HMAC-SHA256-128, 32 for HMAC-SHA256).
    pub icv_len: usize,
}

/// The parts of an AUTHENTICATION TLV's trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuthenticationFields<'a> {
    /// disclosedKey (delayed processing only).
    pub disclosed_key: Option<&'a [u8]>,
    /// sequenceNo.
    pub sequence_no: Option<&'a [u8]>,
    /// RES.
    pub res: Option<&'a [u8]>,
    /// The integrity check value.
    pub icv: &'a [u8],
}

impl<'a> AuthenticationTlv<'a> {
    /// secParamIndicator bit 0: the RES field is present.
    pub const RES_PRESENT: u8 = 0x01;
    /// secParamIndicator bit 1: the sequenceNo field is present.
    pub const SEQUENCE_NO_PRESENT: u8 = 0x02;
    /// secParamIndicator bit 2: delayed processing; disclosedKey is present.
    pub const DELAYED: u8 = 0x04;

    /// Split the trailer by the association's field lengths. Fails with
    /// [`Error::BadLength`] unless the lengths add up exactly.
    pub fn fields(&self, layout: &AuthenticationLayout) -> Result<AuthenticationFields<'a>> {
        let mut rest = self.trailer;
        let mut take = |present: bool, len: usize| -> Result<Option<&'a [u8]>> {
            if !present {
                return Ok(None);
            }
            let (head, tail) = rest.split_at_checked(len).ok_or(Error::BadLength)?;
            rest = tail;
            Ok(Some(head))
        };
        let i = self.sec_param_indicator;
        let disclosed_key = take(i & Self::DELAYED != 0, layout.disclosed_key_len)?;
        let sequence_no = take(i & Self::SEQUENCE_NO_PRESENT != 0, layout.sequence_no_len)?;
        let res = take(i & Self::RES_PRESENT != 0, layout.res_len)?;
        if rest.len() != layout.icv_len {
            return Err(Error::BadLength);
        }
        Ok(AuthenticationFields {
            disclosed_key,
            sequence_no,
            res,
            icv: rest,
        })
    }
}

impl<'a> TlvRepr<'a> for AuthenticationTlv<'a> {
    fn tlv_type(&self) -> TlvType {
        TlvType::Authentication
    }

    fn value_len(&self) -> usize {
        6 + self.trailer.len()
    }

    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        let out = out
            .get_mut(..self.value_len())
            .ok_or(Error::BufferTooSmall)?;
        let (head, trailer) = out.split_at_mut(6);
        head[0] = self.spp;
        head[1] = self.sec_param_indicator;
        head[2..].copy_from_slice(&self.key_id.to_be_bytes());
        trailer.copy_from_slice(self.trailer);
        Ok(())
    }

    fn parse_value(_: TlvType, value: &'a [u8]) -> Result<Self> {
        let (head, trailer) = value.split_first_chunk::<6>().ok_or(Error::BadLength)?;
        Ok(Self {
            spp: head[0],
            sec_param_indicator: head[1],
            key_id: u32::from_be_bytes([head[2], head[3], head[4], head[5]]),
            trailer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_fixture;
    use super::*;

    #[test]
    fn immediate_hmac_sha256_128() {
        let mut bytes = [0u8; 4 + 6 + 16];
        bytes[..10].copy_from_slice(&[0x80, 0x09, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x07]);
        for (i, b) in bytes[10..].iter_mut().enumerate() {
            *b = i as u8;
        }
        let t = AuthenticationTlv {
            spp: 2,
            sec_param_indicator: 0,
            key_id: 7,
            trailer: &bytes[10..],
        };
        check_fixture(&bytes, &t);
        let layout = AuthenticationLayout {
            icv_len: 16,
            ..Default::default()
        };
        let f = t.fields(&layout).unwrap();
        assert_eq!(f.icv.len(), 16);
        assert_eq!(f.sequence_no, None);
        let wrong = AuthenticationLayout {
            icv_len: 32,
            ..Default::default()
        };
        assert_eq!(t.fields(&wrong), Err(Error::BadLength));
    }

    #[test]
    fn optional_fields_in_order() {
        let trailer = [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 9, 9];
        let t = AuthenticationTlv {
            spp: 0,
            sec_param_indicator: AuthenticationTlv::DELAYED
                | AuthenticationTlv::SEQUENCE_NO_PRESENT
                | AuthenticationTlv::RES_PRESENT,
            key_id: 1,
            trailer: &trailer,
        };
        let layout = AuthenticationLayout {
            disclosed_key_len: 4,
            sequence_no_len: 6,
            res_len: 2,
            icv_len: 2,
        };
        let f = t.fields(&layout).unwrap();
        assert_eq!(f.disclosed_key, Some(&trailer[..4]));
        assert_eq!(f.sequence_no, Some(&trailer[4..10]));
        assert_eq!(f.res, Some(&trailer[10..12]));
        assert_eq!(f.icv, &trailer[12..]);
        assert_eq!(
            AuthenticationTlv::parse_value(TlvType::Authentication, &[0; 5]),
            Err(Error::BadLength)
        );
    }
}
