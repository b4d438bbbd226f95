//! From the configuration to the core's data sets and settings.

use statime::datasets::{DefaultDS, PortDS, TimePropertiesDS};
use statime::port::PortConfig;
use statime::servo::{KalmanConfig, PiConfig, ServoConfig};
use statime::time::TimeInterval;
use statime::wire::{ClockAccuracy, ClockIdentity, ClockQuality, PortIdentity, SdoId};

use super::{
    ClockKind, Config, ConfigDuration, KalmanSettings, PiSettings, PortSettings, Timestamping,
};

impl Config {
    /// The number of ports, as defaultDS.numberPorts (saturating; the
    /// validation refuses more than 65535).
    #[must_use]
    pub fn number_ports(&self) -> u16 {
        u16::try_from(self.ports.len()).unwrap_or(u16::MAX)
    }

    /// defaultDS for this configuration. `clock_identity` is the one
    /// configured ([`Config::clock_identity`]) or, when none is, the one the
    /// daemon derives from the first port's MAC address.
    #[must_use]
    pub fn default_ds(&self, clock_identity: ClockIdentity) -> DefaultDS {
        let mut ds = DefaultDS::new(clock_identity, self.number_ports());
        ds.two_step_flag = self.two_step;
        ds.dataset_comparison = self.dataset_comparison.into();
        ds.local_priority = self.local_priority;
        ds.clock_quality = self.clock_quality();
        ds.priority1 = self.priority1;
        ds.priority2 = self.priority2;
        ds.domain_number = self.domain;
        ds.slave_only = self.slave_only;
        ds.sdo_id = SdoId::new(self.sdo_id).unwrap_or(SdoId::DEFAULT);
        ds.max_steps_removed = self.max_steps_removed;
        ds
    }

    /// The configured clockQuality (a slave-only instance still announces
    /// class 255; see [`DefaultDS::effective_clock_quality`]).
    #[must_use]
    pub fn clock_quality(&self) -> ClockQuality {
        ClockQuality {
            clock_class: self.clock_class,
            clock_accuracy: ClockAccuracy::from(self.clock_accuracy),
            offset_scaled_log_variance: self.offset_scaled_log_variance,
        }
    }

    /// The timePropertiesDS of the local time source, distributed when this
    /// instance is grandmaster. `kernel_utc_offset` is TAI - UTC as the
    /// kernel knows it (`adjtimex`), used when `utc-offset` is not set;
    /// with neither, the offset is 37 s and marked not valid.
    #[must_use]
    pub fn time_properties_ds(&self, kernel_utc_offset: Option<i16>) -> TimePropertiesDS {
        let mut tp = TimePropertiesDS {
            ptp_timescale: self.ptp_timescale,
            time_traceable: self.time_traceable,
            frequency_traceable: self.frequency_traceable,
            time_source: self.time_source.into(),
            ..TimePropertiesDS::default()
        };
        if let Some(offset) = self.utc_offset.or(kernel_utc_offset) {
            tp.current_utc_offset = offset;
            tp.current_utc_offset_valid = true;
        }
        tp
    }

    /// The core settings of port `index` (0-based; PTP port number
    /// `index + 1`), or `None` if there is no such port.
    #[must_use]
    pub fn port_config(&self, index: usize, clock_identity: ClockIdentity) -> Option<PortConfig> {
        let p = self.ports.get(index)?;
        let port_number = u16::try_from(index.checked_add(1)?).ok()?;
        Some(self.build_port_config(
            p,
            PortIdentity {
                clock_identity,
                port_number,
            },
        ))
    }

    /// The core settings of every port, numbered 1, 2, ... in file order.
    #[must_use]
    pub fn port_configs(&self, clock_identity: ClockIdentity) -> Vec<PortConfig> {
        (0..self.ports.len())
            .map_while(|i| self.port_config(i, clock_identity))
            .collect()
    }

    fn build_port_config(&self, p: &PortSettings, identity: PortIdentity) -> PortConfig {
        let mut ds = PortDS::new(identity);
        ds.log_announce_interval = p.announce_interval;
        ds.log_sync_interval = p.sync_interval;
        ds.log_min_delay_req_interval = p.delay_interval;
        ds.log_min_pdelay_req_interval = p.pdelay_interval;
        ds.announce_receipt_timeout = p.announce_receipt_timeout;
        ds.delay_mechanism = p.delay_mechanism.into();
        ds.delay_asymmetry = TimeInterval::from_nanos(p.delay_asymmetry.as_nanos());
        ds.master_only = p.master_only;
        ds.local_priority = p.local_priority;
        ds.minor_version_number = self.minor_ptp_version;
        let mut config = PortConfig::new(identity);
        config.port_ds = ds;
        config.sync_receipt_timeout = p.sync_receipt_timeout;
        config.tx_timestamp_timeout = p.tx_timestamp_timeout.to_core();
        config.fault_reset_interval = p.fault_reset_interval.to_core();
        config.delay_filter_length = p.delay_filter_length;
        config.rate_ratio_window = p.rate_ratio_window;
        config.neighbor_prop_delay_thresh =
            p.neighbor_prop_delay_thresh.map(ConfigDuration::to_core);
        config.follow_up_info = self.follow_up_info;
        config.path_trace = self.path_trace;
        config.power_profile = self.power_profile.tlv();
        let unicast_only = p.unicast_listen && p.inhibit_multicast_service;
        config.unicast = !p.unicast_master_table.is_empty() || unicast_only;
        config.multicast_service = !unicast_only;
        for (slot, a) in config
            .alternate_timescales
            .iter_mut()
            .zip(&self.alternate_timescales)
        {
            *slot = Some(a.to_core());
        }
        config
    }

    /// Whether the time stamps are software ones (any port with software
    /// time stamps makes the servo use its software settings).
    #[must_use]
    pub fn software_timestamping(&self) -> bool {
        self.ports
            .iter()
            .any(|p| p.timestamping == Timestamping::Software)
    }

    /// The clock to steer, with `auto` resolved: `phc` when the ports use
    /// hardware time stamps, else `system`.
    #[must_use]
    pub fn clock_kind(&self) -> ClockKind {
        match self.clock.kind {
            ClockKind::Auto if self.ports.is_empty() || self.software_timestamping() => {
                ClockKind::System
            }
            ClockKind::Auto => ClockKind::Phc,
            k => k,
        }
    }

    /// The core servo settings.
    #[must_use]
    pub fn servo_config(&self) -> ServoConfig {
        let s = &self.servo;
        ServoConfig {
            algorithm: s.kind.into(),
            step_threshold: s.step_threshold.as_secs_f64(),
            first_step_threshold: s.first_step_threshold.as_secs_f64(),
            max_frequency_ppb: s.max_frequency,
            stable_offset_threshold: s.stable_offset_threshold.as_secs_f64(),
            stable_sample_count: s.stable_sample_count,
            software_timestamping: self.software_timestamping(),
            pi: (&s.pi).into(),
            kalman: (&s.kalman).into(),
        }
    }
}

impl From<&PiSettings> for PiConfig {
    fn from(p: &PiSettings) -> Self {
        Self {
            proportional_const: p.proportional_const,
            integral_const: p.integral_const,
            proportional_scale: p.proportional_scale,
            proportional_exponent: p.proportional_exponent,
            proportional_norm_max: p.proportional_norm_max,
            integral_scale: p.integral_scale,
            integral_exponent: p.integral_exponent,
            integral_norm_max: p.integral_norm_max,
        }
    }
}

impl From<&KalmanSettings> for KalmanConfig {
    fn from(k: &KalmanSettings) -> Self {
        Self {
            frequency_wander: k.frequency_wander,
            white_frequency_noise: k.white_frequency_noise,
            timestamp_noise: k.timestamp_noise.as_secs_f64(),
            software_timestamp_noise: k.software_timestamp_noise.as_secs_f64(),
            delay_weight: k.delay_weight,
            delay_window_block: k.delay_window_block,
            outlier_sigma: k.outlier_sigma,
            outlier_floor: k.outlier_floor.as_secs_f64(),
            reacquire_after: k.reacquire_after,
            phase_time_constant: k.phase_time_constant,
            initial_noise: k.initial_noise.as_secs_f64(),
            noise_learning_rate: k.noise_learning_rate,
        }
    }
}
