//! The Management message (IEEE 1588-2019 clause 13.13 and 15.4.1).

use crate::wire::macros::wire_enum;
use crate::wire::{Error, PortIdentity, Result};

wire_enum! {
    /// actionField (clause 15.4.1.6, table 57), the low nibble of its octet.
    pub enum ManagementAction(u8) {
        /// Read a value.
        Get = 0,
        /// Write a value.
        Set = 1,
        /// The answer to a GET or SET.
        Response = 2,
        /// Run a command.
        Command = 3,
        /// The answer to a COMMAND.
        Acknowledge = 4,
    }
}

/// The body of a Management message (clause 15.4.1): who it is for and what
/// it asks. The single management TLV (or MANAGEMENT_ERROR_STATUS TLV)
/// follows in the message's [`crate::wire::TlvSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ManagementMessage {
    /// targetPortIdentity (clause 15.4.1.2); all ones addresses every port.
    pub target_port_identity: PortIdentity,
    /// startingBoundaryHops (clause 15.4.1.3).
    pub starting_boundary_hops: u8,
    /// boundaryHops (clause 15.4.1.4): decremented by each boundary clock
    /// that forwards the message.
    pub boundary_hops: u8,
    /// actionField (clause 15.4.1.6); the high nibble of its octet is reserved.
    pub action: ManagementAction,
}

impl Default for ManagementMessage {
    fn default() -> Self {
        Self {
            target_port_identity: PortIdentity::ALL,
            starting_boundary_hops: 0,
            boundary_hops: 0,
            action: ManagementAction::Get,
        }
    }
}

impl ManagementMessage {
    /// Octets of the body after the header.
    pub const WIRE_LEN: usize = 14;

    /// Parse the body from the octets after the header.
    #[inline]
    pub fn parse(body: &[u8]) -> Result<Self> {
        let b = body.first_chunk::<14>().ok_or(Error::Truncated)?;
        Ok(Self {
            target_port_identity: PortIdentity::from_bytes(&[
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
            ]),
            starting_boundary_hops: b[10],
            boundary_hops: b[11],
            action: ManagementAction::from(b[12] & 0x0F),
        })
    }

    /// Emit the body into the octets after the header.
    pub fn emit(&self, body: &mut [u8]) -> Result<()> {
        let b = body.first_chunk_mut::<14>().ok_or(Error::BufferTooSmall)?;
        b[..10].copy_from_slice(&self.target_port_identity.to_bytes());
        b[10] = self.starting_boundary_hops;
        b[11] = self.boundary_hops;
        b[12] = u8::from(self.action) & 0x0F;
        b[13] = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYTES: [u8; 14] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // all ports
        0x01, 0x00, // boundary hops 1 -> 0
        0x02, 0x00, // RESPONSE, reserved
    ];

    fn repr() -> ManagementMessage {
        ManagementMessage {
            target_port_identity: PortIdentity::ALL,
            starting_boundary_hops: 1,
            boundary_hops: 0,
            action: ManagementAction::Response,
        }
    }

    super::super::body_fixture_tests!(ManagementMessage, BYTES, repr());

    #[test]
    fn reserved_nibble_ignored() {
        let mut b = BYTES;
        b[12] = 0xF3;
        assert_eq!(
            ManagementMessage::parse(&b).unwrap().action,
            ManagementAction::Command
        );
        b[12] = 0x07;
        assert_eq!(
            ManagementMessage::parse(&b).unwrap().action,
            ManagementAction::Unknown(7)
        );
    }
}
