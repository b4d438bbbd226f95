//! The security association file (`sa-file`), in linuxptp's `sa_file`
//! format, so that one file serves ptp4l 4.x and us.
//!
//! ```text
//! # comments and blank lines are ignored
//! [security_association]
//! spp 1
//! seqid_window 3        # optional (default 3; 0 = no replay check)
//! allow_mutable 0       # optional (1: correctionField not protected)
//! 1 SHA256-128 HEX:00112233445566778899aabbccddeeff
//! 2 SHA256 32 B64:...   # id, algorithm, optional length, key
//! ```
//!
//! A key is `ASCII:text`, `HEX:hexdigits`, `B64:base64` or plain text.
//! Algorithms: `SHA256-128` and `SHA256` (HMAC); linuxptp's CMAC `AES128`
//! and `AES256` are refused with a message saying so. Unlike ptp4l, which
//! skips a bad line or association with a log message, every problem here is
//! an error naming the file and line: a security configuration that is
//! silently smaller than written is worse than none.

use std::fmt;
use std::path::{Path, PathBuf};

use statime::auth::{Algorithm, SaError, SaKey, SecurityAssociation};

/// A problem in an `sa-file`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaFileError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based); 0 when the file could not be read.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SaFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "sa-file {}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "sa-file {}:{}: {}",
                self.path.display(),
                self.line,
                self.message
            )
        }
    }
}

impl std::error::Error for SaFileError {}

/// Reads and parses the file at `path`.
///
/// # Errors
/// The file cannot be read or has a bad line.
pub fn load(path: &Path) -> Result<Vec<SecurityAssociation>, SaFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| SaFileError {
        path: path.to_owned(),
        line: 0,
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text).map_err(|(line, message)| SaFileError {
        path: path.to_owned(),
        line,
        message,
    })
}

/// Parses the text of an `sa-file`.
///
/// # Errors
/// `(line, message)` of the first bad line.
pub fn parse(text: &str) -> Result<Vec<SecurityAssociation>, (usize, String)> {
    let mut out: Vec<SecurityAssociation> = Vec::new();
    let mut current: Option<usize> = None;
    let mut in_section = false;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |m: String| Err((line_no, m));
        if line.eq_ignore_ascii_case("[security_association]") {
            in_section = true;
            current = None;
            continue;
        }
        if line.starts_with('[') {
            return err(format!(
                "unknown section {line}; the file has [security_association] sections only"
            ));
        }
        if !in_section {
            return err("expected [security_association] before the first setting".into());
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |w: Option<&&str>, what: &str, max: u64| -> Result<u64, (usize, String)> {
            let w = w.ok_or((line_no, format!("{what}: value missing")))?;
            match w.parse::<u64>() {
                Ok(v) if v <= max => Ok(v),
                _ => Err((line_no, format!("{what} {w}: expected a number 0..={max}"))),
            }
        };
        let sa = |current: Option<usize>| {
            current.ok_or((line_no, "a setting before its `spp N` line".to_owned()))
        };
        match words[0] {
            "spp" => {
                if words.len() != 2 {
                    return err("expected `spp N`".into());
                }
                // 255 fits u8.
                let spp = number(words.get(1), "spp", 255)? as u8;
                if out.iter().any(|s| s.spp == spp) {
                    return err(format!("spp {spp} is defined twice"));
                }
                out.push(SecurityAssociation::new(spp));
                current = Some(out.len() - 1);
            }
            "seqid_window" => {
                let i = sa(current)?;
                // 32767 fits u16.
                out[i].seqid_window = number(words.get(1), "seqid_window", 32_767)? as u16;
            }
            "allow_mutable" => {
                let i = sa(current)?;
                out[i].allow_mutable = number(words.get(1), "allow_mutable", 1)? == 1;
            }
            "seqnum_length" | "res_length" => {
                sa(current)?;
                if number(words.get(1), words[0], 65_535)? != 0 {
                    return err(format!(
                        "{}: the sequenceNo and RES fields are not supported (as in linuxptp); use 0",
                        words[0]
                    ));
                }
            }
            _ => {
                let i = sa(current)?;
                let key = parse_key(&words).map_err(|m| (line_no, m))?;
                out[i].add_key(key).map_err(|e| {
                    (
                        line_no,
                        match e {
                            SaError::DuplicateKey(id) => format!("key id {id} is defined twice"),
                            SaError::TooManyKeys => format!(
                                "more than {} keys in one association",
                                statime::auth::MAX_KEYS
                            ),
                        },
                    )
                })?;
            }
        }
    }
    Ok(out)
}

/// `ID ALGORITHM [LENGTH] KEY`.
fn parse_key(words: &[&str]) -> Result<SaKey, String> {
    let (id, alg, len, key) = match *words {
        [id, alg, key] => (id, alg, None, key),
        [id, alg, len, key] => (id, alg, Some(len), key),
        _ => {
            return Err(format!(
                "unknown setting {:?}; a key line is `ID ALGORITHM [LENGTH] KEY`",
                words.first().copied().unwrap_or_default()
            ));
        }
    };
    let id: u32 = match id.parse() {
        Ok(v) if v >= 1 => v,
        _ => return Err(format!("key id {id}: expected a number 1..=4294967295")),
    };
    let algorithm = match alg.to_ascii_uppercase().as_str() {
        "SHA256-128" => Algorithm::HmacSha256_128,
        "SHA256" => Algorithm::HmacSha256,
        "AES128" | "AES256" => {
            return Err(format!(
                "key {id}: {alg} (CMAC) is not supported; use SHA256-128 or SHA256 (HMAC)"
            ));
        }
        _ => return Err(format!("key {id}: unknown algorithm {alg}")),
    };
    let bytes = decode_key(key).map_err(|m| format!("key {id}: {m}"))?;
    if let Some(len) = len {
        let len: usize = len
            .parse()
            .map_err(|_| format!("key {id}: length {len}: expected a number"))?;
        if len != bytes.len() {
            return Err(format!(
                "key {id}: the key has {} octets, the line says {len}",
                bytes.len()
            ));
        }
    }
    SaKey::new(id, algorithm, &bytes).ok_or_else(|| {
        format!(
            "key {id}: {} octets; a key has 1 to {} octets",
            bytes.len(),
            statime::auth::MAX_KEY_LEN
        )
    })
}

fn decode_key(key: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = key.strip_prefix("HEX:") {
        if hex.len() % 2 != 0 {
            return Err("a HEX: key needs an even number of digits".into());
        }
        return (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                    .ok_or_else(|| format!("bad hex digits at {i}"))
            })
            .collect();
    }
    if let Some(b64) = key.strip_prefix("B64:") {
        return base64(b64);
    }
    Ok(key
        .strip_prefix("ASCII:")
        .unwrap_or(key)
        .as_bytes()
        .to_vec())
}

/// Standard base64 (RFC 4648 section 4), padding optional.
fn base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for (i, c) in text.trim_end_matches('=').bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("bad base64 character at {i}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("truncated base64".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# linuxptp-style security associations
[security_association]
spp 1
seqid_window 5
1 SHA256-128 HEX:00112233445566778899aabbccddeeff
2 SHA256 ASCII:a-plain-text-secret-of-32-octets
[security_association]
spp 2
allow_mutable 1
seqnum_length 0
res_length 0
7 sha256 12 B64:aGVsbG8gd29ybGQh  # 'hello world!'
8 SHA256 plain
";

    #[test]
    fn a_linuxptp_style_file_gives_its_associations() {
        let sas = parse(GOOD).unwrap();
        assert_eq!(sas.len(), 2);
        let a = &sas[0];
        assert_eq!((a.spp, a.seqid_window, a.allow_mutable), (1, 5, false));
        assert_eq!(a.keys().len(), 2);
        assert_eq!(a.key(1).unwrap().algorithm(), Algorithm::HmacSha256_128);
        assert_eq!(a.key(2).unwrap().algorithm(), Algorithm::HmacSha256);
        let b = &sas[1];
        assert_eq!((b.spp, b.seqid_window, b.allow_mutable), (2, 3, true));
        assert_eq!(b.keys().len(), 2);
        // The decoded keys sign as their plain bytes would.
        let direct = SaKey::new(7, Algorithm::HmacSha256, b"hello world!").unwrap();
        assert_eq!(b.key(7), Some(&direct));
        let hex = SaKey::new(
            1,
            Algorithm::HmacSha256_128,
            &[
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff,
            ],
        )
        .unwrap();
        assert_eq!(a.key(1), Some(&hex));
    }

    #[test]
    fn every_bad_line_is_named() {
        let cases: &[(&str, usize, &str)] = &[
            ("spp 1\n", 1, "[security_association]"),
            (
                "[security_association]\n1 SHA256 x\n",
                2,
                "before its `spp N`",
            ),
            ("[security_association]\nspp 300\n", 2, "spp 300"),
            (
                "[security_association]\nspp 1\n[security_association]\nspp 1\n",
                4,
                "twice",
            ),
            ("[security_association]\nspp 1\n0 SHA256 x\n", 3, "key id 0"),
            (
                "[security_association]\nspp 1\n1 AES128 HEX:00112233445566778899aabbccddeeff\n",
                3,
                "CMAC",
            ),
            (
                "[security_association]\nspp 1\n1 MD5 x\n",
                3,
                "unknown algorithm",
            ),
            (
                "[security_association]\nspp 1\n1 SHA256 HEX:abc\n",
                3,
                "even number",
            ),
            (
                "[security_association]\nspp 1\n1 SHA256 HEX:zz\n",
                3,
                "bad hex",
            ),
            (
                "[security_association]\nspp 1\n1 SHA256 B64:a*b\n",
                3,
                "base64",
            ),
            (
                "[security_association]\nspp 1\n1 SHA256 4 ASCII:abc\n",
                3,
                "3 octets",
            ),
            (
                "[security_association]\nspp 1\n1 SHA256 x\n1 SHA256 y\n",
                4,
                "twice",
            ),
            (
                "[security_association]\nspp 1\nseqnum_length 4\n",
                3,
                "not supported",
            ),
            (
                "[security_association]\nspp 1\nallow_mutable 2\n",
                3,
                "allow_mutable 2",
            ),
            (
                "[security_association]\nspp 1\nbogus\n",
                3,
                "unknown setting",
            ),
            ("[other]\n", 1, "unknown section"),
        ];
        for (text, line, needle) in cases {
            let (l, m) = parse(text).unwrap_err();
            assert_eq!(l, *line, "{text:?}: {m}");
            assert!(m.contains(needle), "{text:?}: {m}");
        }
        let long = format!(
            "[security_association]\nspp 1\n1 SHA256 {}\n",
            "k".repeat(65)
        );
        assert!(parse(&long).unwrap_err().1.contains("65 octets"));
    }

    #[test]
    fn a_missing_file_says_so() {
        let e = load(Path::new("/nonexistent/sa.conf")).unwrap_err();
        assert_eq!(e.line, 0);
        assert!(
            e.to_string()
                .starts_with("sa-file /nonexistent/sa.conf: cannot read it")
        );
    }

    #[test]
    fn base64_decodes_standard_text() {
        assert_eq!(base64("aGVsbG8gd29ybGQh").unwrap(), b"hello world!");
        assert_eq!(base64("YQ==").unwrap(), b"a");
        assert_eq!(base64("YWI=").unwrap(), b"ab");
        assert!(base64("Y").is_err());
    }

    #[test]
    fn the_configuration_checks_spp_keys_and_one_step_against_the_file() {
        let dir = std::env::temp_dir().join(format!("sa-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sa = dir.join("sa.conf");
        std::fs::write(&sa, GOOD).unwrap();
        let sa = sa.display();
        let port = "[[port]]\ninterface = \"eth0\"\ntimestamping = \"software\"\n";
        let run = |text: &str| {
            crate::config::Config::from_toml(text, "test.toml").map_err(|e| e.to_string())
        };
        // Good: spp 1 with key 2.
        let ok = run(&format!(
            "sa-file = \"{sa}\"\n{port}spp = 1\nactive-key-id = 2\n"
        ));
        assert!(ok.is_ok(), "{ok:?}");
        let cases = [
            (format!("{port}spp = 1\n"), "needs sa-file"),
            (
                format!("sa-file = \"{sa}\"\n{port}spp = 9\n"),
                "spp 9 is not in sa-file",
            ),
            (
                format!("sa-file = \"{sa}\"\n{port}spp = 1\nactive-key-id = 5\n"),
                "key 5 is not in spp 1",
            ),
            (
                format!("sa-file = \"{sa}\"\n{port}spp = 1\nactive-key-id = 0\n"),
                "must be 1 or more",
            ),
            (
                format!("sa-file = \"/nonexistent/sa\"\n{port}spp = 1\n"),
                "cannot read it",
            ),
            (
                format!(
                    "two-step = false\nsa-file = \"{sa}\"\n[[port]]\ninterface = \"eth0\"\nspp = 1\n"
                ),
                "cannot be authenticated",
            ),
            (format!("{port}spp = 256\n"), "spp"),
        ];
        for (text, needle) in cases {
            let e = run(&text).unwrap_err();
            assert!(e.contains(needle), "{text}\n=> {e}");
            assert!(e.contains("test.toml"), "names the file: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
