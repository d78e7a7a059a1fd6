//! Boot scenarios: Xen 4.17 in QEMU (TCG) with the kernel as dom0.
//!
//! Each `#[test]` is one scenario and one boot (the self-test boot is shared
//! by the two scenarios that read it). A failure lists every expectation
//! that did not hold, followed by the whole console log.

#![forbid(unsafe_code)]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use image_builder::{BenchLine, BootRun, Outcome};
use system_tests::protocol::{
    is_ignored_word_line, parse_backtrace_frame, parse_ignored_word, Fatal, IgnoredWord, TimeLine,
    KERNEL_VIRT_BASE,
};
use system_tests::{
    boot_config, boot_kernel, check_banner, check_clean_shutdown, check_selftest, config, Checks,
};

/// The plain self-test boot, shared by the scenarios that only read it.
fn selftest_run() -> &'static BootRun {
    static RUN: OnceLock<BootRun> = OnceLock::new();
    RUN.get_or_init(|| boot_kernel("selftest"))
}

/// (a) A self-test boot: banner, every check `ok`, a summary that counts
/// them, and a clean reboot.
#[test]
fn selftest_boot_passes_every_check() {
    let run = selftest_run();
    let mut checks = Checks::new("selftest boot", run);
    check_banner(&mut checks, 64);
    check_selftest(&mut checks);
    check_clean_shutdown(&mut checks, "shutdown: reboot");
    checks.expect(run.outcome == Outcome::Rebooted, || {
        format!("outcome {} is not a reboot (the default)", run.outcome)
    });
    checks.finish();
}

/// (b) The kernel's wall clock agrees with the host's within 2 s when the
/// `time:` line is read.
#[test]
fn wallclock_matches_the_host_clock() {
    const TOLERANCE_SECONDS: f64 = 2.0;
    let run = selftest_run();
    let mut checks = Checks::new("wall clock", run);
    if let Some(line) = run.find("time: ") {
        if let Some(time) = checks.parsed(TimeLine::parse(&line.text)) {
            let host = line
                .at
                .duration_since(UNIX_EPOCH)
                .expect("the host clock is after 1970")
                .as_secs_f64();
            let kernel = time.wallclock_seconds_f64();
            checks.expect((kernel - host).abs() <= TOLERANCE_SECONDS, || {
                format!(
                    "kernel wall clock {kernel:.3} is {:+.3} s from the host's {host:.3} \
                     (tolerance {TOLERANCE_SECONDS} s)",
                    kernel - host
                )
            });
        }
    } else {
        checks.expect(false, || "no `time:` line".to_owned());
    }
    checks.finish();
}

/// (c) Batching page-table updates cuts hypercalls: the counts, not the
/// timings, are checked.
#[test]
fn bench_batching_cuts_hypercalls() {
    const PAGES: u64 = 16384;
    let mut config = config("bench");
    // Unbatched map/unmap of 16384 pages is 32768 hypercalls under TCG.
    config.timeout = Duration::from_secs(180);
    let run = boot_config(&config);
    let mut checks = Checks::new("bench boot", &run);
    check_clean_shutdown(&mut checks, "shutdown: reboot");

    let mut parsed = Vec::new();
    for line in run.lines_with_prefix("bench ") {
        match BenchLine::parse(&line.text) {
            Ok(bench) => parsed.push(bench),
            Err(error) => {
                checks.expect(false, || format!("malformed line {:?}: {error}", line.text));
            }
        }
    }
    let find = |name: &str| parsed.iter().find(|bench| bench.name == name);
    let batched = find("map-unmap-batched");
    let unbatched = find("map-unmap-unbatched");
    let ratio = find("map-unmap-ratio");
    checks.expect(batched.is_some(), || {
        "no bench map-unmap-batched line".to_owned()
    });
    checks.expect(unbatched.is_some(), || {
        "no bench map-unmap-unbatched line".to_owned()
    });
    checks.expect(ratio.is_some(), || {
        "no bench map-unmap-ratio line".to_owned()
    });

    let batched = batched.and_then(|bench| {
        numbers(
            &mut checks,
            bench,
            &["pages", "hypercalls", "ptes_per_hypercall", "elapsed_ns"],
        )
    });
    let unbatched = unbatched
        .and_then(|bench| numbers(&mut checks, bench, &["pages", "hypercalls", "elapsed_ns"]));
    if let (Some(batched), Some(unbatched)) = (batched, unbatched) {
        let (batched_pages, batched_calls, ptes_per_call) = (batched[0], batched[1], batched[2]);
        let (unbatched_pages, unbatched_calls) = (unbatched[0], unbatched[1]);
        checks.expect(batched_pages == PAGES && unbatched_pages == PAGES, || {
            format!("pages are {batched_pages} and {unbatched_pages}, not {PAGES}")
        });
        checks.expect(batched_calls > 0, || {
            "batched run made no hypercalls".to_owned()
        });
        checks.expect(ptes_per_call >= 256, || {
            format!("batched ptes_per_hypercall={ptes_per_call} < 256")
        });
        checks.expect(unbatched_calls >= 20 * batched_calls, || {
            format!(
                "unbatched hypercalls={unbatched_calls} < 20 x batched hypercalls={batched_calls}"
            )
        });
        if let Some(ratio) = ratio {
            let printed = ratio
                .f64("hypercalls_ratio")
                .map_err(|error| format!("bench map-unmap-ratio: {error}"));
            if let Some(printed) = checks.parsed(printed) {
                let actual = unbatched_calls as f64 / batched_calls.max(1) as f64;
                checks.expect((printed - actual).abs() <= actual * 0.01 + 0.1, || {
                    format!("hypercalls_ratio={printed} but the counts give {actual:.1}")
                });
            }
        }
    }
    checks.finish();
}

/// The values of `keys` in `bench` as integers (a failure for each that
/// is missing or malformed).
fn numbers(checks: &mut Checks<'_>, bench: &BenchLine, keys: &[&str]) -> Option<Vec<u64>> {
    let mut values = Vec::new();
    for key in keys {
        let value = bench
            .u64(key)
            .map_err(|error| format!("bench {}: {error}", bench.name));
        values.push(checks.parsed(value));
    }
    values.into_iter().collect()
}

/// (d) Unknown and malformed options are reported one line each and
/// ignored; the boot still passes its self-test.
#[test]
fn unknown_cmdline_options_are_reported_and_ignored() {
    let run = boot_kernel("frobnicate =x selftest xyzzy=42");
    let mut checks = Checks::new("unknown options", &run);
    let reported: Vec<(IgnoredWord, String)> = run
        .lines
        .iter()
        .filter(|line| is_ignored_word_line(&line.text))
        .filter_map(|line| checks.parsed(parse_ignored_word(&line.text)))
        .collect();
    checks.expect(reported.len() == 3, || {
        format!(
            "{} ignored words reported, expected 3 (frobnicate, =x, xyzzy=42): {reported:?}",
            reported.len()
        )
    });
    let has = |kind: IgnoredWord, word: &str| {
        reported
            .iter()
            .any(|(reported_kind, name)| *reported_kind == kind && name == word)
    };
    checks.expect(has(IgnoredWord::UnknownOption, "frobnicate"), || {
        format!("frobnicate not reported as an unknown option: {reported:?}")
    });
    // The option's name, or the whole word.
    checks.expect(
        has(IgnoredWord::UnknownOption, "xyzzy") || has(IgnoredWord::UnknownOption, "xyzzy=42"),
        || format!("xyzzy=42 not reported as an unknown option: {reported:?}"),
    );
    checks.expect(
        reported
            .iter()
            .any(|(_, word)| word.contains("=x") || word.is_empty()),
        || format!("=x not reported: {reported:?}"),
    );
    checks.expect(
        !reported
            .iter()
            .any(|(_, word)| word == "selftest" || word.starts_with("hostclock")),
        || format!("a known option was reported as unknown: {reported:?}"),
    );
    check_banner(&mut checks, 64);
    check_selftest(&mut checks);
    check_clean_shutdown(&mut checks, "shutdown: reboot");
    checks.finish();
}

/// Which crash hook ran, for what its FATAL line must show.
enum Crash {
    /// `FATAL: page fault vector=14 error= rip= rsp= cr2=`.
    PageFault,
    /// `FATAL: panic at <file>:<line>: <msg>`.
    Panic,
    /// A divide error: `vector=0` with `rip=` and `rsp=`.
    Divide,
}

/// (e) A deliberate crash is reported (FATAL line, backtrace, `shutdown:
/// crash`) and ends the run as a failure, quickly.
fn check_crash(hook: &str, expected: Crash) {
    let crash_config = config(&format!("crash={hook}"));
    let timeout = crash_config.timeout;
    let run = boot_config(&crash_config);
    let mut checks = Checks::new("crash hook", &run);
    checks.expect(
        matches!(run.outcome, Outcome::Failed | Outcome::Crashed),
        || format!("outcome is {}, not failed or crashed", run.outcome),
    );
    checks.expect(run.elapsed < timeout / 3, || {
        format!(
            "the crash took {:.1} s to end the run, not well under the {} s timeout",
            run.elapsed.as_secs_f64(),
            timeout.as_secs()
        )
    });

    let fatal_index = run.position("FATAL: ");
    let fatal = fatal_index.and_then(|index| checks.parsed(Fatal::parse(&run.lines[index].text)));
    checks.expect(fatal_index.is_some(), || "no FATAL line".to_owned());
    if let Some(fatal) = &fatal {
        match expected {
            Crash::PageFault => {
                checks.expect(fatal.message.starts_with("page fault "), || {
                    format!("FATAL line {:?} is not a page fault", fatal.message)
                });
                check_number(&mut checks, fatal, "vector", |vector| vector == 14);
                check_number(&mut checks, fatal, "error", |_| true);
                check_number(&mut checks, fatal, "cr2", |_| true);
                check_number(&mut checks, fatal, "rip", |rip| rip >= KERNEL_VIRT_BASE);
                check_number(&mut checks, fatal, "rsp", |_| true);
            }
            Crash::Divide => {
                check_number(&mut checks, fatal, "vector", |vector| vector == 0);
                check_number(&mut checks, fatal, "rip", |rip| rip >= KERNEL_VIRT_BASE);
                check_number(&mut checks, fatal, "rsp", |_| true);
            }
            Crash::Panic => {
                if let Some((file, line, _message)) = checks.parsed(fatal.panic_location()) {
                    checks.expect(file.ends_with(".rs") && line > 0, || {
                        format!("panic location {file}:{line} is not a Rust source line")
                    });
                }
            }
        }
    }

    let backtrace_index = run.position("backtrace:");
    checks.expect(
        matches!((fatal_index, backtrace_index), (Some(fatal), Some(backtrace)) if fatal < backtrace),
        || "no `backtrace:` line after the FATAL line".to_owned(),
    );
    if let Some(index) = backtrace_index {
        let frames: Vec<&str> = run.lines[index + 1..]
            .iter()
            .map(|line| line.text.as_str())
            .take_while(|text| text.trim_start().starts_with('#'))
            .collect();
        checks.expect(!frames.is_empty(), || "the backtrace is empty".to_owned());
        for (expected, text) in frames.iter().enumerate() {
            if let Some((index, address)) = checks.parsed(parse_backtrace_frame(text)) {
                checks.expect(index as usize == expected, || {
                    format!("frame {text:?} should be #{expected}")
                });
                checks.expect(address >= KERNEL_VIRT_BASE, || {
                    format!("frame {text:?} is not a kernel address")
                });
            }
        }
    }
    let crash_line = run.position("shutdown: crash (");
    checks.expect(
        matches!((backtrace_index, crash_line), (Some(backtrace), Some(crash)) if backtrace < crash),
        || "no `shutdown: crash (...)` line after the backtrace".to_owned(),
    );
    checks.expect(run.find("shutdown: reboot").is_none(), || {
        "a crashed kernel said `shutdown: reboot`".to_owned()
    });
    checks.finish();
}

/// Checks that a FATAL field is a number satisfying `valid`.
fn check_number(checks: &mut Checks<'_>, fatal: &Fatal, key: &str, valid: impl Fn(u64) -> bool) {
    if let Some(value) = checks.parsed(fatal.number(key)) {
        checks.expect(valid(value), || {
            format!("FATAL field {key}=0x{value:x} is wrong")
        });
    }
}

#[test]
fn crash_pagefault_is_reported_with_a_backtrace() {
    check_crash("pagefault", Crash::PageFault);
}

#[test]
fn crash_panic_is_reported_with_a_backtrace() {
    check_crash("panic", Crash::Panic);
}

#[test]
fn crash_divide_is_reported_with_a_backtrace() {
    check_crash("divide", Crash::Divide);
}

/// (f) `shutdown=poweroff` halts the machine instead of rebooting.
#[test]
fn shutdown_poweroff_powers_off() {
    let run = boot_kernel("selftest shutdown=poweroff");
    let mut checks = Checks::new("power off", &run);
    checks.expect(run.outcome == Outcome::PoweredOff, || {
        format!("outcome {} is not a power-off", run.outcome)
    });
    check_selftest(&mut checks);
    check_clean_shutdown(&mut checks, "shutdown: poweroff");
    checks.finish();
}

/// (g) A dom0 with half the usual memory (32 MiB) still boots and passes.
#[test]
fn small_dom0_memory_still_boots() {
    let mut config = config("selftest");
    config.dom0_mem_mib = 32;
    let run = boot_config(&config);
    let mut checks = Checks::new("32 MiB dom0", &run);
    check_banner(&mut checks, 32);
    check_selftest(&mut checks);
    check_clean_shutdown(&mut checks, "shutdown: reboot");
    checks.finish();
}
