//! The files in `packaging/` (systemd unit, sysusers entry, udev rule) say
//! what the daemon needs and nothing more, agree with each other, and start
//! the binary we build with a command line it accepts.
//!
//! `packaging/check.sh` runs the system's own tools on the same files
//! (`systemd-analyze verify` and `security`, `systemd-sysusers` into a
//! scratch root, `udevadm verify` where it exists); this test needs none of
//! them, so it also runs where they are missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The capabilities the daemon needs (statime(8), packaging/README.md).
const CAPABILITIES: [&str; 4] = [
    "CAP_SYS_TIME",
    "CAP_NET_RAW",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_ADMIN",
];
/// Socket families: UDP over IPv4/IPv6, raw Ethernet, netlink, Unix.
const FAMILIES: [&str; 5] = ["AF_UNIX", "AF_INET", "AF_INET6", "AF_PACKET", "AF_NETLINK"];

fn workspace(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn read(rel: &str) -> String {
    let p = workspace(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------- unit file

/// One `Key=Value` assignment of a unit file.
#[derive(Debug)]
struct Setting {
    section: String,
    key: String,
    value: String,
    line: usize,
}

/// Parse a systemd unit file strictly: comments, blank lines, `[Section]`
/// headers and `Key=Value` lines (with `\` continuations) only, keys before
/// any section or in an unknown section are errors.
fn parse_unit(text: &str) -> Result<Vec<Setting>, String> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let n = i + 1;
        let mut line = raw.trim().to_string();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        while line.ends_with('\\') {
            line.pop();
            match lines.next() {
                Some((_, more)) => {
                    line.push(' ');
                    line.push_str(more.trim());
                }
                None => return Err(format!("line {n}: continuation at end of file")),
            }
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| format!("line {n}: unterminated section header"))?;
            if !["Unit", "Service", "Install"].contains(&name) {
                return Err(format!("line {n}: unexpected section [{name}]"));
            }
            section = Some(name.to_string());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {n}: not Key=Value: {line:?}"))?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("line {n}: bad key {key:?}"));
        }
        let section = section
            .clone()
            .ok_or_else(|| format!("line {n}: {key}= before any section"))?;
        out.push(Setting {
            section,
            key: key.to_string(),
            value: value.trim().to_string(),
            line: n,
        });
    }
    Ok(out)
}

fn values<'a>(unit: &'a [Setting], section: &str, key: &str) -> Vec<&'a Setting> {
    unit.iter()
        .filter(|s| s.section == section && s.key == key)
        .collect()
}

/// The one value of a key that must be set exactly once.
fn single<'a>(unit: &'a [Setting], section: &str, key: &str) -> Result<&'a str, String> {
    match values(unit, section, key).as_slice() {
        [s] => Ok(&s.value),
        [] => Err(format!("[{section}] {key}= is not set")),
        many => Err(format!(
            "[{section}] {key}= is set {} times (lines {:?}); set it once",
            many.len(),
            many.iter().map(|s| s.line).collect::<Vec<_>>()
        )),
    }
}

fn is_yes(v: &str) -> bool {
    matches!(v, "yes" | "true" | "on" | "1")
}

/// A capability list that must be exactly `CAPABILITIES`: set once, no
/// `~` (which would mean "all but"), no duplicates, nothing else.
fn check_capability_list(key: &str, value: &str) -> Result<(), String> {
    if value.starts_with('~') {
        return Err(format!(
            "{key}= is a deny list ({value}); list the four capabilities"
        ));
    }
    let listed: Vec<&str> = value.split_whitespace().collect();
    let set: BTreeSet<&str> = listed.iter().copied().collect();
    if set.len() != listed.len() {
        return Err(format!("{key}= repeats a capability: {value}"));
    }
    let want: BTreeSet<&str> = CAPABILITIES.into_iter().collect();
    if set != want {
        let extra: Vec<_> = set.difference(&want).collect();
        let missing: Vec<_> = want.difference(&set).collect();
        return Err(format!(
            "{key}= must be exactly {CAPABILITIES:?}: extra {extra:?}, missing {missing:?}"
        ));
    }
    Ok(())
}

/// Everything the unit must say; each problem is one line of the result.
fn check_unit(text: &str) -> Vec<String> {
    let unit = match parse_unit(text) {
        Ok(u) => u,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    let mut expect = |section: &str, key: &str, ok: &dyn Fn(&str) -> bool, what: &str| match single(
        &unit, section, key,
    ) {
        Ok(v) if ok(v) => {}
        Ok(v) => problems.push(format!("[{section}] {key}={v}: expected {what}")),
        Err(e) => problems.push(e),
    };
    expect("Service", "User", &|v| v == "statime", "statime");
    expect("Service", "Group", &|v| v == "statime", "statime");
    expect("Service", "Type", &|v| v == "simple", "simple");
    expect("Service", "Restart", &|v| v == "on-failure", "on-failure");
    expect("Service", "NoNewPrivileges", &is_yes, "yes");
    expect("Service", "ProtectSystem", &|v| v == "strict", "strict");
    expect("Service", "ProtectHome", &is_yes, "yes");
    expect("Service", "PrivateTmp", &is_yes, "yes");
    expect(
        "Service",
        "RuntimeDirectory",
        &|v| v == "statime",
        "statime",
    );
    expect(
        "Service",
        "DevicePolicy",
        &|v| v == "closed" || v == "strict",
        "closed or strict",
    );
    expect(
        "Service",
        "RestrictAddressFamilies",
        &|v| {
            let got: BTreeSet<&str> = v.split_whitespace().collect();
            got == FAMILIES.into_iter().collect() && v.split_whitespace().count() == FAMILIES.len()
        },
        "exactly AF_UNIX AF_INET AF_INET6 AF_PACKET AF_NETLINK",
    );
    expect(
        "Install",
        "WantedBy",
        &|v| v == "multi-user.target",
        "multi-user.target",
    );
    for key in ["AmbientCapabilities", "CapabilityBoundingSet"] {
        match single(&unit, "Service", key) {
            Ok(v) => {
                if let Err(e) = check_capability_list(key, v) {
                    problems.push(e);
                }
            }
            Err(e) => problems.push(e),
        }
    }
    // /dev/ptp* must stay reachable, read-write.
    let devices: Vec<&str> = values(&unit, "Service", "DeviceAllow")
        .iter()
        .map(|s| s.value.as_str())
        .collect();
    if !devices.iter().any(|d| {
        let mut it = d.split_whitespace();
        it.next() == Some("char-ptp")
            && it
                .next()
                .is_some_and(|m| m.contains('r') && m.contains('w'))
    }) {
        problems.push(format!(
            "DeviceAllow= must grant char-ptp rw (the PHCs), found {devices:?}"
        ));
    }
    // Settings that would silently break the daemon.
    for (key, why) in [
        (
            "ProtectClock",
            "removes CAP_SYS_TIME and denies clock_adjtime",
        ),
        ("PrivateDevices", "hides /dev/ptp*"),
        ("PrivateNetwork", "hides the PTP interfaces"),
        (
            "PrivateUsers",
            "makes the capabilities useless outside a user namespace",
        ),
        (
            "DynamicUser",
            "gives a user udev cannot name in the /dev/ptp* rule",
        ),
    ] {
        for s in values(&unit, "Service", key) {
            if is_yes(&s.value) {
                problems.push(format!("line {}: {key}={} {why}", s.line, s.value));
            }
        }
    }
    // A system-call allow list must keep the clock calls.
    for s in values(&unit, "Service", "SystemCallFilter") {
        if !s.value.starts_with('~') && !s.value.split_whitespace().any(|g| g == "@clock") {
            problems.push(format!(
                "line {}: SystemCallFilter={} lacks @clock (clock_adjtime)",
                s.line, s.value
            ));
        }
    }
    // Writable paths other than the runtime directory need a reason; none
    // exists today.
    for key in ["ReadWritePaths", "StateDirectory", "LogsDirectory"] {
        for s in values(&unit, "Service", key) {
            problems.push(format!(
                "line {}: {key}={}: the daemon writes only to /run/statime",
                s.line, s.value
            ));
        }
    }
    problems
}

fn unit_text() -> String {
    read("packaging/systemd/statime.service")
}

#[test]
fn unit_asks_for_exactly_the_needed_capabilities_and_sandbox() {
    let problems = check_unit(&unit_text());
    assert!(
        problems.is_empty(),
        "packaging/systemd/statime.service:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_unit_checker_rejects_broken_units() {
    let good = unit_text();
    assert!(check_unit(&good).is_empty());
    let broken = [
        // One capability too many.
        good.replacen(
            "AmbientCapabilities=CAP_SYS_TIME",
            "AmbientCapabilities=CAP_SYS_ADMIN CAP_SYS_TIME",
            1,
        ),
        // One too few.
        good.replacen(" CAP_NET_ADMIN\nNoNewPrivileges", "\nNoNewPrivileges", 1),
        // A second line adds to the set.
        good.replacen(
            "NoNewPrivileges=yes",
            "NoNewPrivileges=yes\nAmbientCapabilities=CAP_SYS_ADMIN",
            1,
        ),
        good.replacen("User=statime", "User=root", 1),
        good.replacen("ProtectSystem=strict", "ProtectSystem=full", 1),
        good.replacen("DeviceAllow=char-ptp rw", "DeviceAllow=char-ptp r", 1),
        good.replacen(
            "NoNewPrivileges=yes",
            "NoNewPrivileges=yes\nProtectClock=yes",
            1,
        ),
        good.replacen("@system-service @clock", "@system-service", 1),
        good.replacen("AF_INET6 AF_PACKET", "AF_INET6", 1),
        good.replacen("[Service]", "[Servic]", 1),
        good.replacen("Type=simple", "Type simple", 1),
    ];
    for (i, text) in broken.iter().enumerate() {
        assert_ne!(text, &good, "case {i} did not change the unit");
        assert!(!check_unit(text).is_empty(), "case {i} passed:\n{text}");
    }
}

/// The words of `ExecStart=`, without systemd's `-`/`@`/`+`/`!` prefixes.
fn exec_start() -> Vec<String> {
    let unit = parse_unit(&unit_text()).expect("unit parses");
    let v = single(&unit, "Service", "ExecStart").expect("ExecStart");
    assert!(
        !v.contains(['"', '\'', '$', '%', ';']),
        "keep ExecStart= free of quoting, variables and specifiers: {v}"
    );
    v.trim_start_matches(['-', '@', '+', '!', ':'])
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn exec_start_runs_our_daemon_with_flags_it_accepts() {
    let words = exec_start();
    let (binary, args) = words.split_first().expect("ExecStart has a command");
    assert!(
        binary.starts_with('/') && binary.ends_with("/statime"),
        "ExecStart= must name the statime binary by absolute path: {binary}"
    );
    let daemon = env!("CARGO_BIN_EXE_statime");

    // The flags parse: with --help appended, clap prints the help (exit 0)
    // only if everything before it is valid.
    let out = Command::new(daemon)
        .args(args)
        .arg("--help")
        .output()
        .expect("run statime");
    assert_eq!(
        out.status.code(),
        Some(0),
        "statime {args:?} --help: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without --help: the command line is accepted (exit status 2 would be
    // a bad command line) and the daemon goes for the configuration file,
    // here redirected to one that does not exist, so nothing starts.
    let missing = std::env::temp_dir()
        .join(format!("statime-packaging-{}", std::process::id()))
        .join("statime.toml");
    let mut redirected: Vec<String> = Vec::new();
    let mut it = args.iter();
    let mut had_config = false;
    while let Some(a) = it.next() {
        if a == "-c" || a == "--config" {
            let file = it.next().expect("-c takes a file");
            assert_eq!(
                file, "/etc/statime/statime.toml",
                "the guide and packaging/README.md install the configuration there"
            );
            had_config = true;
            redirected.push(a.clone());
            redirected.push(missing.display().to_string());
        } else {
            redirected.push(a.clone());
        }
    }
    if !had_config {
        redirected.push("-c".into());
        redirected.push(missing.display().to_string());
    }
    let out = Command::new(daemon)
        .args(&redirected)
        .output()
        .expect("run statime");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "statime {redirected:?}: {err}");
    assert!(
        err.contains(&missing.display().to_string()),
        "the error names the missing file: {err}"
    );
}

#[test]
fn the_install_paths_agree_across_unit_readme_and_guide() {
    let words = exec_start();
    let binary = &words[0];
    let readme = read("packaging/README.md");
    let guide = read("docs/guide.md");
    for (name, text) in [("packaging/README.md", &readme), ("docs/guide.md", &guide)] {
        for needle in [
            binary.as_str(),
            "/etc/statime/statime.toml",
            "/etc/systemd/system/statime.service",
            "sysusers.d/statime.conf",
            "/etc/udev/rules.d/60-statime-ptp.rules",
        ] {
            assert!(text.contains(needle), "{name} does not mention {needle}");
        }
    }
    // Every file in packaging/ is described in its README.
    for entry in walk(&workspace("packaging")) {
        let rel = entry
            .strip_prefix(workspace("packaging"))
            .expect("under packaging/")
            .display()
            .to_string();
        if rel != "README.md" {
            assert!(
                readme.contains(&rel),
                "packaging/README.md does not describe {rel}"
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_documented_man_pages_exist() {
    let unit = parse_unit(&unit_text()).expect("unit parses");
    let docs: Vec<String> = values(&unit, "Unit", "Documentation")
        .iter()
        .flat_map(|s| s.value.split_whitespace().map(str::to_string))
        .collect();
    for page in ["statime(8)", "statime-ctl(8)", "statime.toml(5)"] {
        assert!(
            docs.iter().any(|d| d == &format!("man:{page}")),
            "Documentation= lacks man:{page}: {docs:?}"
        );
    }
    for d in &docs {
        let page = d.strip_prefix("man:").expect("only man: links");
        let (name, section) = page
            .strip_suffix(')')
            .and_then(|p| p.split_once('('))
            .unwrap_or_else(|| panic!("bad man link {d}"));
        let md = workspace(&format!("docs/man/{name}.{section}.md"));
        assert!(md.is_file(), "{d}: {} does not exist", md.display());
    }
}

#[test]
fn examples_keep_runtime_files_where_the_unit_lets_the_daemon_write() {
    // ProtectSystem=strict leaves only RuntimeDirectory= (/run/statime)
    // writable, so every socket or file an example puts under /run or
    // /var/run must be in /run/statime/.
    let re = regex::Regex::new(r#""(/(?:var/)?run/[^"]*)""#).expect("regex");
    for entry in walk(&workspace("config")) {
        if entry.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).expect("read");
        for c in re.captures_iter(&text) {
            assert!(
                c[1].starts_with("/run/statime/"),
                "{}: {} is outside /run/statime, which the systemd unit keeps read-only",
                entry.display(),
                &c[1]
            );
        }
    }
}

// ---------------------------------------------------------------- sysusers

#[test]
fn sysusers_creates_the_units_user() {
    let text = read("packaging/systemd/statime.sysusers");
    let lines: Vec<Vec<String>> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(split_quoted)
        .collect();
    let users: Vec<&Vec<String>> = lines.iter().filter(|f| f[0].starts_with('u')).collect();
    assert_eq!(users.len(), 1, "one u line: {lines:?}");
    let u = users[0];
    assert!(
        u.len() >= 2 && u.len() <= 6,
        "u line has 2..=6 fields: {u:?}"
    );
    assert_eq!(u[0], "u", "a plain system user (type u)");
    assert_eq!(u[1], "statime", "the unit's User=");
    if let Some(id) = u.get(2) {
        assert_eq!(id, "-", "let sysusers choose a free system UID/GID");
    }
    if let Some(shell) = u.get(5) {
        assert!(
            shell == "-" || shell.ends_with("/nologin"),
            "no login shell: {shell}"
        );
    }
    for f in &lines {
        assert!(
            ["u", "g", "m", "r"].contains(&f[0].as_str()),
            "unknown sysusers type in {f:?}"
        );
    }
}

/// Split a line into fields at blanks, keeping double-quoted fields whole.
fn split_quoted(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    assert!(!quoted, "unterminated quote in {line:?}");
    if started {
        out.push(cur);
    }
    out
}

// ---------------------------------------------------------------- udev rule

/// Keys udev accepts as matches (`==`, `!=`).
const UDEV_MATCH: &[&str] = &[
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "KERNELS",
    "NAME",
    "SYMLINK",
    "SUBSYSTEM",
    "SUBSYSTEMS",
    "DRIVER",
    "DRIVERS",
    "ATTR",
    "ATTRS",
    "SYSCTL",
    "ENV",
    "CONST",
    "TAG",
    "TAGS",
    "TEST",
    "PROGRAM",
    "RESULT",
];
/// Keys udev accepts as assignments (`=`, `+=`, `-=`, `:=`).
const UDEV_ASSIGN: &[&str] = &[
    "NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV", "TAG", "RUN",
    "LABEL", "GOTO", "IMPORT", "OPTIONS",
];

/// One `KEY{attr}OP"value"` of a udev rule.
#[derive(Debug, PartialEq, Eq)]
struct UdevPair {
    key: String,
    attr: Option<String>,
    op: String,
    value: String,
}

/// Parse a udev rules file the way udev reads it: one rule per line (with
/// `\` continuations), comma-separated `KEY[{attr}] OP "value"` pairs,
/// known keys only, match operators on match keys, assignments on
/// assignment keys.
fn parse_udev(text: &str) -> Result<Vec<Vec<UdevPair>>, String> {
    let mut rules = Vec::new();
    let mut pending = String::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let rule = std::mem::take(&mut pending);
        rules.push(parse_udev_rule(&rule).map_err(|e| format!("line {n}: {e}"))?);
    }
    if !pending.is_empty() {
        return Err("continuation at end of file".into());
    }
    Ok(rules)
}

fn parse_udev_rule(rule: &str) -> Result<Vec<UdevPair>, String> {
    let mut pairs = Vec::new();
    let mut rest = rule.trim();
    while !rest.is_empty() {
        let key_len = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(rest.len());
        let key = &rest[..key_len];
        rest = &rest[key_len..];
        let attr = if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or("unterminated {attribute}")?;
            let a = &r[..end];
            rest = &r[end + 1..];
            Some(a.to_string())
        } else {
            None
        };
        rest = rest.trim_start();
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("{key}: no operator before {rest:?}"))?;
        rest = rest[op.len()..].trim_start();
        let body = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("{key}{op}: the value must be double-quoted"))?;
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let end = end.ok_or_else(|| format!("{key}{op}: unterminated value"))?;
        let value = body[..end].to_string();
        rest = body[end + 1..].trim_start();
        if !rest.is_empty() {
            rest = rest
                .strip_prefix(',')
                .ok_or_else(|| format!("expected ',' before {rest:?}"))?
                .trim_start();
            if rest.is_empty() {
                return Err("trailing ','".into());
            }
        }
        let matching = op == "==" || op == "!=";
        let known = if matching { UDEV_MATCH } else { UDEV_ASSIGN };
        if !known.contains(&key) {
            return Err(if UDEV_MATCH.contains(&key) || UDEV_ASSIGN.contains(&key) {
                format!("{key} does not take the operator {op}")
            } else {
                format!("unknown key {key:?}")
            });
        }
        let takes_attr = matches!(key, "ATTR" | "ATTRS" | "SYSCTL" | "ENV" | "TEST" | "IMPORT");
        if attr.is_some() && !takes_attr {
            return Err(format!("{key} takes no {{attribute}}"));
        }
        if attr.is_none() && matches!(key, "ATTR" | "ATTRS" | "SYSCTL" | "ENV") {
            return Err(format!("{key} needs an {{attribute}}"));
        }
        if key == "MODE" && !(value.len() == 4 && value.chars().all(|c| ('0'..='7').contains(&c))) {
            return Err(format!("MODE=\"{value}\" is not a four-digit octal mode"));
        }
        pairs.push(UdevPair {
            key: key.to_string(),
            attr,
            op: op.to_string(),
            value,
        });
    }
    if pairs.is_empty() {
        return Err("empty rule".into());
    }
    Ok(pairs)
}

/// The rule gives group `group` read-write access to the PTP clocks.
fn check_udev(text: &str, group: &str) -> Result<(), String> {
    let rules = parse_udev(text)?;
    let has = |r: &[UdevPair], key: &str, op: &str, value: &str| {
        r.iter()
            .any(|p| p.key == key && p.op == op && p.value == value)
    };
    let ok = rules.iter().any(|r| {
        has(r, "SUBSYSTEM", "==", "ptp")
            && has(r, "GROUP", "=", group)
            && r.iter().any(|p| {
                p.key == "MODE"
                    && p.op == "="
                    && p.value
                        .as_bytes()
                        .get(2)
                        .is_some_and(|g| (b'6'..=b'7').contains(g))
            })
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "no rule matches SUBSYSTEM==\"ptp\" and sets GROUP=\"{group}\" with a group-rw MODE"
        ))
    }
}

#[test]
fn udev_rule_gives_the_group_the_ptp_clocks() {
    let name = "60-statime-ptp.rules";
    let text = read(&format!("packaging/udev/{name}"));
    check_udev(&text, "statime").unwrap_or_else(|e| panic!("packaging/udev/{name}: {e}"));
    // After systemd's 50-udev-default.rules, which names the PTP devices.
    let prio: u32 = name[..2].parse().expect("NN- prefix");
    assert!(prio > 50, "{name} must sort after 50-udev-default.rules");
}

#[test]
fn the_udev_checker_rejects_broken_rules() {
    let good = r#"SUBSYSTEM=="ptp", KERNEL=="ptp[0-9]*", GROUP="statime", MODE="0660""#;
    assert_eq!(check_udev(good, "statime"), Ok(()));
    assert_eq!(
        check_udev(&format!("# c\n\n{good}\n"), "statime"),
        Ok(()),
        "comments and blank lines"
    );
    assert_eq!(
        check_udev(
            "SUBSYSTEM==\"ptp\", \\\n  GROUP=\"statime\", MODE=\"0660\"",
            "statime"
        ),
        Ok(()),
        "continuation"
    );
    for bad in [
        r#"SUBSYSTEM="ptp", GROUP="statime", MODE="0660""#, // assignment to a match key
        r#"SUBSYSTEM=="ptp", GROUP=="statime", MODE="0660""#, // match on an assignment key
        r#"SUBSYSTEM=="ptp", GRUOP="statime", MODE="0660""#, // typo
        r#"SUBSYSTEM=="ptp", GROUP=statime, MODE="0660""#,  // unquoted
        r#"SUBSYSTEM=="ptp" GROUP="statime", MODE="0660""#, // missing comma
        r#"SUBSYSTEM=="ptp", GROUP="statime", MODE="660""#, // short mode
        r#"SUBSYSTEM=="ptp", GROUP="statime", MODE="0640""#, // group read-only
        r#"SUBSYSTEM=="ptp", GROUP="root", MODE="0660""#,   // wrong group
        r#"SUBSYSTEM=="net", GROUP="statime", MODE="0660""#, // wrong subsystem
        r#"SUBSYSTEM=="ptp", GROUP="statime", MODE="0660","#, // trailing comma
        r#"SUBSYSTEM=="ptp", GROUP{x}="statime", MODE="0660""#, // stray attribute
        r#"SUBSYSTEM=="ptp", GROUP="statime, MODE="0660""#, // unbalanced quote
    ] {
        assert!(check_udev(bad, "statime").is_err(), "accepted: {bad}");
    }
}
