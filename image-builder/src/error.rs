//! The one error type of the image builder, saying who is to blame.
//!
//! Three kinds of failure exist: the caller asked for something QEMU or Xen
//! cannot express (a comma in a module command line), a host tool failed
//! (cargo, apt-get, dpkg-deb; its output is kept), or the host's file
//! system or process table refused (an `io::Error` with what we were doing).
//! A boot that ends badly is *not* an error: it is a [`crate::BootRun`]
//! with a failing [`crate::Outcome`], because its log is the useful part.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can stop the image builder before or around a boot.
///
/// `Clone` so that a result cached for the whole process (the kernel build,
/// the Xen download) can be handed to every caller.
#[derive(Clone, Debug)]
pub enum Error {
    /// The caller's configuration cannot be passed to QEMU or Xen.
    InvalidConfig {
        /// Which setting is wrong.
        what: &'static str,
        /// The offending value, as given.
        value: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// A host command ran but reported failure.
    CommandFailed {
        /// The command line, for the user to rerun by hand.
        command: String,
        /// Its exit status (`None` if a signal ended it).
        status: Option<i32>,
        /// What it printed (stdout then stderr), possibly shortened.
        output: String,
        /// A hint for the user, if we know a likely cause.
        hint: &'static str,
    },
    /// A host operation (file, process) failed.
    Io {
        /// What we were doing, e.g. "starting qemu-system-x86_64".
        context: String,
        /// The operating system's error.
        source: Arc<io::Error>,
    },
    /// A file a host tool should have produced is not there.
    MissingOutput {
        /// What we expected.
        what: &'static str,
        /// Where we looked.
        path: PathBuf,
    },
    /// Another process held a host lock for too long.
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// Its holder as written in the file (a process id), if readable.
        holder: String,
    },
}

impl Error {
    /// Wraps an `io::Error` with what we were doing when it happened.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig {
                what,
                value,
                reason,
            } => write!(f, "invalid {what} {value:?}: {reason}"),
            Error::CommandFailed {
                command,
                status,
                output,
                hint,
            } => {
                match status {
                    Some(code) => write!(f, "`{command}` failed with exit status {code}")?,
                    None => write!(f, "`{command}` was killed by a signal")?,
                }
                if !hint.is_empty() {
                    write!(f, " ({hint})")?;
                }
                if !output.trim().is_empty() {
                    write!(f, "; its output:\n{}", output.trim_end())?;
                }
                Ok(())
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::MissingOutput { what, path } => {
                write!(f, "{what} not found at {}", path.display())
            }
            Error::LockTimeout { path, holder } => write!(
                f,
                "timed out waiting for lock {} (held by process {holder:?}; \
                 delete the file if that process is gone)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}
