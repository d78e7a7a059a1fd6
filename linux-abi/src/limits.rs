//! Size limits user space relies on (`linux/limits.h`, `linux/binfmts.h`,
//! `asm/page_types.h`).

/// Bytes in a path, including the terminating NUL.
pub const PATH_MAX: usize = 4096;
/// Bytes in one path component, excluding the NUL.
pub const NAME_MAX: usize = 255;
/// Writes up to this size to a pipe are atomic.
pub const PIPE_BUF: usize = 4096;
/// Supplementary groups a process may have.
pub const NGROUPS_MAX: usize = 65536;
/// Largest single `argv`/`envp` string (`MAX_ARG_STRLEN`, 32 pages).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Most `argv` or `envp` entries (`MAX_ARG_STRINGS`).
pub const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// Page size of the x86_64 ABI (`AT_PAGESZ`).
pub const PAGE_SIZE: u64 = 4096;
/// Symbolic links followed in one path walk before `ELOOP` (`MAXSYMLINKS`).
pub const MAXSYMLINKS: u32 = 40;
/// Default soft limit on open files (`INR_OPEN_CUR`).
pub const INR_OPEN_CUR: usize = 1024;
/// Clock ticks per second reported by `AT_CLKTCK` and `times` (`USER_HZ`).
pub const USER_HZ: u64 = 100;
/// End of the user half on x86_64 with 4-level paging (`TASK_SIZE_MAX`:
/// one page below 2^47, the guard page against non-canonical returns).
pub const TASK_SIZE: u64 = 0x0000_7fff_ffff_f000;
