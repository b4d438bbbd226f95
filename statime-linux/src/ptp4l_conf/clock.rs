//! The clock-wide options (`[global]` only in ptp4l).

use std::collections::BTreeMap;

use crate::config::{ConfigDuration, parse_clock_identity};

use super::Setting;
use super::out::{Out, Src, boolean, duration, entry, float, quote, set};
use super::port::no_effect;
use super::values::{c_int, choice, flag, int_in, real, seconds};

// ---------------------------------------------------------------------
// The conversion.

/// ptp4l's port options (the ones a port section may set).
pub(super) const PORT_OPTIONS: &[&str] = &[
    "announceReceiptTimeout",
    "asCapable",
    "BMCA",
    "boundary_clock_jbod",
    "delayAsymmetry",
    "delay_filter",
    "delay_filter_length",
    "delay_mechanism",
    "egressLatency",
    "fault_badpeernet_interval",
    "fault_reset_interval",
    "follow_up_info",
    "G.8275.portDS.localPriority",
    "hybrid_e2e",
    "ignore_source_id",
    "ignore_transport_specific",
    "inhibit_announce",
    "inhibit_delay_req",
    "inhibit_multicast_service",
    "ingressLatency",
    "logAnnounceInterval",
    "logMinDelayReqInterval",
    "logMinPdelayReqInterval",
    "logSyncInterval",
    "masterOnly",
    "min_neighbor_prop_delay",
    "msg_interval_request",
    "neighborPropDelayThresh",
    "net_sync_monitor",
    "network_transport",
    "operLogPdelayReqInterval",
    "operLogSyncInterval",
    "p2p_dst_mac",
    "path_trace_enabled",
    "phc_index",
    "ptp_dst_mac",
    "serverOnly",
    "spp",
    "active_key_id",
    "allow_unauth",
    "syncReceiptTimeout",
    "transportSpecific",
    "tsproc_mode",
    "udp_ttl",
    "unicast_listen",
    "unicast_master_table",
    "unicast_req_duration",
];

pub(super) fn is_port_option(name: &str) -> bool {
    PORT_OPTIONS.contains(&name)
}

/// Clock-wide ptp4l options that statime sets per port: taken from
/// `[global]` into every port.
pub(super) const PER_PORT_CLOCK_OPTIONS: &[&str] = &["udp6_scope", "tx_timestamp_timeout"];

/// The clock-wide options [`clock_option`] knows (for a better message when
/// one is written in a port section).
pub(super) const CLOCK_OPTIONS: &[&str] = &[
    "twoStepFlag",
    "slaveOnly",
    "clientOnly",
    "priority1",
    "priority2",
    "domainNumber",
    "clockClass",
    "clockAccuracy",
    "offsetScaledLogVariance",
    "clockIdentity",
    "maxStepsRemoved",
    "utc_offset",
    "free_running",
    "time_stamping",
    "clock_servo",
    "pi_proportional_const",
    "pi_integral_const",
    "pi_proportional_scale",
    "pi_proportional_exponent",
    "pi_proportional_norm_max",
    "pi_integral_scale",
    "pi_integral_exponent",
    "pi_integral_norm_max",
    "step_threshold",
    "first_step_threshold",
    "max_frequency",
    "servo_offset_threshold",
    "servo_num_offset_values",
    "logging_level",
    "verbose",
    "use_syslog",
    "summary_interval",
    "uds_address",
    "timeSource",
    "dataset_comparison",
    "G.8275.defaultDS.localPriority",
    "clock_type",
    "socket_priority",
    "gmCapable",
    "freq_est_interval",
    "assume_two_step",
    "tc_spanning_tree",
    "check_fup_sync",
    "sanity_freq_limit",
    "initial_delay",
    "ntpshm_segment",
    "dscp_event",
    "dscp_general",
    "kernel_leap",
    "hwts_filter",
    "write_phase_mode",
    "slave_event_monitor",
    "message_tag",
    "productDescription",
    "revisionData",
    "userDescription",
    "manufacturerIdentity",
];

/// Clock-wide facts the port conversion needs.
#[derive(Clone, Debug, Default)]
pub(super) struct Clock {
    /// Hardware time stamps (ptp4l's default) rather than software ones.
    pub(super) hardware: bool,
    /// Where `time_stamping` was written, for the port comments.
    pub(super) timestamping_comment: String,
    /// Its line (0: not written).
    pub(super) timestamping_line: usize,
    /// `dataset_comparison G.8275.x`: the telecom BMCA.
    pub(super) telecom: bool,
    pub(super) one_step: bool,
    pub(super) slave_only: bool,
    /// `clock_type P2P_TC` or `E2E_TC`.
    pub(super) transparent: bool,
    /// ptp4l's `summary_interval` (default 0).
    pub(super) summary_interval: i64,
}

/// One clock-wide (non-port) option from `[global]`.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per ptp4l option reads best as one table"
)]
pub(super) fn clock_option<'a>(
    out: &mut Out,
    clock: &mut Clock,
    two_step_flag: &mut Option<Src<'a>>,
    src: Src<'a>,
) -> Result<(), String> {
    let s = src.setting;
    let v = s.value.as_str();
    match s.name.as_str() {
        "twoStepFlag" => {
            if !flag(src)? {
                *two_step_flag = Some(src);
            }
        }
        "slaveOnly" | "clientOnly" => {
            if flag(src)? {
                clock.slave_only = true;
                set(&mut out.top, entry("slave-only", boolean(true), src));
            }
        }
        "priority1" => {
            let n = int_in(src, 0, 255)?;
            set(&mut out.top, entry("priority1", n.to_string(), src));
        }
        "priority2" => {
            let n = int_in(src, 0, 255)?;
            set(&mut out.top, entry("priority2", n.to_string(), src));
        }
        "domainNumber" => {
            let n = int_in(src, 0, 255)?;
            set(&mut out.top, entry("domain", n.to_string(), src));
        }
        "clockClass" => {
            let n = int_in(src, 0, 255)?;
            // Applied after slaveOnly is known (see below).
            set(&mut out.top, entry("clock-class", n.to_string(), src));
        }
        "clockAccuracy" => {
            let n = int_in(src, 0, 255)?;
            set(
                &mut out.top,
                entry("clock-accuracy", format!("{n:#04x}"), src),
            );
        }
        "offsetScaledLogVariance" => {
            let n = int_in(src, 0, 0xFFFF)?;
            set(
                &mut out.top,
                entry("offset-scaled-log-variance", format!("{n:#06x}"), src),
            );
        }
        "clockIdentity" => {
            let id = parse_clock_identity(v).map_err(|e| format!("clockIdentity: {e}"))?;
            if id.0 == [0; 8] {
                // ptp4l's "generate it": statime derives it from the MAC too.
            } else if id.0 == [0xFF; 8] {
                out.drop(src, "the all-ones identity addresses every clock");
            } else {
                set(&mut out.top, entry("clock-identity", quote(v), src));
            }
        }
        "maxStepsRemoved" => {
            let n = int_in(src, 2, 255)?;
            set(&mut out.top, entry("max-steps-removed", n.to_string(), src));
        }
        "utc_offset" => {
            let n = int_in(src, 0, i64::from(i16::MAX))?;
            set(&mut out.top, entry("utc-offset", n.to_string(), src));
        }
        "free_running" => {
            if flag(src)? {
                set(&mut out.clock, entry("observe-only", boolean(true), src));
            }
        }
        "time_stamping" => {
            let mode = choice(
                src,
                &["hardware", "software", "legacy", "onestep", "p2p1step"],
            )?;
            clock.hardware = mode != 1;
            clock.timestamping_comment = src.comment();
            clock.timestamping_line = s.line;
            clock.one_step = clock.one_step || mode >= 3;
            match mode {
                2 => out.approx(
                    src,
                    "legacy (SYS_HARDWARE) time stamps are gone from Linux; converted to \
                     timestamping = \"hardware\"",
                ),
                4 => out.approx(
                    src,
                    "one-step Sync is carried over (two-step = false) but Pdelay_Resp stays \
                     two-step: statime has no one-step peer delay",
                ),
                _ => {}
            }
        }
        "clock_servo" => {
            match choice(src, &["pi", "linreg", "ntpshm", "nullf", "refclock_sock"])? {
                0 => {}
                1 => {
                    set(&mut out.servo, entry("kind", quote("kalman"), src));
                    out.approx(
                        src,
                        "statime has no linear-regression servo; its adaptive Kalman servo \
                         (kind = \"kalman\") is used instead",
                    );
                }
                _ => out.drop(
                    src,
                    "statime steers the clock itself and cannot hand offsets to another \
                     program; the converted file steers it with the PI servo",
                ),
            }
        }
        "pi_proportional_const" => pi(out, "proportional-const", src, 0.0)?,
        "pi_integral_const" => pi(out, "integral-const", src, 0.0)?,
        "pi_proportional_scale" => pi(out, "proportional-scale", src, 0.0)?,
        "pi_proportional_exponent" => pi(out, "proportional-exponent", src, f64::MIN)?,
        "pi_proportional_norm_max" => pi(out, "proportional-norm-max", src, 0.0)?,
        "pi_integral_scale" => pi(out, "integral-scale", src, 0.0)?,
        "pi_integral_exponent" => pi(out, "integral-exponent", src, f64::MIN)?,
        "pi_integral_norm_max" => pi(out, "integral-norm-max", src, 0.0)?,
        "step_threshold" => {
            let d = seconds(src)?;
            set(&mut out.servo, entry("step-threshold", duration(d), src));
        }
        "first_step_threshold" => {
            let d = seconds(src)?;
            set(
                &mut out.servo,
                entry("first-step-threshold", duration(d), src),
            );
        }
        "max_frequency" => {
            let n = int_in(src, 0, i64::from(i32::MAX))?;
            if n == 0 {
                set(&mut out.servo, entry("max-frequency", float(1e9), src));
                out.approx(
                    src,
                    "0 = the clock's own limit in ptp4l; statime needs a number and applies \
                     the clock's limit as well: max-frequency = 1000000000.0",
                );
            } else if n > 1_000_000_000 {
                set(&mut out.servo, entry("max-frequency", float(1e9), src));
                out.approx(src, "statime's limit is 1000000000 ppb");
            } else {
                #[allow(clippy::cast_precision_loss, reason = "below 2^31")]
                let f = n as f64;
                set(&mut out.servo, entry("max-frequency", float(f), src));
            }
        }
        "servo_offset_threshold" => {
            let n = int_in(src, 0, i64::from(i32::MAX))?;
            set(
                &mut out.servo,
                entry(
                    "stable-offset-threshold",
                    duration(ConfigDuration::from_nanos(n)),
                    src,
                ),
            );
        }
        "servo_num_offset_values" => {
            let n = int_in(src, 0, i64::from(i32::MAX))?;
            set(
                &mut out.servo,
                entry("stable-sample-count", n.to_string(), src),
            );
        }
        "logging_level" => {
            let n = int_in(src, 0, 7)?;
            let level = match n {
                0..=3 => "error",
                4 => "warn",
                5 | 6 => "info",
                _ => "debug",
            };
            set(&mut out.logging, entry("level", quote(level), src));
            if n <= 2 {
                out.approx(
                    src,
                    "statime's least verbose level is \"error\" (ptp4l's 3); levels 0..=2 \
                     become it",
                );
            } else if n == 5 {
                out.approx(
                    src,
                    "statime has no notice level; \"info\" is the nearest that still shows \
                     port state changes",
                );
            }
        }
        "verbose" => {
            let b = flag(src)?;
            set(&mut out.logging, entry("stdout", boolean(b), src));
        }
        "use_syslog" => {
            let b = flag(src)?;
            set(&mut out.logging, entry("syslog", boolean(b), src));
        }
        "summary_interval" => {
            let n = int_in(src, -128, 127)?;
            clock.summary_interval = n;
            if (-7..=16).contains(&n) {
                set(
                    &mut out.logging,
                    entry("summary-interval", n.to_string(), src),
                );
            } else {
                out.drop(src, "statime accepts summary intervals -7..=16");
            }
        }
        "uds_address" => {
            if v.is_empty() {
                out.drop(src, "empty path");
            } else {
                set(
                    &mut out.observability,
                    entry("management-socket", quote(v), src),
                );
            }
        }
        "timeSource" => {
            let n = int_in(src, 0, 255)?;
            let name = match n {
                0x10 => Some("atomic-clock"),
                0x20 => Some("gnss"),
                0x30 => Some("terrestrial-radio"),
                0x39 => Some("serial-time-code"),
                0x40 => Some("ptp"),
                0x50 => Some("ntp"),
                0x60 => Some("hand-set"),
                0x90 => Some("other"),
                0xA0 => Some("internal-oscillator"),
                _ => None,
            };
            match name {
                Some(t) => set(&mut out.top, entry("time-source", quote(t), src)),
                None => out.drop(
                    src,
                    "not a timeSource code IEEE 1588-2019 table 6 names; statime announces \
                     internal-oscillator",
                ),
            }
        }
        "dataset_comparison" => {
            if choice(src, &["ieee1588", "G.8275.x"])? == 1 {
                set(
                    &mut out.top,
                    entry("dataset-comparison", quote("G.8275.x"), src),
                );
            }
        }
        "G.8275.defaultDS.localPriority" => {
            let n = int_in(src, 1, 255)?;
            if let Some(v) = local_priority(out, clock.telecom, src, n) {
                set(&mut out.top, entry("local-priority", v, src));
            }
        }
        "clock_type" => {
            let names = ["OC", "BC", "P2P_TC", "E2E_TC"];
            let i = choice(src, &names)?;
            clock.transparent = i >= 2;
            if i >= 2 {
                let name = names.get(i).copied().unwrap_or("E2E_TC");
                set(
                    &mut out.top,
                    entry("clock-type", format!("\"{name}\""), src),
                );
            }
        }
        // Options with a value statime has built in: silent at ptp4l's
        // default, listed otherwise.
        "socket_priority" => default_only(out, src, "0", "statime does not set SO_PRIORITY")?,
        "gmCapable" => default_only(
            out,
            src,
            "1",
            "802.1AS gmCapable has no equivalent; use slave-only = true for a clock that must \
             never be grandmaster",
        )?,
        "freq_est_interval" => default_only(
            out,
            src,
            "1",
            "statime's servo estimates the frequency itself",
        )?,
        "assume_two_step" => default_only(out, src, "0", "no equivalent")?,
        "tc_spanning_tree" => {
            if flag(src)? {
                set(&mut out.top, entry("tc-spanning-tree", boolean(true), src));
            }
        }
        "check_fup_sync" => default_only(out, src, "0", "no equivalent")?,
        "sanity_freq_limit" => default_only(
            out,
            src,
            "200000000",
            "statime has no frequency sanity check",
        )?,
        "initial_delay" => default_only(out, src, "0", "statime waits for a measured path delay")?,
        "ntpshm_segment" => default_only(out, src, "0", "statime has no ntpshm servo")?,
        "dscp_event" | "dscp_general" => {
            default_only(out, src, "0", "statime does not mark DSCP")?;
        }
        "kernel_leap" => default_only(out, src, "1", "no equivalent")?,
        "hwts_filter" => {
            if choice(src, &["normal", "check", "full"])? != 0 {
                out.drop(src, "statime always sets the receive filter it needs");
            }
        }
        "write_phase_mode" => default_only(out, src, "0", "statime adjusts frequency only")?,
        "slave_event_monitor" => {
            out.drop(src, "no slave event monitor socket; see [observability]");
        }
        "message_tag" => {
            set(
                &mut out.logging,
                entry("message-tag", quote(&src.setting.value), src),
            );
        }
        "productDescription" => default_only(out, src, ";;", "not configurable")?,
        "revisionData" => default_only(out, src, ";;", "not configurable")?,
        "userDescription" => {
            if src.setting.value.len() > 128 {
                out.drop(src, "longer than the 128 octets of a PTPText");
            } else if src.setting.value != ";" {
                set(
                    &mut out.top,
                    entry("user-description", quote(&src.setting.value), src),
                );
            }
        }
        "manufacturerIdentity" => default_only(out, src, "00:00:00", "not configurable")?,
        "sa_file" => {
            if !src.setting.value.is_empty() {
                set(
                    &mut out.top,
                    entry("sa-file", quote(&src.setting.value), src),
                );
            }
        }
        name if name.starts_with("ts2phc.") => out.drop(
            src,
            "a ts2phc(8) option: this looks like a ts2phc configuration, not ptp4l's",
        ),
        _ => out.drop(
            src,
            "unknown to statime-ctl convert (not a linuxptp 3.1.1 ptp4l option it maps)",
        ),
    }
    Ok(())
}

/// What `slaveOnly 1` makes of the clock quality options (in ptp4l as in
/// statime a slave-only clock announces class 255 and serves no time).
pub(super) fn slave_only_effects(out: &mut Out, clock: &Clock, global: &BTreeMap<&str, &Setting>) {
    let src = |name: &str| {
        global.get(name).map(|s| Src {
            setting: s,
            section: None,
        })
    };
    if let Some(class) = src("clockClass") {
        let n = c_int(&class.setting.value).unwrap_or(248);
        if clock.slave_only {
            out.top.retain(|e| e.key != "clock-class");
            if n != 248 && n != 255 {
                out.drop(
                    class,
                    "has no effect with slaveOnly 1, in ptp4l either: a slave-only clock \
                     announces class 255",
                );
            }
        } else if n == 255 {
            out.top.retain(|e| e.key != "clock-class");
            out.drop(
                class,
                "class 255 is for slave-only clocks (statime refuses it otherwise); set \
                 slaveOnly 1 to make this clock one",
            );
        }
    }
    if clock.slave_only
        && let Some(utc) = src("utc_offset")
    {
        out.top.retain(|e| e.key != "utc-offset");
        no_effect(
            out,
            utc,
            "37",
            "with slaveOnly 1 (only a grandmaster announces it)",
        );
    }
}

/// `G.8275.*.localPriority`: carried with the telecom BMCA (the value to
/// write); without it, it has no effect, in ptp4l either.
pub(super) fn local_priority(out: &mut Out, telecom: bool, src: Src<'_>, n: i64) -> Option<String> {
    if telecom {
        Some(n.to_string())
    } else {
        no_effect(out, src, "128", "without dataset_comparison G.8275.x");
        None
    }
}

pub(super) fn pi(out: &mut Out, key: &'static str, src: Src<'_>, min: f64) -> Result<(), String> {
    let v = real(src, min)?;
    set(&mut out.servo_pi, entry(key, float(v), src));
    Ok(())
}

/// An option statime has built in at ptp4l's `default`: silent there,
/// listed with `reason` otherwise.
pub(super) fn default_only(
    out: &mut Out,
    src: Src<'_>,
    default: &str,
    reason: &str,
) -> Result<(), String> {
    let v = &src.setting.value;
    let same = match (c_int(v), c_int(default)) {
        (Some(a), Some(b)) => a == b,
        _ => v.eq_ignore_ascii_case(default),
    };
    if !same {
        out.drop(src, reason);
    }
    Ok(())
}
