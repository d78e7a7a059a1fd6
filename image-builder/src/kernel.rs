//! Building the kernel ELF with the flags a Xen PV kernel needs.
//!
//! The kernel is an ordinary workspace binary built for the host target
//! with extra codegen flags (DESIGN.md section 3): static relocation, the
//! kernel code model (it is linked at `0xffffffff80000000`), no red zone
//! (asynchronous event upcalls land on the current stack), and frame
//! pointers (the kernel's backtraces walk them). The flags go in
//! `RUSTFLAGS` together with an explicit `--target`, which keeps them away
//! from build scripts and proc-macros, and into a separate target directory
//! so they never invalidate the host crates' cache. The linker script and
//! link arguments come from the kernel's own `build.rs`.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::command;
use crate::error::Error;
use crate::host::target_dir;

/// The codegen flags every kernel build uses.
pub const KERNEL_RUSTFLAGS: &str =
    "-C relocation-model=static -C code-model=kernel -C no-redzone=yes -C force-frame-pointers=yes";

/// The target triple the kernel is built for (the only one installed).
pub const KERNEL_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The kernel's package and binary name.
const KERNEL_PACKAGE: &str = "kernel";

/// Which cargo profile to build the kernel with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `dev`: debug assertions and overflow checks on.
    Debug,
    /// `release`: what the tests and benchmarks boot.
    Release,
}

impl Profile {
    /// The directory name cargo uses for this profile's outputs.
    pub fn directory_name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// The target directory of kernel builds (separate from the host crates').
pub fn kernel_target_dir() -> PathBuf {
    target_dir().join("kernel")
}

/// Where [`build_kernel`] leaves the kernel ELF for `profile`.
pub fn kernel_path(profile: Profile) -> PathBuf {
    kernel_target_dir()
        .join(KERNEL_TARGET)
        .join(profile.directory_name())
        .join(KERNEL_PACKAGE)
}

/// The cargo invocation that builds the kernel: program, arguments, env.
///
/// Shared by [`build_kernel`] and the `test` command's kernel clippy step,
/// and printed in error messages so a failed build can be rerun by hand.
pub fn kernel_cargo(
    subcommand: &str,
    profile: Profile,
    target_dir: PathBuf,
) -> std::process::Command {
    let mut cargo = command::cargo();
    cargo
        .arg(subcommand)
        .args(["-p", KERNEL_PACKAGE])
        .args(["--target", KERNEL_TARGET])
        .arg("--target-dir")
        .arg(target_dir)
        .env("RUSTFLAGS", KERNEL_RUSTFLAGS);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    cargo
}

/// Builds the kernel and returns the path of its ELF.
///
/// Works from inside `cargo test` and `cargo run`: the outer build's
/// settings are removed from the environment first. Each profile is built
/// at most once per process; later calls return the first result. Output is
/// captured (and shown in the error on failure); it is echoed live when
/// `XENRS_ECHO=1` or [`crate::set_echo`] asked for it.
pub fn build_kernel(profile: Profile) -> Result<PathBuf, Error> {
    static DEBUG: OnceLock<Result<PathBuf, Error>> = OnceLock::new();
    static RELEASE: OnceLock<Result<PathBuf, Error>> = OnceLock::new();
    let cell = match profile {
        Profile::Debug => &DEBUG,
        Profile::Release => &RELEASE,
    };
    cell.get_or_init(|| build_kernel_uncached(profile)).clone()
}

fn build_kernel_uncached(profile: Profile) -> Result<PathBuf, Error> {
    let mut cargo = kernel_cargo("build", profile, kernel_target_dir());
    cargo.args(["--bin", KERNEL_PACKAGE]);
    command::run(
        &mut cargo,
        crate::echo_enabled(),
        "the kernel does not build",
    )?;
    let path = kernel_path(profile);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingOutput {
            what: "the kernel ELF after a successful build",
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_paths_follow_cargos_layout() {
        let path = kernel_path(Profile::Release);
        assert!(path.ends_with("target/kernel/x86_64-unknown-linux-gnu/release/kernel"));
        let debug = kernel_path(Profile::Debug);
        assert!(debug.ends_with("x86_64-unknown-linux-gnu/debug/kernel"));
    }

    #[test]
    fn kernel_cargo_sets_flags_target_and_profile() {
        let cargo = kernel_cargo("build", Profile::Release, kernel_target_dir());
        let args: Vec<String> = cargo
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[0], "build");
        assert!(args
            .windows(2)
            .any(|pair| pair == ["--target", KERNEL_TARGET]));
        assert!(args.iter().any(|arg| arg == "--release"));
        let rustflags = cargo
            .get_envs()
            .find(|(name, _)| *name == "RUSTFLAGS")
            .and_then(|(_, value)| value)
            .expect("RUSTFLAGS is set");
        assert_eq!(rustflags, KERNEL_RUSTFLAGS);
        let debug = kernel_cargo("build", Profile::Debug, kernel_target_dir());
        assert!(!debug.get_args().any(|arg| arg == "--release"));
    }
}
