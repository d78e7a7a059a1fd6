//! Running host commands: a clean environment, captured output, clear errors.
//!
//! The image builder runs inside `cargo test` and `cargo run`, whose
//! environment carries settings meant for *that* build (`RUSTFLAGS` in
//! encoded form, a target directory, a jobserver). [`sanitize`] removes
//! them so a nested `cargo` builds exactly what we ask for. `run` runs a
//! command to completion, keeps what it printed for the error message, and
//! optionally echoes it live.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::thread;

use crate::error::Error;

/// Environment variables that would change what a nested cargo builds, or
/// where, or that describe the outer build and make no sense inside it.
const INHERITED_BUILD_VARIABLES: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_TARGET_TMPDIR",
    "OUT_DIR",
];

/// Prefixes of variables cargo sets for the crate it is building or running.
const INHERITED_BUILD_PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_CFG_", "CARGO_FEATURE_"];

/// Removes the outer cargo's build settings from `command`'s environment.
pub fn sanitize(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let Some(name_text) = name.to_str() else {
            continue;
        };
        if INHERITED_BUILD_VARIABLES.contains(&name_text)
            || INHERITED_BUILD_PREFIXES
                .iter()
                .any(|prefix| name_text.starts_with(prefix))
        {
            command.env_remove(&name);
        }
    }
    command
}

/// A cargo for the workspace: the one that runs us (cargo sets `CARGO` for
/// `cargo run`/`cargo test`, so nested builds use the same toolchain; plain
/// `cargo` otherwise), in the workspace root, environment [`sanitize`]d.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(crate::host::workspace_root());
    sanitize(&mut command);
    command
}

/// Renders a command for messages and for the user to rerun by hand.
pub fn describe(command: &Command) -> String {
    let mut words = Vec::new();
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            words.push(format!(
                "{}={}",
                name.to_string_lossy(),
                crate::qemu::shell_quote(&value.to_string_lossy())
            ));
        }
    }
    words.push(crate::qemu::shell_quote(
        &command.get_program().to_string_lossy(),
    ));
    words.extend(
        command
            .get_args()
            .map(OsStr::to_string_lossy)
            .map(|arg| crate::qemu::shell_quote(&arg)),
    );
    words.join(" ")
}

/// Runs `command` to completion with null stdin; returns what it printed
/// (stdout, then stderr).
///
/// With `echo`, each line of output is also copied to our stderr as it
/// arrives (a long cargo build should show progress). A non-zero exit
/// becomes [`Error::CommandFailed`] carrying the output and `hint`.
pub(crate) fn run(command: &mut Command, echo: bool, hint: &'static str) -> Result<String, Error> {
    let description = describe(command);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| Error::io(format!("starting `{description}`"), error))?;
    let stdout = child.stdout.take().expect("stdout was configured as piped");
    let stderr = child.stderr.take().expect("stderr was configured as piped");
    let stdout_reader = thread::spawn(move || collect(stdout, echo));
    let stderr_text = collect(stderr, echo);
    let stdout_text = stdout_reader.join().unwrap_or_default();
    let status = child
        .wait()
        .map_err(|error| Error::io(format!("waiting for `{description}`"), error))?;
    let output = format!("{stdout_text}{stderr_text}");
    if status.success() {
        Ok(output)
    } else {
        Err(Error::CommandFailed {
            command: description,
            status: status.code(),
            // Echoed output is on the screen already; do not repeat it.
            output: if echo {
                String::new()
            } else {
                shorten(&output)
            },
            hint,
        })
    }
}

/// Reads a pipe to its end, echoing each line to stderr if asked.
fn collect(pipe: impl Read, echo: bool) -> String {
    let mut reader = BufReader::new(pipe);
    let mut all = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                if echo {
                    let mut stderr = std::io::stderr().lock();
                    // Echo is best effort: a closed stderr must not stop the build.
                    let _ignored = stderr.write_all(text.as_bytes());
                }
                all.push_str(&text);
            }
        }
    }
    all
}

/// Keeps the last part of a long output: errors come at the end.
fn shorten(output: &str) -> String {
    const KEEP_LINES: usize = 200;
    let lines: Vec<&str> = output.lines().collect();
    if lines.len() <= KEEP_LINES {
        return output.to_owned();
    }
    let skipped = lines.len() - KEEP_LINES;
    format!(
        "[... {skipped} earlier lines left out ...]\n{}",
        lines[skipped..].join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_short_output_and_the_tail_of_long_output() {
        assert_eq!(shorten("a\nb\n"), "a\nb\n");
        let long: String = (0..250).map(|i| format!("line {i}\n")).collect();
        let short = shorten(&long);
        assert!(short.starts_with("[... 50 earlier lines left out ...]\nline 50\n"));
        assert!(short.ends_with("line 249"));
    }

    #[test]
    fn run_reports_failure_with_output() {
        let error = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            false,
            "a hint",
        )
        .expect_err("the command fails");
        let Error::CommandFailed {
            status,
            output,
            hint,
            ..
        } = &error
        else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(*status, Some(3));
        assert_eq!(output, "out\nerr\n");
        assert_eq!(*hint, "a hint");
    }

    #[test]
    fn sanitize_removes_outer_build_settings() {
        let mut command = Command::new("true");
        sanitize(&mut command);
        // Under `cargo test` these are set in our own environment, so they
        // must appear as removals on the child.
        let removed: Vec<String> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        if std::env::var_os("CARGO_PKG_NAME").is_some() {
            assert!(removed.iter().any(|name| name == "CARGO_PKG_NAME"));
        }
        if std::env::var_os("CARGO_MANIFEST_DIR").is_some() {
            assert!(removed.iter().any(|name| name == "CARGO_MANIFEST_DIR"));
        }
    }
}
