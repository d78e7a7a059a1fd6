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
use userland_core::strerror;
use userland_rt::sys::{self, ExecRequest, ForkResult, Mapping};
use userland_rt::{eprintln, println, Args, Env, Fd};

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

fn fork_exit_wait(iterations: u64) -> Result<BenchLine, BenchError> {
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        fork_and_wait(|| 0)?;
    }
    let (wall, cpu) = clock.stop();
    Ok(BenchLine::new(Benchmark::ForkExitWait).timing(iterations, wall, cpu))
}

/// fork + execve(`argv`) + wait, `iterations` times.
fn fork_exec(
    benchmark: Benchmark,
    iterations: u64,
    argv: &[&[u8]],
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
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        fork_and_wait(run)?;
    }
    let (wall, cpu) = clock.stop();
    Ok(BenchLine::new(benchmark).timing(iterations, wall, cpu))
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

fn page_fault(iterations: u64, page_size: usize) -> Result<BenchLine, BenchError> {
    let pages = PAGE_FAULT_PAGES;
    let (mut wall, mut cpu) = (0, 0);
    for _ in 0..iterations {
        let mut mapping = Mapping::anonymous(pages as usize * page_size)
            .map_err(|error| format!("mmap: {}", strerror(error)))?;
        // Only the touching is timed: mmap and munmap are not faults.
        let clock = Stopwatch::start();
        touch_pages(&mut mapping, page_size);
        let (touch_wall, touch_cpu) = clock.stop();
        wall += touch_wall;
        cpu += touch_cpu;
    }
    Ok(BenchLine::new(Benchmark::PageFault)
        .timing(iterations, wall, cpu)
        .field("pages", pages)
        .field("ns_per_page", per_op(wall, iterations * pages)))
}

fn mmap_64mib(iterations: u64, page_size: usize) -> Result<BenchLine, BenchError> {
    let pages = MMAP_BENCH_BYTES / page_size as u64;
    let clock = Stopwatch::start();
    for _ in 0..iterations {
        let mut mapping = Mapping::anonymous(MMAP_BENCH_BYTES as usize)
            .map_err(|error| format!("mmap: {}", strerror(error)))?;
        touch_pages(&mut mapping, page_size);
        drop(mapping);
    }
    let (wall, cpu) = clock.stop();
    Ok(BenchLine::new(Benchmark::Mmap64Mib)
        .timing(iterations, wall, cpu)
        .field("pages", pages)
        .field("ns_per_page", per_op(wall, iterations * pages)))
}

fn pipe_ping_pong(iterations: u64) -> Result<BenchLine, BenchError> {
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
    let _ = sys::close(to_child_write);
    let _ = sys::close(to_parent_read);
    let waited = sys::wait_for(child);
    result?;
    if waited != Ok(WaitStatus::Exited(0)) {
        return Err(format!("child ended with {waited:?}"));
    }
    Ok(BenchLine::new(Benchmark::PipePingPong)
        .timing(iterations, wall, cpu)
        .field("ns_per_switch", per_op(wall, 2 * iterations)))
}

fn main(args: Args, env: Env) -> i32 {
    let options = match args.operands().map(parse_bench) {
        Ok(Ok(options)) => options,
        Ok(Err(error)) => {
            eprintln!("xenrs-bench: {error}");
            eprintln!("Usage: xenrs-bench [--quick] [--only a,b] [--hello PATH] [--sh PATH]");
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
    let mut status = 0;
    for benchmark in options.selected() {
        let iterations = benchmark.iterations(options.quick);
        let result = match benchmark {
            Benchmark::ForkExitWait => fork_exit_wait(iterations),
            Benchmark::ForkExecHello => {
                fork_exec(benchmark, iterations, &[options.hello.as_bytes()])
            }
            Benchmark::ShellTrue => fork_exec(
                benchmark,
                iterations,
                &[options.shell.as_bytes(), b"-c", b"true"],
            ),
            Benchmark::PageFault => page_fault(iterations, page_size),
            Benchmark::Mmap64Mib => mmap_64mib(iterations, page_size),
            Benchmark::PipePingPong => pipe_ping_pong(iterations),
        };
        match result {
            Ok(line) => println!("{line}"),
            Err(error) => {
                eprintln!("xenrs-bench: {}: {error}", benchmark.name());
                status = 1;
            }
        }
    }
    status
}
