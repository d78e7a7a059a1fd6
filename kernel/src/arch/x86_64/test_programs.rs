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
    .globl user_fpu_start, user_fpu_end

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

    // Puts a pattern in xmm0 and xmm15 and a rounding mode in MXCSR, asks
    // the kernel to clobber every SSE register (test syscall 1000), and
    // exits 0 if all three survived, else 1.
user_fpu_start:
    mov $0x1234567887654321, %rax
    movq %rax, %xmm0
    movq %rax, %xmm15
    sub $8, %rsp
    movl $0x7f80, (%rsp)
    ldmxcsr (%rsp)
    mov $1000, %eax
    syscall
    stmxcsr 4(%rsp)
    mov $1, %edi
    cmpl $0x7f80, 4(%rsp)
    jne 3f
    mov $0x1234567887654321, %rax
    movq %xmm0, %rcx
    cmp %rax, %rcx
    jne 3f
    movq %xmm15, %rcx
    cmp %rax, %rcx
    jne 3f
    xor %edi, %edi
3:  mov $231, %eax
    syscall
    ud2
user_fpu_end:
    .popsection
    "#,
    options(att_syntax)
);

extern "C" {
    static user_hello_start: u8;
    static user_hello_end: u8;
    static user_fault_start: u8;
    static user_fault_end: u8;
    static user_fpu_start: u8;
    static user_fpu_end: u8;
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

/// Checks that its SSE registers and MXCSR survive a system call that
/// clobbers them in the kernel: exits 0 if so.
pub fn fpu() -> &'static [u8] {
    bytes(&raw const user_fpu_start, &raw const user_fpu_end)
}

/// Overwrites every SSE register and MXCSR, as kernel code using SSE
/// might, for the FPU self-check (test system call 1000).
pub fn clobber_sse() {
    // SAFETY: only SSE registers and MXCSR change, all declared clobbered;
    // the kernel keeps no SSE state across this call (MXCSR goes back to
    // its default before returning).
    unsafe {
        core::arch::asm!(
            "pcmpeqd xmm0, xmm0",
            "pcmpeqd xmm1, xmm1",
            "pcmpeqd xmm2, xmm2",
            "pcmpeqd xmm3, xmm3",
            "pcmpeqd xmm4, xmm4",
            "pcmpeqd xmm5, xmm5",
            "pcmpeqd xmm6, xmm6",
            "pcmpeqd xmm7, xmm7",
            "pcmpeqd xmm8, xmm8",
            "pcmpeqd xmm9, xmm9",
            "pcmpeqd xmm10, xmm10",
            "pcmpeqd xmm11, xmm11",
            "pcmpeqd xmm12, xmm12",
            "pcmpeqd xmm13, xmm13",
            "pcmpeqd xmm14, xmm14",
            "pcmpeqd xmm15, xmm15",
            "sub rsp, 8",
            "mov dword ptr [rsp], 0x1f80",
            "ldmxcsr [rsp]",
            "add rsp, 8",
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        );
    }
}
