//! The raw `syscall` instruction, with zero to six arguments.
//!
//! Linux x86_64 convention (`arch/x86/entry/entry_64.S`, and the psABI
//! appendix A.2.1): the number goes in `rax`, arguments in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9`; the result comes back in `rax`, `-4095..=-1`
//! meaning `-errno`. The instruction itself overwrites `rcx` (return
//! address) and `r11` (saved flags); nothing else changes, and the kernel
//! never touches the user stack, so the red zone is safe (`nostack`).
//! Our kernel implements the same convention (its syscall entry through
//! Xen's `CALLBACKTYPE_syscall` preserves the other registers).
//!
//! These are the only functions in userland that enter the kernel. Each
//! is `unsafe` because what a call does with its arguments (addresses to
//! read or write, memory it maps or unmaps) depends on the number; the
//! typed wrappers in [`crate::sys`] state and uphold each call's contract.

use core::arch::asm;

/// # Safety
///
/// System call `number` must be sound to make (it takes no pointers).
#[inline(always)]
pub unsafe fn syscall0(number: usize) -> isize {
    let result: isize;
    // SAFETY: the Linux x86_64 convention above; the caller guarantees the
    // call is sound. rcx and r11 are clobbered by the instruction.
    unsafe {
        asm!("syscall", inlateout("rax") number as isize => result,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    result
}

/// # Safety
///
/// Every pointer among the arguments must be valid for what system call
/// `number` reads or writes through it, and the call must not unmap or
/// change memory that Rust code still references.
#[inline(always)]
pub unsafe fn syscall1(number: usize, arg1: usize) -> isize {
    let result: isize;
    // SAFETY: argument 1 goes in rdi per the convention; the caller
    // guarantees the call is sound.
    unsafe {
        asm!("syscall", inlateout("rax") number as isize => result, in("rdi") arg1,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    result
}

/// # Safety
///
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(number: usize, arg1: usize, arg2: usize) -> isize {
    let result: isize;
    // SAFETY: arguments 1-2 go in rdi, rsi per the convention; the caller
    // guarantees the call is sound.
    unsafe {
        asm!("syscall", inlateout("rax") number as isize => result, in("rdi") arg1,
             in("rsi") arg2, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    result
}

/// # Safety
///
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(number: usize, arg1: usize, arg2: usize, arg3: usize) -> isize {
    let result: isize;
    // SAFETY: arguments 1-3 go in rdi, rsi, rdx per the convention; the
    // caller guarantees the call is sound.
    unsafe {
        asm!("syscall", inlateout("rax") number as isize => result, in("rdi") arg1,
             in("rsi") arg2, in("rdx") arg3, lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    result
}

/// # Safety
///
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(number: usize, arg1: usize, arg2: usize, arg3: usize, arg4: usize) -> isize {
    let result: isize;
    // SAFETY: arguments 1-4 go in rdi, rsi, rdx, r10 (not rcx, which the
    // instruction overwrites) per the convention; the caller guarantees the
    // call is sound.
    unsafe {
        asm!("syscall", inlateout("rax") number as isize => result, in("rdi") arg1,
             in("rsi") arg2, in("rdx") arg3, in("r10") arg4, lateout("rcx") _,
             lateout("r11") _, options(nostack));
    }
    result
}

/// # Safety
///
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall6(
    number: usize,
    arg1: usize,
    arg2: usize,
    arg3: usize,
    arg4: usize,
    arg5: usize,
    arg6: usize,
) -> isize {
    let result: isize;
    // SAFETY: arguments 1-6 go in rdi, rsi, rdx, r10, r8, r9 per the
    // convention; the caller guarantees the call is sound.
    unsafe {
        asm!("syscall", inlateout("rax") number as isize => result, in("rdi") arg1,
             in("rsi") arg2, in("rdx") arg3, in("r10") arg4, in("r8") arg5, in("r9") arg6,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    result
}
