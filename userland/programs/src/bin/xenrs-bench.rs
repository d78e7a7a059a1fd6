//! `xenrs-bench`: lmbench-style microbenchmarks of the process and memory
//! system calls, one `bench <name> key=value ...` line each.
//!
//! The benchmarks and their iteration counts are listed in
//! `userland_core::bench`; `--quick` runs few iterations (host tests),
//! `--only a,b` a selection, `--hello`/`--sh` choose the programs the exec
//! benchmarks run (default `/bin/hello`, `/bin/sh`). Times come from
//! `CLOCK_MONOTONIC`; `cpu_ns` is this process's `CLOCK_PROCESS_CPUTIME_ID`
//! over the same interval. As in lmbench's `lat_proc`, exec'd children get
//! an empty environment and a closed stdout, so they print nothing.
//!
//! Under xenrs, each timed loop is bracketed by reads of the kernel's
//! `/proc/xenrs/counters`, and the line carries what the loop cost in
//! hypercalls, PTE updates per MMU hypercall and entries into Xen (see
//! [`CounterProbe`]); the run's totals are printed first and last
//! (`bench counters-start`, `bench counters-end`) so a trace taken from
//! outside (xentrace in dom0) can be compared with them. On Linux the file
//! does not exist and only the timings are printed.
//!
//! Exit status 1 if any benchmark failed (its error goes to stderr and it
//! prints no line).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use linux_abi::auxv::AT_PAGESZ;
use linux_abi::wait::WaitStatus;
use userland_core::abi::OpenFlags;
use userland_core::bench::{
    parse_bench, per_op, BenchLine, Benchmark, MMAP_BENCH_BYTES, PAGE_FAULT_PAGES,
};
use userland_core::counters::{
    totals_line, Counters, Decimal, PerOperation, PAGE_FAULTS, XEN_ENTRIES,
};
use userland_core::strerror;
use userland_rt::sys::{self, ExecRequest, ForkResult, Mapping};
use userland_rt::{eprintln, println, Args, Env, Fd, File};

userland_rt::entry!(main);

/// What a failed benchmark reports.
type BenchError = String;

/// Clocks at the start of a measurement.
struct Stopwatch {
    wall_ns: u64,
    cpu_ns: u64,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            wall_ns: sys::monotonic_ns(),
            cpu_ns: sys::cpu_time_ns(),
        }
    }

    /// (elapsed wall ns, elapsed cpu ns)
    fn stop(&self) -> (u64, u64) {
        (
            sys::monotonic_ns().saturating_sub(self.wall_ns),
            sys::cpu_time_ns().saturating_sub(self.cpu_ns),
        )
    }
}

/// Reads the kernel's counters around a timed loop.
///
/// Reading the file costs entries into Xen itself (open, read and close
/// are system calls, each returning through `HYPERVISOR_iret`), and part
/// of that cost lands between the two readings of every measurement: the
/// end of the first read and the start of the second. So the probe
/// measures an empty before/after pair (the cheapest of three, per
/// counter) once at start-up, and [`CounterProbe::cost`] subtracts that
/// overhead once per pair from every delta. What remains is the loop's
/// own cost, plus any timer upcall that happened to fall inside it.
struct CounterProbe {
    path: String,
    overhead: Counters,
}

impl CounterProbe {
    /// `None` when the kernel publishes no counters (Linux).
    fn new(path: &str) -> Option<CounterProbe> {
        read_counters(path)?;
        let mut overhead: Option<Counters> = None;
        for _ in 0..3 {
            let (Some(before), Some(after)) = (read_counters(path), read_counters(path)) else {
                return None;
            };
            let pair = after.since(&before);
            overhead = Some(match overhead {
                Some(cheapest) => cheapest.min(&pair),
                None => pair,
            });
        }
        Some(CounterProbe {
            path: path.into(),
            overhead: overhead.unwrap_or_default(),
        })
    }

    /// A reading to pass to [`CounterProbe::cost`] later.
    fn start(&self) -> Counters {
        self.read().unwrap_or_default()
    }

    /// The counters now.
    fn read(&self) -> Option<Counters> {
        read_counters(&self.path)
    }

    /// What happened since `before`, without the cost of the reads.
    fn cost(&self, before: &Counters) -> Counters {
        let after = self.read().unwrap_or_default();
        after.since(before).minus(&self.overhead)
    }
}

/// The counters file (`/proc/xenrs/counters` unless `--counters`),
/// parsed; `None` if absent or malformed (the reason goes to stderr).
fn read_counters(path: &str) -> Option<Counters> {
    let mut file = File::open(path).ok()?;
    let mut text = alloc::vec::Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => text.extend_from_slice(&buffer[..count]),
            Err(error) => {
                eprintln!("xenrs-bench: {path}: {}", strerror(error));
                return None;
            }
        }
    }
    match Counters::parse(&String::from_utf8_lossy(&text)) {
        Ok(counters) => Some(counters),
        Err(error) => {
            eprintln!("xenrs-bench: {path}: {error}");
            None
        }
    }
}

/// Starts a counter measurement if there is a probe.
fn probe_start(probe: Option<&CounterProbe>) -> Option<Counters> {
    probe.map(CounterProbe::start)
}

/// Adds the counter figures for `operations` operations to `line`.
fn with_counters(
    line: BenchLine,
    probe: Option<&CounterProbe>,
    before: Option<Counters>,
    operations: u64,
) -> BenchLine {
    match (probe, before) {
        (Some(probe), Some(before)) => {
            line.counters(&PerOperation::new(&probe.cost(&before), operations))
        }
        _ => line,
    }
}

/// Forks a child that runs `child` and waits for it; the child's status
/// must be `exit_group(0)`.
fn fork_and_wait(child: impl FnOnce() -> i32) -> Result<(), BenchError> {
    match sys::fork().map_err(|error| format!("fork: {}", strerror(error)))? {
        ForkResult::Child => sys::exit(child()),
        ForkResult::Parent(pid) => match sys::wait_for(pid) {
            Ok(WaitStatus::Exited(0)) => Ok(()),
            Ok(status) => Err(format!("child ended with {status:?}")),
            Err(error) => Err(format!("wait4: {}", strerror(error))),
        },
    }
}

fn fork_exit_wait(iterations: u64, probe: Option<&CounterProbe>) -> Result<BenchLine, BenchError> {
    let counters = probe_start(probe);
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        fork_and_wait(|| 0)?;
    }
    let (wall, cpu) = clock.stop();
    let line = BenchLine::new(Benchmark::ForkExitWait).timing(iterations, wall, cpu);
    Ok(with_counters(line, probe, counters, iterations))
}

/// fork + execve(`argv`) + wait, `iterations` times.
fn fork_exec(
    benchmark: Benchmark,
    iterations: u64,
    argv: &[&[u8]],
    probe: Option<&CounterProbe>,
) -> Result<BenchLine, BenchError> {
    let request = ExecRequest::new(argv[0], argv, &[])
        .map_err(|error| format!("argv: {}", strerror(error)))?;
    let run = || {
        // lmbench's lat_proc closes stdout so the child's output is lost.
        let _ = sys::close(Fd::STDOUT);
        let error = strerror(request.exec());
        // Report on stderr, which stays open: exec failed.
        eprintln!(
            "xenrs-bench: execve {}: {error}",
            String::from_utf8_lossy(argv[0])
        );
        127
    };
    // One untimed run checks the program works and warms caches.
    fork_and_wait(run)?;
    let counters = probe_start(probe);
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        fork_and_wait(run)?;
    }
    let (wall, cpu) = clock.stop();
    let line = BenchLine::new(benchmark).timing(iterations, wall, cpu);
    Ok(with_counters(line, probe, counters, iterations))
}

/// Writes one byte into each page of `mapping`.
fn touch_pages(mapping: &mut Mapping, page_size: usize) {
    let bytes = mapping.as_mut_slice();
    let mut offset = 0;
    while offset < bytes.len() {
        bytes[offset] = 1;
        offset += page_size;
    }
    core::hint::black_box(bytes);
}

/// Only the touching is timed and counted: mmap and munmap are not faults.
/// Besides the per-mapping figures (one op = one mapping of
/// [`PAGE_FAULT_PAGES`] pages), the line has `xen_entries_per_page` and
/// `page_faults_per_page`.
fn page_fault(
    iterations: u64,
    page_size: usize,
    probe: Option<&CounterProbe>,
) -> Result<BenchLine, BenchError> {
    let pages = PAGE_FAULT_PAGES;
    let (mut wall, mut cpu) = (0, 0);
    let mut cost = Counters::default();
    for _ in 0..iterations {
        let mut mapping = Mapping::anonymous(pages as usize * page_size)
            .map_err(|error| format!("mmap: {}", strerror(error)))?;
        let counters = probe_start(probe);
        let clock = Stopwatch::start();
        touch_pages(&mut mapping, page_size);
        let (touch_wall, touch_cpu) = clock.stop();
        if let (Some(probe), Some(before)) = (probe, counters) {
            cost = cost.plus(&probe.cost(&before));
        }
        wall += touch_wall;
        cpu += touch_cpu;
    }
    let mut line = BenchLine::new(Benchmark::PageFault)
        .timing(iterations, wall, cpu)
        .field("pages", pages)
        .field("ns_per_page", per_op(wall, iterations * pages));
    if probe.is_some() {
        let touched = iterations * pages;
        line = line
            .counters(&PerOperation::new(&cost, iterations))
            .decimal(
                "xen_entries_per_page",
                Decimal::ratio(cost.value(XEN_ENTRIES), touched),
            )
            .decimal(
                "page_faults_per_page",
                Decimal::ratio(cost.value(PAGE_FAULTS), touched),
            );
    }
    Ok(line)
}

/// `mmap-touch-munmap-64mib` (map, touch every page, unmap) and, with
/// `populate`, `mmap-populate-munmap-64mib` (`MAP_POPULATE`: every PTE
/// written in the mmap call itself, nothing touched, then unmap).
fn mmap_64mib(
    benchmark: Benchmark,
    populate: bool,
    iterations: u64,
    page_size: usize,
    probe: Option<&CounterProbe>,
) -> Result<BenchLine, BenchError> {
    let pages = MMAP_BENCH_BYTES / page_size as u64;
    let counters = probe_start(probe);
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        let len = MMAP_BENCH_BYTES as usize;
        let mapping = if populate {
            Mapping::anonymous_populated(len)
        } else {
            Mapping::anonymous(len)
        };
        let mut mapping = mapping.map_err(|error| format!("mmap: {}", strerror(error)))?;
        if !populate {
            touch_pages(&mut mapping, page_size);
        }
        drop(mapping);
    }
    let (wall, cpu) = clock.stop();
    let line = BenchLine::new(benchmark)
        .timing(iterations, wall, cpu)
        .field("pages", pages)
        .field("ns_per_page", per_op(wall, iterations * pages));
    Ok(with_counters(line, probe, counters, iterations))
}

/// fork+exit+wait while the parent holds 64 MiB of touched memory: a
/// fork whose address space is large.
fn fork_64mib(
    iterations: u64,
    page_size: usize,
    probe: Option<&CounterProbe>,
) -> Result<BenchLine, BenchError> {
    let mut mapping = Mapping::anonymous(MMAP_BENCH_BYTES as usize)
        .map_err(|error| format!("mmap: {}", strerror(error)))?;
    touch_pages(&mut mapping, page_size);
    let counters = probe_start(probe);
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        match sys::fork().map_err(|error| format!("fork: {}", strerror(error)))? {
            ForkResult::Child => sys::exit(0),
            ForkResult::Parent(pid) => {
                sys::wait_for(pid).map_err(|error| format!("wait4: {}", strerror(error)))?;
            }
        }
    }
    let (wall, cpu) = clock.stop();
    drop(mapping);
    let line = BenchLine::new(Benchmark::Fork64Mib)
        .timing(iterations, wall, cpu)
        .field("pages", MMAP_BENCH_BYTES / page_size as u64);
    Ok(with_counters(line, probe, counters, iterations))
}

/// One op is a round trip (two switches).
fn pipe_ping_pong(iterations: u64, probe: Option<&CounterProbe>) -> Result<BenchLine, BenchError> {
    let pipe = |what| {
        sys::pipe2(OpenFlags::default()).map_err(|error| format!("{what}: {}", strerror(error)))
    };
    let (to_child_read, to_child_write) = pipe("pipe")?;
    let (to_parent_read, to_parent_write) = pipe("pipe")?;
    let child = match sys::fork().map_err(|error| format!("fork: {}", strerror(error)))? {
        ForkResult::Child => {
            let _ = sys::close(to_child_write);
            let _ = sys::close(to_parent_read);
            let mut token = [0u8; 1];
            // Echo each byte back until the parent closes its end.
            while let Ok(1) = sys::read(to_child_read, &mut token) {
                if sys::write(to_parent_write, &token) != Ok(1) {
                    sys::exit(1);
                }
            }
            sys::exit(0)
        }
        ForkResult::Parent(pid) => pid,
    };
    let _ = sys::close(to_child_read);
    let _ = sys::close(to_parent_write);
    let mut token = [0u8; 1];
    let mut result = Ok(());
    let counters = probe_start(probe);
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        if sys::write(to_child_write, b"x") != Ok(1)
            || sys::read(to_parent_read, &mut token) != Ok(1)
        {
            result = Err(String::from("the pipe broke"));
            break;
        }
    }
    let (wall, cpu) = clock.stop();
    let cost = probe
        .zip(counters)
        .map(|(probe, before)| probe.cost(&before));
    let _ = sys::close(to_child_write);
    let _ = sys::close(to_parent_read);
    let waited = sys::wait_for(child);
    result?;
    if waited != Ok(WaitStatus::Exited(0)) {
        return Err(format!("child ended with {waited:?}"));
    }
    let line = BenchLine::new(Benchmark::PipePingPong)
        .timing(iterations, wall, cpu)
        .field("ns_per_switch", per_op(wall, 2 * iterations));
    Ok(match cost {
        Some(cost) => line.counters(&PerOperation::new(&cost, iterations)),
        None => line,
    })
}

fn main(args: Args, env: Env) -> i32 {
    let options = match args.operands().map(parse_bench) {
        Ok(Ok(options)) => options,
        Ok(Err(error)) => {
            eprintln!("xenrs-bench: {error}");
            eprintln!(
                "Usage: xenrs-bench [--quick] [--only a,b|none] [--hello PATH] [--sh PATH] \
                 [--counters PATH]"
            );
            return 2;
        }
        Err(_) => {
            eprintln!("xenrs-bench: arguments must be UTF-8");
            return 2;
        }
    };
    let page_size = env
        .aux(AT_PAGESZ)
        .and_then(|size| usize::try_from(size).ok())
        .filter(|size| size.is_power_of_two())
        .unwrap_or(4096);
    let probe = CounterProbe::new(&options.counters);
    if let Some(probe) = &probe {
        if let Some(start) = probe.read() {
            println!("{}", totals_line("counters-start", &start));
        }
        println!("{}", totals_line("counters-read-overhead", &probe.overhead));
    }
    let probe = probe.as_ref();
    let mut status = 0;
    for benchmark in options.selected() {
        let iterations = benchmark.iterations(options.quick);
        let result = match benchmark {
            Benchmark::ForkExitWait => fork_exit_wait(iterations, probe),
            Benchmark::ForkExecHello => {
                fork_exec(benchmark, iterations, &[options.hello.as_bytes()], probe)
            }
            Benchmark::ShellTrue => fork_exec(
                benchmark,
                iterations,
                &[options.shell.as_bytes(), b"-c", b"true"],
                probe,
            ),
            Benchmark::PageFault => page_fault(iterations, page_size, probe),
            Benchmark::Mmap64Mib => mmap_64mib(benchmark, false, iterations, page_size, probe),
            Benchmark::MmapPopulate64Mib => {
                mmap_64mib(benchmark, true, iterations, page_size, probe)
            }
            Benchmark::Fork64Mib => fork_64mib(iterations, page_size, probe),
            Benchmark::PipePingPong => pipe_ping_pong(iterations, probe),
        };
        match result {
            Ok(line) => println!("{line}"),
            Err(error) => {
                eprintln!("xenrs-bench: {}: {error}", benchmark.name());
                status = 1;
            }
        }
    }
    // Last: everything after this read (exit, shutdown) is not in it.
    if let Some(probe) = probe {
        if let Some(end) = probe.read() {
            println!("{}", totals_line("counters-end", &end));
        }
    }
    status
}
