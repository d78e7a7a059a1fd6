//! The userland benchmark in both guests, cross-checked with `xentrace`:
//! ONE Linux dom0 boot runs `xenrs-bench --quick` as init of our kernel
//! and of a Linux PV domU, with `xentrace` recording each domain's
//! hypercalls (`image_builder::userland_bench`, plan `WholeRun`).
//!
//! Only noise-free facts are asserted: both guests ran every case to
//! completion, our counter lines parse and are nonzero where the work
//! cannot be done without Xen, and the trace's count for our domain
//! agrees with our kernel's own count within [`tail_allowance`]. The
//! figures are printed, never compared with limits (they depend on the
//! machine and on QEMU's emulation).

#![forbid(unsafe_code)]

use image_builder::userland_bench::{self, Crosscheck, Guest, Plan, RunResult, CASES};
use image_builder::ScriptOutcome;

/// How many more hypercalls the trace may see than our kernel's final
/// count, for a count of `kernel_count`: 100 plus 0.5%.
///
/// The kernel's count is read by `xenrs-bench` before its last line; the
/// trace goes on until the domain is gone. After the read come: the
/// `counters-end` line on the console, the exit of the benchmark process
/// (its address space torn down in a few batches), the kernel's `init:
/// ... exited` and `shutdown:` lines and `SCHEDOP_shutdown`: 13 to 31
/// hypercalls measured, whatever ran before. Xen's continuations of
/// preempted calls (traced again, up to 2% of a fork-heavy run) are
/// recognised and left out of the trace's count by `xentrace-count`
/// (`userland_core::xentrace`), so they need little allowance: in
/// `--quick` runs the difference is the tail alone (14 to 37), but one
/// run of 1,000 forks on a loaded machine showed 0.8% (176) more, most
/// likely continuations the rules do not recognise; the 0.5% is for
/// those, and the test runs `--quick`. A counter that
/// missed a kind of hypercall (the irets alone are over a quarter of the
/// total) is far outside the allowance. The trace may never see *fewer*
/// than the kernel counted: Xen traces every hypercall it receives, and
/// the test requires that no record was lost.
fn tail_allowance(kernel_count: u64) -> u64 {
    100 + kernel_count / 200
}

/// A case line's field as a decimal, with a message naming what is wrong.
fn decimal(result: &RunResult, case: &str, key: &str) -> Result<f64, String> {
    let line = result
        .line(case)
        .ok_or_else(|| format!("{}: no `bench {case}` line", result.run.name))?;
    line.f64(key)
        .map_err(|error| format!("{}: bench {case}: {error}", result.run.name))
}

#[test]
fn both_guests_run_every_case_and_xentrace_agrees_with_our_counters() {
    let plan = Plan::WholeRun { quick: true };
    let kernel = system_tests::kernel();
    let run = userland_bench::run(plan, &kernel, image_builder::echo_enabled())
        .unwrap_or_else(|error| panic!("could not run the userland benchmark: {error}"));
    let results = userland_bench::results(plan, &run);
    for line in userland_bench::report(&results) {
        println!("{line}");
    }
    let mut failures: Vec<String> = Vec::new();
    let mut expect = |ok: bool, message: String| {
        if !ok {
            failures.push(message);
        }
    };
    expect(
        run.outcome == ScriptOutcome::Finished { status: 0 },
        format!("the dom0 script did not finish cleanly: {}", run.outcome),
    );

    for result in &results {
        let name = &result.run.name;
        for (key, expected) in [
            ("create-status", "0"),
            ("outcome", "finished"),
            ("xentrace-status", "0"),
            ("count-status", "0"),
        ] {
            let value = result.results.get(key).map(String::as_str);
            expect(
                value == Some(expected),
                format!("{name}: RESULT {key}={value:?}, expected {expected}"),
            );
        }
        expect(
            result.bench_exited_cleanly(),
            format!("{name}: xenrs-bench did not report exit status 0"),
        );
        for case in CASES {
            match result.line(case) {
                Some(line) => {
                    let iterations = line.u64("iterations").unwrap_or(0);
                    let elapsed = line.u64("elapsed_ns").unwrap_or(0);
                    expect(
                        iterations > 0 && elapsed > 0,
                        format!("{name}: {line}: no iterations or no time"),
                    );
                }
                None => expect(false, format!("{name}: no `bench {case}` line")),
            }
        }
        expect(
            result.trace.is_some(),
            format!("{name}: the trace has no hypercall of the guest's domain"),
        );
        expect(
            result.lost_records == Some(0),
            format!("{name}: xentrace lost records: {:?}", result.lost_records),
        );
        match result.run.guest {
            Guest::Linux => {
                // No /proc/xenrs/counters on Linux: timings only.
                expect(
                    result.line("counters-end").is_none()
                        && result
                            .line("fork-exit-wait")
                            .is_none_or(|line| line.value("hypercalls_per_op").is_err()),
                    format!("{name}: counter figures on Linux"),
                );
            }
            Guest::Xenrs => {
                for total in ["counters-start", "counters-read-overhead", "counters-end"] {
                    expect(
                        result
                            .line(total)
                            .is_some_and(|line| line.u64("hypercalls").is_ok()),
                        format!("{name}: no `bench {total} hypercalls=<n>` line"),
                    );
                }
                for case in CASES {
                    for key in ["hypercalls_per_op", "xen_entries_per_op"] {
                        if let Err(message) = decimal(result, case, key) {
                            expect(false, message);
                        }
                    }
                }
                // Work that cannot be done without Xen: new page tables
                // for fork and exec, 64 MiB of mappings, and for the
                // ping-pong, system calls (entries into Xen) and address
                // space switches.
                for (case, key) in [
                    ("fork-exit-wait", "hypercalls_per_op"),
                    ("fork-exit-wait", "pte_updates_per_hypercall"),
                    ("fork-execve-hello", "hypercalls_per_op"),
                    ("fork-execve-hello", "pte_updates_per_hypercall"),
                    ("sh-c-true", "hypercalls_per_op"),
                    ("mmap-touch-munmap-64mib", "hypercalls_per_op"),
                    ("mmap-touch-munmap-64mib", "pte_updates_per_hypercall"),
                    ("pipe-ping-pong", "xen_entries_per_op"),
                    ("pipe-ping-pong", "hypercalls_per_op"),
                ] {
                    match decimal(result, case, key) {
                        Ok(value) => expect(
                            value > 0.0,
                            format!("{name}: bench {case}: {key}={value} should be nonzero"),
                        ),
                        Err(message) => expect(false, message),
                    }
                }
                if let Err(message) =
                    decimal(result, "page-fault-first-touch", "xen_entries_per_page")
                {
                    expect(false, message);
                }
                match Crosscheck::of(result) {
                    Some(check) => {
                        let allowance = tail_allowance(check.kernel_count);
                        expect(
                            check.xentrace_count >= check.kernel_count
                                && check.xentrace_count - check.kernel_count <= allowance,
                            format!(
                                "{name}: xentrace counted {} hypercalls of our domain, the kernel \
                                 {} (allowed: 0 to {allowance} more in the trace): {}",
                                check.xentrace_count,
                                check.kernel_count,
                                check.line()
                            ),
                        );
                    }
                    None => expect(false, format!("{name}: no cross-check possible")),
                }
            }
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} failed expectation(s):\n  {}\n\n{run}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}
