//! The guest's initrd: our userland programs (and busybox) as a newc cpio.
//!
//! Three steps, each usable alone:
//!
//! - [`build_userland`]: `cargo build -p userland-programs --release`
//!   into `target/userland/` (its own target directory, so the outer
//!   build's lock and cache are not involved), with the outer cargo's
//!   settings scrubbed ([`crate::command::cargo`]) and debug info left
//!   out; returns the directory holding the binaries.
//! - [`busybox_static`]: Debian's `busybox-static`, downloaded with
//!   `apt-get download` and unpacked with `dpkg-deb -x` into
//!   `target/busybox/` (never installed on the host), cached.
//! - [`build_initrd`]: packs the archive with [`crate::cpio::CpioWriter`]:
//!
//! ```text
//! /init               a copy of bin/init (what the kernel runs first)
//! /bin/<program>      every name in PROGRAMS, mode 0755
//! /bin/busybox        when given
//! /etc/rc             SAMPLE_RC: init runs it with /bin/sh at boot
//! /dev  /proc         empty: the kernel provides device nodes and procfs
//! /tmp                empty, mode 1777
//! ```

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::command;
use crate::cpio::CpioWriter;
use crate::error::Error;
use crate::host::{apt_get, apt_update_once, target_dir, HostLock};

/// The cargo package of the programs.
pub const USERLAND_PACKAGE: &str = "userland-programs";

/// The programs packed into `/bin` (the binaries of [`USERLAND_PACKAGE`]).
pub const PROGRAMS: &[&str] = &[
    "init",
    "sh",
    "ps",
    "free",
    "uptime",
    "date",
    "cat",
    "ls",
    "echo",
    "kill",
    "sleep",
    "hello",
    "xenrs-bench",
    "fault-inject",
];

/// The `/etc/rc` of the initrd: init runs it before the shell.
pub const SAMPLE_RC: &str = "\
# /etc/rc: run by init with /bin/sh at boot, before the interactive shell
# (and alone by `image-builder run`, as the demo of the userland).
echo \"rc: xenrs userland up; programs in /bin:\"
ls /bin
busybox uname -a
echo hi | cat
echo \"rc: processes, memory, time:\"
ps
free
uptime
date
echo \"rc: busybox runs unmodified:\"
busybox echo hello from busybox | busybox tr a-z A-Z
busybox sh -c 'trap \"echo rc: busybox caught SIGUSR1\" USR1; kill -USR1 $$'
echo \"rc: done (image-builder run --interactive gives you the shell)\"
";

/// The Debian package whose `/bin/busybox` goes into the initrd.
pub const BUSYBOX_PACKAGE: &str = "busybox-static";

/// Where [`build_userland`] builds (separate from the workspace's target).
pub fn userland_target_dir() -> PathBuf {
    target_dir().join("userland")
}

/// The cargo invocation of [`build_userland`]: release profile, no debug
/// info (the binaries shrink from about 1 MiB to under 100 KiB; symbols
/// stay for backtraces), its own target directory.
pub fn userland_cargo() -> Command {
    let mut cargo = command::cargo();
    cargo
        .arg("build")
        .args(["-p", USERLAND_PACKAGE, "--bins", "--release"])
        .arg("--target-dir")
        .arg(userland_target_dir())
        .args(["--config", "profile.release.debug=false"])
        .args(["--config", "profile.release.strip=\"debuginfo\""]);
    cargo
}

/// Builds the userland programs (once per process) and returns the
/// directory holding them.
pub fn build_userland() -> Result<PathBuf, Error> {
    static BUILT: OnceLock<Result<PathBuf, Error>> = OnceLock::new();
    BUILT.get_or_init(build_userland_uncached).clone()
}

fn build_userland_uncached() -> Result<PathBuf, Error> {
    command::run(
        &mut userland_cargo(),
        crate::echo_enabled(),
        "the userland programs do not build",
    )?;
    let dir = userland_target_dir().join("release");
    for program in PROGRAMS {
        let path = dir.join(program);
        if !path.is_file() {
            return Err(Error::MissingOutput {
                what: "a userland program after a successful build",
                path,
            });
        }
    }
    Ok(dir)
}

/// Where the busybox package is downloaded and unpacked.
pub fn busybox_dir() -> PathBuf {
    target_dir().join("busybox")
}

/// Returns Debian's static busybox binary, downloading it if needed.
///
/// Cached in `target/busybox/`; delete that directory to fetch again.
/// Needs a reachable Debian mirror the first time (not root: the package
/// is only downloaded and unpacked, never installed).
pub fn busybox_static() -> Result<PathBuf, Error> {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = READY.get() {
        return Ok(path.clone());
    }
    let binary = busybox_dir().join("root").join("bin").join("busybox");
    if !binary.is_file() {
        let _lock = HostLock::acquire()?;
        // Another process may have finished while we waited.
        if !binary.is_file() {
            fetch_busybox()?;
        }
        if !binary.is_file() {
            return Err(Error::MissingOutput {
                what: "bin/busybox in the busybox-static package",
                path: binary,
            });
        }
    }
    let _ignored = READY.set(binary.clone());
    Ok(binary)
}

/// Downloads (if no `.deb` is cached) and unpacks busybox (lock held).
fn fetch_busybox() -> Result<(), Error> {
    let dir = busybox_dir();
    fs::create_dir_all(&dir)
        .map_err(|error| Error::io(format!("creating {}", dir.display()), error))?;
    let deb = match find_deb(&dir)? {
        Some(deb) => deb,
        None => {
            eprintln!("image-builder: downloading {BUSYBOX_PACKAGE}");
            let download = || {
                let mut apt = apt_get();
                apt.arg("download").arg(BUSYBOX_PACKAGE).current_dir(&dir);
                command::run(
                    &mut apt,
                    false,
                    "needs a reachable Debian mirror with bookworm in the apt sources",
                )
            };
            if download().is_err() {
                // A fresh machine may have no package lists yet.
                apt_update_once()?;
                download()?;
            }
            find_deb(&dir)?.ok_or_else(|| Error::MissingOutput {
                what: "the downloaded busybox-static package",
                path: dir.join(format!("{BUSYBOX_PACKAGE}_*.deb")),
            })?
        }
    };
    // Unpack beside the final place and rename, so an interrupted run
    // never leaves a half-unpacked tree that later runs would trust.
    let partial = dir.join("root.partial");
    let root = dir.join("root");
    for stale in [&partial, &root] {
        if stale.exists() {
            fs::remove_dir_all(stale)
                .map_err(|error| Error::io(format!("removing {}", stale.display()), error))?;
        }
    }
    command::run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&partial),
        false,
        "the downloaded package may be damaged: delete target/busybox and retry",
    )?;
    fs::rename(&partial, &root).map_err(|error| {
        Error::io(
            format!("renaming {} to {}", partial.display(), root.display()),
            error,
        )
    })
}

/// The cached `busybox-static_*.deb` in `dir`, if any.
fn find_deb(dir: &Path) -> Result<Option<PathBuf>, Error> {
    let prefix = format!("{BUSYBOX_PACKAGE}_");
    let entries = fs::read_dir(dir)
        .map_err(|error| Error::io(format!("listing {}", dir.display()), error))?;
    Ok(entries.flatten().map(|entry| entry.path()).find(|path| {
        path.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".deb"))
    }))
}

/// Packs the initrd into `out` (see the module documentation): the
/// [`PROGRAMS`] from `programs_dir`, `busybox` if given, `/etc/rc` and
/// the empty directories. Returns the archive's size in bytes.
///
/// The archive is written beside `out` and renamed into place, so `out` is
/// either the old file or a complete new one.
pub fn build_initrd(programs_dir: &Path, busybox: Option<&Path>, out: &Path) -> Result<u64, Error> {
    let read = |path: &Path| {
        fs::read(path).map_err(|error| Error::io(format!("reading {}", path.display()), error))
    };
    // Check every input before writing anything.
    let mut programs = Vec::with_capacity(PROGRAMS.len());
    for program in PROGRAMS {
        let path = programs_dir.join(program);
        if !path.is_file() {
            return Err(Error::MissingOutput {
                what: "a userland program (build it with initrd::build_userland)",
                path,
            });
        }
        programs.push((*program, read(&path)?));
    }
    let busybox = busybox.map(read).transpose()?;

    let partial = out.with_extension("partial");
    let file = fs::File::create(&partial)
        .map_err(|error| Error::io(format!("creating {}", partial.display()), error))?;
    let pack = || -> std::io::Result<u64> {
        let mut writer = CpioWriter::new(BufWriter::new(file));
        writer.directory("bin", 0o755)?;
        writer.directory("dev", 0o755)?;
        writer.directory("etc", 0o755)?;
        writer.directory("proc", 0o555)?;
        writer.directory("tmp", 0o1777)?;
        for (name, contents) in &programs {
            if *name == "init" {
                writer.file("init", 0o755, contents)?;
            }
            writer.file(&format!("bin/{name}"), 0o755, contents)?;
        }
        if let Some(busybox) = &busybox {
            writer.file("bin/busybox", 0o755, busybox)?;
        }
        writer.file("etc/rc", 0o755, SAMPLE_RC.as_bytes())?;
        let written = writer.written();
        writer.finish()?;
        Ok(written)
    };
    let written =
        pack().map_err(|error| Error::io(format!("writing {}", partial.display()), error))?;
    fs::rename(&partial, out).map_err(|error| {
        Error::io(
            format!("renaming {} to {}", partial.display(), out.display()),
            error,
        )
    })?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One archive entry: name, mode, data.
    type Entry = (String, u32, Vec<u8>);

    /// Reads a newc archive back (strict about magic and alignment).
    fn list(mut bytes: &[u8]) -> Vec<Entry> {
        let mut entries = Vec::new();
        loop {
            assert_eq!(&bytes[..6], b"070701", "bad magic");
            let field = |index: usize| {
                let text = std::str::from_utf8(&bytes[6 + 8 * index..14 + 8 * index]).unwrap();
                u32::from_str_radix(text, 16).unwrap()
            };
            let (mode, size, name_size) = (field(1), field(6) as usize, field(11) as usize);
            let name = std::str::from_utf8(&bytes[110..110 + name_size - 1])
                .unwrap()
                .to_owned();
            let data_start = (110 + name_size).div_ceil(4) * 4;
            let data = bytes[data_start..data_start + size].to_vec();
            bytes = &bytes[(data_start + size).div_ceil(4) * 4..];
            if name == "TRAILER!!!" {
                return entries;
            }
            entries.push((name, mode, data));
        }
    }

    /// A directory of fake programs (each file holds its own name).
    fn fake_programs(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xenrs-initrd-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for program in PROGRAMS {
            fs::write(dir.join(program), program.as_bytes()).unwrap();
        }
        dir
    }

    #[test]
    fn the_archive_holds_init_programs_busybox_rc_and_empty_directories() {
        let dir = fake_programs("full");
        let busybox = dir.join("busybox-binary");
        fs::write(&busybox, b"BUSYBOX").unwrap();
        let out = dir.join("initrd.cpio");
        let written = build_initrd(&dir, Some(&busybox), &out).unwrap();
        let bytes = fs::read(&out).unwrap();
        assert!(written <= bytes.len() as u64);
        assert_eq!(bytes.len() % 512, 0);
        assert!(!out.with_extension("partial").exists());
        let entries = list(&bytes);
        let names: Vec<&str> = entries.iter().map(|entry| entry.0.as_str()).collect();
        let mut expected = vec!["bin", "dev", "etc", "proc", "tmp"];
        for program in PROGRAMS {
            if *program == "init" {
                expected.push("init");
            }
            expected.push(Box::leak(format!("bin/{program}").into_boxed_str()));
        }
        expected.extend(["bin/busybox", "etc/rc"]);
        assert_eq!(names, expected);

        let entry = |name: &str| entries.iter().find(|entry| entry.0 == name).unwrap();
        assert_eq!(entry("init").1, 0o100_755);
        assert_eq!(entry("init").2, b"init");
        assert_eq!(entry("bin/sh").2, b"sh");
        assert_eq!(entry("bin/xenrs-bench").1, 0o100_755);
        assert_eq!(entry("bin/busybox").2, b"BUSYBOX");
        assert_eq!(entry("etc/rc").2, SAMPLE_RC.as_bytes());
        assert_eq!(entry("tmp").1, 0o041_777);
        assert_eq!(entry("proc").1, 0o040_555);
        assert_eq!(entry("dev").1, 0o040_755);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn busybox_is_optional_and_missing_programs_are_named() {
        let dir = fake_programs("partial");
        let out = dir.join("initrd.cpio");
        build_initrd(&dir, None, &out).unwrap();
        let entries = list(&fs::read(&out).unwrap());
        assert!(!entries.iter().any(|entry| entry.0 == "bin/busybox"));
        assert!(entries.iter().any(|entry| entry.0 == "bin/hello"));

        fs::remove_file(dir.join("ps")).unwrap();
        fs::remove_file(&out).unwrap();
        match build_initrd(&dir, None, &out) {
            Err(Error::MissingOutput { path, .. }) => assert_eq!(path, dir.join("ps")),
            other => panic!("expected a missing program, got {other:?}"),
        }
        assert!(!out.exists());
        let missing_busybox = dir.join("no-busybox");
        fs::write(dir.join("ps"), b"ps").unwrap();
        assert!(matches!(
            build_initrd(&dir, Some(&missing_busybox), &out),
            Err(Error::Io { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_userland_build_is_release_without_debug_info_in_its_own_directory() {
        let cargo = userland_cargo();
        let args: Vec<String> = cargo
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[0], "build");
        assert!(args.windows(2).any(|pair| pair == ["-p", USERLAND_PACKAGE]));
        assert!(args.iter().any(|arg| arg == "--release"));
        assert!(args
            .windows(2)
            .any(|pair| pair == ["--config", "profile.release.debug=false"]));
        let target = args
            .windows(2)
            .find(|pair| pair[0] == "--target-dir")
            .map(|pair| PathBuf::from(&pair[1]))
            .unwrap();
        assert!(target.ends_with("target/userland"));
    }

    /// Builds the real programs, fetches busybox and packs them: slow and
    /// needs a Debian mirror the first time (`cargo test -- --ignored`).
    #[test]
    #[ignore = "builds the userland and downloads busybox-static"]
    fn a_real_initrd_holds_static_elf_programs() {
        let programs = build_userland().unwrap();
        let busybox = busybox_static().unwrap();
        let out = std::env::temp_dir().join(format!("xenrs-initrd-{}.cpio", std::process::id()));
        build_initrd(&programs, Some(&busybox), &out).unwrap();
        let entries = list(&fs::read(&out).unwrap());
        for name in ["init", "bin/sh", "bin/xenrs-bench", "bin/busybox"] {
            let entry = entries.iter().find(|entry| entry.0 == name).unwrap();
            assert_eq!(&entry.2[..4], b"\x7fELF", "{name}");
            // ET_EXEC: static, not PIE.
            assert_eq!(entry.2[16], 2, "{name}");
        }
        let hello = entries.iter().find(|entry| entry.0 == "bin/hello").unwrap();
        assert!(
            hello.2.len() < 64 * 1024,
            "hello is {} bytes",
            hello.2.len()
        );
        fs::remove_file(&out).unwrap();
    }
}
