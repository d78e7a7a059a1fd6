//! Process start: `_start`, the initial stack, and the program's `main`.
//!
//! Linux (and our kernel) enter a static ELF at `e_entry` with `rsp`
//! pointing at this layout (System V x86_64 psABI §3.4.1, Linux
//! `fs/binfmt_elf.c create_elf_tables`), `rsp` 16-byte aligned:
//!
//! ```text
//! rsp ->  argc
//!         argv[0] .. argv[argc-1], NULL
//!         envp[0] .. envp[n-1],    NULL
//!         auxv: (type, value) pairs ending with AT_NULL
//!         ... the strings themselves, higher up
//! ```
//!
//! No other register is relied on (Linux puts an `atexit` function in
//! `rdx`; a static program without a dynamic linker ignores it). `_start`
//! clears `rbp` (the end of frame-pointer chains), passes the stack
//! pointer to `start`, aligns `rsp` to 16 bytes for the call as the ABI
//! requires, and never returns. `start` wraps the vectors into [`Args`]
//! and [`Env`] and calls the program's `main`, installed with
//! [`crate::entry!`], then `exit_group`s with its result. Startup makes no
//! system call: the heap asks for memory on the first allocation.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// The NUL-terminated string at `pointer`, without the NUL.
///
/// # Safety
///
/// `pointer` must point at a NUL-terminated string that stays valid and
/// unchanged for the rest of the process.
unsafe fn c_str_at(pointer: *const u8) -> &'static [u8] {
    let mut len = 0;
    // The read is volatile so that LLVM does not turn the loop into a call
    // to `strlen`, which no library here defines.
    // SAFETY: every byte up to and including the NUL is readable (caller's
    // guarantee: the string is NUL-terminated).
    while unsafe { core::ptr::read_volatile(pointer.add(len)) } != 0 {
        len += 1;
    }
    // SAFETY: the len bytes before the NUL are valid for 'static.
    unsafe { core::slice::from_raw_parts(pointer, len) }
}

/// A vector of C strings from the initial stack.
#[derive(Clone, Copy)]
struct StringVector {
    pointers: &'static [*const u8],
}

impl StringVector {
    const EMPTY: StringVector = StringVector { pointers: &[] };

    fn get(&self, index: usize) -> Option<&'static [u8]> {
        self.pointers.get(index).map(|&pointer| {
            // SAFETY: every pointer in the vector points at a NUL-terminated
            // string the kernel placed on the initial stack, which is never
            // popped or written (invariant of `start`).
            unsafe { c_str_at(pointer) }
        })
    }

    fn iter(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        (0..self.pointers.len()).filter_map(|index| self.get(index))
    }
}

/// The program's arguments, `argv[0]` (the program name) first.
#[derive(Clone, Copy)]
pub struct Args {
    vector: StringVector,
}

impl Args {
    /// `argc`.
    pub fn len(&self) -> usize {
        self.vector.pointers.len()
    }

    /// Whether there are no arguments at all (not even a name).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `argv[index]`.
    pub fn get(&self, index: usize) -> Option<&'static [u8]> {
        self.vector.get(index)
    }

    /// Every argument, the program name first.
    pub fn iter(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        self.vector.iter()
    }

    /// `argv[0]` as text (`"?"` if missing or not UTF-8).
    pub fn program_name(&self) -> &'static str {
        self.get(0)
            .and_then(|name| core::str::from_utf8(name).ok())
            .unwrap_or("?")
    }

    /// The arguments after the program name as `&str`s, or the index of
    /// the first that is not UTF-8.
    pub fn operands(&self) -> Result<alloc::vec::Vec<&'static str>, usize> {
        self.iter()
            .enumerate()
            .skip(1)
            .map(|(index, arg)| core::str::from_utf8(arg).map_err(|_| index))
            .collect()
    }
}

/// The environment (`NAME=value` strings) and the auxiliary vector.
#[derive(Clone, Copy)]
pub struct Env {
    vector: StringVector,
    auxv: &'static [[u64; 2]],
}

impl Env {
    /// The value of variable `name`.
    pub fn get(&self, name: &str) -> Option<&'static [u8]> {
        self.iter().find_map(|entry| {
            let rest = entry.strip_prefix(name.as_bytes())?;
            rest.strip_prefix(b"=")
        })
    }

    /// The value of `name` if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&'static str> {
        self.get(name)
            .and_then(|value| core::str::from_utf8(value).ok())
    }

    /// Every `NAME=value` entry, as passed to `execve`.
    pub fn iter(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        self.vector.iter()
    }

    /// The value of auxiliary vector entry `key` (`AT_PAGESZ` ...).
    pub fn aux(&self, key: u64) -> Option<u64> {
        self.auxv
            .iter()
            .find(|entry| entry[0] == key)
            .map(|entry| entry[1])
    }

    /// An empty environment (for tests and fallbacks).
    pub fn empty() -> Env {
        Env {
            vector: StringVector::EMPTY,
            auxv: &[],
        }
    }
}

/// `argv[0]`, kept for panic messages: pointer and length.
static PROGRAM_NAME: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static PROGRAM_NAME_LEN: AtomicUsize = AtomicUsize::new(0);

/// The program's name for messages (`"?"` before start-up).
pub fn program_name() -> &'static str {
    let pointer = PROGRAM_NAME.load(Ordering::Relaxed);
    if pointer.is_null() {
        return "?";
    }
    let len = PROGRAM_NAME_LEN.load(Ordering::Relaxed);
    // SAFETY: `start` stored argv[0]'s address and length; the string
    // stays on the initial stack for the whole process.
    let bytes = unsafe { core::slice::from_raw_parts(pointer, len) };
    // Show only the last path component, as coreutils does.
    let base = match bytes.iter().rposition(|&byte| byte == b'/') {
        Some(slash) => &bytes[slash + 1..],
        None => bytes,
    };
    core::str::from_utf8(base).unwrap_or("?")
}

#[cfg(not(test))]
core::arch::global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    ".size _start, . - _start",
    start = sym start,
);

#[cfg(not(test))]
extern "Rust" {
    /// Defined by [`crate::entry!`] in the program.
    fn __userland_rt_main(args: Args, env: Env) -> i32;
}

/// Called by `_start` with the initial stack pointer.
///
/// # Safety
///
/// `stack` must point at the initial process stack laid out as in the
/// module documentation, which nothing else writes afterwards.
#[cfg(not(test))]
unsafe extern "C" fn start(stack: *const usize) -> ! {
    // SAFETY: the kernel's layout: argc at rsp, then argc argv pointers
    // and a NULL, then the environment pointers and a NULL, then auxv
    // pairs ending with AT_NULL; all of it stays valid for the process.
    let (args, env) = unsafe {
        let argc = *stack;
        let argv = stack.add(1) as *const *const u8;
        let envp = argv.add(argc + 1);
        let mut envc = 0;
        while !(*envp.add(envc)).is_null() {
            envc += 1;
        }
        let auxv = envp.add(envc + 1) as *const [u64; 2];
        let mut auxc = 0;
        while (*auxv.add(auxc))[0] != linux_abi::auxv::AT_NULL {
            auxc += 1;
        }
        (
            Args {
                vector: StringVector {
                    pointers: core::slice::from_raw_parts(argv, argc),
                },
            },
            Env {
                vector: StringVector {
                    pointers: core::slice::from_raw_parts(envp, envc),
                },
                auxv: core::slice::from_raw_parts(auxv, auxc),
            },
        )
    };
    if let Some(name) = args.get(0) {
        PROGRAM_NAME_LEN.store(name.len(), Ordering::Relaxed);
        PROGRAM_NAME.store(name.as_ptr() as *mut u8, Ordering::Relaxed);
    }
    // SAFETY: `entry!` defines this symbol with exactly this signature
    // (it type-checks the program's main against it).
    let code = unsafe { __userland_rt_main(args, env) };
    crate::sys::exit(code)
}

/// Declares the program's `main(args: Args, env: Env) -> i32`.
///
/// ```ignore
/// userland_rt::entry!(main);
/// fn main(args: userland_rt::Args, env: userland_rt::Env) -> i32 { 0 }
/// ```
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        fn __userland_rt_main(args: $crate::Args, env: $crate::Env) -> i32 {
            let main: fn($crate::Args, $crate::Env) -> i32 = $main;
            main(args, env)
        }
    };
}
