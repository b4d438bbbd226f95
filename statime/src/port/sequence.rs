//! Sequence-number arithmetic (IEEE 1588-2019 clause 7.3.7: sequenceId is a
//! 16-bit counter that wraps).

/// Whether `a` is newer than `b` in the 16-bit wrapping sequence space
/// (serial-number arithmetic: the forward distance is below 2^15).
#[must_use]
pub const fn is_newer(a: u16, b: u16) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < 0x8000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps() {
        assert!(is_newer(1, 0));
        assert!(!is_newer(0, 1));
        assert!(!is_newer(5, 5));
        assert!(is_newer(0, 0xFFFF));
        assert!(is_newer(0x7FFF, 0));
        assert!(!is_newer(0x8000, 0));
    }
}
