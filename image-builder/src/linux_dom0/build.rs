//! Building the Linux dom0 image: resolve the inputs, download, debootstrap,
//! pick the modules, extract `vmlinux`, pack the archives, cache the result
//! (the steps are described in the parent module).

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::{
    cache_dir, Dom0Image, BUILDER_VERSION, BUILD_PACKAGES, BUSYBOX_STATIC, DEBOOTSTRAP_INCLUDE,
    DEFAULT_MIRROR, DOMU_INIT_SCRIPT, INIT_SCRIPT, KERNEL_METAPACKAGE, LINUX_DOMU_DIR, MODULES,
    SUITE, XEN_TOOLS,
};
use crate::command;
use crate::cpio::CpioWriter;
use crate::error::Error;
use crate::host::{apt_get, apt_update_once, install_missing, HostLock};

/// The inputs of an image, resolved against the host's apt lists.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Inputs {
    mirror: String,
    kernel_package: String,
    kernel_version: String,
    busybox_version: String,
    xen_version: String,
}

impl Inputs {
    /// Every input, one per line: hashed into the key, kept as manifest.
    fn describe(&self) -> String {
        format!(
            "builder-version={BUILDER_VERSION}\nsuite={SUITE}\nmirror={}\ninclude={DEBOOTSTRAP_INCLUDE}\n\
             kernel={}={}\n{BUSYBOX_STATIC}={}\n{XEN_TOOLS}={}\nmodules={}\n\
             init-script-hash={:016x}\ndomu-init-script-hash={:016x}\n",
            self.mirror,
            self.kernel_package,
            self.kernel_version,
            self.busybox_version,
            self.xen_version,
            MODULES.join(","),
            fnv1a64(INIT_SCRIPT.as_bytes()),
            fnv1a64(DOMU_INIT_SCRIPT.as_bytes()),
        )
    }

    fn key(&self) -> String {
        format!("{:016x}", fnv1a64(self.describe().as_bytes()))
    }
}

/// The manifest of a complete image; written last, so its presence means
/// the image is whole.
const MANIFEST: &str = "manifest.txt";
const VMLINUX: &str = "vmlinux";
const INITRAMFS: &str = "dom0-initramfs.cpio";
const DOMU_INITRAMFS: &str = "linux-domu-initramfs.cpio";

pub(super) fn build_or_reuse() -> Result<Dom0Image, Error> {
    install_missing(BUILD_PACKAGES)?;
    let inputs = resolve_inputs()?;
    let key = inputs.key();
    let dir = cache_dir().join(&key);
    if let Some(image) = complete_image(&dir, &key)? {
        return Ok(image);
    }
    static THREADS: Mutex<()> = Mutex::new(());
    let _lock = HostLock::acquire_named("linux-dom0.lock", &THREADS, Duration::from_secs(30 * 60))?;
    // Another process may have built it while we waited.
    if let Some(image) = complete_image(&dir, &key)? {
        return Ok(image);
    }
    let started = Instant::now();
    eprintln!(
        "image-builder: building the Linux dom0 image {key} in {} (about a minute)",
        cache_dir().display()
    );
    build(&inputs, &dir)?;
    let elapsed = started.elapsed();
    eprintln!(
        "image-builder: Linux dom0 image built in {:.1} s",
        elapsed.as_secs_f64()
    );
    remove_other_images(&key);
    let mut image = complete_image(&dir, &key)?.ok_or_else(|| Error::MissingOutput {
        what: "the Linux dom0 image after its build",
        path: dir.join(MANIFEST),
    })?;
    image.build_time = Some(elapsed);
    Ok(image)
}

/// The image in `dir` if it is complete.
fn complete_image(dir: &Path, key: &str) -> Result<Option<Dom0Image>, Error> {
    let manifest = dir.join(MANIFEST);
    let Ok(text) = fs::read_to_string(&manifest) else {
        return Ok(None);
    };
    let kernel_release = text
        .lines()
        .find_map(|line| line.strip_prefix("kernel-release="))
        .unwrap_or_default()
        .to_owned();
    let image = Dom0Image {
        dir: dir.to_path_buf(),
        key: key.to_owned(),
        kernel_release,
        vmlinux: dir.join(VMLINUX),
        initramfs: dir.join(INITRAMFS),
        domu_initramfs: dir.join(DOMU_INITRAMFS),
        build_time: None,
    };
    let whole = [&image.vmlinux, &image.initramfs, &image.domu_initramfs]
        .iter()
        .all(|path| path.is_file());
    Ok(whole.then_some(image))
}

/// Deletes cached images other than `key` (and leftovers of failed builds).
fn remove_other_images(key: &str) {
    let Ok(entries) = fs::read_dir(cache_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_image = name.len() == 16 && name.chars().all(|c| c.is_ascii_hexdigit());
        if (is_image && name != key) || name.ends_with(".partial") {
            eprintln!("image-builder: removing old Linux dom0 image {name}");
            // Best effort: a leftover only costs disk space.
            let _ignored = fs::remove_dir_all(entry.path());
        }
    }
}

/// Finds the kernel package and the candidate versions in the host's apt
/// lists (running `apt-get update` once if the lists know nothing).
fn resolve_inputs() -> Result<Inputs, Error> {
    match resolve_inputs_once() {
        Ok(inputs) => Ok(inputs),
        Err(_) => {
            let _lock = HostLock::acquire()?;
            apt_update_once()?;
            resolve_inputs_once()
        }
    }
}

fn resolve_inputs_once() -> Result<Inputs, Error> {
    let depends = command::run(
        Command::new("apt-cache").args(["depends", KERNEL_METAPACKAGE]),
        false,
        "apt does not know linux-image-amd64: run apt-get update",
    )?;
    let kernel_package = kernel_dependency(&depends).ok_or_else(|| Error::CommandFailed {
        command: format!("apt-cache depends {KERNEL_METAPACKAGE}"),
        status: Some(0),
        output: depends.clone(),
        hint: "expected a `Depends: linux-image-<release>-amd64` line",
    })?;
    Ok(Inputs {
        mirror: host_mirror(),
        kernel_version: candidate_version(&kernel_package)?,
        kernel_package,
        busybox_version: candidate_version(BUSYBOX_STATIC)?,
        xen_version: candidate_version(XEN_TOOLS)?,
    })
}

/// The kernel package named by `apt-cache depends linux-image-amd64`.
fn kernel_dependency(depends: &str) -> Option<String> {
    depends.lines().find_map(|line| {
        let name = line.trim().strip_prefix("Depends: ")?.trim();
        (name.starts_with("linux-image-") && name.ends_with("-amd64")).then(|| name.to_owned())
    })
}

/// The candidate version of `package` (`apt-cache policy`).
fn candidate_version(package: &str) -> Result<String, Error> {
    let policy = command::run(
        Command::new("apt-cache").args(["policy", package]),
        false,
        "",
    )?;
    parse_candidate(&policy).ok_or_else(|| Error::CommandFailed {
        command: format!("apt-cache policy {package}"),
        status: Some(0),
        output: policy,
        hint: "no candidate version: is a bookworm mirror in the apt sources?",
    })
}

/// The `Candidate:` of `apt-cache policy` output, unless `(none)`.
fn parse_candidate(policy: &str) -> Option<String> {
    policy.lines().find_map(|line| {
        let version = line.trim().strip_prefix("Candidate:")?.trim();
        (!version.is_empty() && version != "(none)").then(|| version.to_owned())
    })
}

/// The host's Debian mirror for [`SUITE`] (from `/etc/apt/sources.list` and
/// `/etc/apt/sources.list.d/*.{list,sources}`), or [`DEFAULT_MIRROR`].
fn host_mirror() -> String {
    let mut texts = Vec::new();
    if let Ok(text) = fs::read_to_string("/etc/apt/sources.list") {
        texts.push((false, text));
    }
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        paths.sort();
        for path in paths {
            let deb822 = path.extension().is_some_and(|ext| ext == "sources");
            let list = path.extension().is_some_and(|ext| ext == "list");
            if deb822 || list {
                if let Ok(text) = fs::read_to_string(&path) {
                    texts.push((deb822, text));
                }
            }
        }
    }
    mirror_from_sources(&texts).unwrap_or_else(|| DEFAULT_MIRROR.to_owned())
}

/// The first `deb` source offering [`SUITE`] itself: `(is_deb822, text)`
/// per file, one-line format (`deb [opts] URI SUITE COMPONENTS`) or deb822
/// stanzas (`Types:`, `URIs:`, `Suites:`, `Enabled:`).
fn mirror_from_sources(files: &[(bool, String)]) -> Option<String> {
    for (deb822, text) in files {
        if *deb822 {
            for stanza in text.split("\n\n") {
                let field = |name: &str| {
                    stanza.lines().find_map(|line| {
                        let (key, value) = line.split_once(':')?;
                        key.trim()
                            .eq_ignore_ascii_case(name)
                            .then(|| value.trim().to_owned())
                    })
                };
                let enabled = field("Enabled").is_none_or(|value| value != "no");
                let types = field("Types").unwrap_or_default();
                let suites = field("Suites").unwrap_or_default();
                if enabled
                    && types.split_whitespace().any(|kind| kind == "deb")
                    && suites.split_whitespace().any(|suite| suite == SUITE)
                {
                    if let Some(uri) = field("URIs")
                        .and_then(|uris| uris.split_whitespace().next().map(str::to_owned))
                    {
                        return Some(uri);
                    }
                }
            }
        } else {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or_default().trim();
                let Some(rest) = line.strip_prefix("deb ") else {
                    continue;
                };
                // Options in brackets come first: `[arch=amd64 signed-by=...]`.
                let rest = rest.trim_start();
                let rest = match rest.strip_prefix('[') {
                    Some(options) => options.split_once(']').map_or("", |(_, rest)| rest),
                    None => rest,
                };
                let mut words = rest.split_whitespace();
                if let (Some(uri), Some(suite)) = (words.next(), words.next()) {
                    if suite == SUITE {
                        return Some(uri.to_owned());
                    }
                }
            }
        }
    }
    None
}

/// Prints one progress line of the build.
fn progress(started: Instant, what: &str) {
    eprintln!(
        "image-builder: linux-dom0 [{:5.1} s] {what}",
        started.elapsed().as_secs_f64()
    );
}

/// Builds the image for `inputs` into `dir` (lock held).
fn build(inputs: &Inputs, dir: &Path) -> Result<(), Error> {
    let started = Instant::now();
    let scratch = cache_dir().join(format!("{}.partial", inputs.key()));
    remove_dir_if_present(&scratch)?;
    remove_dir_if_present(dir)?;
    create_dir(&scratch)?;
    let debs = scratch.join("debs");
    create_dir(&debs)?;

    progress(started, "downloading the kernel and busybox-static");
    apt_download(
        &debs,
        &[
            format!("{}={}", inputs.kernel_package, inputs.kernel_version),
            format!("{BUSYBOX_STATIC}={}", inputs.busybox_version),
        ],
    )?;
    let kernel_tree = scratch.join("kernel");
    dpkg_extract(&find_deb(&debs, &inputs.kernel_package)?, &kernel_tree)?;
    let busybox_tree = scratch.join("busybox");
    dpkg_extract(&find_deb(&debs, BUSYBOX_STATIC)?, &busybox_tree)?;
    let (release, bzimage) = find_kernel_image(&kernel_tree)?;

    progress(
        started,
        &format!("extracting vmlinux from {}", bzimage.display()),
    );
    let bzimage_bytes = fs::read(&bzimage)
        .map_err(|error| Error::io(format!("reading {}", bzimage.display()), error))?;
    let vmlinux = extract_vmlinux(&bzimage_bytes)?;
    write_file(&scratch.join(VMLINUX), &vmlinux)?;
    drop(vmlinux);

    progress(
        started,
        &format!(
            "debootstrap --variant=minbase {SUITE} from {} (about 40 s)",
            inputs.mirror
        ),
    );
    let root = scratch.join("root");
    let mut debootstrap = Command::new("debootstrap");
    debootstrap
        .arg("--variant=minbase")
        .arg(format!(
            "--include={}",
            DEBOOTSTRAP_INCLUDE.replace(' ', "")
        ))
        .arg(SUITE)
        .arg(&root)
        .arg(&inputs.mirror);
    command::run(
        &mut debootstrap,
        crate::echo_enabled(),
        "debootstrap needs root and the Debian mirror",
    )?;

    progress(
        started,
        "replacing the Xen tools with the host's candidate version",
    );
    let xen_packages = packages_from_source(&root, "xen")?;
    let xen_debs = scratch.join("xen-debs");
    create_dir(&xen_debs)?;
    apt_download(&xen_debs, &xen_packages)?;
    for package in &xen_packages {
        dpkg_extract(&find_deb(&xen_debs, package)?, &root)?;
    }

    progress(started, &format!("copying kernel modules of {release}"));
    let module_count = install_modules(&kernel_tree, &root, &release)?;

    progress(started, "packing the Linux domU initramfs");
    let domu_initramfs = scratch.join(DOMU_INITRAMFS);
    pack_domu_initramfs(&busybox_tree.join("bin/busybox"), &domu_initramfs)?;

    progress(started, "packing dom0's initramfs");
    let initramfs = scratch.join(INITRAMFS);
    pack_dom0_initramfs(&root, &scratch.join(VMLINUX), &domu_initramfs, &initramfs)?;

    for scratch_dir in ["debs", "xen-debs", "kernel", "busybox", "root"] {
        remove_dir_if_present(&scratch.join(scratch_dir))?;
    }
    let size = |name: &str| {
        fs::metadata(scratch.join(name))
            .map(|metadata| metadata.len())
            .unwrap_or(0)
    };
    let manifest = format!(
        "{}kernel-release={release}\nxen-packages={}\nmodules-copied={module_count}\n\
         vmlinux-bytes={}\ninitramfs-bytes={}\ndomu-initramfs-bytes={}\nbuild-seconds={:.1}\n",
        inputs.describe(),
        xen_packages.join(","),
        size(VMLINUX),
        size(INITRAMFS),
        size(DOMU_INITRAMFS),
        started.elapsed().as_secs_f64(),
    );
    write_file(&scratch.join(MANIFEST), manifest.as_bytes())?;
    fs::rename(&scratch, dir).map_err(|error| {
        Error::io(
            format!("renaming {} to {}", scratch.display(), dir.display()),
            error,
        )
    })?;
    progress(started, &format!("done: {}", dir.display()));
    Ok(())
}

/// `apt-get download` of `packages` (names, or `name=version`) into `dir`.
fn apt_download(dir: &Path, packages: &[String]) -> Result<(), Error> {
    let mut download = apt_get();
    download.arg("download").args(packages).current_dir(dir);
    command::run(
        &mut download,
        false,
        "needs the Debian mirror; if a version is gone, run apt-get update",
    )
    .map(drop)
}

/// The `.deb` of `package` in `dir`.
fn find_deb(dir: &Path, package: &str) -> Result<PathBuf, Error> {
    let prefix = format!("{package}_");
    fs::read_dir(dir)
        .map_err(|error| Error::io(format!("listing {}", dir.display()), error))?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".deb"))
        })
        .ok_or_else(|| Error::MissingOutput {
            what: "a downloaded package",
            path: dir.join(format!("{prefix}*.deb")),
        })
}

/// `dpkg-deb -x deb into`.
fn dpkg_extract(deb: &Path, into: &Path) -> Result<(), Error> {
    command::run(
        Command::new("dpkg-deb").arg("-x").arg(deb).arg(into),
        false,
        "the downloaded package may be damaged",
    )
    .map(drop)
}

/// The kernel release and bzImage in an unpacked kernel package.
fn find_kernel_image(tree: &Path) -> Result<(String, PathBuf), Error> {
    let boot = tree.join("boot");
    fs::read_dir(&boot)
        .map_err(|error| Error::io(format!("listing {}", boot.display()), error))?
        .flatten()
        .find_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let release = name.strip_prefix("vmlinuz-")?.to_owned();
            Some((release, entry.path()))
        })
        .ok_or_else(|| Error::MissingOutput {
            what: "the kernel image in the kernel package",
            path: boot.join("vmlinuz-*"),
        })
}

/// The binary packages installed in `root` that come from `source`
/// (dpkg's status file: `Package:` stanzas with `Source: <source>`).
fn packages_from_source(root: &Path, source: &str) -> Result<Vec<String>, Error> {
    let status_path = root.join("var/lib/dpkg/status");
    let status = fs::read_to_string(&status_path)
        .map_err(|error| Error::io(format!("reading {}", status_path.display()), error))?;
    let packages = packages_of_source(&status, source);
    if packages.is_empty() {
        return Err(Error::MissingOutput {
            what: "Xen packages in the debootstrapped system",
            path: status_path,
        });
    }
    Ok(packages)
}

/// Parses dpkg's status text for packages built from `source`.
fn packages_of_source(status: &str, source: &str) -> Vec<String> {
    let mut packages = Vec::new();
    for stanza in status.split("\n\n") {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|line| line.strip_prefix(name).map(str::trim))
        };
        let from_source = field("Source:")
            .and_then(|value| value.split_whitespace().next())
            .is_some_and(|name| name == source);
        if let Some(package) = field("Package:").filter(|_| from_source) {
            packages.push(package.to_owned());
        }
    }
    packages
}

/// Copies [`MODULES`] and their dependencies from the unpacked kernel
/// package into `root`, with the kernel's module lists and a fresh
/// `depmod`. Returns how many module files were copied.
fn install_modules(kernel_tree: &Path, root: &Path, release: &str) -> Result<usize, Error> {
    command::run(
        Command::new("depmod")
            .arg("-b")
            .arg(kernel_tree)
            .arg(release),
        false,
        "depmod is in Debian's kmod package",
    )?;
    let mut modprobe = Command::new("modprobe");
    modprobe
        .arg("-d")
        .arg(kernel_tree)
        .args(["-S", release, "--show-depends", "-a"])
        .args(MODULES);
    let plan = command::run(&mut modprobe, false, "a module is missing from the kernel")?;
    let source_dir = kernel_tree.join("lib/modules").join(release);
    // Debian's root has /lib -> usr/lib; write below usr/lib directly.
    let target_dir = root.join("usr/lib/modules").join(release);
    create_dir(&target_dir)?;
    let mut copied = 0;
    for module in modules_to_copy(&plan) {
        let relative = Path::new(&module)
            .strip_prefix(&source_dir)
            .map_err(|_| Error::MissingOutput {
                what: "a module inside the kernel package's module directory",
                path: PathBuf::from(&module),
            })?
            .to_path_buf();
        let destination = target_dir.join(&relative);
        if let Some(parent) = destination.parent() {
            create_dir(parent)?;
        }
        fs::copy(&module, &destination).map_err(|error| {
            Error::io(
                format!("copying {module} to {}", destination.display()),
                error,
            )
        })?;
        copied += 1;
    }
    for list in [
        "modules.order",
        "modules.builtin",
        "modules.builtin.modinfo",
    ] {
        let from = source_dir.join(list);
        if from.is_file() {
            fs::copy(&from, target_dir.join(list))
                .map_err(|error| Error::io(format!("copying {}", from.display()), error))?;
        }
    }
    command::run(
        Command::new("depmod").arg("-b").arg(root).arg(release),
        false,
        "depmod failed on the copied modules",
    )?;
    Ok(copied)
}

/// The module files of `modprobe --show-depends` output (`insmod <path>
/// [params]` lines; `builtin <name>` lines need nothing), each once.
fn modules_to_copy(plan: &str) -> Vec<String> {
    let mut modules: Vec<String> = Vec::new();
    for line in plan.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("insmod") {
            continue;
        }
        if let Some(path) = words.next() {
            if !modules.iter().any(|known| known == path) {
                modules.push(path.to_owned());
            }
        }
    }
    modules
}

/// Writes the Linux domU's initramfs: busybox, its links, `/init`.
fn pack_domu_initramfs(busybox: &Path, out: &Path) -> Result<(), Error> {
    let binary = fs::read(busybox)
        .map_err(|error| Error::io(format!("reading {}", busybox.display()), error))?;
    let mut writer = CpioWriter::new(Vec::new());
    let result = (|| -> std::io::Result<Vec<u8>> {
        writer.directory("dev", 0o755)?;
        writer.char_device("dev/console", 0o600, 5, 1)?;
        writer.directory("proc", 0o755)?;
        writer.file("bin/busybox", 0o755, &binary)?;
        for applet in ["sh", "mount", "cat", "echo", "poweroff", "sleep", "ls"] {
            writer.symlink(&format!("bin/{applet}"), "busybox")?;
        }
        writer.file("init", 0o755, DOMU_INIT_SCRIPT.as_bytes())?;
        writer.finish()
    })();
    let bytes = result.map_err(|error| Error::io("packing the Linux domU initramfs", error))?;
    write_file(out, &bytes)
}

/// Whether a path of the debootstrapped root (relative, `usr/share/doc`)
/// stays out of dom0's initramfs: what a toolstack never reads.
fn leave_out_of_dom0(path: &str) -> bool {
    const SUBTREES: &[&str] = &[
        "dev",
        "proc",
        "sys",
        "run",
        "tmp",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
        "usr/share/locale",
        "usr/share/lintian",
        "usr/share/i18n",
        "var/cache/apt",
        "var/cache/debconf",
        "var/lib/apt/lists",
        "var/log",
        "usr/share/zoneinfo",
        "usr/lib/udev/hwdb.bin",
        "usr/lib/udev/hwdb.d",
        "etc/udev/hwdb.bin",
        // Only pygrub and a few Xen helpers need Python; xl is C.
        "usr/lib/python3",
        "usr/lib/python3.11",
        "usr/lib/x86_64-linux-gnu/gconv",
    ];
    // The directories themselves stay (as mount points), their contents go.
    SUBTREES.iter().any(|subtree| {
        path.strip_prefix(subtree)
            .is_some_and(|rest| rest.starts_with('/') || (rest.is_empty() && subtree.contains('.')))
    }) || path.ends_with("-old")
}

/// Writes dom0's initramfs: the root tree, `/dev/console`, `/init` and the
/// Linux domU in [`LINUX_DOMU_DIR`].
fn pack_dom0_initramfs(
    root: &Path,
    vmlinux: &Path,
    domu_initramfs: &Path,
    out: &Path,
) -> Result<(), Error> {
    let file = fs::File::create(out)
        .map_err(|error| Error::io(format!("creating {}", out.display()), error))?;
    let mut writer = CpioWriter::new(BufWriter::with_capacity(1 << 20, file));
    let init = INIT_SCRIPT.replace("@MODULES@", &MODULES.join(" "));
    let result = (|| -> std::io::Result<()> {
        writer.tree(root, "", &leave_out_of_dom0)?;
        writer.char_device("dev/console", 0o600, 5, 1)?;
        writer.file("init", 0o755, init.as_bytes())?;
        for (name, path) in [("vmlinux", vmlinux), ("initramfs.cpio", domu_initramfs)] {
            let file = fs::File::open(path)?;
            let size = file.metadata()?.len();
            let destination = format!("{}/{name}", LINUX_DOMU_DIR.trim_start_matches('/'));
            writer.file_from_reader(&destination, 0o644, size, file)?;
        }
        writer.finish()?.flush()
    })();
    result.map_err(|error| Error::io(format!("writing {}", out.display()), error))
}

/// The uncompressed kernel ELF inside a bzImage.
///
/// The setup header (`Documentation/arch/x86/boot.rst`) says where the
/// compressed payload is: `setup_sects` at 0x1f1 (0 means 4),
/// `payload_offset` and `payload_length` at 0x248 and 0x24c, relative to
/// the protected-mode code after the setup sectors. Debian's 6.1 kernels
/// use xz (`CONFIG_KERNEL_XZ`); gzip is handled too. The payload ends with
/// the uncompressed size (4 bytes, little endian), which is checked.
pub fn extract_vmlinux(bzimage: &[u8]) -> Result<Vec<u8>, Error> {
    let invalid = |reason: &'static str| Error::InvalidConfig {
        what: "kernel image",
        value: format!("{} bytes", bzimage.len()),
        reason,
    };
    if bzimage.len() < 0x250 || &bzimage[0x202..0x206] != b"HdrS" {
        return Err(invalid("not a bzImage (no HdrS setup header)"));
    }
    let u32_at = |offset: usize| {
        u32::from_le_bytes([
            bzimage[offset],
            bzimage[offset + 1],
            bzimage[offset + 2],
            bzimage[offset + 3],
        ]) as usize
    };
    let setup_sects = match bzimage[0x1f1] {
        0 => 4,
        sectors => usize::from(sectors),
    };
    let start = (setup_sects + 1) * 512 + u32_at(0x248);
    let length = u32_at(0x24c);
    let payload = bzimage
        .get(start..start + length)
        .ok_or_else(|| invalid("the payload lies outside the file"))?;
    let (program, args): (&str, &[&str]) = if payload.starts_with(b"\xfd7zXZ\0") {
        ("xz", &["-dc", "--single-stream"])
    } else if payload.starts_with(b"\x1f\x8b") {
        ("gzip", &["-dc"])
    } else {
        return Err(invalid(
            "the payload is neither xz nor gzip (the only compressions handled)",
        ));
    };
    let expected_size = payload.len().checked_sub(4).map(|at| {
        u32::from_le_bytes([
            payload[at],
            payload[at + 1],
            payload[at + 2],
            payload[at + 3],
        ])
    });
    let elf = decompress(program, args, payload)?;
    if !elf.starts_with(b"\x7fELF\x02") {
        return Err(invalid("the decompressed kernel is not a 64-bit ELF"));
    }
    if expected_size.is_some_and(|size| size as usize != elf.len()) {
        return Err(invalid(
            "the decompressed kernel's size differs from the size the bzImage records",
        ));
    }
    Ok(elf)
}

/// Pipes `input` through `program args` and returns its output. Trailing
/// data after the compressed stream is expected (gzip warns, exit 2).
fn decompress(program: &str, args: &[&str], input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| Error::io(format!("starting {program}"), error))?;
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let input = input.to_vec();
    // A writer thread, so a full stdout pipe cannot deadlock us.
    let writer = thread::spawn(move || {
        // The decompressor may stop reading after its stream: not an error.
        let _ignored = stdin.write_all(&input);
    });
    let mut output = Vec::new();
    let mut stdout = child.stdout.take().expect("stdout was piped");
    stdout
        .read_to_end(&mut output)
        .map_err(|error| Error::io(format!("reading {program}'s output"), error))?;
    let _ignored = writer.join();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ignored = pipe.read_to_string(&mut stderr);
    }
    let status = child
        .wait()
        .map_err(|error| Error::io(format!("waiting for {program}"), error))?;
    // gzip exits 2 ("trailing garbage ignored") for a valid stream.
    let ok = status.success() || (program == "gzip" && status.code() == Some(2));
    if !ok || output.is_empty() {
        return Err(Error::CommandFailed {
            command: format!("{program} {}", args.join(" ")),
            status: status.code(),
            output: stderr,
            hint: "could not decompress the kernel",
        });
    }
    Ok(output)
}

/// FNV-1a, 64 bits: a stable hash for cache keys (std's `DefaultHasher`
/// may change between Rust releases).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub(super) fn create_dir(path: &Path) -> Result<(), Error> {
    fs::create_dir_all(path)
        .map_err(|error| Error::io(format!("creating {}", path.display()), error))
}

fn remove_dir_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(Error::io(format!("removing {}", path.display()), error)),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|error| Error::io(format!("writing {}", path.display()), error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_dependency_and_candidates_are_parsed() {
        let depends = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(
            kernel_dependency(depends).as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
        assert_eq!(kernel_dependency("linux-image-amd64\n"), None);
        let policy = "busybox-static:\n  Installed: (none)\n  Candidate: 1:1.35.0-4+deb12u1+b1\n";
        assert_eq!(
            parse_candidate(policy).as_deref(),
            Some("1:1.35.0-4+deb12u1+b1")
        );
        assert_eq!(parse_candidate("x:\n  Candidate: (none)\n"), None);
    }

    #[test]
    fn the_mirror_comes_from_either_sources_format() {
        let deb822 =
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n\
                      Components: main\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\n\
                      Suites: bookworm-security\n";
        assert_eq!(
            mirror_from_sources(&[(true, deb822.to_owned())]).as_deref(),
            Some("http://deb.debian.org/debian")
        );
        let disabled = "Enabled: no\nTypes: deb\nURIs: http://a/\nSuites: bookworm\n";
        assert_eq!(mirror_from_sources(&[(true, disabled.to_owned())]), None);
        let list = "# comment\ndeb-src http://src/ bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main\n";
        assert_eq!(
            mirror_from_sources(&[(false, list.to_owned())]).as_deref(),
            Some("http://m/debian")
        );
        let security_only = "deb http://security/ bookworm-security main\n";
        assert_eq!(
            mirror_from_sources(&[(false, security_only.to_owned())]),
            None
        );
    }

    #[test]
    fn packages_are_found_by_source() {
        let status = "Package: libxenstore4\nStatus: install ok installed\nSource: xen\n\
                      Version: 4.17\n\nPackage: dash\nVersion: 1\n\n\
                      Package: xen-utils-4.17\nSource: xen (4.17.5)\n";
        assert_eq!(
            packages_of_source(status, "xen"),
            ["libxenstore4", "xen-utils-4.17"]
        );
    }

    #[test]
    fn modprobe_plans_give_each_module_once() {
        let plan = "insmod /k/lib/modules/6.1/kernel/drivers/xen/xen-privcmd.ko \n\
                    insmod /k/lib/modules/6.1/kernel/drivers/xen/xenfs/xenfs.ko \n\
                    insmod /k/lib/modules/6.1/kernel/drivers/xen/xen-privcmd.ko \n\
                    builtin xen_evtchn\ninsmod /k/x.ko param=1\n";
        assert_eq!(
            modules_to_copy(plan),
            [
                "/k/lib/modules/6.1/kernel/drivers/xen/xen-privcmd.ko",
                "/k/lib/modules/6.1/kernel/drivers/xen/xenfs/xenfs.ko",
                "/k/x.ko"
            ]
        );
    }

    #[test]
    fn docs_and_pseudo_file_systems_stay_out_of_dom0() {
        for out in [
            "usr/share/doc/bash",
            "dev/null",
            "proc/x",
            "var/lib/apt/lists/x_Packages",
            "usr/lib/udev/hwdb.bin",
            "var/cache/debconf/config.dat-old",
        ] {
            assert!(leave_out_of_dom0(out), "{out}");
        }
        for kept in [
            "dev",
            "proc",
            "usr/share/doc",
            "usr/share/documentation",
            "usr/lib/xen-4.17/bin/xl",
            "etc/xen/scripts/block",
            "var/lib/xen",
        ] {
            assert!(!leave_out_of_dom0(kept), "{kept}");
        }
    }

    #[test]
    fn the_cache_key_changes_with_every_input() {
        let inputs = Inputs {
            mirror: "http://m".to_owned(),
            kernel_package: "linux-image-6.1.0-56-amd64".to_owned(),
            kernel_version: "6.1.192-2".to_owned(),
            busybox_version: "1".to_owned(),
            xen_version: "4.17.7".to_owned(),
        };
        let key = inputs.key();
        assert_eq!(key.len(), 16);
        assert_eq!(key, inputs.clone().key());
        let mut changed = inputs.clone();
        changed.kernel_version = "6.1.193-1".to_owned();
        assert_ne!(changed.key(), key);
        let mut changed = inputs;
        changed.xen_version = "4.17.8".to_owned();
        assert_ne!(changed.key(), key);
        // FNV-1a's published test vector.
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    /// A fake bzImage: a setup header pointing at `payload`.
    fn fake_bzimage(payload: &[u8]) -> Vec<u8> {
        let setup_sects = 1_u8;
        let mut image = vec![0_u8; 1024];
        image[0x1f1] = setup_sects;
        image[0x202..0x206].copy_from_slice(b"HdrS");
        let offset = 16_u32;
        image[0x248..0x24c].copy_from_slice(&offset.to_le_bytes());
        image[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        image.extend_from_slice(&[0xcc; 16]);
        image.extend_from_slice(payload);
        image.extend_from_slice(b"trailing setup data");
        image
    }

    fn compress(program: &str, data: &[u8]) -> Vec<u8> {
        let mut child = Command::new(program)
            .arg("-c")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("compressor runs");
        child.stdin.take().unwrap().write_all(data).unwrap();
        child.wait_with_output().unwrap().stdout
    }

    #[test]
    fn vmlinux_is_extracted_from_xz_and_gzip_payloads() {
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.extend((0..5000_u32).map(|i| (i % 251) as u8));
        // xz-utils is only of Debian priority "standard": the build
        // installs it, a bare host may lack it.
        let have_xz = Command::new("xz").arg("--version").output().is_ok();
        for program in ["xz", "gzip"] {
            if program == "xz" && !have_xz {
                continue;
            }
            let mut payload = compress(program, &elf);
            payload.extend_from_slice(&(elf.len() as u32).to_le_bytes());
            let extracted = extract_vmlinux(&fake_bzimage(&payload)).expect(program);
            assert_eq!(extracted, elf, "{program}");
        }
        let mut wrong_size = compress("gzip", &elf);
        wrong_size.extend_from_slice(&7_u32.to_le_bytes());
        assert!(extract_vmlinux(&fake_bzimage(&wrong_size)).is_err());
        assert!(extract_vmlinux(&fake_bzimage(b"\x28\xb5\x2f\xfd zstd")).is_err());
        assert!(extract_vmlinux(b"not a kernel").is_err());
        let mut not_elf = compress("gzip", b"plain text");
        not_elf.extend_from_slice(&10_u32.to_le_bytes());
        assert!(extract_vmlinux(&fake_bzimage(&not_elf)).is_err());
    }
}
