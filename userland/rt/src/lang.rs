//! What a freestanding Rust binary on the host target must define itself.
//!
//! DESIGN.md §3: the prebuilt `compiler_builtins` of
//! `x86_64-unknown-linux-gnu` does not export `memcpy`, `memmove`,
//! `memset`, `memcmp` and `bcmp` (it expects libc), and the prebuilt
//! `core`/`alloc` (compiled with `panic = "unwind"`) refer to
//! `rust_eh_personality` and `_Unwind_Resume` even though our programs
//! abort on panic. String instructions keep LLVM from recognising the
//! copy loops and turning them back into calls to themselves.
//!
//! Also here: the panic handler (print, then exit 101 like a Rust
//! program's panic) and the global allocator. All of it is left out of
//! this crate's own unit tests, which link std.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::heap::{ArenaSource, RuntimeAllocator};

#[global_allocator]
static ALLOCATOR: RuntimeAllocator = RuntimeAllocator::new(ArenaSource::Break);

/// # Safety
///
/// `dest` and `src` must be valid for `n` bytes and not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges are valid for n bytes;
    // `rep movsb` copies forwards (the ABI keeps DF clear).
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
             options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
///
/// `dest` and `src` must be valid for `n` bytes; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n == 0 {
        return dest;
    }
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize).wrapping_add(n) {
        // SAFETY: a forward copy is correct when dest is below src or the
        // ranges are disjoint; validity is the caller's guarantee.
        return unsafe { memcpy(dest, src, n) };
    }
    // SAFETY: overlapping with dest above src: copy backwards from the last
    // byte with DF set, then clear DF again as the ABI requires.
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _, inout("rdi") dest.add(n - 1) => _,
             inout("rsi") src.add(n - 1) => _, options(nostack));
    }
    dest
}

/// # Safety
///
/// `dest` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees dest is valid for n bytes.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") value as u8,
             options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
///
/// `a` and `b` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for index in 0..n {
        // SAFETY: index < n and both ranges are valid for n bytes; volatile
        // reads keep LLVM from turning this loop into a memcmp call.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(index)),
                core::ptr::read_volatile(b.add(index)),
            )
        };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
///
/// `a` and `b` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// The prebuilt `core` refers to this symbol even with `panic = "abort"`.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// The prebuilt `alloc` has landing pads that call this; with
/// `panic = "abort"` no unwinding ever starts, so it is unreachable.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    crate::eprintln!(
        "{}: _Unwind_Resume called: unwinding is not supported",
        crate::program_name()
    );
    crate::sys::exit(134)
}

/// Set while the panic handler runs, so a panic inside it cannot loop.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if !PANICKING.swap(true, Ordering::Relaxed) {
        // The message is formatted on the stack: no allocation, so an
        // out-of-memory panic can still be reported.
        crate::eprintln!("{}: {info}", crate::program_name());
    }
    crate::sys::exit(101)
}
