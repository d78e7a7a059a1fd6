//! Fault injection: hostile inputs for the kernel and what Linux answers.
//!
//! The tables `fault-inject` runs against the kernel, with the outcome
//! Linux documents for each (man pages `execve(2)`, `read(2)`, ...; where
//! the man page leaves a choice, what `fs/binfmt_elf.c` and `mm/` of Linux
//! 6.1 actually do):
//!
//! - [`HOSTILE_ADDRESSES`]: pointers no system call may follow (NULL, an
//!   unmapped page, non-canonical, the hypervisor's hole, the physmap, the
//!   kernel's text); every one of them must give `EFAULT`.
//! - [`elf_cases`]: crafted ELF64 files, from a well-formed control program
//!   ([`ElfImage::exit_program`]) changed in one field each, and the
//!   [`Expectation`] of an `execve` of each.
//! - [`UNKNOWN_SYSCALLS`]: numbers no Linux x86_64 call has (`ENOSYS`).
//! - [`memory_recovered`], [`fork_bomb_verdict`]: the judgements of the
//!   resource-exhaustion cases.
//! - [`case_line`], [`summary_line`]: the output the system test reads.
//!
//! The host tests below run every ELF case on the build host's Linux and
//! check that Linux's outcome is among the accepted ones, so the
//! expectations are checked against the reference, not against our kernel.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use linux_abi::wait::WaitStatus;
use linux_abi::Errno;

/// The first address past user space (x86_64, 4-level paging): Linux's
/// `TASK_SIZE_MAX` plus the guard page, our kernel's `USER_END`.
pub const USER_ADDRESS_END: u64 = 0x0000_8000_0000_0000;

/// Where our kernel (like Linux) starts its direct map of all memory.
pub const PHYSMAP_ADDRESS: u64 = 0xffff_8880_0000_0000;

/// Where Xen loads our kernel's text (`VIRT_BASE` + 0x2000).
pub const KERNEL_TEXT_ADDRESS: u64 = 0xffff_ffff_8000_2000;

/// An address a system call must refuse to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostileAddress {
    /// Part of the case names: `pointer-read-<name>`.
    pub name: &'static str,
    pub address: u64,
}

/// Pointers that are never valid user memory, lowest first.
pub const HOSTILE_ADDRESSES: &[HostileAddress] = &[
    HostileAddress {
        name: "null",
        address: 0,
    },
    // Below Linux's mmap_min_addr (64 KiB) and below every program's
    // image (0x400000): never mapped.
    HostileAddress {
        name: "unmapped",
        address: 0x1000,
    },
    HostileAddress {
        name: "noncanonical",
        address: USER_ADDRESS_END,
    },
    // The hypervisor's reserved hole at the start of the upper half.
    HostileAddress {
        name: "xen",
        address: 0xffff_8000_0000_0000,
    },
    HostileAddress {
        name: "physmap",
        address: PHYSMAP_ADDRESS,
    },
    HostileAddress {
        name: "kernel-text",
        address: KERNEL_TEXT_ADDRESS,
    },
    HostileAddress {
        name: "last-page",
        address: 0xffff_ffff_ffff_f000,
    },
];

/// The hostile addresses except NULL, for the arguments where NULL is
/// allowed and means "none" (`wait4`'s status, `rt_sigaction`'s act, ...).
pub fn hostile_non_null_addresses() -> impl Iterator<Item = &'static HostileAddress> {
    HOSTILE_ADDRESSES
        .iter()
        .filter(|hostile| hostile.address != 0)
}

/// System-call numbers with no call behind them on Linux x86_64: each
/// must give `ENOSYS`. (Linux takes the number from `eax` sign-extended,
/// so a number like `1 << 32` would be `read`; those are not here.)
pub const UNKNOWN_SYSCALLS: &[(&str, u64)] = &[
    // Between the last common call (469 in Linux 6.18) and the x32
    // range (512-547). Not 335: Linux 6.11 made it uretprobe, which
    // answers a call from outside a uprobe trampoline with SIGILL.
    ("500", 500),
    // Past the x32 range.
    ("600", 600),
    ("100000", 100_000),
    ("i32-max", 0x7fff_ffff),
    // -1: the number Linux reserves for "no system call" (ptrace).
    ("u64-max", u64::MAX),
];

/// Signal numbers the cases expect (`asm-generic/signal.h`).
pub mod signal {
    pub const SIGILL: u8 = 4;
    pub const SIGTRAP: u8 = 5;
    pub const SIGBUS: u8 = 7;
    pub const SIGFPE: u8 = 8;
    pub const SIGKILL: u8 = 9;
    pub const SIGSEGV: u8 = 11;

    /// The name of `number`, for reports.
    pub fn name(number: u8) -> &'static str {
        match number {
            SIGILL => "SIGILL",
            SIGTRAP => "SIGTRAP",
            SIGBUS => "SIGBUS",
            SIGFPE => "SIGFPE",
            SIGKILL => "SIGKILL",
            SIGSEGV => "SIGSEGV",
            _ => "signal",
        }
    }
}

/// The exit status of a child whose `execve` failed: this plus the errno
/// (every errno is below 128, every status is below 256).
pub const EXEC_FAILED_STATUS_BASE: u8 = 128;

/// How a child that tried something hostile ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildOutcome {
    /// Its `execve` returned this error (it exited with
    /// [`EXEC_FAILED_STATUS_BASE`] + errno).
    ExecFailed(Errno),
    /// It exited with this status.
    Exited(u8),
    /// A signal ended it.
    Killed(u8),
    /// A status no exit or kill gives (stopped, continued).
    Other(u32),
}

impl ChildOutcome {
    /// Decodes a wait status of a child that only `execve`s: exit statuses
    /// from 128 up are the errno of a failed `execve`.
    pub fn of_exec_child(status: u32) -> ChildOutcome {
        match WaitStatus::decode(status) {
            Some(WaitStatus::Exited(code)) if code > EXEC_FAILED_STATUS_BASE => {
                match Errno::new(u16::from(code - EXEC_FAILED_STATUS_BASE)) {
                    Some(errno) => ChildOutcome::ExecFailed(errno),
                    None => ChildOutcome::Exited(code),
                }
            }
            Some(WaitStatus::Exited(code)) => ChildOutcome::Exited(code),
            Some(WaitStatus::Signaled { signal, .. }) => ChildOutcome::Killed(signal),
            _ => ChildOutcome::Other(status),
        }
    }

    /// Decodes the wait status of any other child.
    pub fn of_child(status: u32) -> ChildOutcome {
        match WaitStatus::decode(status) {
            Some(WaitStatus::Exited(code)) => ChildOutcome::Exited(code),
            Some(WaitStatus::Signaled { signal, .. }) => ChildOutcome::Killed(signal),
            _ => ChildOutcome::Other(status),
        }
    }
}

impl fmt::Display for ChildOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildOutcome::ExecFailed(errno) => write!(f, "execve failed with {errno:?}"),
            ChildOutcome::Exited(code) => write!(f, "exited with status {code}"),
            ChildOutcome::Killed(number) => {
                write!(f, "killed by {} ({number})", signal::name(*number))
            }
            ChildOutcome::Other(status) => write!(f, "wait status {status:#x}"),
        }
    }
}

/// The outcomes a case accepts: any of these errnos, any of these
/// signals, or this exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub errnos: &'static [Errno],
    pub signals: &'static [u8],
    pub exit_status: Option<u8>,
}

impl Expectation {
    /// `execve` fails with one of `errnos`.
    pub const fn exec_fails(errnos: &'static [Errno]) -> Expectation {
        Expectation {
            errnos,
            signals: &[],
            exit_status: None,
        }
    }

    /// `execve` fails with one of `errnos`, or (past Linux's point of no
    /// return) the new process is killed by one of `signals`.
    pub const fn exec_fails_or_killed(
        errnos: &'static [Errno],
        signals: &'static [u8],
    ) -> Expectation {
        Expectation {
            errnos,
            signals,
            exit_status: None,
        }
    }

    /// The child is killed by `signal` and nothing else.
    pub const fn killed_by(signal: &'static [u8]) -> Expectation {
        Expectation {
            errnos: &[],
            signals: signal,
            exit_status: None,
        }
    }

    /// Also accept the program running and exiting with `status`.
    pub const fn or_runs(self, status: u8) -> Expectation {
        Expectation {
            exit_status: Some(status),
            ..self
        }
    }

    /// Whether `outcome` is one of the accepted ones.
    pub fn accepts(&self, outcome: ChildOutcome) -> bool {
        match outcome {
            ChildOutcome::ExecFailed(errno) => self.errnos.contains(&errno),
            ChildOutcome::Exited(code) => self.exit_status == Some(code),
            ChildOutcome::Killed(number) => self.signals.contains(&number),
            ChildOutcome::Other(_) => false,
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for errno in self.errnos {
            write!(f, "{separator}{errno:?}")?;
            separator = " or ";
        }
        for number in self.signals {
            write!(f, "{separator}killed by {}", signal::name(*number))?;
            separator = " or ";
        }
        if let Some(status) = self.exit_status {
            write!(f, "{separator}exit status {status}")?;
        }
        Ok(())
    }
}

/// Checks a system call's result against the one errno Linux documents.
pub fn expect_errno<T: fmt::Debug>(
    result: Result<T, Errno>,
    expected: Errno,
) -> Result<(), String> {
    match result {
        Err(errno) if errno == expected => Ok(()),
        Err(errno) => Err(format!("expected {expected:?}, got {errno:?}")),
        Ok(value) => Err(format!("expected {expected:?}, got success {value:?}")),
    }
}

/// Checks a system call's result against several acceptable errnos.
pub fn expect_one_of<T: fmt::Debug>(
    result: Result<T, Errno>,
    expected: &[Errno],
) -> Result<(), String> {
    match result {
        Err(errno) if expected.contains(&errno) => Ok(()),
        other => {
            let names: Vec<String> = expected.iter().map(|errno| format!("{errno:?}")).collect();
            let got = match other {
                Err(errno) => format!("{errno:?}"),
                Ok(value) => format!("success {value:?}"),
            };
            Err(format!("expected {}, got {got}", names.join(" or ")))
        }
    }
}

/// One line of output per case: `fault <case> ok` or `fault <case> FAIL
/// <why>`.
pub fn case_line(name: &str, result: &Result<(), String>) -> String {
    match result {
        Ok(()) => format!("fault {name} ok"),
        Err(why) => format!("fault {name} FAIL {why}"),
    }
}

/// The last line: `fault-inject: N ok, M failed`.
pub fn summary_line(ok: usize, failed: usize) -> String {
    format!("fault-inject: {ok} ok, {failed} failed")
}

/// The fork bomb's verdict: forking must stop with `EAGAIN` (the process
/// limit; `fork(2)`) or `ENOMEM` (memory ran out first; also documented)
/// after at least `minimum` children, never with another error.
pub fn fork_bomb_verdict(
    children: usize,
    stopped_by: Option<Errno>,
    minimum: usize,
) -> Result<(), String> {
    match stopped_by {
        None => Err(format!("{children} forks and still no EAGAIN")),
        Some(errno) if errno != Errno::EAGAIN && errno != Errno::ENOMEM => Err(format!(
            "fork stopped after {children} children with {errno:?}, expected EAGAIN or ENOMEM"
        )),
        Some(_) if children < minimum => Err(format!(
            "fork refused after only {children} children (expected at least {minimum})"
        )),
        Some(_) => Ok(()),
    }
}

/// What the kernel may keep for itself after a first exhaustion of memory:
/// its heap grows in steps and keeps 2 MiB of headroom for system calls
/// (ARCHITECTURE.md, "No heap growth inside a page-table operation"), and
/// does not shrink. Twice that headroom covers it.
pub const FIRST_EXHAUSTION_SLACK_KIB: u64 = 4096;

/// What a second, identical exhaustion may lose: nothing but a few page
/// tables' worth of heap that happened to be split differently.
pub const REPEATED_EXHAUSTION_SLACK_KIB: u64 = 512;

/// Whether memory came back after two exhaustions: `MemFree` (KiB) before,
/// after the first and after the second. The first may cost a one-time
/// growth of the kernel's heap; the second must cost (almost) nothing, or
/// every exhaustion leaks.
pub fn memory_recovered(
    before_kib: u64,
    after_first_kib: u64,
    after_second_kib: u64,
) -> Result<(), String> {
    let first_loss = before_kib.saturating_sub(after_first_kib);
    let second_loss = after_first_kib.saturating_sub(after_second_kib);
    if first_loss > FIRST_EXHAUSTION_SLACK_KIB {
        Err(format!(
            "MemFree {before_kib} kB before, {after_first_kib} kB after: {first_loss} kB lost (at most {FIRST_EXHAUSTION_SLACK_KIB})"
        ))
    } else if second_loss > REPEATED_EXHAUSTION_SLACK_KIB {
        Err(format!(
            "a second exhaustion lost {second_loss} kB more ({after_first_kib} -> {after_second_kib} kB, at most {REPEATED_EXHAUSTION_SLACK_KIB})"
        ))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------
// Crafted ELF files

/// `e_ident` and header constants (`elf.h`).
mod elf {
    pub const MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];
    pub const CLASS_32: u8 = 1;
    pub const CLASS_64: u8 = 2;
    pub const DATA_LITTLE_ENDIAN: u8 = 1;
    pub const VERSION_CURRENT: u8 = 1;
    pub const TYPE_RELOCATABLE: u16 = 1;
    pub const TYPE_EXECUTABLE: u16 = 2;
    pub const MACHINE_386: u16 = 3;
    pub const MACHINE_X86_64: u16 = 62;
    pub const MACHINE_AARCH64: u16 = 183;
    pub const HEADER_SIZE: u16 = 64;
    pub const PROGRAM_HEADER_SIZE: u16 = 56;
    pub const PT_LOAD: u32 = 1;
    pub const PT_INTERP: u32 = 3;
    pub const PT_NOTE: u32 = 4;
    pub const PF_X: u32 = 1;
    pub const PF_W: u32 = 2;
    pub const PF_R: u32 = 4;
}

/// One program header (`Elf64_Phdr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

/// An ELF64 file to craft: the header's fields, the program headers and
/// the bytes after them. [`ElfImage::to_bytes`] writes exactly what the
/// fields say, consistent or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    pub class: u8,
    pub magic: [u8; 4],
    pub e_type: u16,
    pub e_machine: u16,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub e_phentsize: u16,
    pub e_phnum: u16,
    pub program_headers: Vec<ProgramHeader>,
    /// File contents from [`ElfImage::CODE_OFFSET`] on.
    pub code: Vec<u8>,
    /// Cut the file to this many bytes.
    pub truncate_to: Option<usize>,
}

impl ElfImage {
    /// Where the control program's code starts in the file.
    pub const CODE_OFFSET: u64 = 0x100;
    /// Where the control program is loaded (the conventional base).
    pub const LOAD_ADDRESS: u64 = 0x40_0000;
    /// The exit status of the control program.
    pub const CONTROL_EXIT_STATUS: u8 = 42;

    /// A well-formed static executable: one read+execute `PT_LOAD` of the
    /// whole file at 0x400000, whose code is `exit_group(status)`.
    pub fn exit_program(status: u8) -> ElfImage {
        let code = vec![
            0xbf, status, 0, 0, 0, // mov edi, status
            0xb8, 231, 0, 0, 0, // mov eax, 231 (exit_group)
            0x0f, 0x05, // syscall
            0xeb, 0xfe, // jmp . (never reached)
        ];
        let file_len = Self::CODE_OFFSET + code.len() as u64;
        ElfImage {
            class: elf::CLASS_64,
            magic: elf::MAGIC,
            e_type: elf::TYPE_EXECUTABLE,
            e_machine: elf::MACHINE_X86_64,
            e_entry: Self::LOAD_ADDRESS + Self::CODE_OFFSET,
            e_phoff: u64::from(elf::HEADER_SIZE),
            e_phentsize: elf::PROGRAM_HEADER_SIZE,
            e_phnum: 1,
            program_headers: vec![ProgramHeader {
                p_type: elf::PT_LOAD,
                p_flags: elf::PF_R | elf::PF_X,
                p_offset: 0,
                p_vaddr: Self::LOAD_ADDRESS,
                p_filesz: file_len,
                p_memsz: file_len,
                p_align: 0x1000,
            }],
            code,
            truncate_to: None,
        }
    }

    /// The control program exiting with [`Self::CONTROL_EXIT_STATUS`].
    pub fn control() -> ElfImage {
        Self::exit_program(Self::CONTROL_EXIT_STATUS)
    }

    /// The first (loadable) program header, to change.
    fn load(&mut self) -> &mut ProgramHeader {
        &mut self.program_headers[0]
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::CODE_OFFSET as usize + self.code.len());
        bytes.extend_from_slice(&self.magic);
        bytes.extend_from_slice(&[
            self.class,
            elf::DATA_LITTLE_ENDIAN,
            elf::VERSION_CURRENT,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        bytes.extend_from_slice(&self.e_type.to_le_bytes());
        bytes.extend_from_slice(&self.e_machine.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes()); // e_version
        bytes.extend_from_slice(&self.e_entry.to_le_bytes());
        bytes.extend_from_slice(&self.e_phoff.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        bytes.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        bytes.extend_from_slice(&elf::HEADER_SIZE.to_le_bytes());
        bytes.extend_from_slice(&self.e_phentsize.to_le_bytes());
        bytes.extend_from_slice(&self.e_phnum.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes()); // e_shentsize
        bytes.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        bytes.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        for header in &self.program_headers {
            bytes.extend_from_slice(&header.p_type.to_le_bytes());
            bytes.extend_from_slice(&header.p_flags.to_le_bytes());
            bytes.extend_from_slice(&header.p_offset.to_le_bytes());
            bytes.extend_from_slice(&header.p_vaddr.to_le_bytes());
            bytes.extend_from_slice(&header.p_vaddr.to_le_bytes()); // p_paddr
            bytes.extend_from_slice(&header.p_filesz.to_le_bytes());
            bytes.extend_from_slice(&header.p_memsz.to_le_bytes());
            bytes.extend_from_slice(&header.p_align.to_le_bytes());
        }
        if bytes.len() < Self::CODE_OFFSET as usize {
            bytes.resize(Self::CODE_OFFSET as usize, 0);
        }
        bytes.extend_from_slice(&self.code);
        if let Some(len) = self.truncate_to {
            bytes.truncate(len);
        }
        bytes
    }
}

/// One crafted file and what an `execve` of it must do.
#[derive(Clone, Debug)]
pub struct ElfCase {
    /// The case name (`elf-<what>`).
    pub name: &'static str,
    pub contents: Vec<u8>,
    /// The file's mode: 0755, or 0644 for the not-executable case.
    pub mode: u32,
    pub expect: Expectation,
}

/// Signals that end a process whose `execve` failed past Linux's point of
/// no return (`fs/exec.c bprm_execve`: `force_fatal_sig(SIGSEGV)`), or
/// that our kernel might use to end it.
const KILLED_AFTER_EXEC: &[u8] = &[signal::SIGSEGV, signal::SIGKILL];

/// The crafted ELF files, control first.
pub fn elf_cases() -> Vec<ElfCase> {
    use Errno as E;
    let control = ElfImage::control();
    let runs = ElfImage::CONTROL_EXIT_STATUS;
    let mut cases = Vec::new();
    let mut add = |name, image: ElfImage, expect| {
        cases.push(ElfCase {
            name,
            contents: image.to_bytes(),
            mode: 0o755,
            expect,
        })
    };
    // The control: if it does not run, every other case means nothing.
    add(
        "elf-control-runs",
        control.clone(),
        Expectation::exec_fails(&[]).or_runs(runs),
    );

    // Refused while reading the header (binfmt_elf: ENOEXEC; execve(2):
    // "not in a recognized format, is for the wrong architecture").
    let mut image = control.clone();
    image.truncate_to = Some(40);
    add(
        "elf-truncated-header",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    let mut image = control.clone();
    image.magic = *b"\x7fELG";
    add(
        "elf-bad-magic",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    // 32-bit: Linux without IA-32 emulation (our kernel has none) says
    // ENOEXEC; with it, the compat loader also refuses this header.
    let mut image = control.clone();
    image.class = elf::CLASS_32;
    image.e_machine = elf::MACHINE_386;
    add(
        "elf-wrong-class",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    let mut image = control.clone();
    image.e_machine = elf::MACHINE_AARCH64;
    add(
        "elf-wrong-machine",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    let mut image = control.clone();
    image.e_type = elf::TYPE_RELOCATABLE;
    add(
        "elf-relocatable-type",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    let mut image = control.clone();
    image.e_phentsize = 32;
    add(
        "elf-bad-phentsize",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    // 65535 headers are more than the 64 KiB binfmt_elf reads at most.
    let mut image = control.clone();
    image.e_phnum = u16::MAX;
    add(
        "elf-phnum-huge",
        image,
        Expectation::exec_fails(&[E::ENOEXEC]),
    );
    // Linux's short read of the headers is EIO (elf_read); a loader that
    // bounds-checks first says ENOEXEC: both tell the caller.
    let mut image = control.clone();
    image.e_phoff = 0x10_0000;
    add(
        "elf-phdrs-beyond-file",
        image,
        Expectation::exec_fails(&[E::ENOEXEC, E::EIO]),
    );
    // An offset near 2^64: Linux's read at a negative position is EINVAL.
    let mut image = control.clone();
    image.e_phoff = u64::MAX - 8;
    add(
        "elf-phoff-overflows",
        image,
        Expectation::exec_fails(&[E::ENOEXEC, E::EIO, E::EINVAL]),
    );

    // Refused (or fatal) while mapping. Linux checks these after its point
    // of no return, so it kills the new process with SIGSEGV; a loader
    // that validates first returns ENOEXEC/EINVAL/ENOMEM to the caller.
    let mut image = control.clone();
    image.load().p_type = elf::PT_NOTE;
    add(
        "elf-no-load-segments",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC),
    );
    let mut image = control.clone();
    let first = image.program_headers[0];
    image.program_headers.push(ProgramHeader {
        p_flags: elf::PF_R | elf::PF_W,
        ..first
    });
    image.e_phnum = 2;
    // Linux maps the second over the first (MAP_FIXED) and runs it.
    add(
        "elf-overlapping-segments",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC)
            .or_runs(runs),
    );
    let mut image = control.clone();
    image.load().p_memsz = 16;
    add(
        "elf-filesz-exceeds-memsz",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC),
    );
    let mut image = control.clone();
    image.load().p_memsz = 1 << 46;
    add(
        "elf-huge-memsz",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL, E::ENOMEM], KILLED_AFTER_EXEC),
    );
    let mut image = control.clone();
    image.load().p_memsz = u64::MAX - 0x1000;
    add(
        "elf-memsz-wraps",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL, E::ENOMEM], KILLED_AFTER_EXEC),
    );
    for (name, address) in [
        ("elf-segment-in-kernel-text", KERNEL_TEXT_ADDRESS - 0x2000),
        ("elf-segment-over-physmap", PHYSMAP_ADDRESS),
        ("elf-segment-crosses-user-end", USER_ADDRESS_END - 0x1000),
    ] {
        let mut image = control.clone();
        image.load().p_vaddr = address;
        image.e_entry = address + ElfImage::CODE_OFFSET;
        add(
            name,
            image,
            Expectation::exec_fails_or_killed(
                &[E::ENOEXEC, E::EINVAL, E::ENOMEM],
                KILLED_AFTER_EXEC,
            ),
        );
    }
    let mut image = control.clone();
    image.load().p_offset = 1;
    add(
        "elf-offset-misaligned",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC),
    );
    // Linux maps the file past its end (only touching it would be
    // SIGBUS); the code lies in the first page, so the program runs.
    let mut image = control.clone();
    image.load().p_filesz += 0x10000;
    image.load().p_memsz += 0x10000;
    add(
        "elf-segment-beyond-file",
        image,
        Expectation::exec_fails_or_killed(
            &[E::ENOEXEC, E::EINVAL, E::EIO],
            &[signal::SIGSEGV, signal::SIGKILL, signal::SIGBUS],
        )
        .or_runs(runs),
    );

    // Bad entry points. Linux does not check that the entry lies in a
    // segment: the new process faults (SIGSEGV) on its first instruction.
    let mut image = control.clone();
    image.e_entry = 0x1000_0000;
    add(
        "elf-entry-outside-segments",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC),
    );
    let mut image = control.clone();
    image.e_entry = KERNEL_TEXT_ADDRESS;
    add(
        "elf-entry-in-kernel",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC),
    );
    let mut image = control.clone();
    image.e_entry = USER_ADDRESS_END;
    add(
        "elf-entry-noncanonical",
        image,
        Expectation::exec_fails_or_killed(&[E::ENOEXEC, E::EINVAL], KILLED_AFTER_EXEC),
    );

    // A dynamic executable whose interpreter does not exist: Linux says
    // ENOENT (execve(2)); our kernel loads no interpreter at all, and
    // ENOEXEC tells the caller as much.
    let mut image = control.clone();
    let interpreter = b"/nonexistent/ld.so\0";
    let interpreter_offset = ElfImage::CODE_OFFSET + image.code.len() as u64;
    image.code.extend_from_slice(interpreter);
    image.program_headers.insert(
        0,
        ProgramHeader {
            p_type: elf::PT_INTERP,
            p_flags: elf::PF_R,
            p_offset: interpreter_offset,
            p_vaddr: ElfImage::LOAD_ADDRESS + interpreter_offset,
            p_filesz: interpreter.len() as u64,
            p_memsz: interpreter.len() as u64,
            p_align: 1,
        },
    );
    image.e_phnum = 2;
    let file_len = interpreter_offset + interpreter.len() as u64;
    image.program_headers[1].p_filesz = file_len;
    image.program_headers[1].p_memsz = file_len;
    add(
        "elf-interpreter-missing",
        image,
        Expectation::exec_fails(&[E::ENOENT, E::ENOEXEC]),
    );

    // Not ELF at all, or not executable.
    cases.push(ElfCase {
        name: "exec-empty-file",
        contents: Vec::new(),
        mode: 0o755,
        expect: Expectation::exec_fails(&[E::ENOEXEC]),
    });
    cases.push(ElfCase {
        name: "exec-garbage-file",
        contents: pseudo_random_bytes(0x5eed, 4096),
        mode: 0o755,
        expect: Expectation::exec_fails(&[E::ENOEXEC]),
    });
    cases.push(ElfCase {
        name: "exec-without-execute-permission",
        contents: control.to_bytes(),
        mode: 0o644,
        expect: Expectation::exec_fails(&[E::EACCES]),
    });
    cases
}

/// Deterministic filler (xorshift64), so a failing garbage case can be
/// reproduced byte for byte.
pub fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;
    use std::string::ToString;

    #[test]
    fn control_image_is_laid_out_as_the_fields_say() {
        let bytes = ElfImage::control().to_bytes();
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert_eq!(bytes[4], 2, "ELFCLASS64");
        assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 62);
        assert_eq!(
            u64::from_le_bytes(bytes[24..32].try_into().unwrap()),
            0x40_0100
        );
        assert_eq!(u16::from_le_bytes([bytes[54], bytes[55]]), 56);
        // The segment covers the whole file, code included.
        let filesz = u64::from_le_bytes(bytes[64 + 32..64 + 40].try_into().unwrap());
        assert_eq!(filesz, bytes.len() as u64);
        assert_eq!(&bytes[0x100..0x102], &[0xbf, 42]);
    }

    #[test]
    fn case_names_are_unique() {
        let cases = elf_cases();
        let mut names: Vec<&str> = cases.iter().map(|case| case.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len());
    }

    #[test]
    fn exec_child_statuses_decode() {
        assert_eq!(
            ChildOutcome::of_exec_child(u32::from(EXEC_FAILED_STATUS_BASE + 8) << 8),
            ChildOutcome::ExecFailed(Errno::ENOEXEC)
        );
        assert_eq!(
            ChildOutcome::of_exec_child(42 << 8),
            ChildOutcome::Exited(42)
        );
        assert_eq!(ChildOutcome::of_exec_child(11), ChildOutcome::Killed(11));
        assert_eq!(ChildOutcome::of_exec_child(0x8b), ChildOutcome::Killed(11));
        assert_eq!(ChildOutcome::of_child(0x7f), ChildOutcome::Other(0x7f));
    }

    #[test]
    fn expectations_accept_only_what_they_list() {
        let expect = Expectation::exec_fails_or_killed(&[Errno::ENOEXEC], &[signal::SIGSEGV]);
        assert!(expect.accepts(ChildOutcome::ExecFailed(Errno::ENOEXEC)));
        assert!(expect.accepts(ChildOutcome::Killed(11)));
        assert!(!expect.accepts(ChildOutcome::ExecFailed(Errno::EINVAL)));
        assert!(!expect.accepts(ChildOutcome::Exited(42)));
        assert!(expect.or_runs(42).accepts(ChildOutcome::Exited(42)));
        assert_eq!(
            expect.or_runs(42).to_string(),
            "ENOEXEC or killed by SIGSEGV or exit status 42"
        );
    }

    #[test]
    fn errno_checks_name_what_they_got() {
        assert_eq!(
            expect_errno::<u64>(Err(Errno::EFAULT), Errno::EFAULT),
            Ok(())
        );
        assert_eq!(
            expect_errno::<u64>(Ok(16), Errno::EFAULT),
            Err("expected EFAULT, got success 16".into())
        );
        assert_eq!(
            expect_one_of::<u64>(Err(Errno::EIO), &[Errno::EFAULT, Errno::EINVAL]),
            Err("expected EFAULT or EINVAL, got EIO".into())
        );
    }

    #[test]
    fn lines_are_what_the_system_test_reads() {
        assert_eq!(case_line("a-b", &Ok(())), "fault a-b ok");
        assert_eq!(
            case_line("a-b", &Err("expected EFAULT, got EINVAL".into())),
            "fault a-b FAIL expected EFAULT, got EINVAL"
        );
        assert_eq!(summary_line(3, 1), "fault-inject: 3 ok, 1 failed");
    }

    #[test]
    fn fork_bomb_must_end_in_eagain_or_enomem() {
        assert!(fork_bomb_verdict(62, Some(Errno::EAGAIN), 8).is_ok());
        assert!(fork_bomb_verdict(30, Some(Errno::ENOMEM), 8).is_ok());
        assert!(fork_bomb_verdict(3, Some(Errno::EAGAIN), 8).is_err());
        assert!(fork_bomb_verdict(62, Some(Errno::EINVAL), 8).is_err());
        assert!(fork_bomb_verdict(1000, None, 8).is_err());
    }

    #[test]
    fn memory_may_shrink_once_but_not_twice() {
        assert!(memory_recovered(50_000, 47_000, 47_000).is_ok());
        assert!(memory_recovered(50_000, 40_000, 40_000).is_err());
        assert!(memory_recovered(50_000, 47_000, 46_000).is_err());
        // More free memory afterwards is fine (the heap gave some back).
        assert!(memory_recovered(50_000, 51_000, 52_000).is_ok());
    }

    #[test]
    fn hostile_addresses_are_outside_user_space_or_below_the_image() {
        for hostile in HOSTILE_ADDRESSES {
            assert!(
                hostile.address < 0x1_0000 || hostile.address >= USER_ADDRESS_END,
                "{}",
                hostile.name
            );
        }
        assert_eq!(
            hostile_non_null_addresses().count(),
            HOSTILE_ADDRESSES.len() - 1
        );
    }

    /// The reference: every crafted file executed by the build host's
    /// Linux gives one of the outcomes its case accepts.
    #[test]
    fn linux_outcomes_are_accepted() {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return;
        }
        let dir = std::env::temp_dir().join(format!("fault-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut failures = Vec::new();
        for case in elf_cases() {
            let path = dir.join(case.name);
            std::fs::write(&path, &case.contents).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(case.mode)).unwrap();
            let outcome = match Command::new(&path).status() {
                Err(error) => match error
                    .raw_os_error()
                    .and_then(|code| Errno::new(code as u16))
                {
                    Some(errno) => ChildOutcome::ExecFailed(errno),
                    None => panic!("{}: {error}", case.name),
                },
                Ok(status) => match (status.code(), status.signal()) {
                    (Some(code), _) => ChildOutcome::Exited(code as u8),
                    (None, Some(signal)) => ChildOutcome::Killed(signal as u8),
                    _ => ChildOutcome::Other(0),
                },
            };
            if !case.expect.accepts(outcome) {
                failures.push(format!(
                    "{}: Linux {outcome}, expected {}",
                    case.name, case.expect
                ));
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
