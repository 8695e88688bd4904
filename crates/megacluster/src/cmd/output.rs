//! Output files, checked before any computation and written so that a failure leaves nothing
//! half-written: each file goes to a temporary file in its own directory, then is renamed over
//! its name. A rename replaces a symlink at that name rather than writing through it, so an
//! output never lands outside its directory; a name that is (or links to) the scenario or a
//! catalogue file is refused, as is a name whose extension says another format.

use crate::CliError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files a command will write, checked up front against the inputs it reads.
pub struct Outputs {
    inputs: Vec<PathBuf>,
}

/// An output file that passed the checks: write it with [`write_all`].
#[derive(Clone, Debug)]
pub struct Target {
    pub path: PathBuf,
}

impl Outputs {
    /// The inputs (scenario, catalogue files) no output may overwrite.
    pub fn new<'a>(inputs: impl IntoIterator<Item = &'a Path>) -> Outputs {
        Outputs {
            inputs: inputs
                .into_iter()
                .filter_map(|p| std::fs::canonicalize(p).ok())
                .collect(),
        }
    }

    /// A file named by `flag` that must end in `.ext`.
    pub fn file(&self, flag: &str, path: &Path, ext: &str) -> Result<Target, CliError> {
        let ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case(ext));
        if !ok || path.file_stem().is_none() {
            return Err(CliError::input(format!(
                "{flag} {}: the file must end in .{ext}",
                path.display()
            )));
        }
        self.target(flag, path)
    }

    /// The directory named by `flag` (created if missing) and the files `names` inside it.
    pub fn dir(&self, flag: &str, dir: &Path, names: &[&str]) -> Result<Vec<Target>, CliError> {
        if dir.exists() && !dir.is_dir() {
            return Err(CliError::input(format!(
                "{flag} {}: not a directory",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::input(format!("{flag}: cannot create {}: {e}", dir.display()))
        })?;
        names
            .iter()
            .map(|n| self.target(flag, &dir.join(n)))
            .collect()
    }

    /// A file at `path` (any extension), checked like the others.
    pub fn target(&self, flag: &str, path: &Path) -> Result<Target, CliError> {
        let shown = path.display();
        if path.is_dir() {
            return Err(CliError::input(format!(
                "{flag} {shown}: is a directory, not a file"
            )));
        }
        // the file, or the file a symlink at that name points to
        if let Ok(real) = std::fs::canonicalize(path) {
            if self.inputs.contains(&real) {
                return Err(CliError::input(format!(
                    "{flag} {shown}: is an input of this command (the scenario or a catalogue file); refusing to overwrite it"
                )));
            }
        }
        let dir = parent(path);
        if !dir.is_dir() {
            return Err(CliError::input(format!(
                "{flag} {shown}: the directory {} does not exist",
                dir.display()
            )));
        }
        // can a file be created there? (checked now, not after the computation)
        let probe = temp_name(path, "probe");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
            }
            Err(e) => {
                return Err(CliError::input(format!(
                    "{flag} {shown}: cannot write in {}: {e}",
                    dir.display()
                )))
            }
        }
        Ok(Target {
            path: path.to_path_buf(),
        })
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A hidden name beside `path` for its temporary file.
fn temp_name(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent(path).join(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Write every file, or none: each body goes to a temporary file first; only when all are
/// written are they renamed over their names. Returns the paths written.
pub fn write_all(files: &[(&Target, &[u8])]) -> Result<Vec<PathBuf>, CliError> {
    let mut temps: Vec<PathBuf> = vec![];
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for (t, body) in files {
        let tmp = temp_name(&t.path, "tmp");
        let r = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(body)?;
                f.sync_all()
            });
        if let Err(e) = r {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&temps);
            return Err(CliError::input(format!(
                "cannot write {}: {e}",
                t.path.display()
            )));
        }
        temps.push(tmp);
    }
    for (i, (t, _)) in files.iter().enumerate() {
        if let Err(e) = std::fs::rename(&temps[i], &t.path) {
            cleanup(&temps[i..]);
            return Err(CliError::input(format!(
                "cannot write {}: {e}",
                t.path.display()
            )));
        }
    }
    Ok(files.iter().map(|(t, _)| t.path.clone()).collect())
}

/// Print the command's output on stdout. A closed pipe (`| head`) ends the command quietly;
/// any other failure (a full disk) is an error.
pub fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::internal(format!("cannot write to stdout: {e}"))),
    }
}
