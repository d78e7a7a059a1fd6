//! Bad input from user space and from the initrd: the kernel survives it.
//!
//! Xen 4.17 in QEMU with the kernel as dom0, as in `userland.rs`, runs
//! `/bin/fault-inject` (`userland/programs/src/bin/fault-inject.rs`), an
//! independently written program whose every case must print `fault <case>
//! ok`; the expected answers are Linux's (the same program passes on the
//! build host's Linux, `userland/programs/tests/programs.rs`). Then the
//! kernel boots with initrds that are garbage, truncated, or whose `/init`
//! is no ELF: it must say so and shut down cleanly, never crash.
//!
//! Cases that fail on today's kernel are listed in [`KNOWN_KERNEL_BUGS`]
//! with the reason; any other failing case fails the test. A failing test
//! prints the whole console log.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image_builder::cpio::CpioWriter;
use image_builder::initrd;
use image_builder::BootRun;
use system_tests::{boot_config, config, Checks};

/// Cases that fail because of a kernel bug, not yet fixed: skipped by the
/// assertions (their lines are still printed and reported). Each entry is
/// the case name and a one-line reason.
const KNOWN_KERNEL_BUGS: &[(&str, &str)] = &[];

/// The initrd of our programs (no busybox: nothing here needs it).
fn initrd_path() -> PathBuf {
    static INITRD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = INITRD.get_or_init(|| {
        let programs = initrd::build_userland().map_err(|e| e.to_string())?;
        let out = image_builder::host::workspace_root().join("target/initrd-faults.cpio");
        initrd::build_initrd(&programs, None, &out).map_err(|e| e.to_string())?;
        Ok(out)
    });
    match built {
        Ok(path) => path.clone(),
        Err(message) => panic!("the initrd did not build:\n{message}"),
    }
}

/// Boots with `initrd` as the second multiboot module.
fn boot_with_initrd(cmdline: &str, initrd: &Path) -> BootRun {
    let mut boot = config(cmdline);
    boot.extra_modules
        .push((initrd.to_path_buf(), String::new()));
    boot.timeout = std::time::Duration::from_secs(180);
    boot_config(&boot)
}

/// One `fault <case> ok|FAIL <why>` line.
struct CaseLine<'a> {
    name: &'a str,
    /// `None` for ok, the reason for FAIL.
    failure: Option<&'a str>,
}

fn parse_case_line(text: &str) -> Option<CaseLine<'_>> {
    let rest = &text[text.find("fault ")? + "fault ".len()..];
    let (name, verdict) = rest.split_once(' ')?;
    if verdict == "ok" {
        Some(CaseLine {
            name,
            failure: None,
        })
    } else {
        verdict.strip_prefix("FAIL ").map(|why| CaseLine {
            name,
            failure: Some(why),
        })
    }
}

/// Runs `fault-inject` with `groups` and checks: every case ok or a known
/// kernel bug, each group's `first_cases` ran, the summary agrees, the
/// program exited, the kernel shut down cleanly and printed no FATAL.
fn check_fault_inject(scenario: &'static str, groups: &str, first_cases: &[&str]) {
    let run = boot_with_initrd(
        &format!("init=/bin/fault-inject -- {groups}"),
        &initrd_path(),
    );
    let mut checks = Checks::new(scenario, &run);
    let cases: Vec<CaseLine<'_>> = run
        .lines
        .iter()
        .filter_map(|line| parse_case_line(&line.text))
        .collect();
    let mut known_failures = 0;
    for case in &cases {
        let Some(why) = case.failure else { continue };
        match KNOWN_KERNEL_BUGS
            .iter()
            .find(|(name, _)| *name == case.name)
        {
            Some((_, reason)) => {
                known_failures += 1;
                eprintln!("known kernel bug: {} ({reason}): {why}", case.name);
            }
            None => {
                checks.expect(false, || format!("case {} failed: {why}", case.name));
            }
        }
    }
    for name in first_cases {
        checks.expect(cases.iter().any(|case| case.name == *name), || {
            format!("case {name} did not run")
        });
    }
    let failed = cases.iter().filter(|case| case.failure.is_some()).count();
    let summary = format!("fault-inject: {} ok, {failed} failed", cases.len() - failed);
    checks.expect(
        run.lines.iter().any(|line| line.text.contains(&summary)),
        || format!("no summary {summary:?} (a case may have hung or crashed)"),
    );
    let status = i32::from(failed > 0);
    let exited = format!("init: /bin/fault-inject exited with status {status}");
    checks.expect(run.find(&exited).is_some(), || {
        format!("missing {exited:?}")
    });
    checks.expect(
        !run.lines.iter().any(|line| line.text.contains("FATAL")),
        || "the kernel printed FATAL".to_owned(),
    );
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {} is not a clean shutdown", run.outcome)
    });
    eprintln!(
        "{scenario}: {} cases, {failed} failed ({known_failures} known kernel bugs)",
        cases.len()
    );
    checks.finish();
}

/// Bad pointers, kernel memory, crafted ELF files, faulting children,
/// unknown system calls and garbage arguments: one boot.
#[test]
fn hostile_system_calls_elf_files_and_faulting_children() {
    check_fault_inject(
        "fault-inject pointers exposure elf child-faults syscalls arguments",
        "pointers exposure elf child-faults syscalls arguments",
        &[
            "pointer-read-null",
            "exposure-write-from-kernel-text-to-pipe",
            "elf-control-runs",
            "child-null-read",
            "syscall-unknown-500",
            "argument-read-fd-minus-one",
        ],
    );
}

/// A fork bomb, then a process that exhausts memory: the kernel refuses
/// with EAGAIN/ENOMEM, everything is reaped and memory comes back.
#[test]
fn fork_bomb_and_memory_exhaustion() {
    check_fault_inject(
        "fault-inject fork-bomb memory",
        "fork-bomb memory",
        &["fork-bomb-until-eagain", "memory-exhaustion-first"],
    );
}

/// The kernel's own allocations (pipes) while a process holds all the
/// memory: refused cleanly. Its own boot, since a kernel panic here would
/// hide every other case (it did, before user memory left the kernel a
/// reserve and pipe buffers grew on demand).
#[test]
fn kernel_allocations_under_memory_pressure() {
    check_fault_inject(
        "fault-inject kernel-memory",
        "kernel-memory",
        &["kernel-memory-pipes-while-exhausted"],
    );
}

// ---------------------------------------------------------------------
// Garbage initrds

/// Writes `bytes` to `target/faults-<name>.cpio` and returns the path.
fn write_initrd(name: &str, bytes: &[u8]) -> PathBuf {
    let path = image_builder::host::workspace_root().join(format!("target/faults-{name}.cpio"));
    std::fs::write(&path, bytes)
        .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
    path
}

/// A newc archive with `/init` holding `init` and a 64 KiB `/bin/filler`.
fn archive_with_init(init: &[u8]) -> Vec<u8> {
    let mut writer = CpioWriter::new(Vec::new());
    writer.directory("bin", 0o755).expect("in memory");
    writer.file("init", 0o755, init).expect("in memory");
    writer
        .file("bin/filler", 0o644, &pseudo_random_bytes(7, 64 << 10))
        .expect("in memory");
    writer.finish().expect("in memory")
}

/// Deterministic garbage (xorshift64).
fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The initrd `bytes` booted with `cmdline`: a line starting with `init:`
/// containing `report`, no FATAL, a clean shutdown.
fn check_initrd_refused(scenario: &'static str, name: &str, bytes: &[u8], report: &str) {
    let path = write_initrd(name, bytes);
    let run = boot_with_initrd("", &path);
    let mut checks = Checks::new(scenario, &run);
    checks.expect(
        run.lines
            .iter()
            .any(|line| line.text.starts_with("init:") && line.text.contains(report)),
        || format!("no `init:` line reports {report:?}"),
    );
    checks.expect(
        !run.lines.iter().any(|line| line.text.contains("FATAL")),
        || "the kernel printed FATAL".to_owned(),
    );
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {} is not a clean shutdown", run.outcome)
    });
    checks.finish();
}

/// 256 KiB of random bytes: no archive at all.
#[test]
fn garbage_initrd_of_random_bytes_is_reported() {
    check_initrd_refused(
        "random-byte initrd",
        "random",
        &pseudo_random_bytes(0xbad, 256 << 10),
        "cannot start /init: initrd: cpio entry at offset 0x0: bad magic",
    );
}

/// A valid archive cut in the middle of /init's data: /init is not found
/// whole.
#[test]
fn truncated_initrd_is_reported() {
    let init = pseudo_random_bytes(3, 32 << 10);
    let archive = archive_with_init(&init);
    // The header of /init (after bin/'s) and half its data.
    let cut = archive
        .windows(5)
        .position(|window| window == b"init\0")
        .expect("the archive names init")
        + init.len() / 2;
    check_initrd_refused(
        "initrd truncated in /init",
        "truncated-in-init",
        &archive[..cut],
        "cannot start /init: initrd: cpio entry at offset",
    );
}

/// A valid archive cut in the middle of a later file: /init is whole (and
/// no ELF here), the file system is refused.
#[test]
fn initrd_truncated_after_init_is_reported() {
    let archive = archive_with_init(b"#!/bin/sh\necho not an ELF\n");
    let cut = archive.len() - (32 << 10);
    check_initrd_refused(
        "initrd truncated after /init",
        "truncated-after-init",
        &archive[..cut],
        "initrd file system unavailable",
    );
}

/// /init is a shell script (no interpreter support) or random bytes: the
/// kernel reports that it cannot start it.
#[test]
fn init_that_is_not_an_elf_is_reported() {
    check_initrd_refused(
        "script as /init",
        "init-script",
        &archive_with_init(b"#!/bin/sh\necho not an ELF\n"),
        "cannot start /init",
    );
    check_initrd_refused(
        "garbage as /init",
        "init-garbage",
        &archive_with_init(&pseudo_random_bytes(11, 8192)),
        "cannot start /init",
    );
}

/// A minimal ELF64 executable: one read+execute `PT_LOAD` of the whole
/// file at `load_address` with `memsz_bytes`, entry at byte 0x78 (right
/// after the headers): `exit_group(0)`.
fn tiny_elf(load_address: u64, memsz_bytes: u64) -> Vec<u8> {
    let code: [u8; 12] = [
        0x31, 0xff, // xor edi, edi
        0xb8, 231, 0, 0, 0, // mov eax, 231 (exit_group)
        0x0f, 0x05, // syscall
        0xeb, 0xfe, // jmp .
        0x90,
    ];
    let file_len = 0x78 + code.len() as u64;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    bytes.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    bytes.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(load_address + 0x78).to_le_bytes()); // e_entry
    bytes.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    bytes.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    bytes.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [64u16, 56, 1, 0, 0, 0] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        bytes.extend_from_slice(&half.to_le_bytes());
    }
    bytes.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    bytes.extend_from_slice(&5u32.to_le_bytes()); // PF_R | PF_X
    for word in [0, load_address, load_address, file_len, memsz_bytes, 0x1000] {
        // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    bytes.extend_from_slice(&code);
    bytes
}

/// /init is an ELF that would map itself over the kernel, or that asks for
/// 64 TiB: the kernel's own loader (not execve) refuses it. The
/// well-formed control runs and exits 0, so the file is right otherwise.
#[test]
fn hostile_init_elf_is_refused() {
    let control = write_initrd(
        "init-elf-control",
        &archive_with_init(&tiny_elf(0x40_0000, 0x84)),
    );
    let run = boot_with_initrd("", &control);
    let mut checks = Checks::new("well-formed tiny /init", &run);
    checks.expect(
        run.find("init: /init exited with status 0").is_some(),
        || "the control /init did not exit with status 0".to_owned(),
    );
    checks.finish();
    check_initrd_refused(
        "/init mapped over the kernel",
        "init-elf-in-kernel",
        &archive_with_init(&tiny_elf(0xffff_ffff_8000_0000, 0x84)),
        "cannot start /init",
    );
    check_initrd_refused(
        "/init with 64 TiB of bss",
        "init-elf-huge",
        &archive_with_init(&tiny_elf(0x40_0000, 1 << 46)),
        "cannot start /init",
    );
}
