//! The clock the daemon steers, chosen by `[clock]`, and the conversion of
//! kernel timestamps onto its timescale.

use statime::clock::{Clock, ClockProperties};
use statime::time::{Duration, Time};

use crate::clock::{
    ClockError, ObserveOnly, PhcClock, SystemClock, UtcOffset, VirtualClock, VirtualClockConfig,
};
use crate::config::{ClockKind, Config};
use crate::net::{KernelTimestamp, TimestampSource};

/// The daemon's clock.
#[derive(Debug)]
pub enum DaemonClock {
    /// A software clock; never touches a real clock.
    Virtual(VirtualClock),
    /// CLOCK_REALTIME.
    System(SystemClock),
    /// CLOCK_REALTIME, read but never adjusted (labs, tests).
    ObserveOnly(SystemClock<ObserveOnly>),
    /// A PTP hardware clock.
    Phc(PhcClock),
}

impl DaemonClock {
    /// The clock `config` asks for. With software time stamps the PTP
    /// timescale is the kernel's CLOCK_REALTIME as is (TAI - UTC = 0), as
    /// linuxptp does; with hardware time stamps it is the PHC's (TAI).
    ///
    /// # Errors
    /// When the clock cannot be opened (missing PHC, no permission...).
    pub fn from_config(config: &Config, phc_index: Option<u32>) -> Result<Self, ClockError> {
        let software = config.software_timestamping();
        let utc_offset = if software {
            0
        } else {
            config.utc_offset.unwrap_or(37)
        };
        match config.clock_kind() {
            ClockKind::Virtual => {
                let cfg = VirtualClockConfig {
                    initial_offset: Duration::from_nanos_f64(
                        config.clock.initial_offset.as_secs_f64() * 1e9,
                    ),
                    frequency_error_ppb: config.clock.frequency_error * 1000.0,
                    utc_offset,
                    ..VirtualClockConfig::default()
                };
                Ok(Self::Virtual(VirtualClock::new(cfg)?))
            }
            ClockKind::Phc => {
                let index = phc_index.ok_or(ClockError::NoPhc {
                    interface: config
                        .ports
                        .first()
                        .map(|p| p.interface.clone())
                        .unwrap_or_default(),
                })?;
                Ok(Self::Phc(PhcClock::open(index)?))
            }
            ClockKind::System | ClockKind::Auto => {
                let offset = UtcOffset::new(utc_offset);
                Ok(if config.clock.observe_only {
                    Self::ObserveOnly(SystemClock::observe_only(offset))
                } else {
                    Self::System(SystemClock::new(offset))
                })
            }
        }
    }

    /// A kernel timestamp on this clock's timescale: hardware stamps are
    /// PHC readings already; software stamps are CLOCK_REALTIME readings,
    /// mapped onto the virtual clock or offset by TAI - UTC.
    #[must_use]
    pub fn to_ptp(&self, ts: KernelTimestamp) -> Option<Time> {
        match (ts.source, self) {
            (TimestampSource::Hardware, _) => Some(ts.time),
            (TimestampSource::Software, Self::Virtual(v)) => v.time_at_reference(ts.time).ok(),
            (TimestampSource::Software, Self::System(s)) => s.utc_offset().to_tai(ts.time),
            (TimestampSource::Software, Self::ObserveOnly(s)) => s.utc_offset().to_tai(ts.time),
            (TimestampSource::Software, Self::Phc(_)) => Some(ts.time),
        }
    }

    /// For a virtual clock: its true error (itself minus the reference
    /// clock it models).
    #[must_use]
    pub fn true_error(&self) -> Option<Duration> {
        match self {
            Self::Virtual(v) => v.true_error().ok(),
            _ => None,
        }
    }

    fn inner(&self) -> &dyn Clock<Error = ClockError> {
        match self {
            Self::Virtual(c) => c,
            Self::System(c) => c,
            Self::ObserveOnly(c) => c,
            Self::Phc(c) => c,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Clock<Error = ClockError> {
        match self {
            Self::Virtual(c) => c,
            Self::System(c) => c,
            Self::ObserveOnly(c) => c,
            Self::Phc(c) => c,
        }
    }
}

impl Clock for DaemonClock {
    type Error = ClockError;

    fn now(&self) -> Result<Time, ClockError> {
        self.inner().now()
    }

    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ClockError> {
        self.inner_mut().adjust_frequency(ppb)
    }

    fn step(&mut self, offset: Duration) -> Result<(), ClockError> {
        self.inner_mut().step(offset)
    }

    fn max_frequency_ppb(&self) -> f64 {
        self.inner().max_frequency_ppb()
    }

    fn set_properties(&mut self, properties: &ClockProperties) -> Result<(), ClockError> {
        self.inner_mut().set_properties(properties)
    }
}
