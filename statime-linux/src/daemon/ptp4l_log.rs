//! Log lines in linuxptp's formats, so the scrapers operators already run
//! against ptp4l (OpenShift's linuxptp-daemon, journald pipelines) read ours
//! unchanged.

use statime::steering::SteeringReport;
use statime::wire::ClockIdentity;
use statime::wire::tlv::PortState;

/// ptp4l's name of a port state.
#[must_use]
pub const fn state_name(s: PortState) -> &'static str {
    s.name()
}

/// `master offset %10d s%d freq %+7.0f path delay %9d` (ptp4l's per-sample line).
#[must_use]
pub fn sample_line(r: &SteeringReport) -> String {
    format!(
        "master offset {:>10} s{} freq {:>+7.0} path delay {:>9}",
        r.offset.nanos_floor(),
        r.state.ptp4l_code(),
        r.frequency_ppb,
        r.path_delay.nanos_floor()
    )
}

/// `port N (iface): A to B on EVENT` (ptp4l 4.x state change line). As
/// ptp4l does, a `FAULT_DETECTED` event names the fault type after it:
/// `... on FAULT_DETECTED (FT_UNSPECIFIED)` (statime does not classify
/// faults, so the type is always ptp4l's generic one).
#[must_use]
pub fn state_line(
    port_number: u16,
    interface: &str,
    from: PortState,
    to: PortState,
    event: &str,
) -> String {
    let fault = if event == "FAULT_DETECTED" {
        " (FT_UNSPECIFIED)"
    } else {
        ""
    };
    format!(
        "port {port_number} ({interface}): {} to {} on {event}{fault}",
        state_name(from),
        state_name(to)
    )
}

/// The ptp4l event name for a state change (clause 9.2.6 events, as ptp4l
/// spells them).
#[must_use]
pub fn transition_event(from: PortState, to: PortState) -> &'static str {
    match (from, to) {
        (PortState::Initializing, PortState::Listening) => "INIT_COMPLETE",
        (_, PortState::Faulty) => "FAULT_DETECTED",
        (PortState::Faulty, _) => "FAULT_CLEARED",
        (PortState::Uncalibrated, PortState::Slave) => "MASTER_CLOCK_SELECTED",
        (PortState::Slave, PortState::Uncalibrated) => "SYNCHRONIZATION_FAULT",
        (_, PortState::Uncalibrated) => "RS_SLAVE",
        (PortState::PreMaster, PortState::Master) => "QUALIFICATION_TIMEOUT_EXPIRES",
        (
            PortState::Listening | PortState::Slave | PortState::Uncalibrated | PortState::Passive,
            PortState::Master,
        ) => "ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES",
        (_, PortState::Master | PortState::PreMaster) => "RS_MASTER",
        (_, PortState::Passive) => "RS_PASSIVE",
        (_, PortState::Listening) => "RS_LISTENING",
        _ => "STATE_DECISION_EVENT",
    }
}

/// `selected best master clock 001b19.fffe.000001`.
#[must_use]
pub fn best_master_line(gm: ClockIdentity) -> String {
    format!("selected best master clock {gm}")
}

/// `selected local clock 001b19.fffe.000001 as best master`: ptp4l's line
/// when the state decision picks the local clock (it precedes
/// [`grand_master_line`]).
#[must_use]
pub fn local_best_master_line(own: ClockIdentity) -> String {
    format!("selected local clock {own} as best master")
}

/// `port N (iface): assuming the grand master role` (ptp4l 4.x; 3.x left
/// out the port).
#[must_use]
pub fn grand_master_line(port_number: u16, interface: &str) -> String {
    format!("port {port_number} ({interface}): assuming the grand master role")
}

/// phc2sys's per-sample line for the system clock following a PHC:
/// `CLOCK_REALTIME phc offset %9d s%d freq %+7.0f delay %6d` (offset and
/// delay in ns, frequency adjustment in ppb). phc2sys prints it under its
/// own prefix, `phc2sys[SECONDS.mmm]: `; scrapers match both the prefix and
/// the `freq` field.
#[must_use]
pub fn phc2sys_line(offset_ns: i64, state_code: u8, freq_ppb: f64, delay_ns: i64) -> String {
    format!(
        "CLOCK_REALTIME phc offset {offset_ns:>9} s{state_code} freq {freq_ppb:>+7.0} delay {delay_ns:>6}"
    )
}

/// Accumulates samples for ptp4l's summary line
/// `rms %4.0f max %4.0f freq %+6.0f +/- %3.0f delay %5.0f +/- %3.0f`.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    n: u64,
    sum_sq_offset: f64,
    max_abs_offset: f64,
    freq: Stat,
    delay: Stat,
}

#[derive(Clone, Debug, Default)]
struct Stat {
    sum: f64,
    sum_sq: f64,
}

impl Stat {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.sum_sq += x * x;
    }
    fn mean_sd(&self, n: f64) -> (f64, f64) {
        let mean = self.sum / n;
        (mean, (self.sum_sq / n - mean * mean).max(0.0).sqrt())
    }
}

impl Summary {
    /// Add a sample.
    pub fn add(&mut self, r: &SteeringReport) {
        let off = r.offset.nanos_f64();
        self.n += 1;
        self.sum_sq_offset += off * off;
        self.max_abs_offset = self.max_abs_offset.max(off.abs());
        self.freq.add(r.frequency_ppb);
        self.delay.add(r.path_delay.nanos_f64());
    }

    /// The summary line, then reset; `None` when no sample arrived.
    pub fn take_line(&mut self) -> Option<String> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let rms = (self.sum_sq_offset / n).sqrt();
        let (f, fsd) = self.freq.mean_sd(n);
        let (d, dsd) = self.delay.mean_sd(n);
        let line = format!(
            "rms {rms:>4.0} max {:>4.0} freq {f:>+6.0} +/- {fsd:>3.0} delay {d:>5.0} +/- {dsd:>3.0}",
            self.max_abs_offset
        );
        *self = Self::default();
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statime::servo::ServoState;
    use statime::time::Duration;

    fn report(offset: i64, freq: f64, delay: i64) -> SteeringReport {
        SteeringReport {
            port: 0,
            offset: Duration::from_nanos(offset),
            path_delay: Duration::from_nanos(delay),
            state: ServoState::Locked,
            frequency_ppb: freq,
            stepped: false,
            rejected: false,
        }
    }

    #[test]
    fn sample_line_matches_ptp4l() {
        assert_eq!(
            sample_line(&report(-12, 4321.4, 2190)),
            "master offset        -12 s2 freq   +4321 path delay      2190"
        );
    }

    #[test]
    fn state_lines() {
        let l = state_line(
            1,
            "eth0",
            PortState::Listening,
            PortState::Uncalibrated,
            "RS_SLAVE",
        );
        assert_eq!(l, "port 1 (eth0): LISTENING to UNCALIBRATED on RS_SLAVE");
        assert_eq!(
            transition_event(PortState::Uncalibrated, PortState::Slave),
            "MASTER_CLOCK_SELECTED"
        );
        assert_eq!(
            best_master_line(ClockIdentity([0, 0x1b, 0x19, 0xff, 0xfe, 0, 0, 1])),
            "selected best master clock 001b19.fffe.000001"
        );
        // ptp4l's port_show_transition names the fault type.
        let f = state_line(
            2,
            "eth1",
            PortState::Slave,
            PortState::Faulty,
            transition_event(PortState::Slave, PortState::Faulty),
        );
        assert_eq!(
            f,
            "port 2 (eth1): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)"
        );
        assert_eq!(
            local_best_master_line(ClockIdentity([0, 0x1b, 0x19, 0xff, 0xfe, 0, 0, 1])),
            "selected local clock 001b19.fffe.000001 as best master"
        );
        assert_eq!(
            grand_master_line(1, "eth0"),
            "port 1 (eth0): assuming the grand master role"
        );
    }

    #[test]
    fn phc2sys_line_matches_phc2sys() {
        assert_eq!(
            phc2sys_line(-62, 2, -78368.4, 1100),
            "CLOCK_REALTIME phc offset       -62 s2 freq  -78368 delay   1100"
        );
    }

    #[test]
    fn summary() {
        let mut s = Summary::default();
        assert_eq!(s.take_line(), None);
        s.add(&report(3, 100.0, 1000));
        s.add(&report(-4, 110.0, 1010));
        let line = s.take_line().unwrap();
        assert_eq!(
            line,
            "rms    4 max    4 freq   +105 +/-   5 delay  1005 +/-   5"
        );
        assert_eq!(s.take_line(), None);
    }
}
