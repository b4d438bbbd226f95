//! `statime`: the sans-IO protocol core of a Precision Time Protocol stack
//! (IEEE 1588-2019, "PTPv2.1").
//!
//! This crate reads no clock, opens no socket and never sleeps: every input
//! carries the bytes and the time it concerns, and every output is written into
//! a buffer the caller owns. It needs neither `std` nor an allocator, and it
//! contains no `unsafe` code.
//!
//! The modules so far:
//! - [`auth`]: the AUTHENTICATION TLV, immediate processing (clause 16.14):
//!   security associations, signing, verification and the replay window.
//! - [`tc`]: end-to-end and peer-to-peer transparent clocks (clause 10.2,
//!   11.5): forwarding with residence times in the correctionField.
//! - [`time`]: the time types of the protocol ([`time::TimeInterval`], the
//!   fixed-point correctionField) and of the servo ([`time::Time`],
//!   [`time::Duration`]).
//! - [`unicast`]: unicast negotiation as a client (clause 16.1): what a
//!   slave asks of the masters in its unicast master table.
//! - [`wire`]: every message of clause 13 and the TLVs of clause 14 and
//!   15, as checked parsers and emitters that never panic on any input.
//!
//! Feature `std` (default) adds `std::error::Error` impls; feature `serde`
//! derives `Serialize`/`Deserialize` for the plain data types.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "std")]
extern crate std;

pub mod auth;
pub mod bmca;
pub mod clock;
pub mod datasets;
pub mod instance;
pub mod management;
pub mod port;
pub mod servo;
pub mod steering;
pub mod tc;
pub mod time;
pub mod unicast;
pub mod wire;
