//! Every file in `testdata/config/` loads, or fails, exactly as its
//! `# expect:` / `# expect-warning:` comments say (see the README there).

use std::path::{Path, PathBuf};

use statime_linux::config::{Config, ConfigErrorKind};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/config")
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The `# PREFIX ` comment lines, with `FILE:` put in front.
fn expectations(path: &Path, text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(|rest| format!("{}:{}", path.display(), rest.trim_start()))
        .collect()
}

#[test]
fn every_testdata_file_behaves_as_annotated() {
    let files = toml_files(&testdata());
    assert!(files.len() >= 15, "test files missing: {files:?}");
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let errors = expectations(&path, &text, "# expect: ");
        let warnings = expectations(&path, &text, "# expect-warning: ");
        match Config::load(&path) {
            Ok(config) => {
                let got: Vec<String> = config.warnings().iter().map(ToString::to_string).collect();
                if !errors.is_empty() {
                    failures.push(format!(
                        "{}: loaded, expected errors {errors:#?}",
                        path.display()
                    ));
                } else if got != warnings {
                    failures.push(format!(
                        "{}: warnings {got:#?}, expected {warnings:#?}",
                        path.display()
                    ));
                }
            }
            Err(e) => {
                let got: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
                if got != errors {
                    failures.push(format!(
                        "{}: errors {got:#?}, expected {errors:#?}",
                        path.display()
                    ));
                }
                assert_ne!(e.kind(), ConfigErrorKind::Read);
                // Display is the errors, one per line.
                assert_eq!(e.to_string(), got.join("\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
