//! Keys per node pair and the HMAC-SHA256 of every message.
//!
//! Each pair of nodes shares its own 32-byte key (possibly several, named by
//! a [`KeyId`], so keys can be rotated). A receiver looks the key up by the
//! *claimed* sender and the key id, so a member C that knows only its own
//! keys cannot make a message that B accepts as coming from A: B checks it
//! with the A-B key, which C does not have. A single group key would let any
//! member forge any other; a pair key pins every message to its two ends.
//!
//! The tag is checked in constant time (`hmac`'s `verify_slice`).

use alloc::collections::BTreeMap;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::wire::{self, KeyId, MAC_LEN, MESSAGE_LEN, NodeId};

type HmacSha256 = Hmac<Sha256>;

/// The length of a pair key.
pub const KEY_LEN: usize = 32;

/// A 32-byte pair key. Its `Debug` form does not show the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// The key with these bytes.
    #[must_use]
    pub const fn new(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length: this never fails.
        HmacSha256::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Why a message failed authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthError {
    /// No key for this (sender, key id).
    UnknownKey,
    /// The tag does not match.
    BadMac,
}

/// The keys this node shares with each peer: (peer, key id) to key, and
/// which key id to send with.
#[derive(Clone, Debug, Default)]
pub struct KeyTable {
    keys: BTreeMap<(NodeId, KeyId), Key>,
    send: BTreeMap<NodeId, KeyId>,
}

impl KeyTable {
    /// An empty table.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            keys: BTreeMap::new(),
            send: BTreeMap::new(),
        }
    }

    /// Add (or replace) the key `key_id` shared with `peer`. The first key
    /// of a peer is also the one messages to it are sent with.
    pub fn insert(&mut self, peer: NodeId, key_id: KeyId, key: Key) {
        self.keys.insert((peer, key_id), key);
        self.send.entry(peer).or_insert(key_id);
    }

    /// Add the key `key_id` shared with `peer` for receiving only: messages
    /// under it verify, none is sent with it (the first step of a key
    /// rotation, before the peer has the key too).
    pub fn insert_receive_only(&mut self, peer: NodeId, key_id: KeyId, key: Key) {
        self.keys.insert((peer, key_id), key);
    }

    /// Send to `peer` with `key_id` from now on (key rotation); false, and
    /// no change, when that key is not in the table.
    pub fn set_send_key(&mut self, peer: NodeId, key_id: KeyId) -> bool {
        if self.keys.contains_key(&(peer, key_id)) {
            self.send.insert(peer, key_id);
            true
        } else {
            false
        }
    }

    /// Remove the key `key_id` of `peer` (received messages under it are
    /// then dropped); if it was the sending key, another key of the peer
    /// takes its place.
    pub fn remove(&mut self, peer: NodeId, key_id: KeyId) {
        self.keys.remove(&(peer, key_id));
        if self.send.get(&peer) == Some(&key_id) {
            match self.keys.range((peer, 0)..=(peer, KeyId::MAX)).next() {
                Some((&(_, k), _)) => self.send.insert(peer, k),
                None => self.send.remove(&peer),
            };
        }
    }

    /// The key id messages to `peer` are sent with.
    #[must_use]
    pub fn send_key(&self, peer: NodeId) -> Option<KeyId> {
        self.send.get(&peer).copied()
    }

    /// Whether any key is shared with `peer`.
    #[must_use]
    pub fn knows(&self, peer: NodeId) -> bool {
        self.keys
            .range((peer, KeyId::MIN)..=(peer, KeyId::MAX))
            .next()
            .is_some()
    }

    /// The MAC of `bytes` (its first 96 bytes) under the key `key_id` of
    /// `peer`.
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownKey`] when the table has no such key.
    pub fn mac(
        &self,
        peer: NodeId,
        key_id: KeyId,
        bytes: &[u8; MESSAGE_LEN],
    ) -> Result<[u8; MAC_LEN], AuthError> {
        self.mac_of(peer, key_id, wire::body(bytes))
    }

    /// The MAC of `body` (the authenticated part of any peer message: the
    /// first 96 bytes of a 128-byte message, the first 224 of a gossip
    /// message) under the key `key_id` of `peer`.
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownKey`] when the table has no such key.
    pub fn mac_of(
        &self,
        peer: NodeId,
        key_id: KeyId,
        body: &[u8],
    ) -> Result<[u8; MAC_LEN], AuthError> {
        let key = self
            .keys
            .get(&(peer, key_id))
            .ok_or(AuthError::UnknownKey)?;
        Ok(key.mac().chain_update(body).finalize().into_bytes().into())
    }

    /// Check, in constant time, that `mac` authenticates `body` under the
    /// key `key_id` shared with `peer` (the claimed sender).
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownKey`] or [`AuthError::BadMac`].
    pub fn verify_of(
        &self,
        peer: NodeId,
        key_id: KeyId,
        body: &[u8],
        mac: &[u8; MAC_LEN],
    ) -> Result<(), AuthError> {
        let key = self
            .keys
            .get(&(peer, key_id))
            .ok_or(AuthError::UnknownKey)?;
        key.mac()
            .chain_update(body)
            .verify_slice(mac)
            .map_err(|_| AuthError::BadMac)
    }

    /// The peers this node shares a key with: its trust set. Gossip never
    /// admits a node outside it.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.send.keys().copied()
    }

    /// Fill the MAC field of `bytes` with the key `key_id` of `peer`.
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownKey`] when the table has no such key.
    pub fn sign(
        &self,
        peer: NodeId,
        key_id: KeyId,
        bytes: &mut [u8; MESSAGE_LEN],
    ) -> Result<(), AuthError> {
        let mac = self.mac(peer, key_id, bytes)?;
        wire::set_mac(bytes, &mac);
        Ok(())
    }

    /// Check, in constant time, that `mac` authenticates the first 96 bytes
    /// of `bytes` under the key `key_id` shared with `peer` (the claimed
    /// sender).
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownKey`] or [`AuthError::BadMac`].
    pub fn verify(
        &self,
        peer: NodeId,
        key_id: KeyId,
        bytes: &[u8],
        mac: &[u8; MAC_LEN],
    ) -> Result<(), AuthError> {
        if !self.keys.contains_key(&(peer, key_id)) {
            return Err(AuthError::UnknownKey);
        }
        let body = bytes.get(..wire::BODY_LEN).ok_or(AuthError::BadMac)?;
        self.verify_of(peer, key_id, body, mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::wire::{BoundStatus, HlcTimestamp, Message, MessageType};

    const A: NodeId = 1;
    const B: NodeId = 2;
    const C: NodeId = 3;

    fn msg(sender: NodeId, receiver: NodeId, key_id: KeyId) -> [u8; MESSAGE_LEN] {
        Message {
            kind: MessageType::Request,
            flags: 0,
            status: BoundStatus::Synchronized,
            sender,
            receiver,
            key_id,
            hlc: HlcTimestamp::default(),
            seq: 7,
            echo_seq: 0,
            t1: 1_000,
            t2: 0,
            t3: 0,
            lower_ns: -10,
            upper_ns: 10,
        }
        .emit()
    }

    /// B's table: one key with A, one with C.
    fn tables() -> (KeyTable, KeyTable, KeyTable) {
        let ab = Key::new([0xAB; 32]);
        let bc = Key::new([0xBC; 32]);
        let ac = Key::new([0xAC; 32]);
        let mut a = KeyTable::new();
        a.insert(B, 1, ab.clone());
        a.insert(C, 1, ac.clone());
        let mut b = KeyTable::new();
        b.insert(A, 1, ab);
        b.insert(C, 1, bc.clone());
        let mut c = KeyTable::new();
        c.insert(A, 1, ac);
        c.insert(B, 1, bc);
        (a, b, c)
    }

    #[test]
    fn a_pair_key_authenticates_its_pair() {
        let (a, b, _) = tables();
        let mut m = msg(A, B, 1);
        a.sign(B, 1, &mut m).unwrap();
        let (_, mac) = Message::parse(&m).unwrap();
        assert_eq!(b.verify(A, 1, &m, &mac), Ok(()));
        // One flipped bit anywhere in the body breaks it.
        for i in 0..wire::BODY_LEN {
            let mut x = m;
            x[i] ^= 0x40;
            assert_eq!(b.verify(A, 1, &x, &mac), Err(AuthError::BadMac), "byte {i}");
        }
    }

    #[test]
    fn a_third_member_cannot_speak_for_another() {
        let (_, b, c) = tables();
        // C claims to be A towards B, authenticating with the C-B key.
        let mut m = msg(A, B, 1);
        c.sign(B, 1, &mut m).unwrap();
        let (p, mac) = Message::parse(&m).unwrap();
        assert_eq!(
            b.verify(p.sender, p.key_id, &m, &mac),
            Err(AuthError::BadMac)
        );
        // ... or with its key towards A (the A-C key).
        let mut m = msg(A, B, 1);
        c.sign(A, 1, &mut m).unwrap();
        let (p, mac) = Message::parse(&m).unwrap();
        assert_eq!(
            b.verify(p.sender, p.key_id, &m, &mac),
            Err(AuthError::BadMac)
        );
        // ... or with a group key every member would know: B keeps no such
        // key for A, so it fails too.
        let mut group = KeyTable::new();
        group.insert(A, 9, Key::new([0x99; 32]));
        let mut m = msg(A, B, 1);
        group.sign(A, 9, &mut m).unwrap();
        let (p, mac) = Message::parse(&m).unwrap();
        assert_eq!(
            b.verify(p.sender, p.key_id, &m, &mac),
            Err(AuthError::BadMac)
        );
        let mut m = msg(A, B, 9);
        group.sign(A, 9, &mut m).unwrap();
        let (p, mac) = Message::parse(&m).unwrap();
        assert_eq!(
            b.verify(p.sender, p.key_id, &m, &mac),
            Err(AuthError::UnknownKey)
        );
    }

    #[test]
    fn a_group_key_would_let_any_member_forge_any_other() {
        // Why pair keys: with one key for all, C's forgery as A passes.
        let g = Key::new([0x99; 32]);
        let mut b = KeyTable::new();
        b.insert(A, 1, g.clone());
        b.insert(C, 1, g.clone());
        let mut c = KeyTable::new();
        c.insert(B, 1, g);
        let mut m = msg(A, B, 1);
        c.sign(B, 1, &mut m).unwrap();
        let (p, mac) = Message::parse(&m).unwrap();
        assert_eq!(b.verify(p.sender, p.key_id, &m, &mac), Ok(()));
    }

    #[test]
    fn rotation_and_removal() {
        let mut t = KeyTable::new();
        assert_eq!(t.send_key(A), None);
        t.insert(A, 5, Key::new([1; 32]));
        t.insert(A, 6, Key::new([2; 32]));
        assert_eq!(t.send_key(A), Some(5));
        assert!(t.set_send_key(A, 6));
        assert!(!t.set_send_key(A, 7));
        assert_eq!(t.send_key(A), Some(6));
        t.remove(A, 6);
        assert_eq!(t.send_key(A), Some(5));
        t.remove(A, 5);
        assert_eq!(t.send_key(A), None);
        assert!(!t.knows(A));
        assert_eq!(format!("{:?}", Key::new([7; 32])), "Key(..)");
    }
}
