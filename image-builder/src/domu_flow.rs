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
//! 8. `xenrs3`: `xl create` and at once `xl destroy`, residue.
//!
//! It prints `RESULT key=value` lines as it goes and, at the end, each
//! command's output and each guest's console log (written by xenconsoled)
//! between `BEGIN-FILE`/`END-FILE` markers, plus a `results` section
//! repeating every `RESULT`. The checks are the system test's
//! (`tests/tests/domu.rs`); [`bench_line`] turns the timings into the
//! `bench domu-boot ...` line that `image-builder bench-domu` prints.

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

/// An `xl` configuration for our kernel (at `/tmp/xenrs.elf` in dom0).
pub fn xenrs_config(name: &str, cmdline: &str, on_reboot: &str) -> String {
    format!(
        "name = \"{name}\"\ntype = \"pv\"\nkernel = \"/tmp/xenrs.elf\"\n\
         cmdline = \"{cmdline}\"\nmemory = {XENRS_MEMORY_MIB}\nvcpus = 1\n\
         on_poweroff = \"destroy\"\non_reboot = \"{on_reboot}\"\non_crash = \"destroy\"\n"
    )
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

/// The files the script expects in `/tmp`: our kernel and the configs.
pub fn files(xenrs_kernel: &Path) -> Vec<TestFile> {
    vec![
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
    ]
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
    run_in_linux_dom0_with(&options(), SCRIPT, &files(xenrs_kernel))
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
