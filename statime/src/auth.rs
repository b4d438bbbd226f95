//! Message authentication with the AUTHENTICATION TLV, immediate processing
//! (IEEE 1588-2019 clause 16.14 and Annex P, prong A).
//!
//! A port with a security association appends an AUTHENTICATION TLV
//! (clause 16.14.3, tlvType 0x8009) as the **last** TLV of every message it
//! sends: `spp` names the association, `keyID` the key, and the integrity
//! check value (ICV) is an HMAC over the message from its first octet up to
//! the ICV itself, with messageLength already counting the whole TLV. With
//! `allow_mutable` the correctionField is taken as zero for the ICV, so that
//! transparent clocks may update it (clause 16.14.3.7): it is then not
//! protected.
//!
//! On receipt [`verify`] checks that the message ends with such a TLV for
//! the port's association, with a known key, the expected layout (immediate
//! processing: no disclosedKey; no sequenceNo or RES fields) and a matching
//! ICV, compared in constant time. [`SeqIdWindow`] adds the replay check on
//! the sequenceId of Sync and Follow_Up messages.
//!
//! The layouts and the file format of `statime-linux`'s `sa-file` follow
//! linuxptp's (`sa_file`, `spp`, `active_key_id`), so one key file serves
//! both. Supported algorithms: HMAC-SHA256 and HMAC-SHA256-128 (the first
//! 16 octets). One-step Sync cannot be authenticated (the hardware rewrites
//! originTimestamp after the ICV was computed).
//!
//! Sans-IO and allocation-free: the caller passes the bytes.

use arrayvec::ArrayVec;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// tlvType of the AUTHENTICATION TLV (clause 14.1.1, Table 52).
pub const TLV_TYPE: u16 = 0x8009;

/// Octets of the TLV before its ICV: tlvType, lengthField, spp,
/// secParamIndicator, keyID (clause 16.14.3).
pub const TLV_FIXED_LEN: usize = 10;

/// The longest key accepted, octets (the HMAC-SHA256 block size).
pub const MAX_KEY_LEN: usize = 64;

/// The most keys one association holds.
pub const MAX_KEYS: usize = 16;

/// An integrity algorithm (clause 16.14.4 lists HMAC-SHA256 as mandatory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-SHA256 truncated to its first 128 bits (linuxptp `SHA256-128`).
    HmacSha256_128,
    /// HMAC-SHA256, 256-bit ICV (linuxptp `SHA256`).
    HmacSha256,
}

impl Algorithm {
    /// The ICV length, octets.
    #[must_use]
    pub const fn icv_len(self) -> usize {
        match self {
            Self::HmacSha256_128 => 16,
            Self::HmacSha256 => 32,
        }
    }

    /// linuxptp's name for it in an `sa_file`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::HmacSha256_128 => "SHA256-128",
            Self::HmacSha256 => "SHA256",
        }
    }
}

/// One key of an association.
#[derive(Clone)]
pub struct SaKey {
    id: u32,
    algorithm: Algorithm,
    key: ArrayVec<u8, MAX_KEY_LEN>,
    /// The HMAC keyed once (its inner and outer pads hashed): each message
    /// then costs two SHA-256 blocks fewer.
    keyed: HmacSha256,
}

impl PartialEq for SaKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.algorithm == other.algorithm && self.key == other.key
    }
}

impl Eq for SaKey {}

impl core::fmt::Debug for SaKey {
    /// The key material is not printed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaKey")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .field("key_len", &self.key.len())
            .finish_non_exhaustive()
    }
}

impl SaKey {
    /// A key; `None` when `id` is 0 or `key` is empty or longer than
    /// [`MAX_KEY_LEN`].
    #[must_use]
    pub fn new(id: u32, algorithm: Algorithm, key: &[u8]) -> Option<Self> {
        if id == 0 || key.is_empty() {
            return None;
        }
        Some(Self {
            id,
            algorithm,
            key: ArrayVec::try_from(key).ok()?,
            keyed: HmacSha256::new_from_slice(key).ok()?,
        })
    }

    /// Its keyID.
    #[must_use]
    pub const fn id(&self) -> u32 {
        self.id
    }

    /// Its algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn mac(&self) -> Option<HmacSha256> {
        Some(self.keyed.clone())
    }
}

/// Why an association could not take a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaError {
    /// The association already has a key with this id.
    DuplicateKey(u32),
    /// The association holds [`MAX_KEYS`] keys already.
    TooManyKeys,
}

/// A security association (clause 16.14.2): the keys a port signs and
/// verifies with, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityAssociation {
    /// spp, the security parameter pointer that names it on the wire.
    pub spp: u8,
    /// How far ahead of the last accepted Sync/Follow_Up sequenceId a new
    /// one may be (0: no replay check); linuxptp's `seqid_window`, default 3.
    pub seqid_window: u16,
    /// Leave the correctionField out of the ICV (zero it for the hash), so
    /// transparent clocks may change it; linuxptp's `allow_mutable`.
    pub allow_mutable: bool,
    keys: ArrayVec<SaKey, MAX_KEYS>,
}

impl SecurityAssociation {
    /// An association with no keys and linuxptp's defaults.
    #[must_use]
    pub const fn new(spp: u8) -> Self {
        Self {
            spp,
            seqid_window: 3,
            allow_mutable: false,
            keys: ArrayVec::new_const(),
        }
    }

    /// Add a key.
    ///
    /// # Errors
    /// A key with the same id exists, or the association is full.
    pub fn add_key(&mut self, key: SaKey) -> Result<(), SaError> {
        if self.key(key.id).is_some() {
            return Err(SaError::DuplicateKey(key.id));
        }
        self.keys.try_push(key).map_err(|_| SaError::TooManyKeys)
    }

    /// The key with keyID `id`.
    #[must_use]
    pub fn key(&self, id: u32) -> Option<&SaKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &[SaKey] {
        &self.keys
    }
}

/// Why a message was not signed or not accepted. Each has a stable
/// [`AuthError::name`] for counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthError {
    /// Shorter than a header, or messageLength beyond the octets given.
    Malformed,
    /// No AUTHENTICATION TLV at the end of the message.
    Missing,
    /// Another TLV follows the AUTHENTICATION TLV, or the TLVs do not tile
    /// the message.
    NotLast,
    /// The TLV names another association.
    WrongSpp,
    /// secParamIndicator asks for fields this association does not use
    /// (delayed processing, sequenceNo, RES).
    UnsupportedParams,
    /// keyID is not a key of the association.
    UnknownKey,
    /// lengthField does not match the key's ICV length.
    BadLength,
    /// The ICV does not match.
    BadIcv,
    /// A Sync or Follow_Up sequenceId outside the replay window.
    Replayed,
    /// Signing: the buffer cannot hold the TLV, or messageLength would
    /// exceed 65535.
    NoRoom,
}

impl AuthError {
    /// Every kind, in counter order.
    pub const ALL: [Self; 10] = [
        Self::Malformed,
        Self::Missing,
        Self::NotLast,
        Self::WrongSpp,
        Self::UnsupportedParams,
        Self::UnknownKey,
        Self::BadLength,
        Self::BadIcv,
        Self::Replayed,
        Self::NoRoom,
    ];

    /// A short stable name (metrics labels, status JSON).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Missing => "missing",
            Self::NotLast => "not_last",
            Self::WrongSpp => "wrong_spp",
            Self::UnsupportedParams => "unsupported_params",
            Self::UnknownKey => "unknown_key",
            Self::BadLength => "bad_length",
            Self::BadIcv => "bad_icv",
            Self::Replayed => "replayed",
            Self::NoRoom => "no_room",
        }
    }

    /// Its index in [`AuthError::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|&e| e == self).unwrap_or(0)
    }
}

impl core::fmt::Display for AuthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed message",
            Self::Missing => "no AUTHENTICATION TLV",
            Self::NotLast => "the AUTHENTICATION TLV is not the last TLV",
            Self::WrongSpp => "AUTHENTICATION TLV for another security association",
            Self::UnsupportedParams => "unsupported secParamIndicator (immediate processing only)",
            Self::UnknownKey => "unknown keyID",
            Self::BadLength => "AUTHENTICATION TLV length does not match the key",
            Self::BadIcv => "ICV mismatch",
            Self::Replayed => "sequenceId outside the replay window",
            Self::NoRoom => "no room for the AUTHENTICATION TLV",
        })
    }
}

const HEADER_LEN: usize = 34;
const CORRECTION: core::ops::Range<usize> = 8..16;

fn message_length(msg: &[u8]) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([*msg.get(2)?, *msg.get(3)?]));
    (HEADER_LEN..=msg.len()).contains(&len).then_some(len)
}

/// The MAC over `data` with the correctionField (octets 8..16) taken as
/// zero when `zero_correction`.
fn mac_over(key: &SaKey, data: &[u8], zero_correction: bool) -> Option<HmacSha256> {
    let mut mac = key.mac()?;
    if zero_correction {
        mac.update(data.get(..CORRECTION.start)?);
        mac.update(&[0; 8]);
        mac.update(data.get(CORRECTION.end..)?);
    } else {
        mac.update(data);
    }
    Some(mac)
}

/// Append an AUTHENTICATION TLV signed with key `key_id` of `sa` to the
/// message in `buf[..len]` (`len` is its messageLength), update
/// messageLength and return the new length.
///
/// # Errors
/// [`AuthError::Malformed`] when `len` is not the message's messageLength,
/// [`AuthError::UnknownKey`], [`AuthError::NoRoom`].
pub fn sign(
    sa: &SecurityAssociation,
    key_id: u32,
    buf: &mut [u8],
    len: usize,
) -> Result<usize, AuthError> {
    let key = sa.key(key_id).ok_or(AuthError::UnknownKey)?;
    if message_length(buf.get(..len).ok_or(AuthError::Malformed)?) != Some(len) {
        return Err(AuthError::Malformed);
    }
    let icv_len = key.algorithm.icv_len();
    let total = len + TLV_FIXED_LEN + icv_len;
    let total16 = u16::try_from(total).map_err(|_| AuthError::NoRoom)?;
    let out = buf.get_mut(..total).ok_or(AuthError::NoRoom)?;
    out[2..4].copy_from_slice(&total16.to_be_bytes());
    let tlv = &mut out[len..];
    tlv[0..2].copy_from_slice(&TLV_TYPE.to_be_bytes());
    // lengthField: what follows it (clause 14.1.2): spp, secParamIndicator,
    // keyID and the ICV. At most 6 + 32: the cast cannot truncate.
    tlv[2..4].copy_from_slice(&((6 + icv_len) as u16).to_be_bytes());
    tlv[4] = sa.spp;
    tlv[5] = 0; // immediate processing, no sequenceNo, no RES
    tlv[6..10].copy_from_slice(&key_id.to_be_bytes());
    let icv_at = len + TLV_FIXED_LEN;
    let digest = mac_over(key, &out[..icv_at], sa.allow_mutable)
        .ok_or(AuthError::UnknownKey)?
        .finalize()
        .into_bytes();
    out[icv_at..].copy_from_slice(&digest[..icv_len]);
    Ok(total)
}

/// Check that the message in `msg` (up to its messageLength) ends with a
/// valid AUTHENTICATION TLV of `sa`; returns the keyID that verified it.
///
/// `msg` must be the whole message as received: the TLVs after the body
/// are found by walking from the body's end, whose length depends on the
/// messageType.
///
/// # Errors
/// The first check that fails, as an [`AuthError`].
pub fn verify(sa: &SecurityAssociation, msg: &[u8]) -> Result<u32, AuthError> {
    let len = message_length(msg).ok_or(AuthError::Malformed)?;
    let msg = &msg[..len];
    let body = body_len(msg[0] & 0x0F).ok_or(AuthError::Malformed)?;
    if HEADER_LEN + body > len {
        return Err(AuthError::Malformed);
    }
    // Walk the TLVs; the AUTHENTICATION TLV must be the last one.
    let mut at = HEADER_LEN + body;
    let mut last = None;
    while at < len {
        let head = msg.get(at..at + 4).ok_or(AuthError::NotLast)?;
        let t = u16::from_be_bytes([head[0], head[1]]);
        let l = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let end = at + 4 + l;
        if end > len {
            return Err(AuthError::NotLast);
        }
        last = Some((t, at));
        at = end;
    }
    let tlv_at = match last {
        Some((TLV_TYPE, a)) => a,
        Some(_) => {
            // An AUTHENTICATION TLV somewhere before another TLV, or none.
            return Err(if has_auth_tlv(msg, HEADER_LEN + body) {
                AuthError::NotLast
            } else {
                AuthError::Missing
            });
        }
        None => return Err(AuthError::Missing),
    };
    let tlv = &msg[tlv_at..];
    if tlv.len() < TLV_FIXED_LEN {
        return Err(AuthError::BadLength);
    }
    if tlv[4] != sa.spp {
        return Err(AuthError::WrongSpp);
    }
    if tlv[5] & 0x07 != 0 {
        return Err(AuthError::UnsupportedParams);
    }
    let key_id = u32::from_be_bytes([tlv[6], tlv[7], tlv[8], tlv[9]]);
    let key = sa.key(key_id).ok_or(AuthError::UnknownKey)?;
    let icv_len = key.algorithm.icv_len();
    if tlv.len() != TLV_FIXED_LEN + icv_len {
        return Err(AuthError::BadLength);
    }
    let icv_at = tlv_at + TLV_FIXED_LEN;
    let mac = mac_over(key, &msg[..icv_at], sa.allow_mutable).ok_or(AuthError::UnknownKey)?;
    // Constant-time comparison of the (possibly truncated) tag.
    mac.verify_truncated_left(&msg[icv_at..])
        .map_err(|_| AuthError::BadIcv)?;
    Ok(key_id)
}

fn has_auth_tlv(msg: &[u8], mut at: usize) -> bool {
    while let Some(head) = msg.get(at..at + 4) {
        if u16::from_be_bytes([head[0], head[1]]) == TLV_TYPE {
            return true;
        }
        at += 4 + usize::from(u16::from_be_bytes([head[2], head[3]]));
    }
    false
}

/// The body length of a messageType (clause 13), without the header.
const fn body_len(message_type: u8) -> Option<usize> {
    Some(match message_type {
        0x0 | 0x1 | 0x8 => 10, // Sync, Delay_Req, Follow_Up
        0x2 | 0x3 | 0xA => 20, // Pdelay_Req, Pdelay_Resp, Pdelay_Resp_Follow_Up
        0x9 => 20,             // Delay_Resp
        0xB => 30,             // Announce
        0xC => 10,             // Signaling (targetPortIdentity)
        0xD => 14,             // Management
        _ => return None,
    })
}

/// How many senders a [`SeqIdWindow`] follows at once.
pub const SEQ_SENDERS: usize = 8;

/// The replay check on Sync and Follow_Up sequenceIds of one port, per
/// sender (its sourcePortIdentity): a new sequenceId must be 1 to
/// `seqid_window` ahead of the last accepted one (modulo 2^16), as
/// linuxptp's `seqid_window` does. After a gap (a lost link, a restarted
/// master) the sender's numbering is taken up again once `2 x window`
/// messages in a row arrive in order, each one ahead of the one before:
/// a replayer can make that happen only with the sender's own recorded
/// messages, which the core's sequence and servo checks then meet.
#[derive(Clone, Debug, Default)]
pub struct SeqIdWindow {
    senders: ArrayVec<Sender, SEQ_SENDERS>,
    tick: u64,
}

#[derive(Clone, Copy, Debug)]
struct Sender {
    id: [u8; 10],
    kind: u8,
    last: u16,
    /// Consecutive in-order messages outside the window since the last
    /// accepted one, and the last of them.
    run: u16,
    run_last: u16,
    seen: u64,
}

impl SeqIdWindow {
    /// Check the sequenceId of `msg` (a Sync or Follow_Up; other types
    /// pass) against `window` and remember it when accepted.
    ///
    /// # Errors
    /// [`AuthError::Replayed`] outside the window; [`AuthError::Malformed`]
    /// for a message shorter than a header.
    pub fn check(&mut self, msg: &[u8], window: u16) -> Result<(), AuthError> {
        if msg.len() < HEADER_LEN {
            return Err(AuthError::Malformed);
        }
        let kind = msg[0] & 0x0F;
        if window == 0 || !matches!(kind, 0x0 | 0x8) {
            return Ok(());
        }
        let mut id = [0u8; 10];
        id.copy_from_slice(&msg[20..30]);
        let seq = u16::from_be_bytes([msg[30], msg[31]]);
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let Some(s) = self
            .senders
            .iter_mut()
            .find(|s| s.id == id && s.kind == kind)
        else {
            let fresh = Sender {
                id,
                kind,
                last: seq,
                run: 0,
                run_last: seq,
                seen: tick,
            };
            if self.senders.is_full() {
                // Forget the sender seen longest ago.
                if let Some(old) = self.senders.iter_mut().min_by_key(|s| s.seen) {
                    *old = fresh;
                }
            } else {
                self.senders.push(fresh);
            }
            return Ok(());
        };
        s.seen = tick;
        let ahead = seq.wrapping_sub(s.last);
        if (1..=window).contains(&ahead) {
            s.last = seq;
            s.run = 0;
            return Ok(());
        }
        // Outside the window: count an in-order run to resynchronise.
        let step = seq.wrapping_sub(s.run_last);
        s.run = if s.run > 0 && (1..=window).contains(&step) {
            s.run.saturating_add(1)
        } else {
            1
        };
        s.run_last = seq;
        if s.run >= window.saturating_mul(2) {
            s.last = seq;
            s.run = 0;
            return Ok(());
        }
        Err(AuthError::Replayed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assoc(alg: Algorithm) -> SecurityAssociation {
        let mut sa = SecurityAssociation::new(2);
        sa.add_key(SaKey::new(7, alg, b"0123456789abcdef0123456789abcdef").unwrap())
            .unwrap();
        sa.add_key(SaKey::new(9, Algorithm::HmacSha256_128, b"another key").unwrap())
            .unwrap();
        sa
    }

    /// A Sync (44 octets) from port identity 00..01/1 with `seq`.
    fn sync(seq: u16) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0] = 0x00;
        b[1] = 0x12;
        b[2..4].copy_from_slice(&44u16.to_be_bytes());
        b[8..16].copy_from_slice(&0x1234u64.to_be_bytes());
        b[27] = 1;
        b[29] = 1;
        b[30..32].copy_from_slice(&seq.to_be_bytes());
        b[34..44].copy_from_slice(&[0, 0, 0x60, 0, 0, 0, 0, 0, 0, 5]);
        b
    }

    #[test]
    fn a_signed_message_verifies_and_its_icv_is_hmac_sha256_over_the_prefix() {
        for alg in [Algorithm::HmacSha256, Algorithm::HmacSha256_128] {
            let sa = assoc(alg);
            let mut b = sync(5);
            let len = sign(&sa, 7, &mut b, 44).unwrap();
            assert_eq!(len, 44 + 10 + alg.icv_len());
            assert_eq!(usize::from(u16::from_be_bytes([b[2], b[3]])), len);
            assert_eq!(&b[44..46], &[0x80, 0x09]);
            assert_eq!(
                usize::from(u16::from_be_bytes([b[46], b[47]])),
                6 + alg.icv_len()
            );
            assert_eq!((b[48], b[49]), (2, 0));
            assert_eq!(verify(&sa, &b[..len]), Ok(7));
            // The ICV is the plain HMAC-SHA256 of everything before it.
            let mut mac = HmacSha256::new_from_slice(b"0123456789abcdef0123456789abcdef").unwrap();
            mac.update(&b[..54]);
            let full = mac.finalize().into_bytes();
            assert_eq!(&b[54..len], &full[..alg.icv_len()]);
            // Padding after messageLength is ignored.
            assert_eq!(verify(&sa, &b[..len + 6]), Ok(7));
        }
    }

    #[test]
    fn every_alteration_is_refused_with_its_reason() {
        let sa = assoc(Algorithm::HmacSha256_128);
        let mut b = sync(5);
        let len = sign(&sa, 7, &mut b, 44).unwrap();
        let signed = b;
        // Any flipped bit anywhere: refused (mostly as a bad ICV).
        for i in 0..len {
            for bit in 0..8 {
                let mut m = signed;
                m[i] ^= 1 << bit;
                assert!(verify(&sa, &m[..len]).is_err(), "octet {i} bit {bit}");
            }
        }
        // The correctionField is protected unless mutable.
        let mut m = signed;
        m[15] ^= 1;
        assert_eq!(verify(&sa, &m[..len]), Err(AuthError::BadIcv));
        let mut other = sa.clone();
        other.spp = 3;
        assert_eq!(verify(&other, &signed[..len]), Err(AuthError::WrongSpp));
        let mut m = signed;
        m[53] = 8;
        assert_eq!(verify(&sa, &m[..len]), Err(AuthError::UnknownKey));
        let mut m = signed;
        m[49] = AUTH_DELAYED;
        assert_eq!(verify(&sa, &m[..len]), Err(AuthError::UnsupportedParams));
        // Unsigned, truncated.
        assert_eq!(verify(&sa, &sync(5)[..44]), Err(AuthError::Missing));
        assert_eq!(verify(&sa, &signed[..len - 1]), Err(AuthError::Malformed));
        assert_eq!(verify(&sa, &signed[..20]), Err(AuthError::Malformed));
        // Signed with key 9 (16-octet ICV) but claiming key 7 (32 octets
        // with SHA256): a length mismatch.
        let sa256 = assoc(Algorithm::HmacSha256);
        let mut c = sync(5);
        let l9 = sign(&sa256, 9, &mut c, 44).unwrap();
        c[53] = 7;
        assert_eq!(verify(&sa256, &c[..l9]), Err(AuthError::BadLength));
        // Another TLV after it.
        let mut m = signed;
        let extra = [0x00, 0x03, 0x00, 0x00];
        m[len..len + 4].copy_from_slice(&extra);
        let l2 = u16::try_from(len + 4).unwrap();
        m[2..4].copy_from_slice(&l2.to_be_bytes());
        assert_eq!(verify(&sa, &m[..len + 4]), Err(AuthError::NotLast));
        // A TLV that overruns messageLength.
        let mut m = signed;
        m[47] = 200;
        assert_eq!(verify(&sa, &m[..len]), Err(AuthError::NotLast));
    }

    const AUTH_DELAYED: u8 = 0x04;

    #[test]
    fn a_mutable_association_lets_the_correction_field_change() {
        let mut sa = assoc(Algorithm::HmacSha256);
        sa.allow_mutable = true;
        let mut b = sync(1);
        let len = sign(&sa, 7, &mut b, 44).unwrap();
        b[8..16].copy_from_slice(&0x9999_0000u64.to_be_bytes());
        assert_eq!(verify(&sa, &b[..len]), Ok(7));
        b[20] ^= 1;
        assert_eq!(verify(&sa, &b[..len]), Err(AuthError::BadIcv));
    }

    #[test]
    fn signing_needs_room_a_key_and_the_right_length() {
        let sa = assoc(Algorithm::HmacSha256);
        let mut small = [0u8; 60];
        small.copy_from_slice(&sync(1)[..60]);
        assert_eq!(sign(&sa, 7, &mut small, 44), Err(AuthError::NoRoom));
        let mut b = sync(1);
        assert_eq!(sign(&sa, 1, &mut b, 44), Err(AuthError::UnknownKey));
        assert_eq!(sign(&sa, 7, &mut b, 43), Err(AuthError::Malformed));
        assert_eq!(sign(&sa, 7, &mut b, 200), Err(AuthError::Malformed));
    }

    #[test]
    fn keys_are_bounded_and_unique() {
        let mut sa = SecurityAssociation::new(0);
        assert!(SaKey::new(0, Algorithm::HmacSha256, b"k").is_none());
        assert!(SaKey::new(1, Algorithm::HmacSha256, b"").is_none());
        assert!(SaKey::new(1, Algorithm::HmacSha256, &[1; 65]).is_none());
        for id in 1..=16 {
            sa.add_key(SaKey::new(id, Algorithm::HmacSha256, b"k").unwrap())
                .unwrap();
        }
        let k = SaKey::new(3, Algorithm::HmacSha256, b"k").unwrap();
        assert_eq!(sa.add_key(k), Err(SaError::DuplicateKey(3)));
        let k = SaKey::new(17, Algorithm::HmacSha256, b"k").unwrap();
        assert_eq!(sa.add_key(k), Err(SaError::TooManyKeys));
    }

    #[test]
    fn the_replay_window_takes_new_numbers_and_refuses_old_ones() {
        let mut w = SeqIdWindow::default();
        assert_eq!(w.check(&sync(100), 3), Ok(()));
        assert_eq!(w.check(&sync(101), 3), Ok(()));
        assert_eq!(w.check(&sync(101), 3), Err(AuthError::Replayed), "a copy");
        assert_eq!(w.check(&sync(99), 3), Err(AuthError::Replayed), "older");
        assert_eq!(w.check(&sync(104), 3), Ok(()), "two lost");
        assert_eq!(
            w.check(&sync(200), 3),
            Err(AuthError::Replayed),
            "far ahead"
        );
        // Wrap-around.
        let mut w = SeqIdWindow::default();
        w.check(&sync(65_535), 3).unwrap();
        assert_eq!(w.check(&sync(1), 3), Ok(()));
        // Follow_Up is tracked apart from Sync; other types pass.
        let mut fu = sync(101);
        fu[0] = 0x08;
        assert_eq!(w.check(&fu, 3), Ok(()));
        let mut announce = sync(1);
        announce[0] = 0x0B;
        assert_eq!(w.check(&announce, 3), Ok(()));
        assert_eq!(w.check(&announce, 3), Ok(()));
        // Window 0 turns the check off.
        assert_eq!(w.check(&sync(1), 0), Ok(()));
    }

    #[test]
    fn after_a_gap_an_in_order_run_resynchronises() {
        let mut w = SeqIdWindow::default();
        w.check(&sync(10), 3).unwrap();
        // The link was down for 80 Syncs: 91..96 come in order; the sixth
        // (2 x window) is taken and the numbering continues from there.
        for s in 91..96 {
            assert_eq!(w.check(&sync(s), 3), Err(AuthError::Replayed), "{s}");
        }
        assert_eq!(w.check(&sync(96), 3), Ok(()));
        assert_eq!(w.check(&sync(97), 3), Ok(()));
        assert_eq!(w.check(&sync(97), 3), Err(AuthError::Replayed));
        // Out-of-order stragglers never build a run.
        let mut w = SeqIdWindow::default();
        w.check(&sync(10), 3).unwrap();
        for s in [500, 400, 501, 300, 502, 200, 503] {
            assert_eq!(w.check(&sync(s), 3), Err(AuthError::Replayed), "{s}");
        }
    }

    #[test]
    fn senders_are_followed_apart_and_the_table_is_bounded() {
        let mut w = SeqIdWindow::default();
        for sender in 0..20u8 {
            let mut m = sync(1);
            m[21] = sender;
            assert_eq!(w.check(&m, 3), Ok(()));
            m[30..32].copy_from_slice(&2u16.to_be_bytes());
            assert_eq!(w.check(&m, 3), Ok(()));
            assert_eq!(w.check(&m, 3), Err(AuthError::Replayed));
        }
        assert_eq!(w.senders.len(), SEQ_SENDERS);
    }
}
