//! Auxiliary vector entry types (`linux/auxvec.h`, `asm/auxvec.h`).
//!
//! The initial stack of a new program carries `(type, value)` pairs after
//! `envp`, ended by `AT_NULL` (System V x86_64 ABI, 3.4.3); libc reads
//! them to find its program headers, the page size, its entropy and more.
//! `kernel-core::elf` builds the vector.

pub const AT_NULL: u64 = 0;
pub const AT_IGNORE: u64 = 1;
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Size of one program header (56).
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
/// Load address of the interpreter (0 for static programs).
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_NOTELF: u64 = 10;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
/// Address of the platform string (`"x86_64"`).
pub const AT_PLATFORM: u64 = 15;
/// CPUID.1:EDX.
pub const AT_HWCAP: u64 = 16;
/// Clock ticks per second for `times` (100).
pub const AT_CLKTCK: u64 = 17;
/// Non-zero in set-id programs: libc then ignores dangerous variables.
pub const AT_SECURE: u64 = 23;
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes (stack protector and pointer guard seeds).
pub const AT_RANDOM: u64 = 25;
pub const AT_HWCAP2: u64 = 26;
/// Address of the file name passed to `execve`.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO (we provide none, so we omit it).
pub const AT_SYSINFO_EHDR: u64 = 33;
pub const AT_MINSIGSTKSZ: u64 = 51;
