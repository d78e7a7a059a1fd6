//! The host side: workspace paths, Debian packages, and the Xen hypervisor.
//!
//! Everything a boot needs from the host is prepared here, idempotently and
//! safely under concurrency (several test threads, or several test
//! processes, may ask at once):
//!
//! - [`ensure_host_packages`] installs QEMU and the Xen headers with apt,
//!   only if `dpkg` says they are missing.
//! - [`xen_hypervisor`] downloads Debian's Xen package *without installing
//!   it* (installing would hook into the host's grub), unpacks it into
//!   `target/xen/` and gunzips the hypervisor into a multiboot ELF that
//!   QEMU's `-kernel` can load.
//!
//! Both run under one lock file, `target/host-tools.lock`, plus an
//! in-process mutex, so concurrent callers wait rather than race apt or
//! each other's half-written files.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::command;
use crate::error::Error;

/// Debian packages the tooling needs on the host.
pub const HOST_PACKAGES: &[&str] = &["qemu-system-x86", "libxen-dev"];

/// The Debian package carrying the hypervisor (downloaded, never installed).
pub const XEN_PACKAGE: &str = "xen-hypervisor-4.17-amd64";

/// The gzipped hypervisor inside [`XEN_PACKAGE`].
const XEN_GZ_IN_PACKAGE: &str = "boot/xen-4.17-amd64.gz";

/// The file name of the unpacked hypervisor in [`xen_dir`].
const XEN_ELF_NAME: &str = "xen-4.17-amd64.elf";

/// How long to wait for another process's apt-get or Xen download.
const LOCK_PATIENCE: Duration = Duration::from_secs(20 * 60);

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("image-builder lives in a directory of the workspace")
        .to_path_buf()
}

/// The workspace's `target/` directory (kernel builds and Xen live below).
///
/// Deliberately not `CARGO_TARGET_DIR`: the kernel's outputs stay in one
/// known place whatever the outer build uses.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target")
}

/// Where the Xen package is downloaded and unpacked.
pub fn xen_dir() -> PathBuf {
    target_dir().join("xen")
}

/// Where [`xen_hypervisor`] puts the hypervisor ELF (it may not exist yet).
pub fn xen_hypervisor_path() -> PathBuf {
    xen_dir().join(XEN_ELF_NAME)
}

/// Installs [`HOST_PACKAGES`] with apt-get if any is missing.
///
/// Runs `apt-get update` once, then `apt-get install -y`, both
/// non-interactive and only when `dpkg -s` reports a package as not
/// installed. Needs root for the install (not for the check).
pub fn ensure_host_packages() -> Result<(), Error> {
    static READY: OnceLock<()> = OnceLock::new();
    if READY.get().is_some() {
        return Ok(());
    }
    install_missing(HOST_PACKAGES)?;
    // Ignoring the result is right: another thread may have set it first.
    let _ignored = READY.set(());
    Ok(())
}

/// Installs those of `packages` that `dpkg` says are missing (apt-get
/// update once, then apt-get install), under the host lock.
pub fn install_missing(packages: &[&str]) -> Result<(), Error> {
    if packages.iter().all(|package| is_installed(package)) {
        return Ok(());
    }
    let _lock = HostLock::acquire()?;
    // Another process may have installed them while we waited.
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !is_installed(package))
        .collect();
    if !missing.is_empty() {
        eprintln!("image-builder: installing {}", missing.join(" "));
        apt_update_once()?;
        let mut install = apt_get();
        install.args(["install", "-y"]).args(&missing);
        command::run(
            &mut install,
            false,
            "installing packages needs root and a reachable Debian mirror",
        )?;
    }
    Ok(())
}

/// Returns the Xen hypervisor ELF, downloading and unpacking it if needed.
///
/// The result is cached in `target/xen/`; delete that directory to fetch
/// again.
pub fn xen_hypervisor() -> Result<PathBuf, Error> {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = READY.get() {
        return Ok(path.clone());
    }
    let elf = xen_hypervisor_path();
    if !elf.is_file() {
        let _lock = HostLock::acquire()?;
        // Another process may have finished while we waited for the lock.
        if !elf.is_file() {
            unpack_xen(&elf)?;
        }
    }
    let _ignored = READY.set(elf.clone());
    Ok(elf)
}

/// Downloads, unpacks and gunzips the hypervisor into `elf` (lock held).
fn unpack_xen(elf: &Path) -> Result<(), Error> {
    let dir = xen_dir();
    fs::create_dir_all(&dir)
        .map_err(|error| Error::io(format!("creating {}", dir.display()), error))?;
    let deb = match find_deb(&dir)? {
        Some(deb) => deb,
        None => {
            eprintln!("image-builder: downloading {XEN_PACKAGE}");
            if download_xen(&dir).is_err() {
                // A fresh machine may have no package lists yet.
                apt_update_once()?;
                download_xen(&dir)?;
            }
            find_deb(&dir)?.ok_or_else(|| Error::MissingOutput {
                what: "the downloaded Xen package",
                path: dir.join(format!("{XEN_PACKAGE}_*.deb")),
            })?
        }
    };

    let root = dir.join("root");
    if root.exists() {
        fs::remove_dir_all(&root)
            .map_err(|error| Error::io(format!("removing {}", root.display()), error))?;
    }
    command::run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root),
        false,
        "the downloaded package may be damaged: delete target/xen and retry",
    )?;
    let gz = root.join(XEN_GZ_IN_PACKAGE);
    if !gz.is_file() {
        return Err(Error::MissingOutput {
            what: "the gzipped hypervisor in the Xen package",
            path: gz,
        });
    }

    // gunzip into a temporary file and rename, so that an interrupted run
    // never leaves a truncated ELF that later runs would trust.
    let partial = elf.with_extension("elf.partial");
    let out = fs::File::create(&partial)
        .map_err(|error| Error::io(format!("creating {}", partial.display()), error))?;
    let status = Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .stdout(out)
        .status()
        .map_err(|error| Error::io("running gzip", error))?;
    if !status.success() {
        return Err(Error::CommandFailed {
            command: format!("gzip -dc {} > {}", gz.display(), partial.display()),
            status: status.code(),
            output: String::new(),
            hint: "the downloaded package may be damaged: delete target/xen and retry",
        });
    }
    let contents = fs::read(&partial)
        .map_err(|error| Error::io(format!("reading {}", partial.display()), error))?;
    if !contents.starts_with(b"\x7fELF") {
        return Err(Error::MissingOutput {
            what: "an ELF file (the gunzipped hypervisor is not one)",
            path: partial,
        });
    }
    fs::rename(&partial, elf).map_err(|error| {
        Error::io(
            format!("renaming {} to {}", partial.display(), elf.display()),
            error,
        )
    })
}

/// Runs `apt-get download` for the Xen package into `dir`.
fn download_xen(dir: &Path) -> Result<(), Error> {
    let mut download = apt_get();
    download.arg("download").arg(XEN_PACKAGE).current_dir(dir);
    command::run(
        &mut download,
        false,
        "needs a reachable Debian mirror with bookworm(-security) in sources",
    )
    .map(drop)
}

/// The downloaded `.deb` in `dir`, if there is one.
fn find_deb(dir: &Path) -> Result<Option<PathBuf>, Error> {
    let entries = fs::read_dir(dir)
        .map_err(|error| Error::io(format!("listing {}", dir.display()), error))?;
    let prefix = format!("{XEN_PACKAGE}_");
    for entry in entries {
        let entry =
            entry.map_err(|error| Error::io(format!("listing {}", dir.display()), error))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".deb") {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Whether `dpkg` says `package` is installed (not merely known).
pub(crate) fn is_installed(package: &str) -> bool {
    let Ok(output) = Command::new("dpkg").arg("-s").arg(package).output() else {
        return false;
    };
    output.status.success()
        && String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|line| line.trim() == "Status: install ok installed")
}

/// An `apt-get` that never asks questions and waits for dpkg's own lock.
pub(crate) fn apt_get() -> Command {
    let mut apt = Command::new("apt-get");
    apt.env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-q", "-o", "DPkg::Lock::Timeout=600"]);
    apt
}

/// Runs `apt-get update` at most once per process (lock held by caller).
pub(crate) fn apt_update_once() -> Result<(), Error> {
    static UPDATED: OnceLock<()> = OnceLock::new();
    if UPDATED.get().is_some() {
        return Ok(());
    }
    let mut update = apt_get();
    update.arg("update");
    command::run(
        &mut update,
        false,
        "needs root and a reachable Debian mirror",
    )?;
    let _ignored = UPDATED.set(());
    Ok(())
}

/// Exclusive use of the host's package and download state.
///
/// Two layers: a mutex for the threads of this process (they share a
/// process id, so the file alone cannot tell them apart), and a lock file
/// created with `O_EXCL` holding our process id for other processes. A lock
/// file whose process no longer exists is stale and taken over.
///
/// [`HostLock::acquire`] takes `target/host-tools.lock` (apt, the Xen
/// download); [`HostLock::acquire_named`] takes another lock file in
/// `target/` for a longer job (the Linux dom0 image build) so that it does
/// not hold up unrelated users of the host lock. Take a named lock first
/// and the host lock inside it, never the other way round.
pub(crate) struct HostLock {
    path: PathBuf,
    _threads: MutexGuard<'static, ()>,
}

impl HostLock {
    /// Takes `target/host-tools.lock`.
    pub(crate) fn acquire() -> Result<Self, Error> {
        static THREADS: Mutex<()> = Mutex::new(());
        Self::acquire_named("host-tools.lock", &THREADS, LOCK_PATIENCE)
    }

    /// Takes `target/<name>`; `threads` must be one mutex per `name`.
    pub(crate) fn acquire_named(
        name: &str,
        threads: &'static Mutex<()>,
        patience: Duration,
    ) -> Result<Self, Error> {
        // A panic while holding the guard leaves no state to repair.
        let threads = threads.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = target_dir();
        fs::create_dir_all(&dir)
            .map_err(|error| Error::io(format!("creating {}", dir.display()), error))?;
        let path = dir.join(name);
        let started = Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let pid = std::process::id();
                    file.write_all(format!("{pid}\n").as_bytes())
                        .map_err(|error| Error::io(format!("writing {}", path.display()), error))?;
                    return Ok(HostLock {
                        path,
                        _threads: threads,
                    });
                }
                Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    if lock_is_stale(&path, holder.trim()) {
                        // Losing a race to another taker is fine: we retry.
                        let _ignored = fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > patience {
                        return Err(Error::LockTimeout {
                            path,
                            holder: holder.trim().to_owned(),
                        });
                    }
                    thread::sleep(Duration::from_millis(200));
                }
                Err(error) => {
                    return Err(Error::io(format!("creating {}", path.display()), error));
                }
            }
        }
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        // Nothing useful to do if it is already gone.
        let _ignored = fs::remove_file(&self.path);
    }
}

/// Whether a lock file names a process that no longer exists.
///
/// An empty file is a holder between `create` and `write`; it is only
/// considered stale once it is old.
fn lock_is_stale(path: &Path, holder: &str) -> bool {
    match holder.parse::<u32>() {
        Ok(pid) => !Path::new("/proc").join(pid.to_string()).exists(),
        Err(_) => fs::metadata(path)
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age > Duration::from_secs(10)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_paths_are_below_the_workspace() {
        let root = workspace_root();
        assert!(root.join("Cargo.toml").is_file());
        assert!(xen_hypervisor_path().starts_with(root.join("target").join("xen")));
    }

    #[test]
    fn dpkg_status_distinguishes_installed_packages() {
        assert!(is_installed("dpkg"));
        assert!(!is_installed("no-such-package-xenrs-test"));
    }

    #[test]
    fn a_lock_of_a_dead_process_is_stale_and_ours_is_not() {
        let path = Path::new("/nonexistent");
        assert!(!lock_is_stale(path, &std::process::id().to_string()));
        // Process ids are at most 2^22 on Linux.
        assert!(lock_is_stale(path, "4294967295"));
        // An unreadable file's age is unknown: assume a live holder.
        assert!(!lock_is_stale(path, ""));
    }

    #[test]
    fn host_lock_is_exclusive_and_released_on_drop() {
        let first = HostLock::acquire().expect("lock");
        let path = first.path.clone();
        assert!(path.is_file());
        drop(first);
        drop(HostLock::acquire().expect("lock again"));
    }
}
