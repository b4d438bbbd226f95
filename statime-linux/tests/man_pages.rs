//! The man pages in `docs/man/` keep up with the binaries and the examples:
//!
//! - every flag `statime --help` lists is in statime(8), and every flag the
//!   pages' synopses show is one the daemon accepts;
//! - every `statime-ctl` subcommand is in statime-ctl(8) with its flags,
//!   and its synopsis shows no flag the subcommand lacks;
//! - every key and table the `config/*.toml` examples use is described in
//!   statime.toml(5), in the section of its table;
//! - the examples in statime.toml(5) are valid configurations.
//!
//! The help text is read from the binaries at test time, so a new flag or
//! subcommand fails this test until its page describes it. `docs/man/render.sh`
//! checks that the pages render.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use statime_linux::config::Config;

fn workspace(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn page(name: &str) -> String {
    let p = workspace(&format!("docs/man/{name}.md"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn help(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .arg("--help")
        .output()
        .expect("run the binary");
    assert_eq!(out.status.code(), Some(0), "{bin} {args:?} --help");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// One option of a `--help` listing: its spellings, e.g. `["-c", "--config"]`.
type Flag = Vec<String>;

/// The options of clap's `--help` output (the "Options:" block).
fn help_flags(help: &str) -> Vec<Flag> {
    let re = regex::Regex::new(r"^\s+(-[A-Za-z0-9])?(?:, )?(--[a-z][a-z0-9-]*)?(?:\s|$)")
        .expect("regex");
    let mut in_options = false;
    let mut flags = Vec::new();
    for line in help.lines() {
        if !line.starts_with(' ') {
            in_options = line.trim_end() == "Options:";
            continue;
        }
        if !in_options {
            continue;
        }
        if let Some(c) = re.captures(line) {
            let f: Flag = [c.get(1), c.get(2)]
                .into_iter()
                .flatten()
                .map(|m| m.as_str().to_string())
                .collect();
            if !f.is_empty() {
                flags.push(f);
            }
        }
    }
    flags
}

/// The subcommands of clap's `--help` output (the "Commands:" block),
/// without `help`.
fn help_commands(help: &str) -> Vec<String> {
    let mut in_commands = false;
    let mut out = Vec::new();
    for line in help.lines() {
        if !line.starts_with(' ') {
            in_commands = line.trim_end() == "Commands:";
            continue;
        }
        if in_commands && line.starts_with("  ") && !line.starts_with("   ") {
            let name = line.split_whitespace().next().expect("a name");
            if name != "help" {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// The text of the top-level section `# TITLE` of a page.
fn section<'a>(text: &'a str, title: &str) -> &'a str {
    let head = format!("# {title}\n");
    let start = text
        .find(&head)
        .map(|i| i + head.len())
        .unwrap_or_else(|| panic!("no section '# {title}'"));
    let rest = &text[start..];
    let end = rest.find("\n# ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Command-line flags written in code spans: `` `-c` ``, `` `--config` ``,
/// `` `-i IFACE` ``.
fn code_flags(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"`(--?[A-Za-z0-9][A-Za-z0-9-]*)[` ]").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

/// Flags in synopsis lines, inside or outside code spans: every word that
/// starts with `-` after a blank, `[`, `|` or a backtick
/// (`` `statime -c FILE [-i IFACE]... [-4|-6]` `` gives -c, -i, -4, -6).
fn synopsis_flags(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"(?:^|[\s\[|`])(--?[A-Za-z0-9][A-Za-z0-9-]*)").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

fn documented(text: &str, spelling: &str) -> bool {
    text.contains(&format!("`{spelling}`")) || text.contains(&format!("`{spelling} "))
}

#[test]
fn statime_8_describes_every_daemon_flag() {
    let help = help(env!("CARGO_BIN_EXE_statime"), &[]);
    let flags = help_flags(&help);
    assert!(flags.len() >= 10, "parsed too few flags from:\n{help}");
    let man = page("statime.8");
    let options = section(&man, "OPTIONS");
    let mut missing = Vec::new();
    for f in &flags {
        for spelling in f {
            if !documented(options, spelling) {
                missing.push(spelling.clone());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/man/statime.8.md OPTIONS lacks {missing:?} (from `statime --help`)"
    );
}

#[test]
fn the_pages_show_no_daemon_flag_that_does_not_exist() {
    let help = help(env!("CARGO_BIN_EXE_statime"), &[]);
    let known: BTreeSet<String> = help_flags(&help).into_iter().flatten().collect();
    let statime8 = page("statime.8");
    let toml5 = page("statime.toml.5");
    let shown = [
        (
            "statime.8 SYNOPSIS",
            synopsis_flags(section(&statime8, "SYNOPSIS")),
        ),
        (
            "statime.8 OPTIONS",
            code_flags(section(&statime8, "OPTIONS")),
        ),
        (
            "statime.toml.5 SYNOPSIS",
            synopsis_flags(
                &section(&toml5, "SYNOPSIS")
                    .lines()
                    .filter(|l| l.starts_with("`statime "))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ),
    ];
    for (where_, flags) in shown {
        assert!(!flags.is_empty(), "{where_}: no flags found");
        let unknown: Vec<String> = flags.difference(&known).cloned().collect();
        assert!(
            unknown.is_empty(),
            "{where_} shows {unknown:?}, which `statime --help` does not list"
        );
    }
}

#[test]
fn statime_ctl_8_describes_every_subcommand_and_its_flags() {
    let ctl = env!("CARGO_BIN_EXE_statime-ctl");
    let commands = help_commands(&help(ctl, &[]));
    assert!(
        commands.iter().any(|c| c == "validate"),
        "parsed no subcommands: {commands:?}"
    );
    let man = page("statime-ctl.8");
    let mut problems = Vec::new();
    for cmd in &commands {
        if !man.contains(&format!("statime-ctl {cmd}")) {
            problems.push(format!(
                "subcommand `{cmd}` is missing (no \"statime-ctl {cmd}\" in the page)"
            ));
            continue;
        }
        for f in help_flags(&help(ctl, &[cmd])) {
            if f.iter().any(|s| s == "--help" || s == "-h") {
                continue;
            }
            // One spelling is enough: the page may give `-v` for -v/--verbose.
            if !f.iter().any(|s| documented(&man, s)) {
                problems.push(format!(
                    "`statime-ctl {cmd}` flag {} is missing",
                    f.join("/")
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/man/statime-ctl.8.md is behind `statime-ctl --help`:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn statime_ctl_8_synopsis_shows_only_real_flags() {
    let ctl = env!("CARGO_BIN_EXE_statime-ctl");
    let man = page("statime-ctl.8");
    let synopsis = section(&man, "SYNOPSIS");
    let mut problems = Vec::new();
    for line in synopsis.lines().filter(|l| l.starts_with("`statime-ctl ")) {
        let cmd = line
            .trim_start_matches("`statime-ctl ")
            .split(|c: char| c == '`' || c.is_whitespace())
            .next()
            .expect("a subcommand");
        let out = Command::new(ctl)
            .args([cmd, "--help"])
            .output()
            .expect("run");
        if out.status.code() != Some(0) {
            problems.push(format!(
                "synopsis shows `statime-ctl {cmd}`, which does not exist"
            ));
            continue;
        }
        let known: BTreeSet<String> = help_flags(&String::from_utf8_lossy(&out.stdout))
            .into_iter()
            .flatten()
            .collect();
        for f in synopsis_flags(line).difference(&known) {
            problems.push(format!(
                "synopsis shows `statime-ctl {cmd} {f}`, which it lacks"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The top-level sections of statime.toml(5) and their texts, with the
/// `## [servo.pi]`-style subsections split out.
fn toml5_sections() -> Vec<(String, String)> {
    let text = page("statime.toml.5");
    let mut out: Vec<(String, String)> = Vec::new();
    let mut fence = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fence = !fence;
        }
        if !fence && (line.starts_with("# ") || line.starts_with("## ")) {
            out.push((line.to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Whether `body` has a definition line naming `key` before its ` = `
/// (e.g. `` `ingress-latency`, `egress-latency` = *duration* ``).
fn defines(body: &str, key: &str) -> bool {
    let want = format!("`{key}`");
    body.lines().filter(|l| l.starts_with('`')).any(|l| {
        l.split(" = ")
            .next()
            .is_some_and(|head| head.contains(&want))
    })
}

#[test]
fn statime_toml_5_describes_every_key_the_examples_use() {
    let sections = toml5_sections();
    let find = |heading_has: &str| -> Option<&(String, String)> {
        sections.iter().find(|(h, _)| h.contains(heading_has))
    };
    let top = find("INSTANCE KEYS").expect("an INSTANCE KEYS section");
    let mut problems = BTreeSet::new();
    let dir = workspace("config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("config/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in config/");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let table: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (key, value) in &table {
            let (heading, tables): (String, Vec<&toml::Table>) = match value {
                toml::Value::Table(t) => (format!("`[{key}]`"), vec![t]),
                toml::Value::Array(a) if a.iter().all(toml::Value::is_table) => (
                    format!("`[[{key}]]`"),
                    a.iter().filter_map(toml::Value::as_table).collect(),
                ),
                _ => {
                    if !defines(&top.1, key) {
                        problems.insert(format!("top-level key `{key}` (INSTANCE KEYS)"));
                    }
                    continue;
                }
            };
            check_table(&sections, &heading, key, &tables, &mut problems);
        }
    }
    assert!(
        problems.is_empty(),
        "docs/man/statime.toml.5.md does not describe what config/*.toml uses:\n  {}",
        problems.iter().cloned().collect::<Vec<_>>().join("\n  ")
    );
}

fn check_table(
    sections: &[(String, String)],
    heading: &str,
    path: &str,
    tables: &[&toml::Table],
    problems: &mut BTreeSet<String>,
) {
    let Some((_, body)) = sections.iter().find(|(h, _)| h.contains(heading)) else {
        problems.insert(format!(
            "table {heading}: no section whose heading names it"
        ));
        return;
    };
    for t in tables {
        for (key, value) in t.iter() {
            if let toml::Value::Table(inner) = value {
                let sub = format!("{path}.{key}");
                check_table(sections, &format!("`[{sub}]`"), &sub, &[inner], problems);
            } else if !defines(body, key) {
                problems.insert(format!("key `{key}` of {heading}"));
            }
        }
    }
}

#[test]
fn the_examples_in_statime_toml_5_are_valid() {
    let text = page("statime.toml.5");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(blocks.len() >= 3, "too few ```toml examples found");
    for (i, b) in blocks.iter().enumerate() {
        if let Err(e) = Config::from_toml(b, &format!("statime.toml.5 example {}", i + 1)) {
            panic!("{e}\n{b}");
        }
    }
}

#[test]
fn the_help_parsers_read_clap_output() {
    let help = "Usage: x\n\nCommands:\n  one   First\n  two-b  Second\n  help  Help\n\nOptions:\n  -c, --config <C>  File\n  -4                Four\n      --long <L>    Long\n  -h, --help        Help\n";
    assert_eq!(help_commands(help), ["one", "two-b"]);
    assert_eq!(
        help_flags(help),
        [
            vec!["-c".to_string(), "--config".into()],
            vec!["-4".into()],
            vec!["--long".into()],
            vec!["-h".into(), "--help".into()],
        ]
    );
    let old_toml5 = "`statime -c FILE [-i IFACE]... [-4|-6|-2] [-E|-P] [-q] [-l LEVEL]`";
    let found: Vec<String> = synopsis_flags(old_toml5).into_iter().collect();
    assert_eq!(
        found,
        ["-2", "-4", "-6", "-E", "-P", "-c", "-i", "-l", "-q"]
    );
    let ctl = "`statime-ctl decode` [`--raw`] [`-v`] [*FILE*...]";
    let found: Vec<String> = synopsis_flags(ctl).into_iter().collect();
    assert_eq!(found, ["--raw", "-v"]);
    assert!(documented("`-i` *IFACE*", "-i"));
    assert!(documented("`-i IFACE`", "-i"));
    assert!(!documented("`-iface`", "-i"));
    assert!(defines("`a`, `b-c` = *x*\n", "b-c"));
    assert!(!defines("see `b-c` = here\n", "b-c"));
}
