//! The Pdelay_Resp message (IEEE 1588-2019 clause 13.10).

super::timestamp_port_body! {
    /// The body of a Pdelay_Resp message (clause 13.10).
    PdelayRespMessage {
        /// requestReceiptTimestamp (clause 13.10.2.1): when the Pdelay_Req was received (t2); zero for a one-step responder, which folds the turnaround into the correctionField instead.
        request_receipt_timestamp
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

    fn repr() -> PdelayRespMessage {
        PdelayRespMessage {
            request_receipt_timestamp: Timestamp::new(42, 999_999_999).unwrap(),
            requesting_port_identity: PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x02]),
                port_number: 7,
            },
        }
    }

    super::super::body_fixture_tests!(PdelayRespMessage, BYTES, repr());
}
