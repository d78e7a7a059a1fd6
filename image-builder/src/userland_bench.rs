//! The userland benchmark side by side: the same static `xenrs-bench` as
//! init of our kernel and of a Linux PV domU, on the same Xen under the
//! Linux dom0 harness, each guest's hypercalls also counted from outside
//! with `xentrace`.
//!
//! # What runs
//!
//! One Linux dom0 boot ([`crate::linux_dom0`]) runs the script
//! `linux_dom0/userland-bench.sh` over a list of guest runs ([`Run`]).
//! For each: `xentrace` starts in dom0 (PV entry and scheduler events
//! only, [`EVENT_MASK`]), `xl create` boots the guest, which runs
//! `xenrs-bench` as init and powers off; then `xentrace` stops and
//! `xentrace-count` (our program, `userland_core::xentrace`) counts the
//! trace's hypercalls per domain, in dom0, because the trace is too big
//! for the console. Guests:
//!
//! - ours: the kernel with the initrd of our programs
//!   ([`crate::initrd`]), command line `init=/bin/xenrs-bench
//!   shutdown=poweroff -- <args>`;
//! - Linux: the harness's Debian kernel with [`linux_initramfs`]: the same
//!   `xenrs-bench`, `hello` and `sh` binaries, busybox, and
//!   `linux_dom0/bench-init.sh` as `/init` (arguments after `--` on the
//!   kernel command line go to init).
//!
//! Both get [`GUEST_MEMORY_MIB`] and one VCPU.
//!
//! # Two plans
//!
//! - [`Plan::WholeRun`] (the system test): one run per guest with every
//!   case. Our kernel prints its counters' totals at the start and end of
//!   the benchmark, so its own count can be compared with the trace's
//!   ([`Crosscheck`]).
//! - [`Plan::PerCase`] (`image-builder bench-userland`): per guest, a
//!   baseline run that runs no case (boot, start `xenrs-bench`, power
//!   off) and one run per case. The trace count of a case's run minus the
//!   baseline's, over the case's operations, is its hypercalls per
//!   operation *from outside*, counted the same way for both guests
//!   ([`outside_per_op`]): this is what the ratio lines compare.
//!
//! Figures are printed, never asserted here; the system test
//! (`tests/tests/userland_bench.rs`) checks only what is free of noise.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::bench::BenchLine;
use crate::cpio::CpioWriter;
use crate::error::Error;
use crate::linux_dom0::{
    run_in_linux_dom0_with, Dom0Options, Dom0Run, TestFile, LINUX_DOMU_KERNEL,
};

/// The dom0 script.
pub const SCRIPT: &str = include_str!("linux_dom0/userland-bench.sh");
/// `/init` of the Linux guest.
pub const LINUX_INIT: &str = include_str!("linux_dom0/bench-init.sh");
/// Memory of each guest: 64 MiB are mapped at once by the mmap case, and
/// our kernel allocates anonymous memory eagerly.
pub const GUEST_MEMORY_MIB: u32 = 256;
/// Trace buffer pages per physical CPU (`xentrace -S`): 4 MiB each, so
/// that dom0's `xentrace` keeps up under emulation without losing records.
pub const TRACE_PAGES: u32 = 1024;
/// `xentrace -e`: PV entries, multicall entries and scheduler switches.
pub const EVENT_MASK: u32 = userland_core::xentrace::EVENT_MASK;
/// The benchmark cases, in run order (`userland_core::bench::Benchmark`).
pub const CASES: [&str; 8] = [
    "fork-exit-wait",
    "fork-execve-hello",
    "sh-c-true",
    "page-fault-first-touch",
    "mmap-touch-munmap-64mib",
    "mmap-populate-munmap-64mib",
    "fork-exit-wait-64mib",
    "pipe-ping-pong",
];

/// Which guest a run boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Guest {
    /// Our kernel.
    Xenrs,
    /// The Linux PV domU.
    Linux,
}

impl Guest {
    /// `xenrs` or `linux`.
    pub fn name(self) -> &'static str {
        match self {
            Guest::Xenrs => "xenrs",
            Guest::Linux => "linux",
        }
    }
}

/// One guest boot running `xenrs-bench` with some arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The domain's name (and the run's, in the script's output).
    pub name: String,
    /// Which guest.
    pub guest: Guest,
    /// The case it runs, `None` for all of them or the baseline.
    pub case: Option<&'static str>,
    /// `xenrs-bench`'s arguments.
    pub args: Vec<String>,
}

impl Run {
    /// The `xl` configuration (files at `/tmp` in dom0).
    pub fn config(&self) -> String {
        let name = &self.name;
        let args = self.args.join(" ");
        let boot = match self.guest {
            Guest::Xenrs => format!(
                "kernel = \"/tmp/xenrs.elf\"\nramdisk = \"/tmp/initrd.cpio\"\n\
                 cmdline = \"init=/bin/xenrs-bench shutdown=poweroff -- {args}\"\n"
            ),
            Guest::Linux => format!(
                "kernel = \"{LINUX_DOMU_KERNEL}\"\nramdisk = \"/tmp/linux-bench.cpio\"\n\
                 extra = \"console=hvc0 quiet -- {args}\"\n"
            ),
        };
        format!(
            "name = \"{name}\"\ntype = \"pv\"\n{boot}memory = {GUEST_MEMORY_MIB}\nvcpus = 1\n\
             on_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n"
        )
    }
}

/// Which runs to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// One run per guest with every case (`quick`: `--quick` iterations).
    WholeRun { quick: bool },
    /// Per guest a baseline run and one run per case.
    PerCase { quick: bool },
}

impl Plan {
    /// The runs, ours first.
    pub fn runs(self) -> Vec<Run> {
        let mut runs = Vec::new();
        for guest in [Guest::Xenrs, Guest::Linux] {
            let quick = match self {
                Plan::WholeRun { quick } | Plan::PerCase { quick } => quick,
            };
            let args = |only: Option<&str>| {
                let mut args: Vec<String> = Vec::new();
                if quick {
                    args.push("--quick".into());
                }
                if let Some(only) = only {
                    args.extend(["--only".into(), only.into()]);
                }
                args
            };
            match self {
                Plan::WholeRun { .. } => runs.push(Run {
                    name: format!("{}-all", guest.name()),
                    guest,
                    case: None,
                    args: args(None),
                }),
                Plan::PerCase { .. } => {
                    runs.push(Run {
                        name: format!("{}-baseline", guest.name()),
                        guest,
                        case: None,
                        args: args(Some("none")),
                    });
                    for (index, case) in CASES.into_iter().enumerate() {
                        runs.push(Run {
                            name: format!("{}-case{index}", guest.name()),
                            guest,
                            case: Some(case),
                            args: args(Some(case)),
                        });
                    }
                }
            }
        }
        runs
    }

    /// How long one guest run may take in the script.
    pub fn run_seconds(self) -> u32 {
        match self {
            Plan::WholeRun { quick: true } | Plan::PerCase { quick: true } => 180,
            _ => 1200,
        }
    }

    /// The whole dom0 boot's deadline.
    pub fn timeout(self) -> Duration {
        let runs = self.runs().len() as u64;
        Duration::from_secs(60 + runs * u64::from(self.run_seconds()).min(300))
    }
}

/// The Linux guest's initramfs: `/init` ([`LINUX_INIT`]), the programs
/// `xenrs-bench`, `hello` and `sh` from `programs_dir` (the same files our
/// kernel runs), `busybox`.
pub fn linux_initramfs(programs_dir: &Path, busybox: &Path) -> Result<Vec<u8>, Error> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|error| Error::io(format!("reading {}", path.display()), error))
    };
    let mut files = Vec::new();
    for program in ["xenrs-bench", "hello", "sh"] {
        files.push((format!("bin/{program}"), read(&programs_dir.join(program))?));
    }
    files.push(("bin/busybox".to_owned(), read(busybox)?));
    let mut writer = CpioWriter::new(Vec::new());
    let pack = |writer: &mut CpioWriter<Vec<u8>>| -> std::io::Result<()> {
        for directory in ["bin", "dev", "proc", "tmp"] {
            writer.directory(directory, 0o755)?;
        }
        writer.file("init", 0o755, LINUX_INIT.as_bytes())?;
        for (name, contents) in &files {
            writer.file(name, 0o755, contents)?;
        }
        Ok(())
    };
    pack(&mut writer).map_err(|error| Error::io("packing the Linux bench initramfs", error))?;
    writer
        .finish()
        .map_err(|error| Error::io("packing the Linux bench initramfs", error))
}

/// Everything the script needs in `/tmp`.
pub fn files(plan: Plan, xenrs_kernel: &Path) -> Result<Vec<TestFile>, Error> {
    let programs = crate::initrd::build_userland()?;
    let busybox = crate::initrd::busybox_static()?;
    let initrd = crate::host::target_dir().join("initrd-userland-bench.cpio");
    crate::initrd::build_initrd(&programs, Some(&busybox), &initrd)?;
    let mut files = vec![
        TestFile::path("xenrs.elf", xenrs_kernel),
        TestFile::path("initrd.cpio", initrd),
        TestFile::bytes("linux-bench.cpio", linux_initramfs(&programs, &busybox)?),
        TestFile::path("xentrace-count", programs.join("xentrace-count")),
        TestFile::bytes(
            "bench.env",
            format!(
                "TRACE_PAGES={TRACE_PAGES}\nEVENT_MASK={EVENT_MASK:#010x}\nRUN_SECONDS={}\n",
                plan.run_seconds()
            ),
        ),
    ];
    let mut list = String::new();
    for run in plan.runs() {
        list.push_str(&format!("{} {}.cfg\n", run.name, run.name));
        files.push(TestFile::bytes(format!("{}.cfg", run.name), run.config()));
    }
    files.push(TestFile::bytes("runs.txt", list));
    Ok(files)
}

/// Runs `plan` in one Linux dom0 boot.
pub fn run(plan: Plan, xenrs_kernel: &Path, echo: bool) -> Result<Dom0Run, Error> {
    let files = files(plan, xenrs_kernel)?;
    let options = Dom0Options {
        timeout: plan.timeout(),
        silence_timeout: Duration::from_secs(u64::from(plan.run_seconds()) + 60),
        echo,
    };
    run_in_linux_dom0_with(&options, SCRIPT, &files)
}

/// One `xentrace-count domain=<id> ...` line, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceCount {
    /// Every hypercall record of the domain.
    pub hypercalls: u64,
    /// Those the guest issued (without Xen's continuations).
    pub guest_hypercalls: u64,
    /// Re-executed preempted calls.
    pub continuations: u64,
    /// PTE updates in `mmu_update` calls.
    pub mmu_update_entries: u64,
    /// `mmu_update` calls.
    pub mmu_updates: u64,
}

/// What one guest run produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The run.
    pub run: Run,
    /// Its `RESULT` pairs (`domid`, `outcome`, ...).
    pub results: BTreeMap<String, String>,
    /// Every `bench ...` line of the guest's console, parsed.
    pub lines: Vec<BenchLine>,
    /// The guest's console log.
    pub console: Vec<String>,
    /// The trace's count for the guest's domain, if there was one.
    pub trace: Option<TraceCount>,
    /// Records Xen dropped during the run.
    pub lost_records: Option<u64>,
}

impl RunResult {
    /// The `bench <name>` line, if printed.
    pub fn line(&self, name: &str) -> Option<&BenchLine> {
        self.lines.iter().find(|line| line.name == name)
    }

    /// Whether `xenrs-bench` ended with status 0 (our kernel's or the
    /// Linux init's report of it).
    pub fn bench_exited_cleanly(&self) -> bool {
        self.console.iter().any(|line| {
            let line = line.trim();
            line == "init: /bin/xenrs-bench exited with status 0"
                || line == "bench-guest: xenrs-bench exited with status 0"
        })
    }
}

/// Parses a `key=value ...` line after `prefix`.
fn pairs(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// Reads every run of `plan` from the dom0 run's output.
pub fn results(plan: Plan, dom0: &Dom0Run) -> Vec<RunResult> {
    let result_lines: Vec<BTreeMap<String, String>> = match dom0.section("results") {
        Some(lines) => lines.iter().map(|line| pairs(line)).collect(),
        None => dom0
            .texts()
            .iter()
            .filter_map(|line| line.trim().strip_prefix("RESULT "))
            .map(pairs)
            .collect(),
    };
    plan.runs()
        .into_iter()
        .map(|run| {
            let results = result_lines
                .iter()
                .rev()
                .find(|pairs| pairs.get("run") == Some(&run.name))
                .cloned()
                .unwrap_or_default();
            let console: Vec<String> = dom0
                .section(&format!("guest-{}", run.name))
                .unwrap_or_default()
                .iter()
                .map(|line| line.trim_end_matches('\r').to_owned())
                .collect();
            let lines = console
                .iter()
                .filter_map(|line| BenchLine::parse(line).ok())
                .collect();
            let count = dom0
                .section(&format!("count-{}", run.name))
                .unwrap_or_default();
            let domid = results.get("domid").cloned().unwrap_or_default();
            let mut trace = None;
            let mut lost_records = None;
            for line in count {
                let fields = pairs(line);
                let number = |key: &str| {
                    fields
                        .get(key)
                        .and_then(|value| value.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                if fields.get("domain") == Some(&domid) {
                    trace = Some(TraceCount {
                        hypercalls: number("hypercalls"),
                        guest_hypercalls: number("guest_hypercalls"),
                        continuations: number("continuations"),
                        mmu_update_entries: number("mmu_update_entries"),
                        mmu_updates: number("mmu_updates"),
                    });
                } else if fields.contains_key("lost_records") {
                    lost_records = Some(number("lost_records"));
                }
            }
            RunResult {
                run,
                results,
                lines,
                console,
                trace,
                lost_records,
            }
        })
        .collect()
}

/// Our kernel's own count against the trace's, for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crosscheck {
    /// The run's name.
    pub run: String,
    /// `hypercalls` of `bench counters-end`: everything since the
    /// kernel's first instruction, up to the benchmark's last read.
    pub kernel_count: u64,
    /// The trace's guest-issued hypercalls of the domain, over its whole
    /// life (the trace starts before `xl create`).
    pub xentrace_count: u64,
    /// Continuations Xen traced besides.
    pub continuations: u64,
    /// Records Xen dropped.
    pub lost_records: u64,
}

impl Crosscheck {
    /// The cross-check of one of our runs, if both counts are there.
    pub fn of(result: &RunResult) -> Option<Crosscheck> {
        let kernel_count = result.line("counters-end")?.u64("hypercalls").ok()?;
        let trace = result.trace.as_ref()?;
        Some(Crosscheck {
            run: result.run.name.clone(),
            kernel_count,
            xentrace_count: trace.guest_hypercalls,
            continuations: trace.continuations,
            lost_records: result.lost_records.unwrap_or(0),
        })
    }

    /// `xentrace_count - kernel_count` (negative: the trace saw fewer).
    pub fn difference(&self) -> i64 {
        self.xentrace_count as i64 - self.kernel_count as i64
    }

    /// `bench xentrace-crosscheck guest=xenrs run=... kernel_count=...
    /// xentrace_count=... difference=... continuations=... lost_records=...`
    pub fn line(&self) -> String {
        format!(
            "bench xentrace-crosscheck guest=xenrs run={} kernel_count={} xentrace_count={} \
             difference={} continuations={} lost_records={}",
            self.run,
            self.kernel_count,
            self.xentrace_count,
            self.difference(),
            self.continuations,
            self.lost_records
        )
    }
}

/// Operations a case's run performs in total, untimed warm-ups included
/// (the exec cases run their program once before timing).
pub fn operations(case: &str, iterations: u64) -> u64 {
    match case {
        "fork-execve-hello" | "sh-c-true" => iterations + 1,
        _ => iterations,
    }
}

/// Hypercalls per operation from outside: the case run's trace count
/// minus the baseline run's, over [`operations`]. `None` without both
/// counts or operations.
pub fn outside_per_op(case_run: &RunResult, baseline: &RunResult) -> Option<f64> {
    let case = case_run.run.case?;
    let iterations = case_run.line(case)?.u64("iterations").ok()?;
    let case_count = case_run.trace.as_ref()?.guest_hypercalls as f64;
    let base_count = baseline.trace.as_ref()?.guest_hypercalls as f64;
    let operations = operations(case, iterations);
    (operations > 0).then(|| (case_count - base_count).max(0.0) / operations as f64)
}

/// PTE updates per `mmu_update` from outside: the case run's
/// `mmu_update` entries and calls minus the baseline's. (Linux PV also
/// writes PTEs by trapped direct writes, which this does not see.)
pub fn outside_pte_updates_per_mmu_update(
    case_run: &RunResult,
    baseline: &RunResult,
) -> Option<f64> {
    let (case, base) = (case_run.trace.as_ref()?, baseline.trace.as_ref()?);
    let entries = case
        .mmu_update_entries
        .checked_sub(base.mmu_update_entries)?;
    let calls = case.mmu_updates.checked_sub(base.mmu_updates)?;
    (calls > 0).then(|| entries as f64 / calls as f64)
}

/// The value of `key` in `line` as printed (`-` if absent).
fn shown<'a>(line: Option<&'a BenchLine>, key: &str) -> &'a str {
    line.and_then(|line| line.value(key).ok()).unwrap_or("-")
}

/// The report: each case's lines of both guests, side by side, the ratio
/// lines and the cross-check lines.
pub fn report(results: &[RunResult]) -> Vec<String> {
    let mut out = Vec::new();
    let find = |guest: Guest, case: Option<&str>| {
        results
            .iter()
            .find(|result| result.run.guest == guest && result.run.case == case)
    };
    let baseline = |guest: Guest| find(guest, None);
    for case in CASES {
        // The case's line: from its own run, else from the whole run.
        let source = |guest: Guest| find(guest, Some(case)).or_else(|| baseline(guest));
        let ours = source(Guest::Xenrs);
        let linux = source(Guest::Linux);
        let our_line = ours.and_then(|result| result.line(case));
        let linux_line = linux.and_then(|result| result.line(case));
        for (guest, line) in [("xenrs", our_line), ("linux", linux_line)] {
            match line {
                Some(line) => out.push(format!("{guest}: {line}")),
                None => out.push(format!("{guest}: bench {case} missing")),
            }
        }
        let outside = |guest: Guest| {
            let case_run = find(guest, Some(case))?;
            outside_per_op(case_run, baseline(guest)?)
        };
        let (our_outside, linux_outside) = (outside(Guest::Xenrs), outside(Guest::Linux));
        let linux_ptes = find(Guest::Linux, Some(case))
            .zip(baseline(Guest::Linux))
            .and_then(|(case_run, base)| outside_pte_updates_per_mmu_update(case_run, base));
        let mut side = format!(
            "bench userland-side-by-side case={case} xenrs_ns_per_op={} linux_ns_per_op={} \
             xenrs_hypercalls_per_op={} xenrs_pte_updates_per_hypercall={} \
             xenrs_xen_entries_per_op={}",
            shown(our_line, "ns_per_op"),
            shown(linux_line, "ns_per_op"),
            shown(our_line, "hypercalls_per_op"),
            shown(our_line, "pte_updates_per_hypercall"),
            shown(our_line, "xen_entries_per_op"),
        );
        if case == "page-fault-first-touch" {
            side.push_str(&format!(
                " xenrs_xen_entries_per_page={} xenrs_ns_per_page={} linux_ns_per_page={}",
                shown(our_line, "xen_entries_per_page"),
                shown(our_line, "ns_per_page"),
                shown(linux_line, "ns_per_page"),
            ));
        }
        if let (Some(ours), Some(theirs)) = (our_outside, linux_outside) {
            side.push_str(&format!(
                " xenrs_outside_hypercalls_per_op={ours:.2} linux_outside_hypercalls_per_op={theirs:.2}"
            ));
        }
        if let Some(ptes) = linux_ptes {
            side.push_str(&format!(
                " linux_outside_pte_updates_per_mmu_update={ptes:.2}"
            ));
        }
        out.push(side);
        let latency = |line: Option<&BenchLine>| line.and_then(|line| line.u64("ns_per_op").ok());
        let mut ratio = format!("bench userland-vs-linux case={case}");
        if let (Some(ours), Some(theirs)) = (latency(our_line), latency(linux_line)) {
            if theirs > 0 {
                ratio.push_str(&format!(
                    " latency_ratio={:.3}",
                    ours as f64 / theirs as f64
                ));
            }
        }
        if let (Some(ours), Some(theirs)) = (our_outside, linux_outside) {
            if theirs > 0.0 {
                ratio.push_str(&format!(" hypercalls_ratio={:.3}", ours / theirs));
            }
        }
        out.push(ratio);
    }
    for result in results {
        match (result.run.guest, Crosscheck::of(result)) {
            (Guest::Xenrs, Some(check)) => out.push(check.line()),
            (Guest::Xenrs, None) => out.push(format!(
                "bench xentrace-crosscheck guest=xenrs run={} missing",
                result.run.name
            )),
            (Guest::Linux, _) => out.push(format!(
                "bench xentrace-crosscheck guest=linux run={} xentrace_count={} lost_records={}",
                result.run.name,
                result
                    .trace
                    .as_ref()
                    .map_or("-".to_owned(), |trace| trace.guest_hypercalls.to_string()),
                result
                    .lost_records
                    .map_or("-".to_owned(), |lost| lost.to_string()),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases_are_the_benchmarks() {
        let names: Vec<&str> = userland_core::bench::Benchmark::ALL
            .iter()
            .map(|benchmark| benchmark.name())
            .collect();
        assert_eq!(names, CASES);
    }

    #[test]
    fn plans_list_their_runs() {
        let whole = Plan::WholeRun { quick: true }.runs();
        let names: Vec<&str> = whole.iter().map(|run| run.name.as_str()).collect();
        assert_eq!(names, ["xenrs-all", "linux-all"]);
        assert_eq!(whole[0].args, ["--quick"]);
        let per_case = Plan::PerCase { quick: false }.runs();
        assert_eq!(per_case.len(), 2 * (1 + CASES.len()));
        assert_eq!(per_case[0].args, ["--only", "none"]);
        assert_eq!(per_case[1].case, Some("fork-exit-wait"));
        assert_eq!(per_case[1 + CASES.len()].guest, Guest::Linux);
    }

    #[test]
    fn configs_boot_the_benchmark_as_init() {
        let runs = Plan::WholeRun { quick: true }.runs();
        let ours = runs[0].config();
        assert!(ours.contains("cmdline = \"init=/bin/xenrs-bench shutdown=poweroff -- --quick\"\n"));
        assert!(ours.contains("ramdisk = \"/tmp/initrd.cpio\"\n"));
        let linux = runs[1].config();
        assert!(linux.contains("extra = \"console=hvc0 quiet -- --quick\"\n"));
        assert!(linux.contains(&format!("memory = {GUEST_MEMORY_MIB}\n")));
        assert!(LINUX_INIT.contains("/bin/xenrs-bench \"$@\""));
        assert!(SCRIPT.contains("xentrace -D -S"));
    }

    fn result(
        guest: Guest,
        case: Option<&'static str>,
        lines: &[&str],
        hypercalls: u64,
    ) -> RunResult {
        RunResult {
            run: Run {
                name: format!("{}-x", guest.name()),
                guest,
                case,
                args: Vec::new(),
            },
            results: BTreeMap::new(),
            lines: lines
                .iter()
                .map(|line| BenchLine::parse(line).unwrap())
                .collect(),
            console: Vec::new(),
            trace: Some(TraceCount {
                hypercalls: hypercalls + 2,
                guest_hypercalls: hypercalls,
                continuations: 2,
                ..TraceCount::default()
            }),
            lost_records: Some(0),
        }
    }

    #[test]
    fn outside_counts_subtract_the_baseline() {
        let baseline = result(Guest::Linux, None, &[], 1000);
        let case = result(
            Guest::Linux,
            Some("sh-c-true"),
            &["bench sh-c-true iterations=3 ns_per_op=5"],
            1400,
        );
        // 3 timed runs + 1 warm-up.
        assert_eq!(outside_per_op(&case, &baseline), Some(100.0));
        assert_eq!(outside_pte_updates_per_mmu_update(&case, &baseline), None);
        let mut case = case;
        case.trace = Some(TraceCount {
            mmu_updates: 10,
            mmu_update_entries: 40,
            ..TraceCount::default()
        });
        assert_eq!(
            outside_pte_updates_per_mmu_update(&case, &baseline),
            Some(4.0)
        );
        assert_eq!(operations("fork-exit-wait", 20), 20);
    }

    #[test]
    fn the_report_pairs_the_guests() {
        let results = [
            result(
                Guest::Xenrs,
                None,
                &[
                    "bench fork-exit-wait iterations=20 ns_per_op=500 hypercalls_per_op=3.00",
                    "bench counters-end hypercalls=990",
                ],
                1000,
            ),
            result(
                Guest::Linux,
                None,
                &["bench fork-exit-wait iterations=20 ns_per_op=1000"],
                50000,
            ),
        ];
        let report = report(&results);
        assert!(report.contains(
            &"bench userland-vs-linux case=fork-exit-wait latency_ratio=0.500".to_owned()
        ));
        assert!(report
            .iter()
            .any(|line| line.starts_with("bench userland-side-by-side case=fork-exit-wait xenrs_ns_per_op=500 linux_ns_per_op=1000 xenrs_hypercalls_per_op=3.00")));
        assert!(report.contains(&"bench xentrace-crosscheck guest=xenrs run=xenrs-x kernel_count=990 xentrace_count=1000 difference=10 continuations=2 lost_records=0".to_owned()));
        assert!(report.contains(
            &"bench xentrace-crosscheck guest=linux run=linux-x xentrace_count=50000 lost_records=0"
                .to_owned()
        ));
        assert!(report.contains(&"xenrs: bench sh-c-true missing".to_owned()));
        for line in report.iter().filter(|line| line.starts_with("bench ")) {
            BenchLine::parse(line).unwrap_or_else(|error| panic!("{line}: {error}"));
        }
    }
}
