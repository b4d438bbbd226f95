//! Message bodies of IEEE 1588-2019 clause 13, one file per message.
//!
//! Each body type has `WIRE_LEN` (octets after the 34-octet header, TLVs
//! excluded), `parse` and `emit`. Several bodies share a shape (one
//! timestamp; a timestamp and a port identity); the macros below give them
//! one implementation and each file its own type, documentation and tests.

mod announce;
mod delay_req;
mod delay_resp;
mod follow_up;
mod management;
mod pdelay_req;
mod pdelay_resp;
mod pdelay_resp_follow_up;
mod signaling;
mod sync;

pub use announce::AnnounceMessage;
pub use delay_req::DelayReqMessage;
pub use delay_resp::DelayRespMessage;
pub use follow_up::FollowUpMessage;
pub use management::{ManagementAction, ManagementMessage};
pub use pdelay_req::PdelayReqMessage;
pub use pdelay_resp::PdelayRespMessage;
pub use pdelay_resp_follow_up::PdelayRespFollowUpMessage;
pub use signaling::SignalingMessage;
pub use sync::SyncMessage;

/// A body made of one timestamp, followed by `$reserved` reserved octets.
macro_rules! timestamp_body {
    ($(#[$meta:meta])* $name:ident { $(#[$fmeta:meta])* $field:ident } reserved $reserved:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name {
            $(#[$fmeta])*
            pub $field: $crate::wire::Timestamp,
        }

        impl $name {
            /// Octets of the body after the header.
            pub const WIRE_LEN: usize = 10 + $reserved;

            /// Parse the body from the octets after the header.
            #[inline]
            pub fn parse(body: &[u8]) -> $crate::wire::Result<Self> {
                let b = body
                    .first_chunk::<{ Self::WIRE_LEN }>()
                    .ok_or($crate::wire::Error::Truncated)?;
                let (ts, _reserved) = b.split_first_chunk::<10>().ok_or($crate::wire::Error::Truncated)?;
                Ok(Self { $field: $crate::wire::Timestamp::from_bytes(ts) })
            }

            /// Emit the body into the octets after the header.
            #[inline]
            pub fn emit(&self, body: &mut [u8]) -> $crate::wire::Result<()> {
                let b = body
                    .first_chunk_mut::<{ Self::WIRE_LEN }>()
                    .ok_or($crate::wire::Error::BufferTooSmall)?;
                b.fill(0);
                if let Some(ts) = b.first_chunk_mut::<10>() {
                    *ts = self.$field.to_bytes();
                }
                Ok(())
            }
        }
    };
}

/// A body made of a timestamp and a requestingPortIdentity.
macro_rules! timestamp_port_body {
    ($(#[$meta:meta])* $name:ident { $(#[$fmeta:meta])* $field:ident }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name {
            $(#[$fmeta])*
            pub $field: $crate::wire::Timestamp,
            /// requestingPortIdentity: the sourcePortIdentity of the request answered.
            pub requesting_port_identity: $crate::wire::PortIdentity,
        }

        impl $name {
            /// Octets of the body after the header.
            pub const WIRE_LEN: usize = 20;

            /// Parse the body from the octets after the header.
            #[inline]
            pub fn parse(body: &[u8]) -> $crate::wire::Result<Self> {
                let b = body.first_chunk::<20>().ok_or($crate::wire::Error::Truncated)?;
                let (ts, port) = b.split_first_chunk::<10>().ok_or($crate::wire::Error::Truncated)?;
                let port = port.first_chunk::<10>().ok_or($crate::wire::Error::Truncated)?;
                Ok(Self {
                    $field: $crate::wire::Timestamp::from_bytes(ts),
                    requesting_port_identity: $crate::wire::PortIdentity::from_bytes(port),
                })
            }

            /// Emit the body into the octets after the header.
            #[inline]
            pub fn emit(&self, body: &mut [u8]) -> $crate::wire::Result<()> {
                let b = body.first_chunk_mut::<20>().ok_or($crate::wire::Error::BufferTooSmall)?;
                let (ts, port) = b.split_at_mut(10);
                ts.copy_from_slice(&self.$field.to_bytes());
                port.copy_from_slice(&self.requesting_port_identity.to_bytes());
                Ok(())
            }
        }
    };
}

pub(crate) use {timestamp_body, timestamp_port_body};

/// Test helper: the four fixture checks every body file runs (bytes to
/// fields, fields to bytes, short input, short output).
#[cfg(test)]
macro_rules! body_fixture_tests {
    ($ty:ty, $bytes:expr, $repr:expr) => {
        #[test]
        fn parse() {
            assert_eq!(<$ty>::parse(&$bytes), Ok($repr));
        }

        #[test]
        fn emit() {
            let mut buf = [0xA5u8; <$ty>::WIRE_LEN];
            $repr.emit(&mut buf).unwrap();
            assert_eq!(buf[..], $bytes[..]);
        }

        #[test]
        fn truncated() {
            let b = $bytes;
            assert_eq!(
                <$ty>::parse(&b[..<$ty>::WIRE_LEN - 1]),
                Err($crate::wire::Error::Truncated)
            );
            let mut small = [0u8; <$ty>::WIRE_LEN - 1];
            assert_eq!(
                $repr.emit(&mut small),
                Err($crate::wire::Error::BufferTooSmall)
            );
        }
    };
}

#[cfg(test)]
pub(crate) use body_fixture_tests;
