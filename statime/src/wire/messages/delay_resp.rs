//! The Delay_Resp message (IEEE 1588-2019 clause 13.8).

super::timestamp_port_body! {
    /// The body of a Delay_Resp message (clause 13.8).
    DelayRespMessage {
        /// receiveTimestamp (clause 13.8.2.1): when the master received the Delay_Req (t4).
        receive_timestamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ClockIdentity, PortIdentity, Timestamp};

    const BYTES: [u8; 20] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x3b, 0x9a, 0xc9, 0xff, // 42.999999999
        0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02, 0x00, 0x07, // 001b19.fffe.000002-7
    ];

    fn repr() -> DelayRespMessage {
        DelayRespMessage {
            receive_timestamp: Timestamp::new(42, 999_999_999).unwrap(),
            requesting_port_identity: PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02]),
                port_number: 7,
            },
        }
    }

    super::super::body_fixture_tests!(DelayRespMessage, BYTES, repr());
}
