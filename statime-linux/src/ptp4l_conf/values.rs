//! Option values, read as ptp4l reads them.

use crate::config::{ConfigDuration, parse_duration};

use super::out::Src;

// ---------------------------------------------------------------------
// Values, read as ptp4l reads them.

/// An integer as `strtol(s, &end, 0)` reads a whole string: decimal, `0x`
/// hex or `0` octal, with an optional sign.
pub(super) fn c_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let (radix, body) = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, h)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, digits.get(1..)?)
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(body, radix).ok()?;
    Some(if neg { -v } else { v })
}

pub(super) fn int_in(src: Src<'_>, min: i64, max: i64) -> Result<i64, String> {
    let s = &src.setting;
    match c_int(&s.value) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(v) => Err(format!(
            "{}: {v} is out of ptp4l's range {min}..={max}",
            s.name
        )),
        None => Err(format!(
            "{}: \"{}\" is not an integer (ptp4l allows comments only on lines of their own)",
            s.name, s.value
        )),
    }
}

pub(super) fn flag(src: Src<'_>) -> Result<bool, String> {
    int_in(src, 0, 1).map(|v| v == 1)
}

pub(super) fn real(src: Src<'_>, min: f64) -> Result<f64, String> {
    let s = &src.setting;
    match s.value.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= min => Ok(v),
        Ok(v) => Err(format!(
            "{}: {v} is out of ptp4l's range (a finite number >= {min})",
            s.name
        )),
        Err(_) => Err(format!("{}: \"{}\" is not a number", s.name, s.value)),
    }
}

/// Seconds written as ptp4l's `%lf`, to the nanosecond.
pub(super) fn seconds(src: Src<'_>) -> Result<ConfigDuration, String> {
    let v = real(src, 0.0)?;
    if let Ok(d) = parse_duration(&format!("{}s", src.setting.value)) {
        return Ok(d);
    }
    let ns = (v * 1e9).round();
    if ns < 9.2e18 {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "checked against the i64 range"
        )]
        Ok(ConfigDuration::from_nanos(ns as i64))
    } else {
        Err(format!("{}: {v} s is too large", src.setting.name))
    }
}

/// One of `names` (case-insensitive, as ptp4l); returns the index.
pub(super) fn choice(src: Src<'_>, names: &[&str]) -> Result<usize, String> {
    let s = &src.setting;
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(&s.value))
        .ok_or_else(|| {
            format!(
                "{}: \"{}\" is not one of {}",
                s.name,
                s.value,
                names.join(", ")
            )
        })
}
