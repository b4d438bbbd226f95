//! The Signaling message (IEEE 1588-2019 clause 13.12).

use crate::wire::{Error, PortIdentity, Result};

/// The body of a Signaling message (clause 13.12): the port addressed. The
/// TLVs that carry the actual requests (unicast negotiation, clause 16.1)
/// follow in the message's [`crate::wire::TlvSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SignalingMessage {
    /// targetPortIdentity (clause 13.12.2.1); all ones addresses every port.
    pub target_port_identity: PortIdentity,
}

impl SignalingMessage {
    /// Octets of the body after the header.
    pub const WIRE_LEN: usize = 10;

    /// Parse the body from the octets after the header.
    #[inline]
    pub fn parse(body: &[u8]) -> Result<Self> {
        let b = body.first_chunk::<10>().ok_or(Error::Truncated)?;
        Ok(Self {
            target_port_identity: PortIdentity::from_bytes(b),
        })
    }

    /// Emit the body into the octets after the header.
    pub fn emit(&self, body: &mut [u8]) -> Result<()> {
        let b = body.first_chunk_mut::<10>().ok_or(Error::BufferTooSmall)?;
        *b = self.target_port_identity.to_bytes();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYTES: [u8; 10] = [0xFF; 10];

    fn repr() -> SignalingMessage {
        SignalingMessage {
            target_port_identity: PortIdentity::ALL,
        }
    }

    super::super::body_fixture_tests!(SignalingMessage, BYTES, repr());
}
