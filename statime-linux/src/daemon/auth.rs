//! Per-port message authentication (IEEE 1588-2019 clause 16.14, immediate
//! processing): every message a port with `spp` sends carries an
//! AUTHENTICATION TLV signed with its `active-key-id`; every message it
//! receives must carry a valid one of the same association (any of its
//! keys) and, for Sync and Follow_Up, a sequenceId inside the replay window.
//! What fails is dropped before the protocol sees it and counted by reason.
//!
//! The cryptography and the checks are the core's (`statime::auth`); this
//! is the daemon's bookkeeping around them.

use statime::auth::{self, AuthError, SecurityAssociation, SeqIdWindow};

/// A port's authentication state.
#[derive(Clone, Debug)]
pub struct PortAuth {
    sa: SecurityAssociation,
    key_id: u32,
    window: SeqIdWindow,
    /// Messages refused, by [`AuthError::index`].
    pub rejected: [u64; AuthError::ALL.len()],
    /// Messages accepted.
    pub verified: u64,
    /// Messages signed.
    pub signed: u64,
}

impl PortAuth {
    /// A port signing with key `key_id` of `sa`.
    #[must_use]
    pub fn new(sa: SecurityAssociation, key_id: u32) -> Self {
        Self {
            sa,
            key_id,
            window: SeqIdWindow::default(),
            rejected: [0; AuthError::ALL.len()],
            verified: 0,
            signed: 0,
        }
    }

    /// The association's spp.
    #[must_use]
    pub const fn spp(&self) -> u8 {
        self.sa.spp
    }

    /// Check a received message; `Err` means drop it (counted here).
    ///
    /// # Errors
    /// Why the message is refused.
    pub fn check(&mut self, msg: &[u8]) -> Result<(), AuthError> {
        let r =
            auth::verify(&self.sa, msg).and_then(|_| self.window.check(msg, self.sa.seqid_window));
        match r {
            Ok(()) => self.verified = self.verified.saturating_add(1),
            Err(e) => {
                let slot = &mut self.rejected[e.index()];
                *slot = slot.saturating_add(1);
            }
        }
        r
    }

    /// Sign the message in `buf[..len]` in place; the new length.
    ///
    /// # Errors
    /// The buffer is too small or the message malformed (counted).
    pub fn sign(&mut self, buf: &mut [u8], len: usize) -> Result<usize, AuthError> {
        let r = auth::sign(&self.sa, self.key_id, buf, len);
        match r {
            Ok(_) => self.signed = self.signed.saturating_add(1),
            Err(e) => {
                let slot = &mut self.rejected[e.index()];
                *slot = slot.saturating_add(1);
            }
        }
        r
    }

    /// Refused messages, by reason name, for the snapshot (only non-zero).
    #[must_use]
    pub fn rejected_by_reason(&self) -> Vec<(&'static str, u64)> {
        AuthError::ALL
            .iter()
            .zip(self.rejected)
            .filter(|(_, n)| *n > 0)
            .map(|(e, n)| (e.name(), n))
            .collect()
    }
}

/// `data` signed by `auth` into `scratch` (or `data` itself without
/// authentication); `None` when it cannot be signed (counted).
pub fn outgoing<'a>(
    auth: Option<&mut PortAuth>,
    data: &'a [u8],
    scratch: &'a mut [u8],
) -> Option<&'a [u8]> {
    let Some(a) = auth else {
        return Some(data);
    };
    let copy = scratch.get_mut(..data.len())?;
    copy.copy_from_slice(data);
    let len = a.sign(scratch, data.len()).ok()?;
    scratch.get(..len)
}

/// Sign the message in `buf[..len]` in place when the port has `spp`:
/// its length with the AUTHENTICATION TLV, or `len` without `spp`. `None`
/// when it cannot be signed (counted by the port; the message is lost as
/// on the wire).
pub fn sign_in_place(auth: Option<&mut PortAuth>, buf: &mut [u8], len: usize) -> Option<usize> {
    match auth {
        Some(a) => a.sign(buf, len).ok(),
        None => Some(len),
    }
}

#[cfg(test)]
mod tests {
    use statime::auth::{Algorithm, SaKey};

    use super::*;

    fn port() -> PortAuth {
        let mut sa = SecurityAssociation::new(1);
        sa.add_key(SaKey::new(1, Algorithm::HmacSha256_128, b"key one").unwrap())
            .unwrap();
        sa.add_key(SaKey::new(2, Algorithm::HmacSha256, b"key two").unwrap())
            .unwrap();
        PortAuth::new(sa, 1)
    }

    fn announce(seq: u16) -> Vec<u8> {
        let mut m = vec![0u8; 64];
        m[0] = 0x0B;
        m[1] = 0x12;
        m[2..4].copy_from_slice(&64u16.to_be_bytes());
        m[30..32].copy_from_slice(&seq.to_be_bytes());
        m
    }

    #[test]
    fn what_one_port_signs_another_accepts_and_tampering_is_counted() {
        let mut a = port();
        let mut b = port();
        let mut scratch = [0u8; 1500];
        let m = announce(1);
        let signed = outgoing(Some(&mut a), &m, &mut scratch).unwrap().to_vec();
        assert_eq!(signed.len(), 64 + 10 + 16);
        assert_eq!(a.signed, 1);
        assert_eq!(b.check(&signed), Ok(()));
        let mut bad = signed.clone();
        bad[40] ^= 1;
        assert_eq!(b.check(&bad), Err(AuthError::BadIcv));
        assert_eq!(b.check(&m), Err(AuthError::Missing));
        assert_eq!(b.verified, 1);
        assert_eq!(b.rejected_by_reason(), vec![("missing", 1), ("bad_icv", 1)]);
        // Without authentication the bytes go out unchanged.
        assert_eq!(outgoing(None, &m, &mut scratch).unwrap(), &m[..]);
        // No room: not sent, counted.
        let mut tiny = [0u8; 70];
        assert!(outgoing(Some(&mut a), &m, &mut tiny).is_none());
        assert_eq!(a.rejected[AuthError::NoRoom.index()], 1);
    }
}
