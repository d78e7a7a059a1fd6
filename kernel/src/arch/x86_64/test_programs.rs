//! Tiny user-mode programs in machine code, for the user-mode self-check.
//!
//! Position-independent, so the kernel can copy them to any user address.
//! They live in `.rodata`: the kernel only copies their bytes.

use core::arch::global_asm;

global_asm!(
    r#"
    .pushsection .rodata.test_programs, "a"
    .balign 16
    .globl user_hello_start, user_hello_end, user_fault_start, user_fault_end

    // write(1, message, len); r12 = result; an unknown syscall (500) must
    // return -ENOSYS; exit_group(written + 100 * errno).
user_hello_start:
    mov $1, %edi
    lea 1f(%rip), %rsi
    mov $(2f - 1f), %edx
    mov $1, %eax
    syscall
    mov %rax, %r12
    mov $500, %eax
    syscall
    neg %rax
    imul $100, %rax, %rdi
    add %r12, %rdi
    mov $231, %eax
    syscall
    ud2
1:  .ascii "user: hello from ring 3\n"
2:
user_hello_end:

    // Writes to an unmapped user address: a page fault in user mode.
user_fault_start:
    mov $0x1234, %eax
    movq %rax, 0x5000
    ud2
user_fault_end:
    .popsection
    "#,
    options(att_syntax)
);

extern "C" {
    static user_hello_start: u8;
    static user_hello_end: u8;
    static user_fault_start: u8;
    static user_fault_end: u8;
}

fn bytes(start: *const u8, end: *const u8) -> &'static [u8] {
    let len = end as usize - start as usize;
    // SAFETY: start..end delimit assembled bytes in .rodata, which is
    // mapped read-only for the kernel's life and never written.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// Writes a greeting, checks ENOSYS, exits with `24 + 100 * 38`.
pub fn hello() -> &'static [u8] {
    bytes(&raw const user_hello_start, &raw const user_hello_end)
}

/// Faults on an unmapped user address.
pub fn fault() -> &'static [u8] {
    bytes(&raw const user_fault_start, &raw const user_fault_end)
}
