//! A whole PTP message: header, body and TLVs (IEEE 1588-2019 clause 13.2).

use super::messages::{
    AnnounceMessage, DelayReqMessage, DelayRespMessage, FollowUpMessage, ManagementMessage,
    PdelayReqMessage, PdelayRespFollowUpMessage, PdelayRespMessage, SignalingMessage, SyncMessage,
};
use super::{Error, Header, MessageType, Result, TlvSet};

/// The body of a message, by messageType.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageBody<'a> {
    /// Sync (clause 13.6).
    Sync(SyncMessage),
    /// Delay_Req (clause 13.6).
    DelayReq(DelayReqMessage),
    /// Pdelay_Req (clause 13.9).
    PdelayReq(PdelayReqMessage),
    /// Pdelay_Resp (clause 13.10).
    PdelayResp(PdelayRespMessage),
    /// Follow_Up (clause 13.7).
    FollowUp(FollowUpMessage),
    /// Delay_Resp (clause 13.8).
    DelayResp(DelayRespMessage),
    /// Pdelay_Resp_Follow_Up (clause 13.11).
    PdelayRespFollowUp(PdelayRespFollowUpMessage),
    /// Announce (clause 13.5).
    Announce(AnnounceMessage),
    /// Signaling (clause 13.12).
    Signaling(SignalingMessage),
    /// Management (clause 13.13).
    Management(ManagementMessage),
    /// A reserved messageType: everything after the header, uninterpreted.
    Unknown(&'a [u8]),
}

impl MessageBody<'_> {
    /// Octets of the body after the header.
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        match self {
            Self::Sync(_) => SyncMessage::WIRE_LEN,
            Self::DelayReq(_) => DelayReqMessage::WIRE_LEN,
            Self::PdelayReq(_) => PdelayReqMessage::WIRE_LEN,
            Self::PdelayResp(_) => PdelayRespMessage::WIRE_LEN,
            Self::FollowUp(_) => FollowUpMessage::WIRE_LEN,
            Self::DelayResp(_) => DelayRespMessage::WIRE_LEN,
            Self::PdelayRespFollowUp(_) => PdelayRespFollowUpMessage::WIRE_LEN,
            Self::Announce(_) => AnnounceMessage::WIRE_LEN,
            Self::Signaling(_) => SignalingMessage::WIRE_LEN,
            Self::Management(_) => ManagementMessage::WIRE_LEN,
            Self::Unknown(b) => b.len(),
        }
    }

    /// The messageType that carries this body (`None` for an unknown body).
    #[must_use]
    pub const fn message_type(&self) -> Option<MessageType> {
        Some(match self {
            Self::Sync(_) => MessageType::Sync,
            Self::DelayReq(_) => MessageType::DelayReq,
            Self::PdelayReq(_) => MessageType::PdelayReq,
            Self::PdelayResp(_) => MessageType::PdelayResp,
            Self::FollowUp(_) => MessageType::FollowUp,
            Self::DelayResp(_) => MessageType::DelayResp,
            Self::PdelayRespFollowUp(_) => MessageType::PdelayRespFollowUp,
            Self::Announce(_) => MessageType::Announce,
            Self::Signaling(_) => MessageType::Signaling,
            Self::Management(_) => MessageType::Management,
            Self::Unknown(_) => return None,
        })
    }

    #[inline]
    fn emit(&self, body: &mut [u8]) -> Result<()> {
        match self {
            Self::Sync(m) => m.emit(body),
            Self::DelayReq(m) => m.emit(body),
            Self::PdelayReq(m) => m.emit(body),
            Self::PdelayResp(m) => m.emit(body),
            Self::FollowUp(m) => m.emit(body),
            Self::DelayResp(m) => m.emit(body),
            Self::PdelayRespFollowUp(m) => m.emit(body),
            Self::Announce(m) => m.emit(body),
            Self::Signaling(m) => m.emit(body),
            Self::Management(m) => m.emit(body),
            Self::Unknown(b) => body
                .get_mut(..b.len())
                .ok_or(Error::BufferTooSmall)
                .map(|out| out.copy_from_slice(b)),
        }
    }
}

/// A PTP message (clause 13.2): header, body and the TLVs after the body.
///
/// Parsing borrows the TLVs from the input; emitting copies them. The
/// header's messageType is taken from the body when emitting, so the two
/// cannot disagree on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Message<'a> {
    /// The common header.
    pub header: Header,
    /// The message body.
    pub body: MessageBody<'a>,
    /// The TLVs following the body, within messageLength (clause 14).
    pub suffix: TlvSet<'a>,
}

impl<'a> Message<'a> {
    /// Parse a message from a datagram or Ethernet payload.
    ///
    /// Checks, in order: 34 header octets, versionPTP 2, messageLength at
    /// least the fixed size of the type and at most `buf.len()` (octets
    /// beyond messageLength, such as Ethernet padding, are ignored, clause
    /// 13.3.2.5 note), the body, and that the TLVs exactly tile the rest
    /// of messageLength.
    pub fn parse(buf: &'a [u8]) -> Result<Self> {
        let (header, length) = Header::parse(buf)?;
        let length = usize::from(length);
        let packet = buf.get(..length).ok_or(Error::BadLength)?;
        let after = packet.get(Header::WIRE_LEN..).ok_or(Error::BadLength)?;
        let short = |e: Error| {
            if e == Error::Truncated {
                Error::BadLength
            } else {
                e
            }
        };
        let body = match header.message_type {
            MessageType::Sync => MessageBody::Sync(SyncMessage::parse(after).map_err(short)?),
            MessageType::DelayReq => {
                MessageBody::DelayReq(DelayReqMessage::parse(after).map_err(short)?)
            }
            MessageType::PdelayReq => {
                MessageBody::PdelayReq(PdelayReqMessage::parse(after).map_err(short)?)
            }
            MessageType::PdelayResp => {
                MessageBody::PdelayResp(PdelayRespMessage::parse(after).map_err(short)?)
            }
            MessageType::FollowUp => {
                MessageBody::FollowUp(FollowUpMessage::parse(after).map_err(short)?)
            }
            MessageType::DelayResp => {
                MessageBody::DelayResp(DelayRespMessage::parse(after).map_err(short)?)
            }
            MessageType::PdelayRespFollowUp => MessageBody::PdelayRespFollowUp(
                PdelayRespFollowUpMessage::parse(after).map_err(short)?,
            ),
            MessageType::Announce => {
                MessageBody::Announce(AnnounceMessage::parse(after).map_err(short)?)
            }
            MessageType::Signaling => {
                MessageBody::Signaling(SignalingMessage::parse(after).map_err(short)?)
            }
            MessageType::Management => {
                MessageBody::Management(ManagementMessage::parse(after).map_err(short)?)
            }
            MessageType::Unknown(_) => MessageBody::Unknown(after),
        };
        let tlvs = after.get(body.wire_len()..).ok_or(Error::BadLength)?;
        Ok(Self {
            header,
            body,
            suffix: TlvSet::parse(tlvs)?,
        })
    }

    /// messageLength of this message: header, body and TLVs.
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        Header::WIRE_LEN + self.body.wire_len() + self.suffix.wire_len()
    }

    /// Emit the message into `buf` and return its length.
    ///
    /// The header's messageType and messageLength are derived from the body
    /// and the TLVs. Fails with [`Error::BufferTooSmall`] if `buf` is too
    /// short and [`Error::InvalidValue`] if the message exceeds 65535 octets.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.wire_len();
        let length = u16::try_from(len).map_err(|_| Error::InvalidValue)?;
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (head, rest) = out.split_at_mut(Header::WIRE_LEN);
        self.header.emit(length, head)?;
        if let (Some(t), Some(first)) = (self.body.message_type(), head.first_mut()) {
            *first = (*first & 0xF0) | u8::from(t);
        }
        let (body, tlvs) = rest.split_at_mut(self.body.wire_len());
        self.body.emit(body)?;
        if !self.suffix.is_empty() {
            tlvs.copy_from_slice(self.suffix.as_bytes());
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{PortIdentity, Timestamp, TlvType};

    /// A Delay_Resp from linuxptp 3.1.1 (2008 header: minor version 0,
    /// controlField 3, logMessageInterval 0) carrying one PAD TLV of 2 octets.
    const DELAY_RESP: [u8; 60] = [
        0x09, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x00,
        0x00, // type, version, length 60, domain, flags
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // correction
        0x00, 0x00, 0x00, 0x00, // type specific
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00, 0x01, // source
        0x00, 0x05, 0x03, 0x00, // seq 5, control 3, interval 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x07, // t4 = 42.000000007
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02, 0x00, 0x01, // requesting port
        0x80, 0x08, 0x00, 0x02, 0x00, 0x00, // PAD TLV
    ];

    #[test]
    fn parse_and_emit() {
        let m = Message::parse(&DELAY_RESP).unwrap();
        assert_eq!(m.header.message_type, MessageType::DelayResp);
        assert_eq!(m.header.sequence_id, 5);
        assert_eq!(m.header.control_field, 3);
        let MessageBody::DelayResp(b) = m.body else {
            panic!("wrong body {:?}", m.body)
        };
        assert_eq!(b.receive_timestamp, Timestamp::new(42, 7).unwrap());
        assert_eq!(b.requesting_port_identity.port_number, 1);
        let tlvs: arrayvec::ArrayVec<TlvType, 4> = m.suffix.iter().map(|t| t.tlv_type).collect();
        assert_eq!(tlvs.as_slice(), &[TlvType::Pad]);
        assert_eq!(m.wire_len(), 60);
        let mut out = [0u8; 80];
        assert_eq!(m.emit(&mut out), Ok(60));
        assert_eq!(out[..60], DELAY_RESP);
    }

    #[test]
    fn padding_after_message_length_is_ignored() {
        let mut padded = [0u8; 64];
        padded[..60].copy_from_slice(&DELAY_RESP);
        let m = Message::parse(&padded).unwrap();
        assert_eq!(m.wire_len(), 60);
    }

    #[test]
    fn length_errors() {
        assert_eq!(Message::parse(&DELAY_RESP[..59]), Err(Error::BadLength));
        let mut b = DELAY_RESP;
        b[3] = 53; // shorter than a Delay_Resp
        assert_eq!(Message::parse(&b), Err(Error::BadLength));
        b[3] = 33; // shorter than a header
        assert_eq!(Message::parse(&b), Err(Error::BadLength));
        b[3] = 57; // cuts the TLV
        assert_eq!(Message::parse(&b), Err(Error::BadLength));
        b[3] = 54; // no TLV at all is fine
        assert_eq!(Message::parse(&b).unwrap().suffix.iter().count(), 0);
        assert_eq!(Message::parse(&[]), Err(Error::Truncated));
        let m = Message::parse(&DELAY_RESP).unwrap();
        assert_eq!(m.emit(&mut [0u8; 59]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn unknown_type_round_trips() {
        let mut b = DELAY_RESP;
        b[0] = 0x0E;
        let m = Message::parse(&b).unwrap();
        assert_eq!(m.header.message_type, MessageType::Unknown(0x0E));
        assert!(matches!(m.body, MessageBody::Unknown(x) if x.len() == 26));
        let mut out = [0u8; 60];
        assert_eq!(m.emit(&mut out), Ok(60));
        assert_eq!(out, b);
    }

    #[test]
    fn body_decides_message_type() {
        let m = Message {
            header: Header::new(MessageType::Announce),
            body: MessageBody::Sync(SyncMessage::default()),
            suffix: TlvSet::EMPTY,
        };
        let mut out = [0u8; 44];
        assert_eq!(m.emit(&mut out), Ok(44));
        assert_eq!(out[0], 0x00);
        assert_eq!(out[1], 0x12);
        let back = Message::parse(&out).unwrap();
        assert_eq!(back.header.source_port_identity, PortIdentity::default());
    }
}
