//! Helpers shared by the end-to-end tests: run the binary, write scenario files, and check that
//! bad input is a located error (exit code 2, nothing on stdout, no panic).
#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;
use std::process::Command;

/// The `megacluster` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_megacluster"))
}

/// What the binary prints on stdout for `args`; it must succeed (its stderr in the failure).
pub fn stdout(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// This test process's own temporary folder.
pub fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("megacluster-tests-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write `body` to a file `name` in [`dir`].
pub fn write(name: &str, body: &str) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// Every command of `cmds` on the scenario `body` must fail with code 2, write nothing to stdout,
/// not panic, and say every one of `needles`.
pub fn rejects_with(cmds: &[&str], name: &str, body: &str, needles: &[&str]) {
    let p = write(name, body);
    for cmd in cmds {
        let out = bin().arg(cmd).arg(&p).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} {cmd}: {err}");
        assert!(out.stdout.is_empty(), "{name} {cmd}: wrote to stdout");
        assert!(!err.contains("panicked"), "{name} {cmd}: {err}");
        for n in needles {
            assert!(err.contains(n), "{name} {cmd}: {err:?} lacks {n:?}");
        }
    }
}
