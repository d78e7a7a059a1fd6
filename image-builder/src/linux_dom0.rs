//! A Linux dom0 with the standard Xen toolstack (`xl`), built from Debian
//! packages, for interoperability tests: boot it under Xen in QEMU, run a
//! test's shell script in it, read what the script printed.
//!
//! # The image ([`image`])
//!
//! Assembled from Debian 12 (bookworm) packages, the way DESIGN.md
//! section 4 describes (every step was checked there):
//!
//! - the kernel: the package `linux-image-amd64` depends on (6.1, built with
//!   `CONFIG_XEN_DOM0=y`), downloaded with `apt-get download` and unpacked.
//!   Its bzImage is xz-compressed; we decompress it once into an ELF
//!   `vmlinux`, because Xen (and libxl, for a domU) would otherwise spend
//!   seconds of emulated CPU decompressing it on every boot;
//! - the root file system: `debootstrap --variant=minbase` with the Xen
//!   tools ([`DEBOOTSTRAP_INCLUDE`]) from the host's Debian mirror; the Xen
//!   libraries and tools are then replaced by the host's candidate version
//!   (bookworm-security, which debootstrap does not see), so that the tools
//!   match the hypervisor [`crate::xen_hypervisor`] boots; documentation,
//!   locales, apt's lists and Python (only pygrub needs it) are left out;
//! - only the kernel modules the toolstack needs ([`MODULES`] and what
//!   `modprobe --show-depends` says they need), with a fresh `depmod`;
//! - `/init` (`linux_dom0/init.sh`): mounts, `/dev/std*` links, tmpfs,
//!   modules, xenfs, `xenstored`, `xen-init-dom0`, `xenconsoled --log=guest`
//!   (each guest's console lands in `/var/log/xen/console/guest-<name>.log`),
//!   then `DOM0-READY`, the test script, `DOM0-TEST-EXIT <status>`, reboot;
//! - a Linux PV domU for comparisons, in `/opt/linux-domu/`: the same
//!   `vmlinux` and a tiny initramfs of Debian's `busybox-static` whose init
//!   prints `ready: linux uptime=<contents of /proc/uptime>` and powers off.
//!
//! Everything is packed as uncompressed `newc` cpio archives by
//! [`crate::cpio`] and cached in `target/linux-dom0/<key>/`, where the key
//! hashes every input: [`BUILDER_VERSION`], the suite, mirror and package
//! list, the candidate versions of the kernel, busybox and Xen tools in the
//! host's apt lists, the module list and both init scripts. A changed input
//! builds a new image (and deletes the old one); a build runs under the
//! lock file `target/linux-dom0.lock`, so concurrent test processes build
//! once. What debootstrap takes from the mirror's bookworm suite is not in
//! the key (it changes only at Debian point releases): delete
//! `target/linux-dom0/` to rebuild from scratch.
//!
//! # A run ([`run_in_linux_dom0`])
//!
//! The test's script and files go in a small overlay archive (`/test/...`)
//! appended to a copy of the base archive (Linux unpacks concatenated
//! archives), which Xen loads as dom0's initramfs. QEMU runs Xen 4.17 with
//! `-cpu qemu64 -smp 2 -m 3072` and `dom0_mem=1024M,max:1024M`; dom0's
//! console is `hvc0`, which Xen copies to the serial port, so everything
//! the script prints is in the [`BootRun`]'s log. The run has a deadline
//! and a silence watchdog like every boot; [`Dom0Run::outcome`] says
//! whether the script finished, and [`Dom0Run::section`] and
//! [`Dom0Run::results`] read the script's `BEGIN-FILE`/`END-FILE` blocks
//! and `RESULT key=value` lines.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::boot::{boot, BootRun};
use crate::cpio::CpioWriter;
use crate::error::Error;
use crate::host::target_dir;
use crate::outcome::{classify_script, Outcome, ScriptOutcome, DOM0_READY};
use crate::qemu::BootConfig;

mod build;

use build::create_dir;
pub use build::extract_vmlinux;

/// Bump when the build procedure changes in a way the other inputs do not
/// show; it is part of the cache key.
pub const BUILDER_VERSION: u32 = 2;

/// The Debian release the image is built from.
pub const SUITE: &str = "bookworm";

/// The packages debootstrap installs on top of `minbase`.
pub const DEBOOTSTRAP_INCLUDE: &str = "xen-utils-4.17,xenstore-utils,iproute2,bridge-utils,\
                                       iputils-ping,busybox,kmod,procps,e2fsprogs,cpio,util-linux";

/// The kernel modules dom0's init loads (their dependencies come along).
pub const MODULES: &[&str] = &[
    "xenfs",
    "xen-evtchn",
    "xen-gntdev",
    "xen-privcmd",
    "xen-netback",
    "xen-blkback",
    "bridge",
    "loop",
];

/// The metapackage whose dependency is the kernel package.
const KERNEL_METAPACKAGE: &str = "linux-image-amd64";
/// The statically linked busybox for the Linux domU's initramfs.
const BUSYBOX_STATIC: &str = "busybox-static";
/// The Xen tools package; its candidate version stands for all of Xen's.
const XEN_TOOLS: &str = "xen-utils-4.17";
/// Host tools the build runs.
const BUILD_PACKAGES: &[&str] = &["debootstrap", "kmod", "xz-utils"];
/// Used when the host's apt sources name no bookworm mirror.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// dom0's init script; `@MODULES@` is replaced by [`MODULES`].
const INIT_SCRIPT: &str = include_str!("linux_dom0/init.sh");
/// The Linux domU's init script.
const DOMU_INIT_SCRIPT: &str = include_str!("linux_dom0/domu-init.sh");

/// Where dom0 finds the Linux domU's kernel and initramfs.
pub const LINUX_DOMU_DIR: &str = "/opt/linux-domu";
/// The Linux domU's kernel inside dom0 (the dom0 kernel itself).
pub const LINUX_DOMU_KERNEL: &str = "/opt/linux-domu/vmlinux";
/// The Linux domU's initramfs inside dom0.
pub const LINUX_DOMU_RAMDISK: &str = "/opt/linux-domu/initramfs.cpio";

/// dom0 Linux's command line: console on Xen's `hvc0` (copied to the
/// serial port), early messages through Xen's console too.
pub const DOM0_KERNEL_CMDLINE: &str = "console=hvc0 earlyprintk=xen nomodeset";
/// dom0's memory.
pub const DOM0_MEM_MIB: u32 = 1024;
/// The emulated machine's memory: dom0 plus room for guests.
pub const MACHINE_MEM_MIB: u32 = 3072;
/// The emulated machine's CPUs (the build machine has 2 cores).
pub const MACHINE_CPUS: u32 = 2;

/// The cache directory of Linux dom0 images.
pub fn cache_dir() -> PathBuf {
    target_dir().join("linux-dom0")
}

/// A built Linux dom0 image (all paths are in its cache directory).
#[derive(Clone, Debug)]
pub struct Dom0Image {
    /// `target/linux-dom0/<key>/`.
    pub dir: PathBuf,
    /// The cache key (a hash of the inputs).
    pub key: String,
    /// The kernel release, e.g. `6.1.0-56-amd64`.
    pub kernel_release: String,
    /// The uncompressed kernel ELF (dom0's, and the Linux domU's).
    pub vmlinux: PathBuf,
    /// dom0's initramfs: the root file system, modules, `/init`, the domU.
    pub initramfs: PathBuf,
    /// The Linux domU's initramfs (also inside [`Dom0Image::initramfs`]).
    pub domu_initramfs: PathBuf,
    /// How long building took, if this process built it.
    pub build_time: Option<Duration>,
}

/// The cached Linux dom0 image, built first if its inputs changed.
///
/// Installs `debootstrap` and `kmod` with apt if missing, and needs network
/// access to the Debian mirror for a build. The result is kept for the
/// whole process.
pub fn image() -> Result<Dom0Image, Error> {
    static IMAGE: OnceLock<Result<Dom0Image, Error>> = OnceLock::new();
    IMAGE.get_or_init(build::build_or_reuse).clone()
}

// ---------------------------------------------------------------------------
// Running a test script in the Linux dom0.

/// Where a test file's contents come from.
#[derive(Clone, Debug)]
pub enum FileSource {
    /// A file on the host, read when the run starts.
    Path(PathBuf),
    /// These bytes.
    Bytes(Vec<u8>),
}

/// A file given to the test script: `/test/<name>` in dom0, copied to
/// `/tmp/<name>` (tmpfs) before the script starts.
#[derive(Clone, Debug)]
pub struct TestFile {
    /// The path below `/test` (and `/tmp`), e.g. `xenrs.elf` or `cfg/a.cfg`.
    pub name: String,
    /// Its contents.
    pub source: FileSource,
}

impl TestFile {
    /// `/test/<name>` with the contents of the host file `path`.
    pub fn path(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        TestFile {
            name: name.into(),
            source: FileSource::Path(path.into()),
        }
    }

    /// `/test/<name>` holding `bytes`.
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        TestFile {
            name: name.into(),
            source: FileSource::Bytes(bytes.into()),
        }
    }
}

/// How long a Linux dom0 run may take.
#[derive(Clone, Debug)]
pub struct Dom0Options {
    /// The whole run's deadline, from QEMU's start (dom0 alone needs ~15 s).
    pub timeout: Duration,
    /// A console silent this long means the run stalled.
    pub silence_timeout: Duration,
    /// Copy console lines to stderr as they arrive.
    pub echo: bool,
}

impl Default for Dom0Options {
    fn default() -> Self {
        Dom0Options {
            timeout: Duration::from_secs(300),
            silence_timeout: Duration::from_secs(90),
            echo: crate::echo_enabled(),
        }
    }
}

/// A finished Linux dom0 run: the boot and how the script ended.
#[derive(Clone)]
pub struct Dom0Run {
    /// The whole boot: console log, QEMU's status, timings. Its `outcome`
    /// is [`Outcome::Rebooted`] when the script finished and dom0 rebooted
    /// the machine, otherwise what our kernel's rules say (usually
    /// `Failed`); [`Dom0Run::outcome`] is the verdict that matters.
    pub boot: BootRun,
    /// How the script ended.
    pub outcome: ScriptOutcome,
    /// The cache key of the image that ran.
    pub image_key: String,
}

impl Dom0Run {
    /// The console lines' texts.
    pub fn texts(&self) -> Vec<&str> {
        self.boot
            .lines
            .iter()
            .map(|line| line.text.as_str())
            .collect()
    }

    /// Time from QEMU's start to `DOM0-READY`.
    pub fn ready_after(&self) -> Option<Duration> {
        let line = self
            .boot
            .lines
            .iter()
            .find(|line| line.text.trim() == DOM0_READY)?;
        line.at.duration_since(self.boot.started_at).ok()
    }

    /// The last block `BEGIN-FILE <name>` ... `END-FILE <name>` the script
    /// printed (see [`section`]).
    pub fn section(&self, name: &str) -> Option<Vec<&str>> {
        section(&self.texts(), name)
    }

    /// Every `RESULT key=value ...` pair, in order (see [`results`]).
    pub fn results(&self) -> Vec<(String, String)> {
        results(&self.texts())
    }

    /// The last value printed for `key` in a `RESULT` line.
    pub fn result(&self, key: &str) -> Option<String> {
        self.results()
            .into_iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }
}

impl fmt::Display for Dom0Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Linux dom0 run (image {}): {}",
            self.image_key, self.outcome
        )?;
        if let Some(ready) = self.ready_after() {
            writeln!(f, "dom0 ready after {:.1} s", ready.as_secs_f64())?;
        }
        write!(f, "{}", self.boot)
    }
}

impl fmt::Debug for Dom0Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Whether a console line is Xen's own (noise inside a script's output).
fn is_xen_line(text: &str) -> bool {
    text.starts_with("(XEN)")
}

/// The lines between the last `BEGIN-FILE <name>` and the `END-FILE
/// <name>` after it, without Xen's own lines (Xen may print while the
/// script does). `None` if there is no complete block.
pub fn section<'a>(lines: &[&'a str], name: &str) -> Option<Vec<&'a str>> {
    let begin = format!("BEGIN-FILE {name}");
    let end = format!("END-FILE {name}");
    let start = lines.iter().rposition(|line| line.trim_end() == begin)?;
    let length = lines[start + 1..]
        .iter()
        .position(|line| line.trim_end() == end)?;
    Some(
        lines[start + 1..start + 1 + length]
            .iter()
            .copied()
            .filter(|line| !is_xen_line(line))
            .collect(),
    )
}

/// The `key=value` pairs of every line starting with `RESULT `, in order.
/// Words without `=` are skipped.
pub fn results(lines: &[&str]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for line in lines {
        let Some(rest) = line.trim().strip_prefix("RESULT ") else {
            continue;
        };
        for word in rest.split_whitespace() {
            if let Some((key, value)) = word.split_once('=').filter(|(key, _)| !key.is_empty()) {
                pairs.push((key.to_owned(), value.to_owned()));
            }
        }
    }
    pairs
}

/// Boots the Linux dom0 with the default [`Dom0Options`] and runs `script`
/// (as `/test/run.sh`, with `sh`, in `/tmp`) with `files` in `/test` and
/// `/tmp`. See [`run_in_linux_dom0_with`].
pub fn run_in_linux_dom0(script: &str, files: &[TestFile]) -> Result<Dom0Run, Error> {
    run_in_linux_dom0_with(&Dom0Options::default(), script, files)
}

/// Boots the Linux dom0 and runs `script` with `files`; builds the image
/// first if needed.
///
/// An `Err` means the run could not be attempted (image build, a missing
/// file, QEMU); a run that goes wrong is an `Ok` whose
/// [`Dom0Run::outcome`] says how, with the whole log.
pub fn run_in_linux_dom0_with(
    options: &Dom0Options,
    script: &str,
    files: &[TestFile],
) -> Result<Dom0Run, Error> {
    let image = image()?;
    let ramdisk = RunRamdisk::create(&image, script, files)?;
    let mut config = BootConfig::new(&image.vmlinux).with_cmdline(DOM0_KERNEL_CMDLINE);
    config.append_hostclock = false;
    config.dom0_mem_mib = DOM0_MEM_MIB;
    config.memory_mib = MACHINE_MEM_MIB;
    config.cpus = MACHINE_CPUS;
    config.timeout = options.timeout;
    config.silence_timeout = options.silence_timeout;
    config.echo = options.echo;
    config
        .extra_modules
        .push((ramdisk.path.clone(), String::new()));
    let mut boot_run = boot(&config)?;
    drop(ramdisk);
    let outcome = classify_script(
        boot_run.lines.iter().map(|line| line.text.as_str()),
        boot_run.stop,
    );
    // `boot` judged the run by our kernel's rules, which a Linux dom0 never
    // meets (no `shutdown: reboot` line). Its orderly end is Linux's reboot.
    if outcome.is_finished()
        && boot_run.qemu_status == Some(0)
        && boot_run
            .find("(XEN) Hardware Dom0 shutdown: rebooting")
            .is_some()
    {
        boot_run.outcome = Outcome::Rebooted;
    }
    Ok(Dom0Run {
        boot: boot_run,
        outcome,
        image_key: image.key,
    })
}

/// The base archive plus this run's overlay, in `target/linux-dom0/runs/`;
/// deleted when dropped.
struct RunRamdisk {
    path: PathBuf,
}

impl RunRamdisk {
    fn create(image: &Dom0Image, script: &str, files: &[TestFile]) -> Result<Self, Error> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let runs = cache_dir().join("runs");
        create_dir(&runs)?;
        remove_stale_ramdisks(&runs);
        let overlay = overlay_archive(script, files)?;
        let pid = std::process::id();
        let path = runs.join(format!(
            "{pid}-{}.cpio",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let ramdisk = RunRamdisk { path };
        fs::copy(&image.initramfs, &ramdisk.path).map_err(|error| {
            Error::io(
                format!(
                    "copying {} to {}",
                    image.initramfs.display(),
                    ramdisk.path.display()
                ),
                error,
            )
        })?;
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&ramdisk.path)
            .map_err(|error| Error::io(format!("opening {}", ramdisk.path.display()), error))?;
        file.write_all(&overlay)
            .map_err(|error| Error::io(format!("writing {}", ramdisk.path.display()), error))?;
        Ok(ramdisk)
    }
}

impl Drop for RunRamdisk {
    fn drop(&mut self) {
        // Best effort: a leftover is removed by the next run.
        let _ignored = fs::remove_file(&self.path);
    }
}

/// Removes run ramdisks of processes that no longer exist.
fn remove_stale_ramdisks(runs: &Path) {
    let Ok(entries) = fs::read_dir(runs) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok());
        if owner.is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists()) {
            let _ignored = fs::remove_file(entry.path());
        }
    }
}

/// The overlay archive: `/test/run.sh` and the test's files.
fn overlay_archive(script: &str, files: &[TestFile]) -> Result<Vec<u8>, Error> {
    let mut writer = CpioWriter::new(Vec::new());
    writer
        .directory("test", 0o755)
        .and_then(|()| writer.file("test/run.sh", 0o755, script.as_bytes()))
        .map_err(|error| Error::io("packing the test overlay", error))?;
    for file in files {
        if file.name.trim_matches('/') == "run.sh" {
            return Err(Error::InvalidConfig {
                what: "test file name",
                value: file.name.clone(),
                reason: "run.sh is the script itself",
            });
        }
        let bytes = match &file.source {
            FileSource::Bytes(bytes) => bytes.clone(),
            FileSource::Path(path) => fs::read(path)
                .map_err(|error| Error::io(format!("reading {}", path.display()), error))?,
        };
        writer
            .file(
                &format!("test/{}", file.name.trim_start_matches('/')),
                0o755,
                &bytes,
            )
            .map_err(|error| Error::io(format!("packing test file {}", file.name), error))?;
    }
    writer
        .finish()
        .map_err(|error| Error::io("packing the test overlay", error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_results_are_read_from_the_log() {
        let log = [
            "DOM0-READY",
            "RESULT a=1 b=x=y junk",
            "BEGIN-FILE log",
            "old",
            "END-FILE log",
            "BEGIN-FILE log",
            "line 1",
            "(XEN) d1v0 noise",
            "",
            "END-FILE log",
            "RESULT a=2 =bad",
            "BEGIN-FILE open",
            "never closed",
        ];
        assert_eq!(section(&log, "log"), Some(vec!["line 1", ""]));
        assert_eq!(section(&log, "open"), None);
        assert_eq!(section(&log, "missing"), None);
        let pairs = results(&log);
        let expected = [("a", "1"), ("b", "x=y"), ("a", "2")];
        assert_eq!(
            pairs,
            expected.map(|(key, value)| (key.to_owned(), value.to_owned()))
        );
    }

    #[test]
    fn the_overlay_holds_the_script_and_files() {
        let archive = overlay_archive(
            "echo hi\n",
            &[TestFile::bytes("cfg/a.cfg", b"name='a'\n".to_vec())],
        )
        .expect("packs");
        let text = String::from_utf8_lossy(&archive);
        for name in [
            "test\0",
            "test/run.sh\0",
            "test/cfg\0",
            "test/cfg/a.cfg\0",
            "TRAILER!!!\0",
        ] {
            assert!(text.contains(name), "{name:?} missing");
        }
        assert!(overlay_archive("", &[TestFile::bytes("run.sh", Vec::new())]).is_err());
        let missing = TestFile::path("x", "/nonexistent/xenrs-test-file");
        assert!(overlay_archive("", &[missing]).is_err());
    }

    #[test]
    fn the_init_script_has_the_module_placeholder_and_markers() {
        assert!(INIT_SCRIPT.contains("@MODULES@"));
        assert!(INIT_SCRIPT.contains(DOM0_READY));
        assert!(INIT_SCRIPT.contains("DOM0-TEST-EXIT"));
        assert!(DOMU_INIT_SCRIPT.contains("ready: linux uptime="));
    }
}
