//! Single CPU instructions a PV guest may execute directly.
//!
//! A PV kernel runs in ring 3, so privileged instructions fault (DESIGN.md
//! §5). What remains usable is here, each in a small safe wrapper.

use core::arch::asm;

/// Reads the time-stamp counter (unprivileged unless CR4.TSD, which Xen
/// leaves clear for PV guests).
pub fn rdtsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: rdtsc reads a counter into edx:eax; no memory is touched.
    unsafe { asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack)) };
    (high as u64) << 32 | low as u64
}

/// The current frame pointer, to start a backtrace from.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: copies rbp into a register; no memory is touched.
    unsafe { asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack)) };
    rbp
}

/// Writes a byte to an I/O port.
///
/// # Safety
///
/// The kernel must have I/O privilege (PHYSDEVOP_set_iopl) and Xen must
/// permit the port for this domain, or the `out` raises #GP; and writing
/// the port must not break a device someone else relies on.
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: the caller upholds the function's contract.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

/// Reads a byte from an I/O port.
///
/// # Safety
///
/// As for [`outb`]: I/O privilege and Xen's permission for the port.
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: the caller upholds the function's contract.
    unsafe { asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack)) };
    value
}

/// Executes `ud2`-free divide by zero, for the crash test hook.
pub fn divide_by_zero() -> u64 {
    let result: u64;
    // SAFETY: `div` by a zero register raises #DE, which the trap handler
    // reports before shutting down; no memory is touched.
    unsafe {
        asm!(
            "xor edx, edx",
            "xor ecx, ecx",
            "mov eax, 1",
            "div rcx",
            out("rax") result, out("rcx") _, out("rdx") _,
            options(nomem, nostack)
        )
    };
    result
}

/// The current code segment selector; its low two bits are the ring.
pub fn code_segment() -> u16 {
    let cs: u16;
    // SAFETY: reading CS into a register touches no memory.
    unsafe { asm!("mov {:x}, cs", out(reg) cs, options(nomem, nostack, preserves_flags)) };
    cs
}
