//! The Follow_Up message (IEEE 1588-2019 clause 13.7).

super::timestamp_body! {
    /// The body of a Follow_Up message (clause 13.7).
    FollowUpMessage {
        /// preciseOriginTimestamp (clause 13.7.2.1): the precise send time of the Sync with the same sequenceId.
        precise_origin_timestamp
    } reserved 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Timestamp;

    const BYTES: [u8; FollowUpMessage::WIRE_LEN] = {
        let mut b = [0u8; FollowUpMessage::WIRE_LEN];
        let ts = [0x00, 0x00, 0x65, 0x5d, 0xd2, 0x80, 0x07, 0x5b, 0xcd, 0x15];
        let mut i = 0;
        while i < 10 {
            b[i] = ts[i];
            i += 1;
        }
        b
    };

    fn repr() -> FollowUpMessage {
        FollowUpMessage {
            precise_origin_timestamp: Timestamp::new(0x655d_d280, 123_456_789).unwrap(),
        }
    }

    super::super::body_fixture_tests!(FollowUpMessage, BYTES, repr());
}
