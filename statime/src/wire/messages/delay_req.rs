//! The Delay_Req message (IEEE 1588-2019 clause 13.6).

super::timestamp_body! {
    /// The body of a Delay_Req message (clause 13.6).
    DelayReqMessage {
        /// originTimestamp (clause 13.6.2.1): an estimate of the send time; the master does not use it.
        origin_timestamp
    } reserved 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Timestamp;

    const BYTES: [u8; DelayReqMessage::WIRE_LEN] = {
        let mut b = [0u8; DelayReqMessage::WIRE_LEN];
        let ts = [0x00, 0x00, 0x65, 0x5d, 0xd2, 0x80, 0x07, 0x5b, 0xcd, 0x15];
        let mut i = 0;
        while i < 10 {
            b[i] = ts[i];
            i += 1;
        }
        b
    };

    fn repr() -> DelayReqMessage {
        DelayReqMessage {
            origin_timestamp: Timestamp::new(0x655d_d280, 123_456_789).unwrap(),
        }
    }

    super::super::body_fixture_tests!(DelayReqMessage, BYTES, repr());
}
