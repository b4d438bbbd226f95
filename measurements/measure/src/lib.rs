//! `measure`: one tool for PTP accuracy measurements, as operators and time
//! labs make them.
//!
//! - [`capture`]: record offsets from our daemon (status socket or log),
//!   from ptp4l/phc2sys logs, true errors of a virtual clock, and PPS edges
//!   time-stamped by a reference PHC, with progress and clean Ctrl-C;
//! - [`data`]: load a run directory's series (CSV files, or simulator runs
//!   through `statime_sim`);
//! - [`stats`]: mean (constant offset), the 90% interval, SD, RMS, max,
//!   percentiles, convergence, frequency, TDEV, MTIE and Allan deviation;
//! - [`plot`]: PNG figures (offset over time, histogram, stability curves);
//! - [`report`]: the Markdown report in `reports/YYYY-MM-DD-<setup>/`;
//! - [`overlay`]: the overlay's source intervals, intersection and true
//!   time over time, from status snapshots (PNG and counts);
//! - [`pps`]: PTP pin / EXTTS / PEROUT ioctls for the PPS lab mode (the
//!   crate's only `unsafe`), and the Ctrl-C flag;
//! - [`manifest`], [`series`], [`parse`]: the run directory's files and the
//!   daemons' output formats.

pub mod capture;
pub mod data;
pub mod manifest;
pub mod overlay;
pub mod parse;
pub mod plot;
pub mod pps;
pub mod report;
pub mod series;
pub mod stats;
