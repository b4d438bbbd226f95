//! Nothing here: see `benches/codec.rs`.

#![no_std]
