//! `xenrs-bench`'s plan and output: which microbenchmarks, how many
//! iterations, and the `bench <name> key=value ...` lines.
//!
//! The lines have the same shape as the kernel's own benchmark lines, so
//! `image_builder::BenchLine` parses both. Every time is nanoseconds from
//! `CLOCK_MONOTONIC` (`_ns` keys); `cpu_ns` is the benchmark process's own
//! `CLOCK_PROCESS_CPUTIME_ID` over the same interval (children excluded).
//! Under xenrs a line also carries the kernel's counters over the timed
//! loop ([`BenchLine::counters`], from [`crate::counters`]); ratios print
//! with two decimals.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cli::UsageError;
use crate::counters::{Decimal, PerOperation};

/// One microbenchmark, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benchmark {
    /// `fork`, child `exit_group(0)`, parent `wait4`: lmbench `lat_proc fork`.
    ForkExitWait,
    /// `fork`, child `execve` of a static hello: lmbench `lat_proc exec`.
    ForkExecHello,
    /// `fork`, child `execve("/bin/sh", ["sh", "-c", "true"])`: lmbench
    /// `lat_proc shell`.
    ShellTrue,
    /// Touch each page of a fresh anonymous mapping once: the first-touch
    /// page-fault cost (lmbench `lat_pagefault`, anonymous memory).
    PageFault,
    /// `mmap` 64 MiB anonymous, touch every page, `munmap`.
    Mmap64Mib,
    /// `mmap` 64 MiB with `MAP_POPULATE` (every page filled at once),
    /// `munmap`: the batching of a large mapping.
    MmapPopulate64Mib,
    /// fork+exit+wait of a process with 64 MiB of touched memory: the
    /// batching of a large fork.
    Fork64Mib,
    /// Two processes pass a byte back and forth over two pipes: lmbench
    /// `lat_ctx`-style context-switch latency.
    PipePingPong,
}

impl Benchmark {
    /// Every benchmark, in run order.
    pub const ALL: [Benchmark; 8] = [
        Benchmark::ForkExitWait,
        Benchmark::ForkExecHello,
        Benchmark::ShellTrue,
        Benchmark::PageFault,
        Benchmark::Mmap64Mib,
        Benchmark::MmapPopulate64Mib,
        Benchmark::Fork64Mib,
        Benchmark::PipePingPong,
    ];

    /// The name printed after `bench`.
    pub fn name(self) -> &'static str {
        match self {
            Benchmark::ForkExitWait => "fork-exit-wait",
            Benchmark::ForkExecHello => "fork-execve-hello",
            Benchmark::ShellTrue => "sh-c-true",
            Benchmark::PageFault => "page-fault-first-touch",
            Benchmark::Mmap64Mib => "mmap-touch-munmap-64mib",
            Benchmark::MmapPopulate64Mib => "mmap-populate-munmap-64mib",
            Benchmark::Fork64Mib => "fork-exit-wait-64mib",
            Benchmark::PipePingPong => "pipe-ping-pong",
        }
    }

    /// Iterations for a full run and for `--quick`.
    pub fn iterations(self, quick: bool) -> u64 {
        match (self, quick) {
            (Benchmark::ForkExitWait, false) => 1000,
            (Benchmark::ForkExitWait, true) => 20,
            (Benchmark::ForkExecHello, false) => 200,
            (Benchmark::ForkExecHello, true) => 5,
            (Benchmark::ShellTrue, false) => 100,
            (Benchmark::ShellTrue, true) => 3,
            (Benchmark::PageFault, false) => 20,
            (Benchmark::PageFault, true) => 2,
            (Benchmark::Mmap64Mib, false) => 5,
            (Benchmark::Mmap64Mib, true) => 1,
            (Benchmark::MmapPopulate64Mib, false) => 5,
            (Benchmark::MmapPopulate64Mib, true) => 1,
            (Benchmark::Fork64Mib, false) => 20,
            (Benchmark::Fork64Mib, true) => 2,
            (Benchmark::PipePingPong, false) => 10_000,
            (Benchmark::PipePingPong, true) => 200,
        }
    }
}

/// Pages per mapping in [`Benchmark::PageFault`].
pub const PAGE_FAULT_PAGES: u64 = 1024;
/// Bytes mapped by [`Benchmark::Mmap64Mib`].
pub const MMAP_BENCH_BYTES: u64 = 64 << 20;

/// `xenrs-bench`'s command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// `--quick`: few iterations (host tests).
    pub quick: bool,
    /// `--only a,b`: run just these (`None`: all; `--only none`: no
    /// benchmark at all, only the counter totals: the baseline of a
    /// guest's boot and shutdown when each case runs in its own guest).
    pub only: Option<Vec<Benchmark>>,
    /// `--hello PATH`: the program `fork-execve-hello` runs.
    pub hello: String,
    /// `--sh PATH`: the shell `sh-c-true` runs.
    pub shell: String,
    /// `--counters PATH`: the kernel's counters file (default
    /// [`crate::counters::COUNTERS_PATH`]; host tests give a fake one).
    pub counters: String,
}

impl BenchOptions {
    /// The benchmarks to run, in order.
    pub fn selected(&self) -> impl Iterator<Item = Benchmark> + '_ {
        Benchmark::ALL.into_iter().filter(|benchmark| {
            self.only
                .as_ref()
                .is_none_or(|only| only.contains(benchmark))
        })
    }
}

/// Parses `xenrs-bench [--quick] [--only a,b|none] [--hello PATH] [--sh PATH]
/// [--counters PATH]`.
pub fn parse_bench<'a>(
    args: impl IntoIterator<Item = &'a str>,
) -> Result<BenchOptions, UsageError> {
    let mut options = BenchOptions {
        quick: false,
        only: None,
        hello: "/bin/hello".into(),
        shell: "/bin/sh".into(),
        counters: crate::counters::COUNTERS_PATH.into(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg {
            "--quick" => options.quick = true,
            "--only" => {
                let list = args.next().ok_or(UsageError::MissingValue("only"))?;
                let only = options.only.get_or_insert_with(Vec::new);
                for name in list.split(',').filter(|name| *name != "none") {
                    let benchmark = Benchmark::ALL
                        .into_iter()
                        .find(|benchmark| benchmark.name() == name)
                        .ok_or_else(|| UsageError::InvalidArgument {
                            value: name.into(),
                            expected: "benchmark name",
                        })?;
                    only.push(benchmark);
                }
            }
            "--hello" => {
                options.hello = args.next().ok_or(UsageError::MissingValue("hello"))?.into()
            }
            "--sh" => options.shell = args.next().ok_or(UsageError::MissingValue("sh"))?.into(),
            "--counters" => {
                options.counters = args
                    .next()
                    .ok_or(UsageError::MissingValue("counters"))?
                    .into()
            }
            other if other.starts_with("--") => {
                return Err(UsageError::UnknownLongOption(other.into()))
            }
            other => return Err(UsageError::ExtraOperand(other.into())),
        }
    }
    Ok(options)
}

/// `total / count`, 0 for no iterations.
pub fn per_op(total: u64, count: u64) -> u64 {
    total.checked_div(count).unwrap_or(0)
}

/// A field's value: a count or a two-decimal ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Integer(u64),
    Decimal(Decimal),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Integer(value) => write!(f, "{value}"),
            FieldValue::Decimal(value) => write!(f, "{value}"),
        }
    }
}

/// One result line: `bench <name> key=value ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchLine {
    pub name: &'static str,
    pub fields: Vec<(&'static str, FieldValue)>,
}

impl BenchLine {
    /// A line for `benchmark` with no fields yet.
    pub fn new(benchmark: Benchmark) -> BenchLine {
        BenchLine {
            name: benchmark.name(),
            fields: Vec::new(),
        }
    }

    /// Adds `key=value`.
    pub fn field(mut self, key: &'static str, value: u64) -> BenchLine {
        self.fields.push((key, FieldValue::Integer(value)));
        self
    }

    /// Adds `key=value` with two decimals, or nothing for `None` (a ratio
    /// over zero).
    pub fn decimal(mut self, key: &'static str, value: Option<Decimal>) -> BenchLine {
        if let Some(value) = value {
            self.fields.push((key, FieldValue::Decimal(value)));
        }
        self
    }

    /// The kernel's counters over the timed loop: `hypercalls`,
    /// `xen_entries`, `hypercalls_per_op`, `pte_updates_per_hypercall`
    /// (absent without MMU hypercalls) and `xen_entries_per_op`.
    pub fn counters(self, figures: &PerOperation) -> BenchLine {
        self.field("hypercalls", figures.hypercalls)
            .field("xen_entries", figures.xen_entries)
            .decimal("hypercalls_per_op", figures.hypercalls_per_op)
            .decimal(
                "pte_updates_per_hypercall",
                figures.pte_updates_per_hypercall,
            )
            .decimal("xen_entries_per_op", figures.xen_entries_per_op)
    }

    /// The standard timing fields: `iterations`, `elapsed_ns`,
    /// `ns_per_op`, `cpu_ns`.
    pub fn timing(self, iterations: u64, elapsed_ns: u64, cpu_ns: u64) -> BenchLine {
        self.field("iterations", iterations)
            .field("elapsed_ns", elapsed_ns)
            .field("ns_per_op", per_op(elapsed_ns, iterations))
            .field("cpu_ns", cpu_ns)
    }
}

impl fmt::Display for BenchLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bench {}", self.name)?;
        for (key, value) in &self.fields {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn lines_have_the_kernels_shape() {
        let line = BenchLine::new(Benchmark::ForkExitWait)
            .timing(4, 1000, 300)
            .field("extra", 7);
        assert_eq!(
            format!("{line}"),
            "bench fork-exit-wait iterations=4 elapsed_ns=1000 ns_per_op=250 cpu_ns=300 extra=7"
        );
        assert_eq!(per_op(10, 0), 0);
    }

    #[test]
    fn counter_figures_follow_the_timing() {
        let delta = crate::counters::Counters::parse(
            "hypercalls 30\nxen_entries 50\nmmu_hypercalls 0\npte_updates 0",
        )
        .unwrap();
        let line = BenchLine::new(Benchmark::ForkExitWait)
            .timing(4, 1000, 300)
            .counters(&PerOperation::new(&delta, 4));
        assert_eq!(
            format!("{line}"),
            "bench fork-exit-wait iterations=4 elapsed_ns=1000 ns_per_op=250 cpu_ns=300 \
             hypercalls=30 xen_entries=50 hypercalls_per_op=7.50 xen_entries_per_op=12.50"
        );
    }

    #[test]
    fn options_select_benchmarks() {
        let options = parse_bench(["--quick", "--only", "pipe-ping-pong,fork-exit-wait"]).unwrap();
        assert!(options.quick);
        let selected: Vec<Benchmark> = options.selected().collect();
        // Run order, not command-line order.
        assert_eq!(selected, [Benchmark::ForkExitWait, Benchmark::PipePingPong]);
        let none = parse_bench(["--only", "none"]).unwrap();
        assert_eq!(none.selected().count(), 0);
        let all = parse_bench(["--hello", "/h", "--sh", "/s"]).unwrap();
        assert_eq!(all.selected().count(), Benchmark::ALL.len());
        assert_eq!((all.hello.as_str(), all.shell.as_str()), ("/h", "/s"));
        assert_eq!(all.counters, crate::counters::COUNTERS_PATH);
        let fake = parse_bench(["--counters", "/tmp/c"]).unwrap();
        assert_eq!(fake.counters, "/tmp/c");
        assert!(parse_bench(["--only", "nope"]).is_err());
        assert!(parse_bench(["--fast"]).is_err());
        assert!(parse_bench(["x"]).is_err());
        for benchmark in Benchmark::ALL {
            assert!(benchmark.iterations(true) < benchmark.iterations(false));
        }
    }
}
