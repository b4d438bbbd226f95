//! Unicast negotiation TLVs (IEEE 1588-2019 clause 16.1.4), carried in
//! Signaling messages.
//!
//! In each, the first octet holds the messageType concerned in its high
//! nibble (Announce, Sync or Delay_Resp; Pdelay_Resp for peer delay).

use super::{TlvRepr, TlvType, need};
use crate::wire::{MessageType, Result};

/// REQUEST_UNICAST_TRANSMISSION (clause 16.1.4.1): a client asks a master to
/// send it `message_type` every 2^`log_inter_message_period` s for
/// `duration` s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestUnicastTransmissionTlv {
    /// The message type requested.
    pub message_type: MessageType,
    /// logInterMessagePeriod requested.
    pub log_inter_message_period: i8,
    /// durationField in seconds.
    pub duration: u32,
}

/// GRANT_UNICAST_TRANSMISSION (clause 16.1.4.2): the master's answer; a
/// duration of 0 denies the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GrantUnicastTransmissionTlv {
    /// The message type granted.
    pub message_type: MessageType,
    /// logInterMessagePeriod granted.
    pub log_inter_message_period: i8,
    /// durationField in seconds; 0 = denied.
    pub duration: u32,
    /// renewalInvited (flag bit 0 of the last octet): the grantor will
    /// accept a renewal.
    pub renewal_invited: bool,
}

/// CANCEL_UNICAST_TRANSMISSION (clause 16.1.4.3): either side ends a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelUnicastTransmissionTlv {
    /// The message type whose grant ends.
    pub message_type: MessageType,
}

/// ACKNOWLEDGE_CANCEL_UNICAST_TRANSMISSION (clause 16.1.4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AcknowledgeCancelUnicastTransmissionTlv {
    /// The message type whose cancellation is acknowledged.
    pub message_type: MessageType,
}

fn type_nibble(octet: u8) -> MessageType {
    MessageType::from(octet >> 4)
}

fn type_octet(t: MessageType) -> u8 {
    u8::from(t) << 4
}

impl TlvRepr<'_> for RequestUnicastTransmissionTlv {
    fn tlv_type(&self) -> TlvType {
        TlvType::RequestUnicastTransmission
    }
    fn value_len(&self) -> usize {
        6
    }
    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        let [a, b, c, d] = self.duration.to_be_bytes();
        let bytes = [
            type_octet(self.message_type),
            self.log_inter_message_period as u8,
            a,
            b,
            c,
            d,
        ];
        super::emit_exact(out, &bytes)
    }
    fn parse_value(_: TlvType, value: &[u8]) -> Result<Self> {
        let v = need::<6>(value)?;
        Ok(Self {
            message_type: type_nibble(v[0]),
            log_inter_message_period: v[1] as i8,
            duration: u32::from_be_bytes([v[2], v[3], v[4], v[5]]),
        })
    }
}

impl TlvRepr<'_> for GrantUnicastTransmissionTlv {
    fn tlv_type(&self) -> TlvType {
        TlvType::GrantUnicastTransmission
    }
    fn value_len(&self) -> usize {
        8
    }
    fn emit_value(&self, out: &mut [u8]) -> Result<()> {
        let [a, b, c, d] = self.duration.to_be_bytes();
        let bytes = [
            type_octet(self.message_type),
            self.log_inter_message_period as u8,
            a,
            b,
            c,
            d,
            0,
            u8::from(self.renewal_invited),
        ];
        super::emit_exact(out, &bytes)
    }
    fn parse_value(_: TlvType, value: &[u8]) -> Result<Self> {
        let v = need::<8>(value)?;
        Ok(Self {
            message_type: type_nibble(v[0]),
            log_inter_message_period: v[1] as i8,
            duration: u32::from_be_bytes([v[2], v[3], v[4], v[5]]),
            renewal_invited: v[7] & 1 != 0,
        })
    }
}

/// The two cancel TLVs share one shape: the type octet and a reserved octet.
macro_rules! cancel_like {
    ($ty:ident, $code:ident) => {
        impl TlvRepr<'_> for $ty {
            fn tlv_type(&self) -> TlvType {
                TlvType::$code
            }
            fn value_len(&self) -> usize {
                2
            }
            fn emit_value(&self, out: &mut [u8]) -> Result<()> {
                super::emit_exact(out, &[type_octet(self.message_type), 0])
            }
            fn parse_value(_: TlvType, value: &[u8]) -> Result<Self> {
                let v = need::<2>(value)?;
                Ok(Self {
                    message_type: type_nibble(v[0]),
                })
            }
        }
    };
}

cancel_like!(CancelUnicastTransmissionTlv, CancelUnicastTransmission);
cancel_like!(
    AcknowledgeCancelUnicastTransmissionTlv,
    AcknowledgeCancelUnicastTransmission
);

#[cfg(test)]
mod tests {
    use super::super::check_fixture;
    use super::*;
    use crate::wire::Error;

    #[test]
    fn request() {
        let bytes = [0x00, 0x04, 0x00, 0x06, 0xB0, 0xFF, 0x00, 0x00, 0x01, 0x2C];
        let t = RequestUnicastTransmissionTlv {
            message_type: MessageType::Announce,
            log_inter_message_period: -1,
            duration: 300,
        };
        check_fixture(&bytes, &t);
    }

    #[test]
    fn grant() {
        let bytes = [
            0x00, 0x05, 0x00, 0x08, 0x00, 0xFD, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x01,
        ];
        let t = GrantUnicastTransmissionTlv {
            message_type: MessageType::Sync,
            log_inter_message_period: -3,
            duration: 60,
            renewal_invited: true,
        };
        check_fixture(&bytes, &t);
    }

    #[test]
    fn cancel_and_ack() {
        check_fixture(
            &[0x00, 0x06, 0x00, 0x02, 0x90, 0x00],
            &CancelUnicastTransmissionTlv {
                message_type: MessageType::DelayResp,
            },
        );
        check_fixture(
            &[0x00, 0x07, 0x00, 0x02, 0x90, 0x00],
            &AcknowledgeCancelUnicastTransmissionTlv {
                message_type: MessageType::DelayResp,
            },
        );
    }

    #[test]
    fn short_values() {
        assert_eq!(
            RequestUnicastTransmissionTlv::parse_value(
                TlvType::RequestUnicastTransmission,
                &[0; 5]
            ),
            Err(Error::BadLength)
        );
        assert_eq!(
            GrantUnicastTransmissionTlv::parse_value(TlvType::GrantUnicastTransmission, &[0; 7]),
            Err(Error::BadLength)
        );
        assert_eq!(
            CancelUnicastTransmissionTlv::parse_value(TlvType::CancelUnicastTransmission, &[0]),
            Err(Error::BadLength)
        );
    }
}
