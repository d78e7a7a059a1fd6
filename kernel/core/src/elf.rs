//! Plans how to load a static x86_64 ELF program and lays out its stack.
//!
//! `execve` in three pure steps, each checked here and carried out by the
//! kernel:
//!
//! 1. [`parse_shebang`]: a file starting with `#!` is a script; the kernel
//!    re-runs `execve` on the interpreter with [`script_argv`].
//! 2. [`plan_load`]: validates an ELF64 little-endian x86_64 executable
//!    (`ET_EXEC`, or `ET_DYN` for static-pie) against the ELF spec
//!    ("Program Loading", System V gABI ch. 5) and the x86_64 psABI, and
//!    turns its `PT_LOAD` segments into a [`LoadPlan`]: for every page,
//!    its address, protection and which file bytes to copy into it (the
//!    rest is zero: `.bss`). The file is hostile: sizes are bounded,
//!    arithmetic is checked, segments must lie in the file and in the user
//!    half, must not overlap, and the entry point must be executable.
//!    Dynamically linked programs (`PT_INTERP`) are refused: there is no
//!    dynamic loader.
//! 3. [`build_initial_stack`]: the exact bytes of the initial stack as
//!    Linux lays them out (`fs/binfmt_elf.c`, `create_elf_tables`; psABI
//!    3.4.1 "Initial Stack and Register State"): `argc`, `argv` pointers,
//!    NULL, `envp` pointers, NULL, auxiliary vector, `AT_NULL`, padding,
//!    the 16 `AT_RANDOM` bytes, the platform string, the argument and
//!    environment strings, the file name and an 8-byte NULL at the top;
//!    `rsp` points at `argc` and is 16-byte aligned.
//!
//! The kernel maps each planned page (fresh zeroed frame, copy, set
//! protection), sets `brk` to [`LoadPlan::brk_start`], copies the stack
//! image below the stack top and enters user mode at `entry` with that
//! `rsp` and zeroed registers (`rdx` = 0: no `atexit` function).

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use linux_abi::auxv::*;
use linux_abi::limits::{MAX_ARG_STRLEN, PAGE_SIZE, TASK_SIZE, USER_HZ};
use linux_abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
use linux_abi::Errno;

pub const EM_X86_64: u16 = 62;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const PT_NULL: u32 = 0;
pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
/// Size of `Elf64_Ehdr`.
pub const EHDR_SIZE: usize = 64;
/// Size of `Elf64_Phdr`.
pub const PHDR_SIZE: usize = 56;
/// Where Linux puts an `ET_DYN` program without randomisation
/// (`ELF_ET_DYN_BASE` = 2/3 of `TASK_SIZE`, page-aligned).
pub const ET_DYN_BASE: u64 = (TASK_SIZE / 3 * 2) & !(PAGE_SIZE - 1);
/// Bytes of a `#!` line the kernel looks at (`BINPRM_BUF_SIZE`).
pub const SHEBANG_MAX: usize = 256;

/// Bounds applied to a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Lowest address a segment may use (`vm.mmap_min_addr`, 64 KiB: keeps
    /// NULL dereferences faulting).
    pub min_vaddr: u64,
    /// End of the user half (exclusive).
    pub user_end: u64,
    /// Most bytes of memory the segments may span.
    pub max_image_bytes: u64,
    /// Most program headers (Linux: 64 KiB of them).
    pub max_phnum: u16,
    /// Load base for `ET_DYN` programs.
    pub dyn_base: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_vaddr: 0x1_0000,
            user_end: TASK_SIZE,
            max_image_bytes: 1 << 30,
            max_phnum: (65536 / PHDR_SIZE) as u16,
            dyn_base: ET_DYN_BASE,
        }
    }
}

/// What is wrong with a program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentProblem {
    /// `p_offset + p_filesz` is beyond the end of the file.
    FileRangeOutsideFile,
    /// `p_filesz > p_memsz`.
    FileSizeAboveMemorySize,
    /// `p_vaddr` and `p_offset` differ modulo the page size.
    Misaligned,
    /// `p_align` is not 0 or a power of two.
    BadAlignment,
    /// The segment reaches outside `[min_vaddr, user_end)`.
    OutsideUserSpace,
    /// The segment overlaps the one with this header index.
    Overlaps(usize),
}

/// Why a program cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than an ELF header.
    Truncated { len: usize },
    /// Not `\x7fELF`.
    BadMagic,
    /// `EI_CLASS` is not `ELFCLASS64`.
    NotElf64(u8),
    /// `EI_DATA` is not `ELFDATA2LSB`.
    NotLittleEndian(u8),
    /// `EI_VERSION` or `e_version` is not 1.
    BadVersion,
    /// `e_machine` is not `EM_X86_64` (62).
    WrongMachine(u16),
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN`.
    NotExecutable(u16),
    /// `e_phentsize` is not 56.
    BadProgramHeaderSize(u16),
    /// `e_phnum` is 0 or above the limit.
    BadProgramHeaderCount(u16),
    /// The program header table is not inside the file.
    ProgramHeadersOutsideFile,
    /// A `PT_INTERP` header: dynamically linked, and we have no `ld.so`.
    Dynamic,
    /// A `PT_LOAD` header is invalid.
    Segment {
        index: usize,
        problem: SegmentProblem,
    },
    /// No `PT_LOAD` segment with memory.
    NothingToLoad,
    /// The segments span more than the image limit.
    TooLarge { bytes: u64, limit: u64 },
    /// `e_entry` is not inside an executable segment.
    EntryNotExecutable(u64),
}

impl ElfError {
    /// The `execve` error: `ENOEXEC` for a bad file, `ENOMEM` for one
    /// that is too big.
    pub fn errno(&self) -> Errno {
        match self {
            ElfError::TooLarge { .. } => Errno::ENOMEM,
            _ => Errno::ENOEXEC,
        }
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::Truncated { len } => {
                write!(
                    f,
                    "file of {len} bytes is shorter than an ELF header ({EHDR_SIZE})"
                )
            }
            ElfError::BadMagic => f.write_str("not an ELF file (bad magic)"),
            ElfError::NotElf64(class) => write!(f, "EI_CLASS is {class}, expected 2 (64-bit)"),
            ElfError::NotLittleEndian(data) => {
                write!(f, "EI_DATA is {data}, expected 1 (little-endian)")
            }
            ElfError::BadVersion => f.write_str("ELF version is not 1"),
            ElfError::WrongMachine(machine) => {
                write!(f, "e_machine is {machine}, expected {EM_X86_64} (x86_64)")
            }
            ElfError::NotExecutable(kind) => {
                write!(f, "e_type is {kind}, expected ET_EXEC (2) or ET_DYN (3)")
            }
            ElfError::BadProgramHeaderSize(size) => {
                write!(f, "e_phentsize is {size}, expected {PHDR_SIZE}")
            }
            ElfError::BadProgramHeaderCount(count) => {
                write!(
                    f,
                    "e_phnum is corrupt: expected 1 <= e_phnum <= 1170 but got {count}"
                )
            }
            ElfError::ProgramHeadersOutsideFile => {
                f.write_str("program header table extends past the end of the file")
            }
            ElfError::Dynamic => {
                f.write_str("dynamically linked (PT_INTERP): only static programs are supported")
            }
            ElfError::Segment { index, problem } => {
                write!(f, "program header {index}: ")?;
                match problem {
                    SegmentProblem::FileRangeOutsideFile => {
                        f.write_str("p_offset + p_filesz is past the end of the file")
                    }
                    SegmentProblem::FileSizeAboveMemorySize => f.write_str("p_filesz > p_memsz"),
                    SegmentProblem::Misaligned => {
                        f.write_str("p_vaddr and p_offset differ modulo the page size")
                    }
                    SegmentProblem::BadAlignment => f.write_str("p_align is not a power of two"),
                    SegmentProblem::OutsideUserSpace => {
                        f.write_str("segment is outside the user address range")
                    }
                    SegmentProblem::Overlaps(other) => {
                        write!(f, "segment overlaps program header {other}")
                    }
                }
            }
            ElfError::NothingToLoad => f.write_str("no loadable segment"),
            ElfError::TooLarge { bytes, limit } => {
                write!(f, "segments span {bytes} bytes, above the limit of {limit}")
            }
            ElfError::EntryNotExecutable(entry) => {
                write!(f, "entry point {entry:#x} is not in an executable segment")
            }
        }
    }
}

impl core::error::Error for ElfError {}

/// One program header, as read from the file.
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

/// File bytes to copy into a page; the rest of the page stays zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageCopy {
    /// Where in the page the bytes go.
    pub page_offset: u32,
    /// Where in the file they come from.
    pub file_offset: u64,
    pub len: u32,
}

/// One page of the program image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagePlan {
    /// Page-aligned user address.
    pub vaddr: u64,
    /// `PROT_*` bits (the union when two segments share the page).
    pub prot: u32,
    /// Index range into [`LoadPlan::copies`].
    pub copies: Range<usize>,
}

/// A loaded segment's extent, for the kernel's memory map (`/proc/maps`,
/// `mprotect` checks, core dumps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentPlan {
    /// Page-aligned start.
    pub start: u64,
    /// Page-aligned end (exclusive).
    pub end: u64,
    pub prot: u32,
}

/// How to build a program's image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// Where execution starts (with the load bias applied).
    pub entry: u64,
    /// Added to every address of an `ET_DYN` program; 0 for `ET_EXEC`.
    pub load_bias: u64,
    pub segments: Vec<SegmentPlan>,
    /// Every page to map, in ascending address order.
    pub pages: Vec<PagePlan>,
    pub copies: Vec<PageCopy>,
    /// The initial program break: the page after the highest segment.
    pub brk_start: u64,
    /// `AT_PHDR`: where the program headers are in memory (0 if nowhere).
    pub phdr_vaddr: u64,
    /// `AT_PHNUM`.
    pub phnum: u16,
    /// `PT_GNU_STACK` asked for an executable stack.
    pub executable_stack: bool,
}

/// The ids reported in the auxiliary vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
}

impl LoadPlan {
    /// The copies for one page.
    pub fn copies_for(&self, page: &PagePlan) -> &[PageCopy] {
        &self.copies[page.copies.clone()]
    }

    /// The auxiliary vector entries that describe this program; the stack
    /// builder adds `AT_RANDOM`, `AT_EXECFN`, `AT_PLATFORM` and `AT_NULL`.
    pub fn auxv(&self, credentials: Credentials, hwcap: u64) -> Vec<(u64, u64)> {
        vec![
            (AT_HWCAP, hwcap),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_CLKTCK, USER_HZ),
            (AT_PHDR, self.phdr_vaddr),
            (AT_PHENT, PHDR_SIZE as u64),
            (AT_PHNUM, u64::from(self.phnum)),
            (AT_BASE, 0),
            (AT_FLAGS, 0),
            (AT_ENTRY, self.entry),
            (AT_UID, u64::from(credentials.uid)),
            (AT_EUID, u64::from(credentials.euid)),
            (AT_GID, u64::from(credentials.gid)),
            (AT_EGID, u64::from(credentials.egid)),
            (
                AT_SECURE,
                u64::from(
                    credentials.uid != credentials.euid || credentials.gid != credentials.egid,
                ),
            ),
        ]
    }
}

fn read_u16(file: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([file[offset], file[offset + 1]])
}

fn read_u32(file: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(file[offset..offset + 4].try_into().expect("4 bytes"))
}

fn read_u64(file: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(file[offset..offset + 8].try_into().expect("8 bytes"))
}

fn page_floor(address: u64) -> u64 {
    address & !(PAGE_SIZE - 1)
}

fn page_ceil(address: u64) -> Option<u64> {
    address.checked_add(PAGE_SIZE - 1).map(page_floor)
}

fn prot_of(p_flags: u32) -> u32 {
    let mut prot = 0;
    if p_flags & PF_R != 0 {
        prot |= PROT_READ;
    }
    if p_flags & PF_W != 0 {
        prot |= PROT_WRITE;
    }
    if p_flags & PF_X != 0 {
        prot |= PROT_EXEC;
    }
    prot
}

/// Reads the program headers after validating the ELF header.
pub fn program_headers(
    file: &[u8],
    limits: &Limits,
) -> Result<(u16, u64, Vec<ProgramHeader>), ElfError> {
    if file.len() < EHDR_SIZE {
        return Err(ElfError::Truncated { len: file.len() });
    }
    if &file[..4] != b"\x7fELF" {
        return Err(ElfError::BadMagic);
    }
    if file[4] != 2 {
        return Err(ElfError::NotElf64(file[4]));
    }
    if file[5] != 1 {
        return Err(ElfError::NotLittleEndian(file[5]));
    }
    let e_type = read_u16(file, 16);
    let e_machine = read_u16(file, 18);
    let e_version = read_u32(file, 20);
    let e_phoff = read_u64(file, 32);
    let e_phentsize = read_u16(file, 54);
    let e_phnum = read_u16(file, 56);
    if file[6] != 1 || e_version != 1 {
        return Err(ElfError::BadVersion);
    }
    if e_machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(e_machine));
    }
    if e_type != ET_EXEC && e_type != ET_DYN {
        return Err(ElfError::NotExecutable(e_type));
    }
    if usize::from(e_phentsize) != PHDR_SIZE {
        return Err(ElfError::BadProgramHeaderSize(e_phentsize));
    }
    if e_phnum == 0 || e_phnum > limits.max_phnum {
        return Err(ElfError::BadProgramHeaderCount(e_phnum));
    }
    let table_len = usize::from(e_phnum) * PHDR_SIZE;
    let table_start = usize::try_from(e_phoff).map_err(|_| ElfError::ProgramHeadersOutsideFile)?;
    let table = table_start
        .checked_add(table_len)
        .and_then(|end| file.get(table_start..end))
        .ok_or(ElfError::ProgramHeadersOutsideFile)?;
    let headers = table
        .chunks_exact(PHDR_SIZE)
        .map(|raw| ProgramHeader {
            p_type: read_u32(raw, 0),
            p_flags: read_u32(raw, 4),
            p_offset: read_u64(raw, 8),
            p_vaddr: read_u64(raw, 16),
            p_filesz: read_u64(raw, 32),
            p_memsz: read_u64(raw, 40),
            p_align: read_u64(raw, 48),
        })
        .collect();
    Ok((e_type, e_phoff, headers))
}

/// Validates `file` and plans its image (see the module documentation).
pub fn plan_load(file: &[u8], limits: &Limits) -> Result<LoadPlan, ElfError> {
    let (e_type, e_phoff, headers) = program_headers(file, limits)?;
    let e_entry = read_u64(file, 24);
    if headers.iter().any(|header| header.p_type == PT_INTERP) {
        return Err(ElfError::Dynamic);
    }

    // Check each PT_LOAD on its own, in file terms.
    let mut loads: Vec<(usize, ProgramHeader)> = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        if header.p_type != PT_LOAD {
            continue;
        }
        let problem = |problem| ElfError::Segment { index, problem };
        if header.p_align > 1 && !header.p_align.is_power_of_two() {
            return Err(problem(SegmentProblem::BadAlignment));
        }
        if header.p_filesz > header.p_memsz {
            return Err(problem(SegmentProblem::FileSizeAboveMemorySize));
        }
        let file_end = header.p_offset.checked_add(header.p_filesz);
        if file_end.is_none_or(|end| end > file.len() as u64) {
            return Err(problem(SegmentProblem::FileRangeOutsideFile));
        }
        if header.p_vaddr % PAGE_SIZE != header.p_offset % PAGE_SIZE {
            return Err(problem(SegmentProblem::Misaligned));
        }
        if header.p_memsz > 0 {
            loads.push((index, *header));
        }
    }
    if loads.is_empty() {
        return Err(ElfError::NothingToLoad);
    }

    // Place them: ET_DYN moves the lowest page to the base.
    let lowest = loads
        .iter()
        .map(|(_, header)| header.p_vaddr)
        .min()
        .expect("non-empty");
    let load_bias = if e_type == ET_DYN {
        limits.dyn_base.wrapping_sub(page_floor(lowest))
    } else {
        0
    };
    let mut placed: Vec<(usize, u64, ProgramHeader)> = Vec::new();
    for &(index, header) in &loads {
        // ET_DYN: the distance from the lowest page, added to the base.
        let start = if e_type == ET_DYN {
            limits
                .dyn_base
                .checked_add(header.p_vaddr - page_floor(lowest))
        } else {
            Some(header.p_vaddr)
        };
        let in_range = start.is_some_and(|start| {
            start >= limits.min_vaddr
                && start
                    .checked_add(header.p_memsz)
                    .is_some_and(|end| end <= limits.user_end)
        });
        let (true, Some(start)) = (in_range, start) else {
            return Err(ElfError::Segment {
                index,
                problem: SegmentProblem::OutsideUserSpace,
            });
        };
        placed.push((index, start, header));
    }
    placed.sort_by_key(|&(_, start, _)| start);
    for pair in placed.windows(2) {
        let (first_index, first_start, first) = pair[0];
        let (second_index, second_start, _) = pair[1];
        if first_start + first.p_memsz > second_start {
            return Err(ElfError::Segment {
                index: second_index.max(first_index),
                problem: SegmentProblem::Overlaps(second_index.min(first_index)),
            });
        }
    }

    // Size of the image in pages (a page shared by two segments counts once).
    let mut span_bytes = 0u64;
    let mut previous_end_page = 0u64;
    for &(_, start, header) in &placed {
        let first_page = page_floor(start).max(previous_end_page);
        let end_page = page_ceil(start + header.p_memsz).expect("below user_end");
        span_bytes += end_page.saturating_sub(first_page);
        previous_end_page = end_page;
    }
    if span_bytes > limits.max_image_bytes {
        return Err(ElfError::TooLarge {
            bytes: span_bytes,
            limit: limits.max_image_bytes,
        });
    }

    let entry = e_entry.wrapping_add(load_bias);
    let entry_ok = placed.iter().any(|&(_, start, header)| {
        header.p_flags & PF_X != 0 && entry >= start && entry - start < header.p_memsz
    });
    if !entry_ok {
        return Err(ElfError::EntryNotExecutable(entry));
    }

    // Pages and copies.
    let mut pages: Vec<PagePlan> = Vec::new();
    let mut copies: Vec<PageCopy> = Vec::new();
    let mut segments = Vec::new();
    for &(_, start, header) in &placed {
        let prot = prot_of(header.p_flags);
        let end = start + header.p_memsz;
        let file_backed_end = start + header.p_filesz;
        let end_page = page_ceil(end).expect("below user_end");
        segments.push(SegmentPlan {
            start: page_floor(start),
            end: end_page,
            prot,
        });
        let mut page = page_floor(start);
        while page < end_page {
            let shared = pages.last().is_some_and(|last| last.vaddr == page);
            if !shared {
                pages.push(PagePlan {
                    vaddr: page,
                    prot: 0,
                    copies: copies.len()..copies.len(),
                });
            }
            let plan = pages.last_mut().expect("pushed above");
            plan.prot |= prot;
            let copy_start = page.max(start);
            let copy_end = (page + PAGE_SIZE).min(file_backed_end);
            if copy_start < copy_end {
                copies.push(PageCopy {
                    page_offset: (copy_start - page) as u32,
                    file_offset: header.p_offset + (copy_start - start),
                    len: (copy_end - copy_start) as u32,
                });
                plan.copies.end = copies.len();
            }
            page += PAGE_SIZE;
        }
    }
    let brk_start = segments.last().expect("non-empty").end;

    // AT_PHDR: PT_PHDR if present, else the PT_LOAD holding the table.
    let table_end = e_phoff + (headers.len() * PHDR_SIZE) as u64;
    let phdr_vaddr = headers
        .iter()
        .find(|header| header.p_type == PT_PHDR)
        .map(|header| header.p_vaddr.wrapping_add(load_bias))
        .or_else(|| {
            loads
                .iter()
                .find(|(_, header)| {
                    header.p_offset <= e_phoff && table_end <= header.p_offset + header.p_filesz
                })
                .map(|(_, header)| header.p_vaddr + (e_phoff - header.p_offset) + load_bias)
        })
        .unwrap_or(0);
    let executable_stack = headers
        .iter()
        .find(|header| header.p_type == PT_GNU_STACK)
        .is_some_and(|header| header.p_flags & PF_X != 0);

    Ok(LoadPlan {
        entry,
        load_bias,
        segments,
        pages,
        copies,
        brk_start,
        phdr_vaddr,
        phnum: headers.len() as u16,
        executable_stack,
    })
}

/// The interpreter line of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shebang<'a> {
    /// The interpreter's path.
    pub interpreter: &'a [u8],
    /// Everything after it on the line (one argument, spaces included).
    pub argument: Option<&'a [u8]>,
}

/// Why a `#!` line is unusable (`ENOEXEC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShebangError {
    /// Nothing after `#!`.
    NoInterpreter,
    /// The interpreter's path does not end within the first 256 bytes.
    InterpreterTooLong,
}

impl fmt::Display for ShebangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShebangError::NoInterpreter => f.write_str("#! line names no interpreter"),
            ShebangError::InterpreterTooLong => {
                write!(f, "#! interpreter path does not fit in {SHEBANG_MAX} bytes")
            }
        }
    }
}

impl core::error::Error for ShebangError {}

/// Reads the `#!` line from the start of a file (`fs/binfmt_script.c`):
/// `None` if the file is not a script. Only the first 256 bytes count; a
/// longer argument is cut, a longer interpreter path is an error.
pub fn parse_shebang(head: &[u8]) -> Option<Result<Shebang<'_>, ShebangError>> {
    if !head.starts_with(b"#!") {
        return None;
    }
    let buffer = &head[..head.len().min(SHEBANG_MAX)];
    let (line, cut) = match buffer.iter().position(|&byte| byte == b'\n') {
        Some(newline) => (&buffer[2..newline], false),
        None => (&buffer[2..], head.len() > SHEBANG_MAX),
    };
    let is_blank = |byte: &u8| matches!(byte, b' ' | b'\t');
    let line = match line.iter().position(|&byte| byte == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let Some(start) = line.iter().position(|byte| !is_blank(byte)) else {
        return Some(Err(ShebangError::NoInterpreter));
    };
    let end = line
        .iter()
        .rposition(|byte| !is_blank(byte))
        .map_or(start, |last| last + 1);
    let line = &line[start..end];
    let interpreter_end = line.iter().position(is_blank).unwrap_or(line.len());
    if cut && interpreter_end == line.len() && end == buffer.len() - 2 {
        return Some(Err(ShebangError::InterpreterTooLong));
    }
    let interpreter = &line[..interpreter_end];
    let rest = &line[interpreter_end..];
    let argument = rest
        .iter()
        .position(|byte| !is_blank(byte))
        .map(|first| &rest[first..]);
    Some(Ok(Shebang {
        interpreter,
        argument,
    }))
}

/// The `argv` the interpreter runs with: interpreter, optional argument,
/// the script's path, then the original `argv` without its first element.
pub fn script_argv<'a>(
    shebang: &Shebang<'a>,
    script_path: &'a [u8],
    argv: &[&'a [u8]],
) -> Vec<&'a [u8]> {
    let mut out = vec![shebang.interpreter];
    out.extend(shebang.argument);
    out.push(script_path);
    out.extend(argv.iter().skip(1).copied());
    out
}

/// What goes on a new program's stack.
#[derive(Clone, Copy, Debug)]
pub struct StackSpec<'a> {
    /// Arguments; an empty list gets one empty string (as Linux does).
    pub argv: &'a [&'a [u8]],
    pub envp: &'a [&'a [u8]],
    /// The path given to `execve` (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// `AT_PLATFORM`, normally `b"x86_64"`; empty to omit.
    pub platform: &'a [u8],
    /// The 16 bytes `AT_RANDOM` points to (from the kernel's RNG).
    pub random: [u8; 16],
    /// Other auxiliary entries (e.g. [`LoadPlan::auxv`]); `AT_NULL`,
    /// `AT_RANDOM`, `AT_EXECFN` and `AT_PLATFORM` here are ignored.
    pub auxv: &'a [(u64, u64)],
}

/// Why the stack could not be built (`execve` fails with [`errno`]).
///
/// [`errno`]: StackError::errno
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackError {
    /// The stack top is not 16-byte aligned (a kernel bug).
    MisalignedTop(u64),
    /// An argument or variable longer than `MAX_ARG_STRLEN`.
    StringTooLong { len: usize },
    /// A string holds a NUL byte (it would be cut short).
    NulInString,
    /// Everything together needs more than the limit.
    TooBig { needed: u64, limit: u64 },
}

impl StackError {
    pub fn errno(&self) -> Errno {
        match self {
            StackError::MisalignedTop(_) | StackError::NulInString => Errno::EINVAL,
            StackError::StringTooLong { .. } | StackError::TooBig { .. } => Errno::E2BIG,
        }
    }
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StackError::MisalignedTop(top) => {
                write!(f, "stack top {top:#x} is not 16-byte aligned")
            }
            StackError::StringTooLong { len } => {
                write!(f, "argument of {len} bytes exceeds {MAX_ARG_STRLEN}")
            }
            StackError::NulInString => f.write_str("argument contains a NUL byte"),
            StackError::TooBig { needed, limit } => {
                write!(
                    f,
                    "arguments need {needed} bytes of stack, limit is {limit}"
                )
            }
        }
    }
}

impl core::error::Error for StackError {}

/// The initial stack: `bytes` go at `[base, top)`, and `rsp == base`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    pub bytes: Vec<u8>,
    /// Lowest address: where `argc` is, and the initial `rsp`.
    pub rsp: u64,
    pub argc: u64,
    /// Address of `argv[0]`'s pointer.
    pub argv: u64,
    /// Address of `envp[0]`'s pointer.
    pub envp: u64,
    /// Address of the first auxiliary entry.
    pub auxv: u64,
}

/// Lays out the initial stack below `top` (see the module documentation).
/// `limit_bytes` bounds the whole image (Linux: a quarter of the stack
/// rlimit).
pub fn build_initial_stack(
    top: u64,
    spec: &StackSpec<'_>,
    limit_bytes: u64,
) -> Result<InitialStack, StackError> {
    if top % 16 != 0 {
        return Err(StackError::MisalignedTop(top));
    }
    let empty: [&[u8]; 1] = [b""];
    let argv: &[&[u8]] = if spec.argv.is_empty() {
        &empty
    } else {
        spec.argv
    };
    let strings = argv
        .iter()
        .chain(spec.envp)
        .chain(core::iter::once(&spec.execfn));
    let mut string_bytes = 0u64;
    for string in strings.clone().chain(core::iter::once(&spec.platform)) {
        if string.len() > MAX_ARG_STRLEN {
            return Err(StackError::StringTooLong { len: string.len() });
        }
        if string.contains(&0) {
            return Err(StackError::NulInString);
        }
        string_bytes += string.len() as u64 + 1;
    }
    let auxv: Vec<(u64, u64)> = spec
        .auxv
        .iter()
        .copied()
        .filter(|(kind, _)| !matches!(*kind, AT_NULL | AT_RANDOM | AT_EXECFN | AT_PLATFORM))
        .collect();
    // Fixed-size words: argc, argv + NULL, envp + NULL, aux pairs + 3
    // pointer entries + AT_NULL.
    let words =
        1 + (argv.len() as u64 + 1) + (spec.envp.len() as u64 + 1) + 2 * (auxv.len() as u64 + 3);
    // Upper bound: strings, the top NULL, 16 random bytes, two alignments.
    let needed = string_bytes + 8 + 16 + 16 + 16 + words * 8;
    if needed > limit_bytes || needed > top {
        return Err(StackError::TooBig {
            needed,
            limit: limit_bytes,
        });
    }

    // Strings, from the top down: NULL marker, execfn, envp, argv (so
    // argv[0] is lowest, as copy_strings leaves it).
    let mut cursor = top - 8;
    let place = |string: &[u8], cursor: &mut u64| {
        *cursor -= string.len() as u64 + 1;
        *cursor
    };
    let execfn_address = place(spec.execfn, &mut cursor);
    let mut envp_addresses: Vec<u64> = spec
        .envp
        .iter()
        .rev()
        .map(|s| place(s, &mut cursor))
        .collect();
    envp_addresses.reverse();
    let mut argv_addresses: Vec<u64> = argv.iter().rev().map(|s| place(s, &mut cursor)).collect();
    argv_addresses.reverse();
    cursor &= !15;
    let platform_address = if spec.platform.is_empty() {
        None
    } else {
        Some(place(spec.platform, &mut cursor))
    };
    cursor -= 16;
    let random_address = cursor;

    let mut aux_pairs = auxv;
    aux_pairs.push((AT_RANDOM, random_address));
    aux_pairs.push((AT_EXECFN, execfn_address));
    if let Some(address) = platform_address {
        aux_pairs.push((AT_PLATFORM, address));
    }
    aux_pairs.push((AT_NULL, 0));
    let table_words = 1 + (argv.len() + 1) + (spec.envp.len() + 1) + 2 * aux_pairs.len();
    let rsp = (cursor - table_words as u64 * 8) & !15;

    let mut bytes = vec![0u8; (top - rsp) as usize];
    let mut put = |address: u64, data: &[u8]| {
        let at = (address - rsp) as usize;
        bytes[at..at + data.len()].copy_from_slice(data);
    };
    put(execfn_address, spec.execfn);
    for (string, &address) in spec.envp.iter().zip(&envp_addresses) {
        put(address, string);
    }
    for (string, &address) in argv.iter().zip(&argv_addresses) {
        put(address, string);
    }
    if let Some(address) = platform_address {
        put(address, spec.platform);
    }
    put(random_address, &spec.random);
    let mut word_address = rsp;
    let mut put_word = |value: u64| {
        put(word_address, &value.to_le_bytes());
        word_address += 8;
    };
    put_word(argv.len() as u64);
    let argv_table = rsp + 8;
    for &address in &argv_addresses {
        put_word(address);
    }
    put_word(0);
    let envp_table = argv_table + (argv.len() as u64 + 1) * 8;
    for &address in &envp_addresses {
        put_word(address);
    }
    put_word(0);
    let auxv_table = envp_table + (spec.envp.len() as u64 + 1) * 8;
    for &(kind, value) in &aux_pairs {
        put_word(kind);
        put_word(value);
    }
    Ok(InitialStack {
        bytes,
        rsp,
        argc: argv.len() as u64,
        argv: argv_table,
        envp: envp_table,
        auxv: auxv_table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    /// Builds an ELF image: a header, the program headers right after it,
    /// then `body` at offset 0x1000.
    struct ElfBuilder {
        e_type: u16,
        entry: u64,
        headers: Vec<ProgramHeader>,
        file_len: usize,
    }

    impl ElfBuilder {
        fn new() -> Self {
            ElfBuilder {
                e_type: ET_EXEC,
                entry: 0x40_1000,
                headers: Vec::new(),
                file_len: 0x3000,
            }
        }

        fn load(mut self, offset: u64, vaddr: u64, filesz: u64, memsz: u64, flags: u32) -> Self {
            self.headers.push(ProgramHeader {
                p_type: PT_LOAD,
                p_flags: flags,
                p_offset: offset,
                p_vaddr: vaddr,
                p_filesz: filesz,
                p_memsz: memsz,
                p_align: 0x1000,
            });
            self
        }

        fn header(mut self, p_type: u32, flags: u32) -> Self {
            self.headers.push(ProgramHeader {
                p_type,
                p_flags: flags,
                p_offset: 0,
                p_vaddr: 0,
                p_filesz: 0,
                p_memsz: 0,
                p_align: 0,
            });
            self
        }

        fn build(&self) -> Vec<u8> {
            let mut file = vec![0u8; self.file_len];
            for (index, byte) in file.iter_mut().enumerate() {
                *byte = (index % 251) as u8;
            }
            file[..64].fill(0);
            file[..4].copy_from_slice(b"\x7fELF");
            file[4] = 2;
            file[5] = 1;
            file[6] = 1;
            file[16..18].copy_from_slice(&self.e_type.to_le_bytes());
            file[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
            file[20..24].copy_from_slice(&1u32.to_le_bytes());
            file[24..32].copy_from_slice(&self.entry.to_le_bytes());
            file[32..40].copy_from_slice(&64u64.to_le_bytes());
            file[52..54].copy_from_slice(&64u16.to_le_bytes());
            file[54..56].copy_from_slice(&56u16.to_le_bytes());
            file[56..58].copy_from_slice(&(self.headers.len() as u16).to_le_bytes());
            for (index, header) in self.headers.iter().enumerate() {
                let at = 64 + index * 56;
                file[at..at + 4].copy_from_slice(&header.p_type.to_le_bytes());
                file[at + 4..at + 8].copy_from_slice(&header.p_flags.to_le_bytes());
                file[at + 8..at + 16].copy_from_slice(&header.p_offset.to_le_bytes());
                file[at + 16..at + 24].copy_from_slice(&header.p_vaddr.to_le_bytes());
                file[at + 24..at + 32].copy_from_slice(&header.p_vaddr.to_le_bytes());
                file[at + 32..at + 40].copy_from_slice(&header.p_filesz.to_le_bytes());
                file[at + 40..at + 48].copy_from_slice(&header.p_memsz.to_le_bytes());
                file[at + 48..at + 56].copy_from_slice(&header.p_align.to_le_bytes());
            }
            file
        }
    }

    /// A typical static binary: headers+text RX from offset 0, data RW
    /// with .bss.
    fn typical() -> ElfBuilder {
        ElfBuilder::new()
            .load(0, 0x40_0000, 0x1800, 0x1800, PF_R | PF_X)
            .load(0x2100, 0x40_3100, 0x500, 0x2000, PF_R | PF_W)
            .header(PT_GNU_STACK, PF_R | PF_W)
    }

    fn plan(builder: &ElfBuilder) -> Result<LoadPlan, ElfError> {
        plan_load(&builder.build(), &Limits::default())
    }

    #[test]
    fn plans_a_typical_static_binary() {
        let builder = typical();
        let file = builder.build();
        let plan = plan_load(&file, &Limits::default()).unwrap();
        assert_eq!(plan.entry, 0x40_1000);
        assert_eq!(plan.load_bias, 0);
        let vaddrs: Vec<u64> = plan.pages.iter().map(|page| page.vaddr).collect();
        assert_eq!(
            vaddrs,
            [0x40_0000, 0x40_1000, 0x40_3000, 0x40_4000, 0x40_5000]
        );
        assert_eq!(plan.pages[0].prot, PROT_READ | PROT_EXEC);
        assert_eq!(plan.pages[2].prot, PROT_READ | PROT_WRITE);
        assert_eq!(
            plan.copies_for(&plan.pages[1]),
            [PageCopy {
                page_offset: 0,
                file_offset: 0x1000,
                len: 0x800
            }]
        );
        assert_eq!(
            plan.copies_for(&plan.pages[2]),
            [PageCopy {
                page_offset: 0x100,
                file_offset: 0x2100,
                len: 0x500
            }]
        );
        assert!(
            plan.copies_for(&plan.pages[3]).is_empty(),
            ".bss is zero fill"
        );
        assert_eq!(plan.brk_start, 0x40_6000);
        assert_eq!(
            plan.phdr_vaddr, 0x40_0040,
            "headers are in the first segment"
        );
        assert_eq!(plan.phnum, 3);
        assert!(!plan.executable_stack);
        assert_eq!(
            plan.segments,
            [
                SegmentPlan {
                    start: 0x40_0000,
                    end: 0x40_2000,
                    prot: PROT_READ | PROT_EXEC
                },
                SegmentPlan {
                    start: 0x40_3000,
                    end: 0x40_6000,
                    prot: PROT_READ | PROT_WRITE
                },
            ]
        );
        // Materialise the image and check bytes against the file.
        for page in &plan.pages {
            let mut memory = [0u8; 4096];
            for copy in plan.copies_for(page) {
                let from = copy.file_offset as usize;
                memory[copy.page_offset as usize..][..copy.len as usize]
                    .copy_from_slice(&file[from..from + copy.len as usize]);
            }
            if page.vaddr == 0x40_3000 {
                assert_eq!(memory[0x100], file[0x2100]);
                assert_eq!(memory[0x5ff], file[0x25ff]);
                assert_eq!(memory[0x600], 0, "past p_filesz");
                assert_eq!(memory[0xff], 0, "before the segment");
            }
        }
    }

    #[test]
    fn auxv_from_a_plan() {
        let plan = plan(&typical()).unwrap();
        let auxv = plan.auxv(Credentials::default(), 0x178bfbff);
        let get = |kind| auxv.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v);
        assert_eq!(get(AT_PHDR), Some(0x40_0040));
        assert_eq!(get(AT_PHENT), Some(56));
        assert_eq!(get(AT_PHNUM), Some(3));
        assert_eq!(get(AT_ENTRY), Some(0x40_1000));
        assert_eq!(get(AT_PAGESZ), Some(4096));
        assert_eq!(get(AT_SECURE), Some(0));
        let setuid = plan.auxv(
            Credentials {
                uid: 1000,
                euid: 0,
                gid: 0,
                egid: 0,
            },
            0,
        );
        assert!(setuid.contains(&(AT_SECURE, 1)));
    }

    #[test]
    fn static_pie_gets_a_load_bias() {
        let mut builder = ElfBuilder::new()
            .load(0, 0, 0x1800, 0x1800, PF_R | PF_X)
            .load(0x2000, 0x2000, 0x100, 0x100, PF_R | PF_W)
            .header(PT_DYNAMIC, PF_R);
        builder.e_type = ET_DYN;
        builder.entry = 0x1000;
        let plan = plan(&builder).unwrap();
        assert_eq!(plan.load_bias, ET_DYN_BASE);
        assert_eq!(
            ET_DYN_BASE, 0x5555_5555_4000,
            "Linux's ELF_ET_DYN_BASE without ASLR"
        );
        assert_eq!(plan.entry, ET_DYN_BASE + 0x1000);
        assert_eq!(plan.pages[0].vaddr, ET_DYN_BASE);
        assert_eq!(plan.phdr_vaddr, ET_DYN_BASE + 0x40);
    }

    #[test]
    fn pages_shared_by_two_segments_merge() {
        let plan = plan(
            &ElfBuilder::new()
                .load(0x1000, 0x40_1000, 0x800, 0x800, PF_R | PF_X)
                .load(0x1800, 0x40_1800, 0x100, 0x1000, PF_R | PF_W),
        )
        .unwrap();
        assert_eq!(plan.pages.len(), 2);
        assert_eq!(plan.pages[0].prot, PROT_READ | PROT_WRITE | PROT_EXEC);
        assert_eq!(plan.copies_for(&plan.pages[0]).len(), 2);
        assert_eq!(plan.pages[1].vaddr, 0x40_2000);
        assert_eq!(
            plan.phdr_vaddr, 0,
            "table not inside any segment and no PT_PHDR"
        );
    }

    #[test]
    fn dynamic_binaries_are_refused_with_a_reason() {
        let error = plan(&typical().header(PT_INTERP, PF_R)).unwrap_err();
        assert_eq!(error, ElfError::Dynamic);
        assert_eq!(error.errno(), Errno::ENOEXEC);
        assert!(format!("{error}").contains("dynamically linked"));
    }

    #[test]
    fn header_validation() {
        let good = typical().build();
        let mutate = |offset: usize, bytes: &[u8]| {
            let mut file = good.clone();
            file[offset..offset + bytes.len()].copy_from_slice(bytes);
            plan_load(&file, &Limits::default()).unwrap_err()
        };
        assert_eq!(mutate(0, b"\x7fELG"), ElfError::BadMagic);
        assert_eq!(mutate(4, &[1]), ElfError::NotElf64(1));
        assert_eq!(mutate(5, &[2]), ElfError::NotLittleEndian(2));
        assert_eq!(mutate(6, &[0]), ElfError::BadVersion);
        assert_eq!(mutate(18, &3u16.to_le_bytes()), ElfError::WrongMachine(3));
        assert_eq!(mutate(16, &1u16.to_le_bytes()), ElfError::NotExecutable(1));
        assert_eq!(
            mutate(54, &32u16.to_le_bytes()),
            ElfError::BadProgramHeaderSize(32)
        );
        assert_eq!(
            mutate(56, &0u16.to_le_bytes()),
            ElfError::BadProgramHeaderCount(0)
        );
        assert_eq!(
            mutate(56, &0xffffu16.to_le_bytes()),
            ElfError::BadProgramHeaderCount(0xffff)
        );
        assert_eq!(
            mutate(56, &1000u16.to_le_bytes()),
            ElfError::ProgramHeadersOutsideFile
        );
        assert_eq!(
            mutate(32, &u64::MAX.to_le_bytes()),
            ElfError::ProgramHeadersOutsideFile
        );
        assert_eq!(
            plan_load(&good[..63], &Limits::default()),
            Err(ElfError::Truncated { len: 63 })
        );
    }

    #[test]
    fn truncated_files_never_panic() {
        let good = typical().build();
        for len in 0..good.len() {
            let _ = plan_load(&good[..len], &Limits::default());
        }
        let error = plan_load(&good[..0x2200], &Limits::default()).unwrap_err();
        assert_eq!(
            error,
            ElfError::Segment {
                index: 1,
                problem: SegmentProblem::FileRangeOutsideFile
            }
        );
    }

    #[test]
    fn segment_validation() {
        let segment_error = |builder: ElfBuilder| match plan(&builder) {
            Err(ElfError::Segment { index, problem }) => (index, problem),
            other => panic!("{other:?}"),
        };
        let base = || ElfBuilder::new().load(0, 0x40_0000, 0x1800, 0x1800, PF_R | PF_X);
        assert_eq!(
            segment_error(base().load(0x2000, 0x40_2000, 0x200, 0x100, PF_R)),
            (1, SegmentProblem::FileSizeAboveMemorySize)
        );
        assert_eq!(
            segment_error(base().load(0x2000, 0x40_2800, 0x100, 0x100, PF_R)),
            (1, SegmentProblem::Misaligned)
        );
        assert_eq!(
            segment_error(base().load(0x2000, 0x40_1000, 0x100, 0x100, PF_R)),
            (1, SegmentProblem::Overlaps(0))
        );
        assert_eq!(
            segment_error(base().load(u64::MAX - 0xff, 0x40_2f00, 0x100, 0x100, PF_R)),
            (1, SegmentProblem::FileRangeOutsideFile),
            "p_offset + p_filesz wraps"
        );
        assert_eq!(
            segment_error(base().load(0x2000, 0x7fff_ffff_f000, 0x10, 0x1000, PF_R)),
            (1, SegmentProblem::OutsideUserSpace),
            "reaches the guard page"
        );
        assert_eq!(
            segment_error(base().load(0x2000, 0xffff_ffff_ffff_f000, 0x10, 0x2000, PF_R)),
            (1, SegmentProblem::OutsideUserSpace),
            "address wraps"
        );
        assert_eq!(
            segment_error(ElfBuilder::new().load(0, 0x1000, 0x100, 0x100, PF_R | PF_X)),
            (0, SegmentProblem::OutsideUserSpace),
            "below mmap_min_addr"
        );
        let mut misaligned = base();
        misaligned.headers[0].p_align = 0x3000;
        assert_eq!(segment_error(misaligned), (0, SegmentProblem::BadAlignment));
    }

    #[test]
    fn huge_and_empty_images() {
        let huge = ElfBuilder::new()
            .load(0, 0x40_0000, 0x1800, 0x1800, PF_R | PF_X)
            .load(0x2000, 0x40_2000, 0x10, 0x7000_0000_0000, PF_R | PF_W);
        let error = plan(&huge).unwrap_err();
        assert!(matches!(error, ElfError::TooLarge { .. }), "{error:?}");
        assert_eq!(error.errno(), Errno::ENOMEM);
        let empty = ElfBuilder::new().header(PT_GNU_STACK, PF_R | PF_W | PF_X);
        assert_eq!(plan(&empty), Err(ElfError::NothingToLoad));
        let zero_size = ElfBuilder::new().load(0, 0x40_0000, 0, 0, PF_R | PF_X);
        assert_eq!(plan(&zero_size), Err(ElfError::NothingToLoad));
    }

    #[test]
    fn entry_must_be_executable() {
        let mut outside = typical();
        outside.entry = 0x50_0000;
        assert_eq!(plan(&outside), Err(ElfError::EntryNotExecutable(0x50_0000)));
        let mut in_data = typical();
        in_data.entry = 0x40_3200;
        assert_eq!(plan(&in_data), Err(ElfError::EntryNotExecutable(0x40_3200)));
        let mut at_end = typical();
        at_end.entry = 0x40_1800;
        assert!(plan(&at_end).is_err(), "one past the segment");
    }

    #[test]
    fn gnu_stack_and_phdr() {
        let mut builder = typical();
        builder.headers[2].p_flags = PF_R | PF_W | PF_X;
        builder.headers.push(ProgramHeader {
            p_type: PT_PHDR,
            p_flags: PF_R,
            p_offset: 64,
            p_vaddr: 0x40_0040,
            p_filesz: 4 * 56,
            p_memsz: 4 * 56,
            p_align: 8,
        });
        let plan = plan(&builder).unwrap();
        assert!(plan.executable_stack);
        assert_eq!(plan.phdr_vaddr, 0x40_0040);
    }

    #[test]
    fn seeded_mutations_never_panic() {
        let good = typical().build();
        let mut state = 0xabad_1dea_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut file = good.clone();
            for _ in 0..1 + next() % 3 {
                // Aim at the headers most of the time.
                let range = if next() % 4 == 0 {
                    file.len()
                } else {
                    64 + 3 * 56
                };
                let at = (next() as usize) % range.min(file.len());
                match next() % 3 {
                    0 => file[at] = next() as u8,
                    1 => {
                        let word = next().to_le_bytes();
                        let end = (at + 8).min(file.len());
                        file[at..end].copy_from_slice(&word[..end - at]);
                    }
                    _ => file.truncate(at.max(1)),
                }
            }
            if let Ok(plan) = plan_load(&file, &Limits::default()) {
                accepted += 1;
                for page in &plan.pages {
                    assert_eq!(page.vaddr % PAGE_SIZE, 0);
                    assert!(page.vaddr >= 0x1_0000 && page.vaddr < TASK_SIZE);
                    for copy in plan.copies_for(page) {
                        assert!(copy.page_offset as u64 + copy.len as u64 <= PAGE_SIZE);
                        assert!(copy.file_offset + copy.len as u64 <= file.len() as u64);
                    }
                }
                for pair in plan.pages.windows(2) {
                    assert!(pair[0].vaddr < pair[1].vaddr);
                }
            }
        }
        assert!(accepted > 100, "mutations too destructive: {accepted}");
    }

    #[test]
    fn shebang_lines() {
        type Parsed<'a> = Option<Result<(&'a [u8], Option<&'a [u8]>), ShebangError>>;
        fn parse(text: &[u8]) -> Parsed<'_> {
            parse_shebang(text).map(|result| result.map(|s| (s.interpreter, s.argument)))
        }
        assert_eq!(parse(b"\x7fELF"), None);
        assert_eq!(
            parse(b"#!/bin/sh\necho hi\n"),
            Some(Ok((&b"/bin/sh"[..], None)))
        );
        assert_eq!(
            parse(b"#! /usr/bin/env  python3 -u \t\nprint()"),
            Some(Ok((&b"/usr/bin/env"[..], Some(&b"python3 -u"[..]))))
        );
        assert_eq!(
            parse(b"#!/bin/sh"),
            Some(Ok((&b"/bin/sh"[..], None))),
            "no newline, short file"
        );
        assert_eq!(parse(b"#!\n"), Some(Err(ShebangError::NoInterpreter)));
        assert_eq!(parse(b"#!   \t\n"), Some(Err(ShebangError::NoInterpreter)));
        let mut long = b"#!/".to_vec();
        long.extend(std::iter::repeat_n(b'a', 300));
        assert_eq!(parse(&long), Some(Err(ShebangError::InterpreterTooLong)));
        let mut long_argument = b"#!/bin/sh ".to_vec();
        long_argument.extend(std::iter::repeat_n(b'x', 300));
        let (interpreter, argument) = parse(&long_argument).unwrap().unwrap();
        assert_eq!(interpreter, b"/bin/sh");
        assert_eq!(
            argument.unwrap().len(),
            SHEBANG_MAX - 10,
            "argument cut at 256 bytes"
        );
    }

    #[test]
    fn script_arguments() {
        let shebang = Shebang {
            interpreter: b"/bin/sh",
            argument: Some(b"-e"),
        };
        let argv: [&[u8]; 3] = [b"./run", b"a", b"b"];
        let out = script_argv(&shebang, b"/tmp/run", &argv);
        assert_eq!(out, [&b"/bin/sh"[..], b"-e", b"/tmp/run", b"a", b"b"]);
        let plain = Shebang {
            interpreter: b"/bin/sh",
            argument: None,
        };
        assert_eq!(script_argv(&plain, b"/x", &[]), [&b"/bin/sh"[..], b"/x"]);
    }

    fn read_word(stack: &InitialStack, address: u64) -> u64 {
        let at = (address - stack.rsp) as usize;
        u64::from_le_bytes(stack.bytes[at..at + 8].try_into().unwrap())
    }

    fn read_string(stack: &InitialStack, address: u64) -> String {
        let at = (address - stack.rsp) as usize;
        let end = stack.bytes[at..].iter().position(|&b| b == 0).unwrap();
        String::from_utf8(stack.bytes[at..at + end].to_vec()).unwrap()
    }

    #[test]
    fn initial_stack_layout() {
        let top = 0x7fff_ffff_f000;
        let argv: [&[u8]; 2] = [b"/bin/sh", b"-c"];
        let envp: [&[u8]; 1] = [b"PATH=/bin"];
        let plan = plan(&typical()).unwrap();
        let auxv = plan.auxv(Credentials::default(), 0);
        let spec = StackSpec {
            argv: &argv,
            envp: &envp,
            execfn: b"/bin/sh",
            platform: b"x86_64",
            random: [0xab; 16],
            auxv: &auxv,
        };
        let stack = build_initial_stack(top, &spec, 128 * 1024).unwrap();
        assert_eq!(stack.rsp % 16, 0, "psABI: rsp 16-byte aligned at entry");
        assert_eq!(stack.rsp + stack.bytes.len() as u64, top);
        assert_eq!(read_word(&stack, stack.rsp), 2, "argc");
        assert_eq!(stack.argv, stack.rsp + 8);
        assert_eq!(
            read_string(&stack, read_word(&stack, stack.argv)),
            "/bin/sh"
        );
        assert_eq!(read_string(&stack, read_word(&stack, stack.argv + 8)), "-c");
        assert_eq!(read_word(&stack, stack.argv + 16), 0, "argv NULL");
        assert_eq!(stack.envp, stack.argv + 24);
        assert_eq!(
            read_string(&stack, read_word(&stack, stack.envp)),
            "PATH=/bin"
        );
        assert_eq!(read_word(&stack, stack.envp + 8), 0, "envp NULL");
        assert_eq!(stack.auxv, stack.envp + 16);
        let mut aux = Vec::new();
        let mut at = stack.auxv;
        loop {
            let (kind, value) = (read_word(&stack, at), read_word(&stack, at + 8));
            aux.push((kind, value));
            at += 16;
            if kind == AT_NULL {
                break;
            }
        }
        assert_eq!(aux.len(), auxv.len() + 4);
        let get = |kind| aux.iter().find(|(k, _)| *k == kind).unwrap().1;
        let random = get(AT_RANDOM);
        let offset = (random - stack.rsp) as usize;
        assert_eq!(&stack.bytes[offset..offset + 16], &[0xab; 16]);
        assert_eq!(read_string(&stack, get(AT_EXECFN)), "/bin/sh");
        assert_eq!(read_string(&stack, get(AT_PLATFORM)), "x86_64");
        assert_eq!(get(AT_ENTRY), 0x40_1000);
        assert_eq!(
            &stack.bytes[stack.bytes.len() - 8..],
            &[0; 8],
            "NULL at the very top"
        );
        // Strings lie above the tables and below the top.
        for address in [get(AT_EXECFN), read_word(&stack, stack.argv)] {
            assert!(address > at && address < top);
        }
        assert!(
            get(AT_EXECFN) > read_word(&stack, stack.envp),
            "execfn highest"
        );
    }

    #[test]
    fn stack_alignment_holds_for_every_shape() {
        for argc in 0..6usize {
            for envc in 0..4usize {
                for extra in 0..3usize {
                    let args: Vec<Vec<u8>> = (0..argc).map(|i| vec![b'a'; i * 3 + extra]).collect();
                    let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                    let vars: Vec<Vec<u8>> = (0..envc).map(|i| vec![b'E'; i + 1]).collect();
                    let envp: Vec<&[u8]> = vars.iter().map(Vec::as_slice).collect();
                    let auxv: Vec<(u64, u64)> =
                        (0..extra as u64).map(|i| (AT_UID + i, i)).collect();
                    let spec = StackSpec {
                        argv: &argv,
                        envp: &envp,
                        execfn: b"/p",
                        platform: if extra == 1 { b"" } else { b"x86_64" },
                        random: [1; 16],
                        auxv: &auxv,
                    };
                    let stack = build_initial_stack(0x7000_0000, &spec, 1 << 20).unwrap();
                    assert_eq!(stack.rsp % 16, 0);
                    assert_eq!(read_word(&stack, stack.rsp), argc.max(1) as u64);
                }
            }
        }
    }

    #[test]
    fn empty_argv_gets_an_empty_argv0() {
        let spec = StackSpec {
            argv: &[],
            envp: &[],
            execfn: b"/bin/true",
            platform: b"x86_64",
            random: [0; 16],
            auxv: &[],
        };
        let stack = build_initial_stack(0x10_0000, &spec, 4096).unwrap();
        assert_eq!(read_word(&stack, stack.rsp), 1);
        assert_eq!(read_string(&stack, read_word(&stack, stack.argv)), "");
    }

    #[test]
    fn stack_errors() {
        let big = vec![b'x'; MAX_ARG_STRLEN + 1];
        let argv: [&[u8]; 1] = [&big];
        let spec = |argv: &'static [&'static [u8]]| StackSpec {
            argv,
            envp: &[],
            execfn: b"/p",
            platform: b"x86_64",
            random: [0; 16],
            auxv: &[],
        };
        let long = StackSpec {
            argv: &argv,
            ..spec(&[])
        };
        assert_eq!(
            build_initial_stack(0x10_0000, &long, 1 << 30),
            Err(StackError::StringTooLong {
                len: MAX_ARG_STRLEN + 1
            })
        );
        assert_eq!(StackError::StringTooLong { len: 0 }.errno(), Errno::E2BIG);
        assert_eq!(
            build_initial_stack(0x10_0008, &spec(&[b"a"]), 4096),
            Err(StackError::MisalignedTop(0x10_0008))
        );
        assert_eq!(
            build_initial_stack(0x10_0000, &spec(&[b"a\0b"]), 4096),
            Err(StackError::NulInString)
        );
        let many: Vec<&[u8]> = vec![b"0123456789"; 1000];
        let spec_many = StackSpec {
            argv: &many,
            ..spec(&[])
        };
        assert!(matches!(
            build_initial_stack(0x10_0000, &spec_many, 4096),
            Err(StackError::TooBig { .. })
        ));
        assert!(
            matches!(
                build_initial_stack(0x80, &spec(&[b"a"]), 1 << 20),
                Err(StackError::TooBig { .. })
            ),
            "would underflow address 0"
        );
    }
}
