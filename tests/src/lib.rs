//! System tests: boot real Xen in QEMU with the kernel as dom0, check the log.
//!
//! The scenarios live in `tests/boot.rs`, one `#[test]` each. This library
//! holds what they share:
//!
//! - [`boot_kernel`]: builds the release kernel once per test binary,
//!   installs QEMU and fetches Xen once (through `image-builder`), and
//!   boots it with a given command line;
//! - [`protocol`]: typed parsers for the kernel's console lines;
//! - [`domu`]: the shared Linux dom0 run of `tests/domu.rs` and parsers
//!   for the kernel's lines as a domU;
//! - [`Checks`]: collects every failed expectation of a scenario and
//!   panics once at the end with all of them *and the whole console log*,
//!   so a failing test shows what the kernel printed;
//! - checks shared by several scenarios ([`check_banner`],
//!   [`check_selftest`]).

#![forbid(unsafe_code)]

pub mod domu;
pub mod protocol;

use std::path::PathBuf;
use std::sync::OnceLock;

use image_builder::{boot, build_kernel, BootConfig, BootRun, Profile};

use protocol::{
    parse_cmdline_line, parse_ready, Banner, CpuLine, MemoryLine, SelftestCheck, SelftestSummary,
    TimeLine, XenVersion, SELFTEST_CHECKS,
};

/// The release kernel, built once per test binary.
///
/// Panics with the build's output if it does not build: every scenario
/// needs it, and the message is the same for all.
pub fn kernel() -> PathBuf {
    static KERNEL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match KERNEL.get_or_init(|| build_kernel(Profile::Release).map_err(|error| error.to_string())) {
        Ok(path) => path.clone(),
        Err(message) => panic!("the kernel did not build:\n{message}"),
    }
}

/// A boot configuration for the test kernel with `cmdline`.
pub fn config(cmdline: &str) -> BootConfig {
    BootConfig::new(kernel()).with_cmdline(cmdline)
}

/// Boots `config`; panics if the boot could not even be attempted.
pub fn boot_config(config: &BootConfig) -> BootRun {
    match boot(config) {
        Ok(run) => run,
        Err(error) => panic!("could not boot {}: {error}", config.kernel.display()),
    }
}

/// Boots the test kernel with `cmdline` and the default configuration.
pub fn boot_kernel(cmdline: &str) -> BootRun {
    boot_config(&config(cmdline))
}

/// Expectations about one boot, reported together with its log.
#[must_use = "call finish() to report the failed expectations"]
pub struct Checks<'run> {
    run: &'run BootRun,
    scenario: &'static str,
    failures: Vec<String>,
}

impl<'run> Checks<'run> {
    /// Starts checking `run` for the scenario named `scenario`.
    pub fn new(scenario: &'static str, run: &'run BootRun) -> Self {
        Checks {
            run,
            scenario,
            failures: Vec::new(),
        }
    }

    /// The run being checked.
    pub fn run(&self) -> &'run BootRun {
        self.run
    }

    /// Records `message` as a failure unless `condition` holds.
    pub fn expect(&mut self, condition: bool, message: impl FnOnce() -> String) -> bool {
        if !condition {
            self.failures.push(message());
        }
        condition
    }

    /// Records a parse error, returning the parsed value if there was none.
    pub fn parsed<T>(&mut self, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.failures.push(message);
                None
            }
        }
    }

    /// The text of the first line starting with `prefix`, or a failure.
    pub fn line(&mut self, prefix: &str) -> Option<&'run str> {
        let found = self.run.find(prefix).map(|line| line.text.as_str());
        if found.is_none() {
            self.failures
                .push(format!("no console line starts with {prefix:?}"));
        }
        found
    }

    /// The failed expectations so far.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    /// Panics with every failed expectation and the whole log, if any.
    pub fn finish(self) {
        if self.failures.is_empty() {
            return;
        }
        let mut report = format!(
            "scenario {:?}: {} expectation(s) failed:\n",
            self.scenario,
            self.failures.len()
        );
        for failure in &self.failures {
            report.push_str("  - ");
            report.push_str(failure);
            report.push('\n');
        }
        panic!("{report}\n{}", self.run);
    }
}

/// The kernel's lines: from its banner on, without Xen's `(XEN) ` lines.
pub fn kernel_lines(run: &BootRun) -> Vec<&str> {
    let start = run.position("xenrs ").unwrap_or(run.lines.len());
    run.lines[start..]
        .iter()
        .map(|line| line.text.as_str())
        .filter(|text| !text.starts_with("(XEN)") && !text.trim().is_empty())
        .collect()
}

/// Checks that the run ended with a clean shutdown, `expected_last` being
/// the kernel's last line.
pub fn check_clean_shutdown(checks: &mut Checks<'_>, expected_last: &str) {
    let run = checks.run();
    checks.expect(run.is_success(), || {
        format!("outcome is {}, not a clean shutdown", run.outcome)
    });
    let kernel_lines = kernel_lines(run);
    let last = kernel_lines.last().copied();
    checks.expect(last == Some(expected_last), || {
        format!("the kernel's last line is {last:?}, not {expected_last:?}")
    });
    checks.expect(run.find("FATAL: ").is_none(), || {
        "a FATAL line appeared in a clean boot".to_owned()
    });
}

/// Checks the banner lines, well-formed and in order, for a dom0 given
/// `dom0_mem_mib` of memory.
pub fn check_banner(checks: &mut Checks<'_>, dom0_mem_mib: u64) {
    let run = checks.run();
    let prefixes = [
        "xenrs ",
        "xen: version ",
        "cpu: ",
        "memory: ",
        "cmdline: \"",
    ];
    let positions: Vec<Option<usize>> =
        prefixes.iter().map(|prefix| run.position(prefix)).collect();
    for (prefix, position) in prefixes.iter().zip(&positions) {
        checks.expect(position.is_some(), || {
            format!("banner line starting with {prefix:?} is missing")
        });
        checks.expect(run.lines_with_prefix(prefix).len() <= 1, || {
            format!("banner line starting with {prefix:?} appears more than once")
        });
    }
    let present: Vec<usize> = positions.iter().flatten().copied().collect();
    checks.expect(present.windows(2).all(|pair| pair[0] < pair[1]), || {
        format!("banner lines are out of order (expected {prefixes:?})")
    });

    if let Some(text) = run.find("xenrs ").map(|line| line.text.as_str()) {
        if let Some(banner) = checks.parsed(Banner::parse(text)) {
            let version = env!("CARGO_PKG_VERSION");
            checks.expect(banner.version == version, || {
                format!(
                    "banner version {} is not the workspace's {version}",
                    banner.version
                )
            });
            checks.expect(banner.role == "dom0", || {
                format!("booted directly by Xen but says {}", banner.role)
            });
        }
    }
    if let Some(text) = run.find("xen: version ").map(|line| line.text.as_str()) {
        if let Some(xen) = checks.parsed(XenVersion::parse(text)) {
            checks.expect(xen.version.starts_with("4.17."), || {
                format!("Xen version {} is not 4.17.x", xen.version)
            });
            checks.expect(
                xen.caps
                    .split_whitespace()
                    .any(|cap| cap == "xen-3.0-x86_64"),
                || format!("Xen caps {:?} lack xen-3.0-x86_64 (64-bit PV)", xen.caps),
            );
        }
    }
    if let Some(text) = run.find("cpu: ").map(|line| line.text.as_str()) {
        if let Some(cpu) = checks.parsed(CpuLine::parse(text)) {
            // x86_64 PV kernels run in ring 3; Xen's flat ring-3 kernel code
            // selector is FLAT_RING3_CS64 = 0xe033 (arch-x86/xen-x86_64.h).
            checks.expect(cpu.ring == 3, || {
                format!("kernel runs in ring {}, not 3", cpu.ring)
            });
            checks.expect(u32::from(cpu.cs & 3) == 3, || {
                format!("cs=0x{:x} has RPL {}, not 3", cpu.cs, cpu.cs & 3)
            });
        }
    }
    if let Some(text) = run.find("memory: ").map(|line| line.text.as_str()) {
        if let Some(memory) = checks.parsed(MemoryLine::parse(text)) {
            check_memory(checks, &memory, dom0_mem_mib);
        }
    }
    if let Some(text) = run.find("cmdline: \"").map(|line| line.text.as_str()) {
        if let Some(cmdline) = checks.parsed(parse_cmdline_line(text)) {
            // Xen may append words of its own (` noapic`, ` acpi=...`).
            let given = &run.kernel_cmdline;
            checks.expect(cmdline.starts_with(given.as_str()), || {
                format!("kernel reports command line {cmdline:?}, was given {given:?}")
            });
        }
    }
    if let Some(text) = checks.line("ready: ") {
        checks.parsed(parse_ready(text));
    }
    if let Some(text) = checks.line("time: ") {
        if let Some(time) = checks.parsed(TimeLine::parse(text)) {
            checks.expect(time.system_ns > 0, || "system_ns is 0".to_owned());
            checks.expect(time.virtual_ns <= time.system_ns, || {
                format!(
                    "virtual time {} ns exceeds system time {} ns",
                    time.virtual_ns, time.system_ns
                )
            });
        }
    }
}

/// Checks the memory line against the `dom0_mem` Xen was given.
fn check_memory(checks: &mut Checks<'_>, memory: &MemoryLine, dom0_mem_mib: u64) {
    const PAGES_PER_MIB: u64 = 256;
    let given_pages = dom0_mem_mib * PAGES_PER_MIB;
    // Xen gives exactly dom0_mem unless memory is short; allow 1/16 less.
    checks.expect(
        memory.nr_pages <= given_pages && memory.nr_pages >= given_pages - given_pages / 16,
        || {
            format!(
                "nr_pages={} is not about dom0_mem={dom0_mem_mib}M ({given_pages} pages)",
                memory.nr_pages
            )
        },
    );
    let floor = memory.nr_pages / PAGES_PER_MIB;
    let rounded = (memory.nr_pages + PAGES_PER_MIB / 2) / PAGES_PER_MIB;
    checks.expect(memory.mib == floor || memory.mib == rounded, || {
        format!(
            "{} MiB does not match nr_pages={} ({floor} MiB)",
            memory.mib, memory.nr_pages
        )
    });
    checks.expect(
        memory.free_pages > 0 && memory.free_pages < memory.nr_pages,
        || {
            format!(
                "free_pages={} is not between 0 and nr_pages={}",
                memory.free_pages, memory.nr_pages
            )
        },
    );
}

/// Checks that may say `skip` in these boots: our dom0 runs no xenstored.
pub const SKIPPED_AS_DOM0: &[&str] = &["xenstore"];

/// Checks the self-test lines: every named check present once and `ok`,
/// no other failing check, and a summary that counts them.
pub fn check_selftest(checks: &mut Checks<'_>) {
    let run = checks.run();
    let mut results = Vec::new();
    for line in run.lines_with_prefix("selftest: ") {
        if let Some(Some(check)) = checks.parsed(SelftestCheck::parse(&line.text)) {
            results.push(check);
        }
    }
    for name in SELFTEST_CHECKS {
        let matching: Vec<&SelftestCheck> =
            results.iter().filter(|check| check.name == *name).collect();
        checks.expect(matching.len() == 1, || {
            format!("check {name} reported {} times, not once", matching.len())
        });
    }
    for check in &results {
        if check.skipped {
            checks.expect(SKIPPED_AS_DOM0.contains(&check.name.as_str()), || {
                format!("check {} was skipped: {}", check.name, check.detail)
            });
        } else {
            checks.expect(check.passed, || {
                format!("check {} failed: {}", check.name, check.detail)
            });
        }
    }
    let summaries: Vec<&str> = run
        .lines_with_prefix("selftest: ")
        .into_iter()
        .map(|line| line.text.as_str())
        .filter(|text| SelftestSummary::parse(text).is_ok())
        .collect();
    checks.expect(summaries.len() == 1, || {
        format!(
            "{} selftest summary lines, not exactly one",
            summaries.len()
        )
    });
    if let Some(summary) = summaries.first() {
        if let Some(summary) = checks.parsed(SelftestSummary::parse(summary)) {
            let count = results.iter().filter(|check| check.passed).count() as u64;
            let skipped = results.iter().filter(|check| check.skipped).count() as u64;
            checks.expect(summary.skipped == skipped, || {
                format!(
                    "summary says {} skipped, but {skipped} check lines say skip",
                    summary.skipped
                )
            });
            checks.expect(summary.failed == 0, || {
                format!("summary says {} checks failed", summary.failed)
            });
            checks.expect(summary.passed == count, || {
                format!(
                    "summary says {} passed, but {count} check lines were printed",
                    summary.passed
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image_builder::{ConsoleLine, Outcome, StopReason};
    use std::time::{Duration, SystemTime};

    /// A log as the protocol describes it, for a self-test boot that passes.
    fn ideal_log() -> Vec<String> {
        let version = env!("CARGO_PKG_VERSION");
        let mut log = vec![
            "SeaBIOS (version 1.16.2-debian-1.16.2-1)".to_owned(),
            "(XEN) Xen version 4.17.7 (Debian 4.17.7+13-g2445b30a44-0+deb12u1)".to_owned(),
            "(XEN) *** Building a PV Dom0 ***".to_owned(),
            format!("xenrs {version} booting as dom0"),
            "xen: version 4.17.7 caps \"xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64\"".to_owned(),
            "cpu: kernel runs in ring 3 (cs=0xe033)".to_owned(),
            "memory: nr_pages=16384 (64 MiB) free_pages=15000".to_owned(),
            "cmdline: \"selftest hostclock=1795491591\"".to_owned(),
            "time: wallclock=1795491592.500000000 system_ns=1100000000 virtual_ns=900000000".to_owned(),
            "ready: dom0 boot complete in 52000 us".to_owned(),
        ];
        for name in SELFTEST_CHECKS {
            log.push(format!("selftest: {name}: ok (fine)"));
        }
        log.push(format!(
            "selftest: {} passed, 0 failed",
            SELFTEST_CHECKS.len()
        ));
        log.push("shutdown: reboot".to_owned());
        log.push("(XEN) Hardware Dom0 shutdown: rebooting machine".to_owned());
        log
    }

    fn run_of(log: &[String]) -> BootRun {
        let at = SystemTime::now();
        BootRun {
            lines: log
                .iter()
                .map(|text| ConsoleLine {
                    at,
                    text: text.clone(),
                })
                .collect(),
            outcome: Outcome::Rebooted,
            stop: StopReason::QemuExited,
            qemu_status: Some(0),
            elapsed: Duration::from_secs(2),
            started_at: at,
            kernel_cmdline: "selftest hostclock=1795491591".to_owned(),
            command: String::new(),
            qemu_stderr: String::new(),
        }
    }

    fn failures_of(log: &[String]) -> Vec<String> {
        let run = run_of(log);
        let mut checks = Checks::new("canned", &run);
        check_banner(&mut checks, 64);
        check_selftest(&mut checks);
        check_clean_shutdown(&mut checks, "shutdown: reboot");
        checks.failures().to_vec()
    }

    #[test]
    fn the_protocols_ideal_log_passes_every_shared_check() {
        assert_eq!(failures_of(&ideal_log()), Vec::<String>::new());
        assert_eq!(kernel_lines(&run_of(&ideal_log())).len(), 18);
    }

    #[test]
    fn each_kind_of_deviation_is_reported() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "selftest: timer-past: ok (fine)",
                Some("selftest: timer-past: FAIL (late)"),
                "timer-past failed",
            ),
            (
                "selftest: event-loopback: ok (fine)",
                None,
                "event-loopback reported 0 times",
            ),
            (
                "selftest: 9 passed, 0 failed",
                Some("selftest: 8 passed, 0 failed"),
                "8 passed, but 9",
            ),
            (
                "cpu: kernel runs in ring 3 (cs=0xe033)",
                Some("cpu: kernel runs in ring 0 (cs=0xe030)"),
                "ring 0",
            ),
            (
                "memory: nr_pages=16384 (64 MiB) free_pages=15000",
                Some("memory: nr_pages=8192 (32 MiB) free_pages=15000"),
                "nr_pages=8192",
            ),
            (
                "cmdline: \"selftest hostclock=1795491591\"",
                Some("cmdline: \"selftest\""),
                "was given",
            ),
            ("ready: dom0 boot complete in 52000 us", None, "\"ready: \""),
            ("shutdown: reboot", None, "last line"),
        ];
        for (original, replacement, expected) in cases {
            let log: Vec<String> = ideal_log()
                .into_iter()
                .filter_map(|line| {
                    if line == *original {
                        replacement.map(str::to_owned)
                    } else {
                        Some(line)
                    }
                })
                .collect();
            let failures = failures_of(&log);
            assert!(
                failures.iter().any(|failure| failure.contains(expected)),
                "replacing {original:?} should report {expected:?}, got {failures:?}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "1 expectation(s) failed")]
    fn finish_panics_with_the_failures_and_the_log() {
        let run = run_of(&ideal_log());
        let mut checks = Checks::new("canned", &run);
        checks.expect(false, || "deliberate".to_owned());
        checks.finish();
    }
}
