//! The Pdelay_Req message (IEEE 1588-2019 clause 13.9).

super::timestamp_body! {
    /// The body of a Pdelay_Req message (clause 13.9).
    PdelayReqMessage {
        /// originTimestamp (clause 13.9.2.1): an estimate of the send time. Ten reserved octets follow so that the request is as long as the response (clause 13.9.2.2).
        origin_timestamp
    } reserved 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Timestamp;

    const BYTES: [u8; PdelayReqMessage::WIRE_LEN] = {
        let mut b = [0u8; PdelayReqMessage::WIRE_LEN];
        let ts = [0x00, 0x00, 0x65, 0x5d, 0xd2, 0x80, 0x07, 0x5b, 0xcd, 0x15];
        let mut i = 0;
        while i < 10 {
            b[i] = ts[i];
            i += 1;
        }
        b
    };

    fn repr() -> PdelayReqMessage {
        PdelayReqMessage {
            origin_timestamp: Timestamp::new(0x655d_d280, 123_456_789).unwrap(),
        }
    }

    super::super::body_fixture_tests!(PdelayReqMessage, BYTES, repr());
}
