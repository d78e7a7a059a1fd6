//! The domU flow: our kernel as a domU of a Linux dom0's `xl`, next to a
//! Linux PV domU, in one boot of the Linux dom0 ([`crate::linux_dom0`]).
//!
//! The script (`linux_dom0/domu-flow.sh`) runs, in order:
//!
//! 1. `xl info`, `xl list`;
//! 2. a Linux PV domU ([`linux_config`]): `xl create` timed, then the time
//!    until its `ready: linux uptime=...` line is in its console log
//!    (polled every 20 ms), then it powers itself off;
//! 3. our kernel as `xenrs4` with an empty command line (no self-checks):
//!    the same timings as the Linux domU's, for the benchmark, then
//!    `xl destroy`;
//! 4. our kernel as `xenrs1` ([`xenrs_config`], command line `selftest`):
//!    the same timings until its `ready:` line, and dom0's wall clock just
//!    before `xl create` and just after `ready:`;
//! 5. `xl mem-set xenrs1 24m`, then `32m`: xenstore's `memory/target`, the
//!    kernel's `balloon: target <KiB> KiB` line, `xl list`;
//! 6. `xl shutdown -w xenrs1` (timed), then what is left of the domain in
//!    `xl list`, xenstore (`/local/domain/<id>`, `/libxl/<id>`, `/vm`) and
//!    libxl's user data;
//! 7. `xenrs2` with `on_reboot="restart"`: `xl reboot`, a second banner in
//!    the console log, `xl destroy`, residue;
//! 8. `xenrs3`: `xl create` and at once `xl destroy`, residue;
//! 9. (h) CPU share: first one blocking read of `/dev/random` (dom0's
//!    random generator is otherwise uninitialised, and every `xl create`
//!    then waits ~3 s in libuuid's retries); two domUs with
//!    `spin=`[`SPIN_SECONDS`] pinned to physical CPU 1 ([`SHARE_DOMAINS`]),
//!    created paused, unpaused back to back, each printing its
//!    `cpu-share:` line ([`CpuShare`]) and powering off; dom0 notes when it
//!    saw each line. Then [`CAPPED_DOMAIN`], the same alone but capped at
//!    [`CAP_PERCENT`]% with `xl sched-credit2 -c`. Residue after each;
//! 10. (i) smallest memory: a plain boot with `memory = maxmem =` each of
//!     [`MIN_MEMORY_STEPS_MIB`] in turn, until `ready:` (8 s at most) or the
//!     domain dies or `xl create` refuses; `xl destroy`, residue. The
//!     smallest size that reached `ready:` and the largest that did not are
//!     `RESULT`s ([`MinMemory`]).
//!
//! It prints `RESULT key=value` lines as it goes and, at the end, each
//! command's output and each guest's console log (written by xenconsoled)
//! between `BEGIN-FILE`/`END-FILE` markers, plus a `results` section
//! repeating every `RESULT`. The checks are the system test's
//! (`tests/tests/domu.rs`); [`bench_lines`] turns the figures into the
//! `bench domu-...` lines that `image-builder bench-domu` and the system
//! test print.

use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::linux_dom0::{
    run_in_linux_dom0_with, Dom0Options, Dom0Run, TestFile, LINUX_DOMU_KERNEL, LINUX_DOMU_RAMDISK,
};

/// The flow's shell script.
pub const SCRIPT: &str = include_str!("linux_dom0/domu-flow.sh");

/// Our kernel's command line in the flow: run the self-checks, then stay
/// up as a domU waiting for the toolstack.
pub const XENRS_CMDLINE: &str = "selftest";

/// Our kernel's command line for the benchmark's boot: nothing, so that
/// `ready:` comes without the self-checks' sleeps.
pub const XENRS_BENCH_CMDLINE: &str = "";

/// Memory of our kernel's domains, in MiB.
pub const XENRS_MEMORY_MIB: u32 = 32;

/// Memory of the Linux domU, in MiB.
pub const LINUX_MEMORY_MIB: u32 = 128;

/// How long each domU of the CPU-share step spins (`spin=<s>`), in seconds.
pub const SPIN_SECONDS: u32 = 4;

/// Memory of the CPU-share step's domUs, in MiB.
pub const SHARE_MEMORY_MIB: u32 = 16;

/// The physical CPUs the CPU-share step's domUs may run on (`cpus`): one,
/// so that the pair has to share it.
pub const SHARE_CPUS: &str = "1";

/// The pair of the CPU-share step, sharing [`SHARE_CPUS`].
pub const SHARE_DOMAINS: [&str; 2] = ["xenrs-share-a", "xenrs-share-b"];

/// The CPU-share step's domU capped with `xl sched-credit2 -c`.
pub const CAPPED_DOMAIN: &str = "xenrs-capped";

/// The cap of [`CAPPED_DOMAIN`], in percent of one CPU.
pub const CAP_PERCENT: u32 = 50;

/// The memory sizes of the smallest-memory step, in MiB, tried in order.
pub const MIN_MEMORY_STEPS_MIB: &[u32] = &[8, 6, 5, 4, 3];

/// The command line of the CPU-share step's domUs.
pub fn share_cmdline() -> String {
    format!("spin={SPIN_SECONDS} shutdown=poweroff")
}

/// The domain of the smallest-memory step with `mib` MiB.
pub fn min_memory_domain(mib: u32) -> String {
    format!("xenrs-mem{mib}")
}

/// One of our kernel's domains, as its `xl` configuration describes it
/// (the kernel is at `/tmp/xenrs.elf` in dom0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XenrsDomain<'a> {
    /// `name`.
    pub name: &'a str,
    /// `cmdline`.
    pub cmdline: &'a str,
    /// `memory`, in MiB.
    pub memory_mib: u32,
    /// `maxmem`, in MiB, if set.
    pub maxmem_mib: Option<u32>,
    /// `cpus` (hard affinity), if set.
    pub cpus: Option<&'a str>,
    /// `on_reboot`.
    pub on_reboot: &'a str,
    /// `on_crash`.
    pub on_crash: &'a str,
}

impl<'a> XenrsDomain<'a> {
    /// [`XENRS_MEMORY_MIB`], any CPU, destroyed when it reboots or crashes.
    pub fn new(name: &'a str, cmdline: &'a str) -> Self {
        XenrsDomain {
            name,
            cmdline,
            memory_mib: XENRS_MEMORY_MIB,
            maxmem_mib: None,
            cpus: None,
            on_reboot: "destroy",
            on_crash: "destroy",
        }
    }

    /// Its `xl` configuration.
    pub fn config(&self) -> String {
        let XenrsDomain {
            name,
            cmdline,
            memory_mib,
            maxmem_mib,
            cpus,
            on_reboot,
            on_crash,
        } = self;
        let mut config = format!(
            "name = \"{name}\"\ntype = \"pv\"\nkernel = \"/tmp/xenrs.elf\"\n\
             cmdline = \"{cmdline}\"\nmemory = {memory_mib}\n"
        );
        if let Some(maxmem) = maxmem_mib {
            config.push_str(&format!("maxmem = {maxmem}\n"));
        }
        config.push_str("vcpus = 1\n");
        if let Some(cpus) = cpus {
            config.push_str(&format!("cpus = \"{cpus}\"\n"));
        }
        config.push_str(&format!(
            "on_poweroff = \"destroy\"\non_reboot = \"{on_reboot}\"\non_crash = \"{on_crash}\"\n"
        ));
        config
    }
}

/// An `xl` configuration for our kernel (at `/tmp/xenrs.elf` in dom0).
pub fn xenrs_config(name: &str, cmdline: &str, on_reboot: &str) -> String {
    XenrsDomain {
        on_reboot,
        ..XenrsDomain::new(name, cmdline)
    }
    .config()
}

/// The `xl` configuration of the Linux PV domU.
pub fn linux_config(name: &str) -> String {
    format!(
        "name = \"{name}\"\ntype = \"pv\"\nkernel = \"{LINUX_DOMU_KERNEL}\"\n\
         ramdisk = \"{LINUX_DOMU_RAMDISK}\"\nextra = \"console=hvc0 quiet\"\n\
         memory = {LINUX_MEMORY_MIB}\nvcpus = 1\n\
         on_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n"
    )
}

/// The files the script expects in `/tmp`: our kernel, the configs and
/// [`flow_env`].
pub fn files(xenrs_kernel: &Path) -> Vec<TestFile> {
    let mut files = vec![
        TestFile::path("xenrs.elf", xenrs_kernel),
        TestFile::bytes(
            "xenrs1.cfg",
            xenrs_config("xenrs1", XENRS_CMDLINE, "destroy"),
        ),
        TestFile::bytes(
            "xenrs2.cfg",
            xenrs_config("xenrs2", XENRS_CMDLINE, "restart"),
        ),
        TestFile::bytes(
            "xenrs3.cfg",
            xenrs_config("xenrs3", XENRS_CMDLINE, "destroy"),
        ),
        TestFile::bytes(
            "xenrs4.cfg",
            xenrs_config("xenrs4", XENRS_BENCH_CMDLINE, "destroy"),
        ),
        TestFile::bytes("linux1.cfg", linux_config("linux1")),
    ];
    files.push(TestFile::bytes("flow.env", flow_env()));
    let cmdline = share_cmdline();
    for name in SHARE_DOMAINS.into_iter().chain([CAPPED_DOMAIN]) {
        let domain = XenrsDomain {
            memory_mib: SHARE_MEMORY_MIB,
            cpus: Some(SHARE_CPUS),
            ..XenrsDomain::new(name, &cmdline)
        };
        files.push(TestFile::bytes(format!("{name}.cfg"), domain.config()));
    }
    for &mib in MIN_MEMORY_STEPS_MIB {
        let name = min_memory_domain(mib);
        // Preserved when it crashes, so that xenconsoled can still read
        // what it printed; the script destroys it.
        let domain = XenrsDomain {
            memory_mib: mib,
            maxmem_mib: Some(mib),
            on_crash: "preserve",
            ..XenrsDomain::new(&name, XENRS_BENCH_CMDLINE)
        };
        files.push(TestFile::bytes(format!("{name}.cfg"), domain.config()));
    }
    files
}

/// `/tmp/flow.env`, sourced by the script: the figures of steps h and i.
pub fn flow_env() -> String {
    let steps: Vec<String> = MIN_MEMORY_STEPS_MIB
        .iter()
        .map(|mib| mib.to_string())
        .collect();
    format!(
        "SPIN_SECONDS={SPIN_SECONDS}\nCAP_PERCENT={CAP_PERCENT}\nMIN_MEMORY_STEPS=\"{}\"\n",
        steps.join(" ")
    )
}

/// The options the flow runs with: dom0 (~15 s), two Linux-domU-sized
/// waits and our kernel's steps, each bounded in the script.
pub fn options() -> Dom0Options {
    Dom0Options {
        timeout: Duration::from_secs(600),
        silence_timeout: Duration::from_secs(150),
        ..Dom0Options::default()
    }
}

/// Runs the flow with `xenrs_kernel` in one Linux dom0 boot.
pub fn run(xenrs_kernel: &Path) -> Result<Dom0Run, Error> {
    let mut files = files(xenrs_kernel);
    // Step j: our userland and busybox as the domU's ramdisk.
    let programs = crate::initrd::build_userland()?;
    let busybox = crate::initrd::busybox_static()?;
    let initrd = crate::host::target_dir().join("initrd-domu.cpio");
    crate::initrd::build_initrd(&programs, Some(&busybox), &initrd)?;
    files.push(TestFile::path("initrd.cpio", initrd));
    run_in_linux_dom0_with(&options(), SCRIPT, &files)
}

/// The flow's `RESULT` pairs: from the final `results` section if the
/// script got that far (printed while Xen is quiet), otherwise from the
/// live `RESULT` lines.
pub fn results(run: &Dom0Run) -> Vec<(String, String)> {
    match run.section("results") {
        Some(lines) => lines
            .iter()
            .flat_map(|line| {
                line.split_whitespace().filter_map(|word| {
                    word.split_once('=')
                        .filter(|(key, _)| !key.is_empty())
                        .map(|(key, value)| (key.to_owned(), value.to_owned()))
                })
            })
            .collect(),
        None => run.results(),
    }
}

/// The value of `key` in [`results`].
pub fn result(results: &[(String, String)], key: &str) -> Option<String> {
    results
        .iter()
        .rev()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.clone())
}

/// The boot-time figures of one guest, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuestTimes {
    /// How long `xl create` took.
    pub create_ms: f64,
    /// From the start of `xl create` until dom0 saw the `ready:` line.
    pub ready_ms: f64,
    /// The guest's own boot time: our kernel's `ready: ... in <N> us`, or
    /// the Linux guest's `/proc/uptime` in its init.
    pub guest_ms: f64,
}

/// Reads the figures of `prefix` (`xenrs-plain` or `linux`) from `results`;
/// `guest_ms` comes from the caller (it is parsed from a console log).
fn times(results: &[(String, String)], prefix: &str, guest_ms: f64) -> Result<GuestTimes, String> {
    let number = |key: &str| -> Result<f64, String> {
        let key = format!("{prefix}-{key}");
        let value = result(results, &key).ok_or_else(|| format!("no RESULT {key}"))?;
        value
            .parse::<f64>()
            .map_err(|_| format!("RESULT {key}={value} is not a number"))
    };
    Ok(GuestTimes {
        create_ms: number("create-ns")? / 1e6,
        ready_ms: number("ready-ns")? / 1e6,
        guest_ms,
    })
}

/// Our kernel's own boot time from the first `ready: ... in <N> us` line
/// of a console log, in ms.
pub fn xenrs_guest_ms(console: &[&str]) -> Result<f64, String> {
    let line = console
        .iter()
        .find(|line| line.starts_with("ready: "))
        .ok_or("no `ready:` line in the console log")?;
    let micros = line
        .split(" in ")
        .nth(1)
        .and_then(|rest| rest.trim().strip_suffix(" us"))
        .and_then(|number| number.parse::<u64>().ok())
        .ok_or_else(|| format!("{line:?} is not `ready: <role> boot complete in <N> us`"))?;
    Ok(micros as f64 / 1e3)
}

/// The figures of both guests from a run of the flow: our kernel's from
/// its boot without self-checks (`xenrs4`), so both guests do the same
/// work: boot, say `ready:`.
pub fn guest_times(run: &Dom0Run) -> Result<(GuestTimes, GuestTimes), String> {
    let results = results(run);
    let console = run
        .section("guest-xenrs4.log")
        .ok_or("no guest-xenrs4.log section")?;
    let xenrs = times(&results, "xenrs-plain", xenrs_guest_ms(&console)?)?;
    let uptime =
        result(&results, "linux-guest-uptime-s").ok_or("no RESULT linux-guest-uptime-s")?;
    let uptime = uptime
        .parse::<f64>()
        .map_err(|_| format!("linux-guest-uptime-s={uptime} is not a number"))?;
    let linux = times(&results, "linux", uptime * 1e3)?;
    Ok((xenrs, linux))
}

/// `bench domu-boot xenrs_create_ms=... xenrs_ready_ms=... xenrs_guest_ms=...
/// linux_create_ms=... linux_ready_ms=... linux_guest_ms=... guest_ratio=...
/// ready_ratio=...`: `xenrs_*` are our kernel's boot without self-checks,
/// `linux_*` the Linux PV domU's; the ratios are Linux's figure over ours
/// (how many times sooner our domU is ready).
pub fn bench_line(xenrs: &GuestTimes, linux: &GuestTimes) -> String {
    let ratio = |linux: f64, ours: f64| {
        if ours > 0.0 {
            format!("{:.1}", linux / ours)
        } else {
            "inf".to_owned()
        }
    };
    format!(
        "bench domu-boot xenrs_create_ms={:.0} xenrs_ready_ms={:.0} xenrs_guest_ms={:.1} \
         linux_create_ms={:.0} linux_ready_ms={:.0} linux_guest_ms={:.0} guest_ratio={} ready_ratio={}",
        xenrs.create_ms,
        xenrs.ready_ms,
        xenrs.guest_ms,
        linux.create_ms,
        linux.ready_ms,
        linux.guest_ms,
        ratio(linux.guest_ms, xenrs.guest_ms),
        ratio(linux.ready_ms, xenrs.ready_ms),
    )
}

/// A `cpu-share: real_ms=<n> virtual_ms=<n> stolen_ms=<n> share=<x.xx>`
/// line: after spinning, how long the kernel's VCPU ran (`virtual`, from
/// the runstate area) and waited runnable or offline (`stolen`) over
/// `real` milliseconds of Xen system time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuShare {
    /// Milliseconds of real (system) time the spin lasted.
    pub real_ms: u64,
    /// Milliseconds the VCPU ran in that time.
    pub virtual_ms: u64,
    /// Milliseconds it was runnable or offline but not running.
    pub stolen_ms: u64,
    /// `virtual / real`, as printed (two decimals).
    pub share: f64,
}

impl CpuShare {
    /// The line's prefix.
    pub const PREFIX: &'static str = "cpu-share: ";

    /// Parses the line; the four fields in that order, nothing else.
    pub fn parse(line: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("{line:?} is not a cpu-share line: {why}");
        let rest = line
            .trim_end()
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| bad("no `cpu-share: ` prefix"))?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [real, virt, stolen, share] = words[..] else {
            return Err(bad("not four fields"));
        };
        let field = |word: &str, key: &str| -> Result<String, String> {
            word.strip_prefix(key)
                .and_then(|value| value.strip_prefix('='))
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("{word:?} is not {key}=...")))
        };
        let number = |word: &str, key: &str| -> Result<u64, String> {
            let value = field(word, key)?;
            value
                .parse()
                .map_err(|_| bad(&format!("{key}={value} is not a whole number")))
        };
        let share_text = field(share, "share")?;
        let share = share_text
            .parse::<f64>()
            .ok()
            .filter(|share| share.is_finite() && *share >= 0.0)
            .ok_or_else(|| bad(&format!("share={share_text} is not a number")))?;
        Ok(CpuShare {
            real_ms: number(real, "real_ms")?,
            virtual_ms: number(virt, "virtual_ms")?,
            stolen_ms: number(stolen, "stolen_ms")?,
            share,
        })
    }
}

/// The `cpu-share:` lines of `domain`'s console log, parsed.
pub fn cpu_share_lines(run: &Dom0Run, domain: &str) -> Result<Vec<CpuShare>, String> {
    let name = format!("guest-{domain}.log");
    let log = run
        .section(&name)
        .ok_or_else(|| format!("no {name} section"))?;
    log.iter()
        .filter(|line| line.starts_with(CpuShare::PREFIX))
        .map(|line| CpuShare::parse(line))
        .collect()
}

/// The one `cpu-share:` line of `domain`'s console log.
pub fn cpu_share(run: &Dom0Run, domain: &str) -> Result<CpuShare, String> {
    match cpu_share_lines(run, domain)?[..] {
        [share] => Ok(share),
        ref lines => Err(format!(
            "{} cpu-share lines in {domain}'s console, not 1",
            lines.len()
        )),
    }
}

/// The CPU-share step's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuShares {
    /// The pair sharing one CPU, in [`SHARE_DOMAINS`]' order.
    pub pair: [CpuShare; 2],
    /// [`CAPPED_DOMAIN`], alone, capped at [`CAP_PERCENT`]%.
    pub capped: CpuShare,
}

/// Reads the CPU-share step's `cpu-share:` lines from a run of the flow.
pub fn cpu_shares(run: &Dom0Run) -> Result<CpuShares, String> {
    Ok(CpuShares {
        pair: [
            cpu_share(run, SHARE_DOMAINS[0])?,
            cpu_share(run, SHARE_DOMAINS[1])?,
        ],
        capped: cpu_share(run, CAPPED_DOMAIN)?,
    })
}

/// `bench domu-cpu-share pair_a=<share> pair_b=<share> capped50=<share>`:
/// the share of real time each domU's VCPU ran, as the kernel printed it.
pub fn cpu_share_bench_line(shares: &CpuShares) -> String {
    let [a, b] = shares.pair;
    format!(
        "bench domu-cpu-share pair_a={:.2} pair_b={:.2} capped{CAP_PERCENT}={:.2}",
        a.share, b.share, shares.capped.share
    )
}

/// The smallest-memory step's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinMemory {
    /// The smallest size whose boot reached `ready:`, in MiB.
    pub smallest_ready_mib: Option<u32>,
    /// The largest size whose boot did not, in MiB.
    pub largest_failed_mib: Option<u32>,
    /// Each size tried and how it went: `ready`, `create-failed` (`xl`
    /// refused), `crashed`, `shutdown`, `gone` or `timeout`.
    pub outcomes: Vec<(u32, String)>,
}

/// Reads the smallest-memory step's `RESULT`s.
pub fn min_memory(results: &[(String, String)]) -> Result<MinMemory, String> {
    let size = |key: &str| -> Result<Option<u32>, String> {
        match result(results, key) {
            None => Err(format!("no RESULT {key}")),
            Some(value) if value == "none" => Ok(None),
            Some(value) => value
                .parse()
                .map(Some)
                .map_err(|_| format!("RESULT {key}={value} is neither a size nor none")),
        }
    };
    let outcomes = MIN_MEMORY_STEPS_MIB
        .iter()
        .filter_map(|&mib| result(results, &format!("mem{mib}-outcome")).map(|how| (mib, how)))
        .collect();
    Ok(MinMemory {
        smallest_ready_mib: size("xenrs-min-memory-mib")?,
        largest_failed_mib: size("xenrs-min-memory-failed-mib")?,
        outcomes,
    })
}

/// `bench domu-min-memory xenrs_min_mib=<n> largest_failed_mib=<n>`
/// (`none` where no size qualifies).
pub fn min_memory_bench_line(memory: &MinMemory) -> String {
    let mib = |size: Option<u32>| size.map_or_else(|| "none".to_owned(), |mib| mib.to_string());
    format!(
        "bench domu-min-memory xenrs_min_mib={} largest_failed_mib={}",
        mib(memory.smallest_ready_mib),
        mib(memory.largest_failed_mib)
    )
}

/// What happened to each size that did not reach `ready:`, one line
/// each: `xl`'s first error line when it refused, else the last line the
/// kernel printed (or that it printed nothing).
pub fn min_memory_notes(run: &Dom0Run, memory: &MinMemory) -> Vec<String> {
    memory
        .outcomes
        .iter()
        .filter(|(_, outcome)| outcome != "ready")
        .map(|(mib, outcome)| {
            let domain = min_memory_domain(*mib);
            let detail = if outcome == "create-failed" {
                run.section(&format!("{domain}-create"))
                    .and_then(|lines| {
                        lines
                            .iter()
                            .find(|line| line.contains("error"))
                            .map(|line| format!("xl: {}", line.trim()))
                    })
                    .unwrap_or_else(|| "xl said nothing".to_owned())
            } else {
                run.section(&format!("guest-{domain}.log"))
                    .and_then(|lines| {
                        lines
                            .iter()
                            .rev()
                            .find(|line| !line.trim().is_empty())
                            .copied()
                    })
                    .map_or_else(
                        || "its console is empty".to_owned(),
                        |line| format!("last console line {:?}", line.trim()),
                    )
            };
            format!("domu-min-memory: {mib} MiB: {outcome}: {detail}")
        })
        .collect()
}

/// The kernel's ELF file: its size and what it occupies once loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfImage {
    /// The file's size in bytes (symbols and debug information included).
    pub file_bytes: u64,
    /// The sum of the `PT_LOAD` segments' `p_memsz`: what the domain
    /// builder places in the guest's memory (`.bss` included).
    pub loaded_bytes: u64,
}

/// Reads the program headers of a little-endian ELF64 file.
pub fn elf_image(bytes: &[u8]) -> Result<ElfImage, String> {
    const PT_LOAD: u32 = 1;
    const PHDR_SIZE: usize = 56;
    let slice = |offset: usize, length: usize| -> Result<&[u8], String> {
        offset
            .checked_add(length)
            .and_then(|end| bytes.get(offset..end))
            .ok_or_else(|| format!("truncated ELF: no {length} bytes at offset {offset}"))
    };
    let u16_at = |offset: usize| -> Result<u16, String> {
        let raw = slice(offset, 2)?;
        Ok(u16::from_le_bytes([raw[0], raw[1]]))
    };
    let u32_at = |offset: usize| -> Result<u32, String> {
        let mut raw = [0; 4];
        raw.copy_from_slice(slice(offset, 4)?);
        Ok(u32::from_le_bytes(raw))
    };
    let u64_at = |offset: usize| -> Result<u64, String> {
        let mut raw = [0; 8];
        raw.copy_from_slice(slice(offset, 8)?);
        Ok(u64::from_le_bytes(raw))
    };
    if slice(0, 6)? != b"\x7fELF\x02\x01" {
        return Err("not a little-endian ELF64 file".to_owned());
    }
    let phoff = usize::try_from(u64_at(0x20)?).map_err(|_| "e_phoff too large".to_owned())?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    if phentsize < PHDR_SIZE {
        return Err(format!("e_phentsize {phentsize} < {PHDR_SIZE}"));
    }
    let mut loaded_bytes = 0_u64;
    for index in 0..phnum {
        let header = index
            .checked_mul(phentsize)
            .and_then(|offset| offset.checked_add(phoff))
            .ok_or("program header offset overflows")?;
        if u32_at(header)? == PT_LOAD {
            loaded_bytes = loaded_bytes
                .checked_add(u64_at(header + 0x28)?)
                .ok_or("PT_LOAD sizes overflow")?;
        }
    }
    Ok(ElfImage {
        file_bytes: bytes.len() as u64,
        loaded_bytes,
    })
}

/// [`elf_image`] of the file at `path`.
pub fn kernel_image(path: &Path) -> Result<ElfImage, String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("reading {}: {error}", path.display()))?;
    elf_image(&bytes).map_err(|error| format!("{}: {error}", path.display()))
}

/// `bench domu-image kernel_elf_bytes=<n> loaded_bytes=<n>`.
pub fn image_bench_line(image: &ElfImage) -> String {
    format!(
        "bench domu-image kernel_elf_bytes={} loaded_bytes={}",
        image.file_bytes, image.loaded_bytes
    )
}

/// Every figure of a run of the flow with the kernel at `kernel`: the
/// `bench domu-boot`, `domu-cpu-share`, `domu-min-memory` and
/// `domu-image` lines (`no bench <name> line: <why>` for one that cannot
/// be read), then what happened to each memory size that did not boot.
pub fn bench_lines(run: &Dom0Run, kernel: &Path) -> Vec<String> {
    let unavailable = |name: &str, error: String| format!("no bench {name} line: {error}");
    let mut lines = vec![
        match guest_times(run) {
            Ok((xenrs, linux)) => bench_line(&xenrs, &linux),
            Err(error) => unavailable("domu-boot", error),
        },
        match cpu_shares(run) {
            Ok(shares) => cpu_share_bench_line(&shares),
            Err(error) => unavailable("domu-cpu-share", error),
        },
    ];
    match min_memory(&results(run)) {
        Ok(memory) => {
            lines.push(min_memory_bench_line(&memory));
            lines.extend(min_memory_notes(run, &memory));
        }
        Err(error) => lines.push(unavailable("domu-min-memory", error)),
    }
    lines.push(match kernel_image(kernel) {
        Ok(image) => image_bench_line(&image),
        Err(error) => unavailable("domu-image", error),
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::BenchLine;

    #[test]
    fn configs_are_ordinary_pv_configs() {
        let config = xenrs_config("xenrs2", "selftest", "restart");
        for line in [
            "name = \"xenrs2\"",
            "type = \"pv\"",
            "kernel = \"/tmp/xenrs.elf\"",
            "cmdline = \"selftest\"",
            "memory = 32",
            "on_reboot = \"restart\"",
            "on_crash = \"destroy\"",
        ] {
            assert!(
                config.lines().any(|have| have == line),
                "{line} in {config}"
            );
        }
        let linux = linux_config("linux1");
        assert!(linux.contains("kernel = \"/opt/linux-domu/vmlinux\""));
        assert!(linux.contains("ramdisk = \"/opt/linux-domu/initramfs.cpio\""));
        let names: Vec<String> = files(Path::new("/k"))
            .into_iter()
            .map(|file| file.name)
            .collect();
        for config in [
            "xenrs1.cfg",
            "xenrs2.cfg",
            "xenrs3.cfg",
            "linux1.cfg",
            "xenrs.elf",
        ] {
            assert!(names.iter().any(|name| name == config), "{config}");
            let used = SCRIPT.contains(&format!("/tmp/{config}"))
                || config == "xenrs.elf" && xenrs_config("x", "", "").contains("/tmp/xenrs.elf");
            assert!(used, "{config} unused");
        }
    }

    #[test]
    fn the_later_steps_configs_and_env_match_the_script() {
        let files = files(Path::new("/k"));
        let config = |name: &str| -> String {
            let file = files
                .iter()
                .find(|file| file.name == name)
                .unwrap_or_else(|| panic!("no {name}"));
            match &file.source {
                crate::linux_dom0::FileSource::Bytes(bytes) => {
                    String::from_utf8(bytes.clone()).expect("text")
                }
                crate::linux_dom0::FileSource::Path(_) => panic!("{name} is not generated"),
            }
        };
        for name in SHARE_DOMAINS.into_iter().chain([CAPPED_DOMAIN]) {
            let text = config(&format!("{name}.cfg"));
            for line in [
                format!("name = \"{name}\""),
                "cmdline = \"spin=4 shutdown=poweroff\"".to_owned(),
                "memory = 16".to_owned(),
                "cpus = \"1\"".to_owned(),
                "on_poweroff = \"destroy\"".to_owned(),
            ] {
                assert!(text.lines().any(|have| have == line), "{line} in {text}");
            }
            assert!(
                SCRIPT.contains(&format!("/tmp/{name}.cfg")),
                "{name} unused"
            );
        }
        for &mib in MIN_MEMORY_STEPS_MIB {
            let text = config(&format!("xenrs-mem{mib}.cfg"));
            for line in [
                format!("memory = {mib}"),
                format!("maxmem = {mib}"),
                "cmdline = \"\"".to_owned(),
                "on_crash = \"preserve\"".to_owned(),
            ] {
                assert!(text.lines().any(|have| have == line), "{line} in {text}");
            }
        }
        assert!(SCRIPT.contains("name=xenrs-mem$mib") && SCRIPT.contains("\"/tmp/$name.cfg\""));
        assert_eq!(
            config("flow.env"),
            "SPIN_SECONDS=4\nCAP_PERCENT=50\nMIN_MEMORY_STEPS=\"8 6 5 4 3\"\n"
        );
        assert!(SCRIPT.contains(". /tmp/flow.env"));
        // The older configs keep their shape: no maxmem or affinity.
        let plain = config("xenrs1.cfg");
        assert!(
            !plain
                .lines()
                .any(|line| line.starts_with("maxmem") || line.starts_with("cpus")),
            "{plain}"
        );
    }

    #[test]
    fn cpu_share_lines_parse() {
        let line = "cpu-share: real_ms=4000 virtual_ms=1995 stolen_ms=2004 share=0.50";
        assert_eq!(
            CpuShare::parse(line),
            Ok(CpuShare {
                real_ms: 4000,
                virtual_ms: 1995,
                stolen_ms: 2004,
                share: 0.5
            })
        );
        for bad in [
            "cpu-share: real_ms=4000 virtual_ms=1995 stolen_ms=2004",
            "cpu-share: real_ms=4000 virtual_ms=1995 stolen_ms=2004 share=0.50 extra=1",
            "cpu-share: virtual_ms=1995 real_ms=4000 stolen_ms=2004 share=0.50",
            "cpu-share: real_ms=-1 virtual_ms=1995 stolen_ms=2004 share=0.50",
            "cpu-share: real_ms=4000 virtual_ms=1995 stolen_ms=2004 share=nan",
            "cpu-share: real_ms=4000 virtual_ms=1995 stolen_ms=2004 share_x=0.5",
            "cpu: real_ms=4000 virtual_ms=1995 stolen_ms=2004 share=0.50",
        ] {
            assert!(CpuShare::parse(bad).is_err(), "{bad}");
        }
        let share = |share| CpuShare {
            real_ms: 4000,
            virtual_ms: 2000,
            stolen_ms: 2000,
            share,
        };
        let shares = CpuShares {
            pair: [share(0.5), share(0.49)],
            capped: share(0.42),
        };
        let line = BenchLine::parse(&cpu_share_bench_line(&shares)).expect("parses");
        assert_eq!(line.name, "domu-cpu-share");
        assert_eq!(line.f64("pair_a"), Ok(0.5));
        assert_eq!(line.f64("pair_b"), Ok(0.49));
        assert_eq!(line.f64("capped50"), Ok(0.42));
    }

    #[test]
    fn min_memory_reads_the_results() {
        let results: Vec<(String, String)> = [
            ("mem8-outcome", "ready"),
            ("mem4-outcome", "crashed"),
            ("mem3-outcome", "create-failed"),
            ("xenrs-min-memory-mib", "5"),
            ("xenrs-min-memory-failed-mib", "4"),
        ]
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
        let memory = min_memory(&results).expect("reads");
        assert_eq!(memory.smallest_ready_mib, Some(5));
        assert_eq!(memory.largest_failed_mib, Some(4));
        assert_eq!(
            memory.outcomes,
            vec![
                (8, "ready".to_owned()),
                (4, "crashed".to_owned()),
                (3, "create-failed".to_owned())
            ]
        );
        let line = BenchLine::parse(&min_memory_bench_line(&memory)).expect("parses");
        assert_eq!(line.name, "domu-min-memory");
        assert_eq!(line.u64("xenrs_min_mib"), Ok(5));
        let none = MinMemory {
            smallest_ready_mib: None,
            largest_failed_mib: Some(8),
            outcomes: Vec::new(),
        };
        assert!(min_memory_bench_line(&none).contains("xenrs_min_mib=none"));
        assert!(min_memory(&results[..3]).is_err());
        let mut bad = results.clone();
        bad.push(("xenrs-min-memory-mib".to_owned(), "x".to_owned()));
        assert!(min_memory(&bad).is_err());
    }

    /// A minimal ELF64 header with `segments` program headers of
    /// (type, memsz).
    fn elf(segments: &[(u32, u64)]) -> Vec<u8> {
        let mut bytes = vec![0_u8; 64];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        bytes[0x20..0x28].copy_from_slice(&64_u64.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56_u16.to_le_bytes());
        bytes[0x38..0x3a].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for &(kind, memsz) in segments {
            let mut header = [0_u8; 56];
            header[..4].copy_from_slice(&kind.to_le_bytes());
            header[0x20..0x28].copy_from_slice(&(memsz / 2).to_le_bytes());
            header[0x28..0x30].copy_from_slice(&memsz.to_le_bytes());
            bytes.extend_from_slice(&header);
        }
        bytes
    }

    #[test]
    fn the_elf_image_sums_the_load_segments() {
        let bytes = elf(&[(1, 0x1000), (4, 0x40), (1, 0x3b000), (0x6474e551, 0)]);
        assert_eq!(
            elf_image(&bytes),
            Ok(ElfImage {
                file_bytes: bytes.len() as u64,
                loaded_bytes: 0x3c000
            })
        );
        let line =
            BenchLine::parse(&image_bench_line(&elf_image(&bytes).expect("ok"))).expect("parses");
        assert_eq!(line.name, "domu-image");
        assert_eq!(line.u64("loaded_bytes"), Ok(0x3c000));
        assert!(elf_image(&bytes[..100]).is_err(), "truncated");
        assert!(elf_image(b"\x7fELF\x01\x01").is_err(), "ELF32");
        assert!(elf_image(&[]).is_err());
        assert!(kernel_image(Path::new("/nonexistent/xenrs-kernel")).is_err());
    }

    #[test]
    fn the_ready_line_gives_our_boot_time() {
        let log = [
            "xenrs 0.1.0 booting as domU",
            "ready: domU boot complete in 52000 us",
        ];
        assert_eq!(xenrs_guest_ms(&log), Ok(52.0));
        assert!(xenrs_guest_ms(&["ready: soon"]).is_err());
        assert!(xenrs_guest_ms(&[]).is_err());
    }

    #[test]
    fn the_bench_line_parses_as_a_bench_line() {
        let results: Vec<(String, String)> = [
            ("xenrs-plain-create-ns", "800000000"),
            ("xenrs-plain-ready-ns", "1000000000"),
            ("linux-create-ns", "2000000000"),
            ("linux-ready-ns", "9000000000"),
        ]
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
        let xenrs = times(&results, "xenrs-plain", 50.0).expect("xenrs");
        let linux = times(&results, "linux", 7000.0).expect("linux");
        assert!(times(&results, "other", 1.0).is_err());
        let line = BenchLine::parse(&bench_line(&xenrs, &linux)).expect("parses");
        assert_eq!(line.name, "domu-boot");
        assert_eq!(line.f64("xenrs_create_ms"), Ok(800.0));
        assert_eq!(line.f64("linux_ready_ms"), Ok(9000.0));
        assert_eq!(line.f64("guest_ratio"), Ok(140.0));
        assert_eq!(line.f64("ready_ratio"), Ok(9.0));
    }
}
