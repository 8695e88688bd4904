//! Reading scenario and catalogue files: regular files only, at most [`MAX_INPUT_BYTES`], UTF-8
//! with the line and column of the first bad byte. A FIFO, a device (`/dev/zero`) or a directory
//! is refused before it is opened, so a read never blocks and never grows without bound.

use crate::error::SpecError;
use std::io::Read;
use std::path::Path;

/// The largest scenario or catalogue file read: 4 MiB. The whole embedded catalogue is about
/// 50 KB and every example scenario together under 30 KB, so this is ample for any hand-written or
/// generated file while keeping a mistaken path (a log, a dump) from filling memory.
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

/// Read `p` as UTF-8 text; `what` names it in errors ("scenario", "catalogue file").
pub fn read_input(p: &Path, what: &str) -> Result<String, SpecError> {
    let file = p.display().to_string();
    let err = |m: String| SpecError::new(&file, "", m);
    let meta = std::fs::metadata(p).map_err(|e| err(format!("cannot read {what}: {e}")))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a pipe, socket or device)"
        };
        return Err(err(format!(
            "cannot read {what}: {kind}; give the path of a TOML file"
        )));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(err(format!(
            "cannot read {what}: {} bytes is more than the {MAX_INPUT_BYTES}-byte limit for an input file",
            meta.len()
        )));
    }
    let f = open_nonblocking(p).map_err(|e| err(format!("cannot read {what}: {e}")))?;
    // (the file opened is the one read: a path swapped for a pipe or device since the check
    // above is refused here, and opening it did not block)
    let opened = f
        .metadata()
        .map_err(|e| err(format!("cannot read {what}: {e}")))?;
    if !opened.is_file() {
        return Err(err(format!(
            "cannot read {what}: not a regular file (it changed while being opened); give the path of a TOML file"
        )));
    }
    let mut bytes = Vec::new();
    f.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(err(format!(
            "cannot read {what}: it grew past the {MAX_INPUT_BYTES}-byte limit for an input file while being read"
        )));
    }
    utf8(&file, bytes)
}

/// Open `p` for reading without blocking on a FIFO that has no writer (`O_NONBLOCK`, which a
/// regular file's reads ignore).
#[cfg(unix)]
fn open_nonblocking(p: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)
}

#[cfg(not(unix))]
fn open_nonblocking(p: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(p)
}

/// The bytes as text, or an error at the line and column of the first byte that is not UTF-8.
pub fn utf8(file: &str, bytes: Vec<u8>) -> Result<String, SpecError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let good = std::str::from_utf8(&bytes[..at]).unwrap_or("");
        let mut err = SpecError::new(
            file,
            "",
            format!(
                "the file is not UTF-8 text: byte 0x{:02x} at offset {at} is not valid UTF-8",
                bytes[at]
            ),
        );
        err = err.at_span(good, Some(at..at));
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_utf8_is_located() {
        let e = utf8("x.toml", b"name = \"x\"\n# caf\xe9\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(6)));
        assert!(e.message.contains("0xe9"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused_unread() {
        let e = read_input(Path::new("/dev/zero"), "scenario").unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
        let e = read_input(Path::new("/"), "scenario").unwrap_err();
        assert!(e.message.contains("directory"), "{e}");
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("spec-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("big.toml");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(MAX_INPUT_BYTES + 1).unwrap();
        let e = read_input(&p, "scenario").unwrap_err();
        assert!(e.message.contains("limit"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
