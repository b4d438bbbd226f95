//! The overlay's pair keys file (`[overlay] keys-file`).
//!
//! ```text
//! # PEER-ID  KEY-ID  KEY (32 bytes as 64 hex digits)
//! 2          1       hex:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! 3          1       hex:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
//! ```
//!
//! One line per key shared with a peer: the peer's node id, the key id
//! (several per peer for rotation; the first listed is the one messages to
//! that peer are signed with) and the key. `#` starts a comment. Both
//! nodes of a pair hold the same key under the same key id. Every problem
//! is reported as `FILE:LINE: problem`; the file must not be readable or
//! writable by others (group access is warned about).

use std::fmt;
use std::path::Path;

use bft_overlay::peer::KEY_LEN;

/// The largest keys file read (a line per key is about 90 bytes).
const MAX_KEYS_FILE: u64 = 1 << 20;

/// One key of the file.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerKey {
    /// The peer's node id.
    pub peer: u64,
    /// The key id.
    pub key_id: u32,
    /// The key.
    pub key: [u8; KEY_LEN],
    /// The line it is on (1-based).
    pub line: usize,
    /// `receive-only`: messages signed with it are accepted, but none is
    /// sent with it (the first step of a key rotation).
    pub receive_only: bool,
}

impl fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerKey")
            .field("peer", &self.peer)
            .field("key_id", &self.key_id)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// A parsed keys file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerKeys {
    /// The file's name, for messages.
    pub origin: String,
    /// The keys, in file order.
    pub keys: Vec<PeerKey>,
    /// Legal but doubtful things (group access), one line each.
    pub warnings: Vec<String>,
}

fn hex_key(text: &str) -> Result<[u8; KEY_LEN], String> {
    let Some(hex) = text.strip_prefix("hex:") else {
        return Err(format!(
            "the key must be written hex:<{} hex digits>, not {:?}",
            KEY_LEN * 2,
            text.chars().take(8).collect::<String>()
        ));
    };
    if hex.len() != KEY_LEN * 2 {
        return Err(format!(
            "the key has {} hex digits; a key is {KEY_LEN} bytes, {} digits",
            hex.len(),
            KEY_LEN * 2
        ));
    }
    let mut key = [0u8; KEY_LEN];
    for (i, b) in key.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).unwrap_or("");
        *b = u8::from_str_radix(pair, 16)
            .map_err(|_| format!("the key has a non-hex digit near offset {}", 2 * i))?;
    }
    Ok(key)
}

impl PeerKeys {
    /// Parse `text`; `origin` names it in messages.
    ///
    /// # Errors
    /// Every bad line, as `ORIGIN:LINE: problem`, one per line.
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let mut keys: Vec<PeerKey> = Vec::new();
        let mut errors = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let fields: Vec<&str> = content.split_whitespace().collect();
            let (peer, key_id, key, receive_only) = match fields.as_slice() {
                [peer, key_id, key] => (peer, key_id, key, false),
                [peer, key_id, key, "receive-only"] => (peer, key_id, key, true),
                [_, _, _, flag] => {
                    errors.push(format!(
                        "{origin}:{line}: unknown flag {flag:?} (the only one is receive-only)"
                    ));
                    continue;
                }
                _ => {
                    errors.push(format!(
                        "{origin}:{line}: expected PEER-ID KEY-ID hex:KEY [receive-only], found \
                         {} field(s)",
                        fields.len()
                    ));
                    continue;
                }
            };
            let Ok(peer_id) = peer.parse::<u64>() else {
                errors.push(format!(
                    "{origin}:{line}: peer id {peer:?} is not a number in 0..=2^64-1"
                ));
                continue;
            };
            let peer = peer_id;
            let Ok(id) = key_id.parse::<u32>() else {
                errors.push(format!(
                    "{origin}:{line}: key id {key_id:?} is not a number in 0..=2^32-1"
                ));
                continue;
            };
            let key_id = id;
            let key = match hex_key(key) {
                Ok(k) => k,
                Err(e) => {
                    errors.push(format!("{origin}:{line}: {e}"));
                    continue;
                }
            };
            if let Some(first) = keys.iter().find(|k| k.peer == peer && k.key_id == key_id) {
                errors.push(format!(
                    "{origin}:{line}: peer {peer} key id {key_id} is already on line {}",
                    first.line
                ));
                continue;
            }
            keys.push(PeerKey {
                peer,
                key_id,
                key,
                line,
                receive_only,
            });
        }
        if errors.is_empty() {
            Ok(Self {
                origin: origin.to_owned(),
                keys,
                warnings: Vec::new(),
            })
        } else {
            Err(errors.join("\n"))
        }
    }

    /// The key table of the peer layer: every key accepted; messages to a
    /// peer signed with its highest key id not marked `receive-only` (a
    /// peer with only receive-only keys gets none to send with).
    #[must_use]
    pub fn key_table(&self) -> bft_overlay::peer::KeyTable {
        let mut table = bft_overlay::peer::KeyTable::new();
        for k in &self.keys {
            table.insert(k.peer, k.key_id, bft_overlay::peer::Key::new(k.key));
        }
        let mut peers: Vec<u64> = self.keys.iter().map(|k| k.peer).collect();
        peers.sort_unstable();
        peers.dedup();
        for p in peers {
            let send = self
                .keys
                .iter()
                .filter(|k| k.peer == p && !k.receive_only)
                .map(|k| k.key_id)
                .max();
            match send {
                Some(id) => {
                    table.set_send_key(p, id);
                }
                None => {
                    // Accept only: remove nothing, but never send with a
                    // receive-only key.
                    for k in self.keys.iter().filter(|k| k.peer == p) {
                        let key = bft_overlay::peer::Key::new(k.key);
                        table.remove(p, k.key_id);
                        table.insert_receive_only(p, k.key_id, key);
                    }
                }
            }
        }
        table
    }

    /// Read and parse the file at `path`, checking its permissions.
    ///
    /// # Errors
    /// `FILE: problem` when it cannot be read, is not a regular file or is
    /// readable or writable by others; `FILE:LINE: problem` for bad lines.
    pub fn load(path: &Path) -> Result<Self, String> {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| format!("{origin}: cannot read: {e}"))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("{origin}: cannot read: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{origin}: not a regular file"));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o007 != 0 {
            return Err(format!(
                "{origin}: holds secret keys but is accessible by others (mode {mode:04o}); \
                 chmod 600 {origin}"
            ));
        }
        let mut warnings = Vec::new();
        if mode & 0o070 != 0 {
            warnings.push(format!(
                "{origin}: holds secret keys but is accessible by its group (mode {mode:04o}); \
                 chmod 600 unless that group is meant to read it"
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_KEYS_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{origin}: cannot read: {e}"))?;
        if bytes.len() as u64 > MAX_KEYS_FILE {
            return Err(format!(
                "{origin}: larger than {MAX_KEYS_FILE} bytes, not a keys file"
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{origin}: not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        let mut keys = Self::parse(&text, &origin)?;
        keys.warnings = warnings;
        Ok(keys)
    }

    /// Whether the file holds a key shared with `peer`.
    #[must_use]
    pub fn knows(&self, peer: u64) -> bool {
        self.keys.iter().any(|k| k.peer == peer)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn receive_only_keys_are_accepted_but_not_sent_with() {
        let k = |n: u8| format!("hex:{}", format!("{n:02x}").repeat(32));
        let text = format!(
            "7 1 {} receive-only\n7 2 {}\n7 3 {} receive-only\n9 4 {} receive-only\n",
            k(1),
            k(2),
            k(3),
            k(4)
        );
        let keys = PeerKeys::parse(&text, "k").expect("valid");
        assert!(keys.keys[0].receive_only && !keys.keys[1].receive_only);
        let t = keys.key_table();
        // The highest key id not receive-only.
        assert_eq!(t.send_key(7), Some(2));
        // Only receive-only keys: known (accepted), never sent with.
        assert!(t.knows(9));
        assert_eq!(t.send_key(9), None);
        let e = PeerKeys::parse(&format!("7 1 {} maybe\n", k(1)), "k").expect_err("bad flag");
        assert!(e.contains("k:1: unknown flag \"maybe\""), "{e}");
    }

    use super::*;

    const K1: &str = "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_good_file_parses_in_order_with_comments_and_blank_lines() {
        let text = format!("# keys\n\n2 1 {K1}  # node 2\n2 7 {K1}\n3 1 {K1}\n");
        let k = PeerKeys::parse(&text, "k").expect("valid");
        let got: Vec<(u64, u32, usize)> =
            k.keys.iter().map(|k| (k.peer, k.key_id, k.line)).collect();
        assert_eq!(got, [(2, 1, 3), (2, 7, 4), (3, 1, 5)]);
        assert_eq!(k.keys[0].key[31], 0x1f);
        assert!(k.knows(3) && !k.knows(4));
        assert!(
            !format!("{:?}", k.keys[0]).contains("31"),
            "no key bytes in Debug"
        );
    }

    #[test]
    fn every_bad_line_is_named_with_its_problem() {
        let text = format!(
            "2 1\nx 1 {K1}\n2 -1 {K1}\n2 1 {}\n2 1 hex:00\n2 1 hex:{}\n2 1 {K1}\n2 1 {K1}\n",
            &K1[4..],
            "zz".repeat(32)
        );
        let e = PeerKeys::parse(&text, "/etc/statime/peers.keys").expect_err("bad");
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 7, "{e}");
        assert!(
            lines[0].starts_with("/etc/statime/peers.keys:1: expected PEER-ID"),
            "{e}"
        );
        assert!(
            lines[1].starts_with("/etc/statime/peers.keys:2: peer id \"x\""),
            "{e}"
        );
        assert!(
            lines[2].starts_with("/etc/statime/peers.keys:3: key id \"-1\""),
            "{e}"
        );
        assert!(lines[3].contains(":4: the key must be written hex:"), "{e}");
        assert!(lines[4].contains(":5: the key has 2 hex digits"), "{e}");
        assert!(lines[5].contains(":6: the key has a non-hex digit"), "{e}");
        assert!(
            lines[6].contains(":8: peer 2 key id 1 is already on line 7"),
            "{e}"
        );
    }

    #[test]
    fn a_file_others_can_read_is_refused_and_group_access_warned() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("statime-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("peers.keys");
        std::fs::write(&path, format!("2 1 {K1}\n")).expect("write");
        let set = |mode| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        set(0o644);
        let e = PeerKeys::load(&path).expect_err("world-readable");
        assert!(e.contains("accessible by others (mode 0644)"), "{e}");
        set(0o640);
        let k = PeerKeys::load(&path).expect("group-readable is allowed");
        assert_eq!(k.warnings.len(), 1, "{:?}", k.warnings);
        set(0o600);
        let k = PeerKeys::load(&path).expect("private");
        assert!(k.warnings.is_empty());
        assert_eq!(k.keys.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
