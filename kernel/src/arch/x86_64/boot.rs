//! Entry point, ELF notes, hypercall page, boot stack and trap stubs.
//!
//! Everything here is assembly that Xen or the CPU jumps into:
//!
//! * `.note.Xen`: the notes Xen's ELF loader reads (`elfnote.h`) to learn
//!   where to map us (VIRT_BASE, PADDR_OFFSET), where to enter (ENTRY),
//!   where to write the hypercall page (HYPERCALL_PAGE) and which loader
//!   protocol we speak (LOADER "generic", XEN_VERSION "xen-3.0").
//! * `_start`: Xen enters with `rsi` = virtual address of `start_info`
//!   (`xen.h`, "Start-of-day memory layout") on a bootstrap stack we do not
//!   own; we switch to our own stack and call `kernel_main`.
//! * Trap stubs: for a 64-bit PV guest Xen bounces exceptions and event
//!   upcalls to the handlers registered with `set_trap_table` and
//!   `callback_op`, on the current kernel stack, with the frame
//!   `{rcx, r11, [error code], rip, cs, rflags, rsp, ss}` (Xen's
//!   `create_bounce_frame`). The stubs pop rcx/r11, normalise the frame to
//!   `{vector, error code, rip, ...}`, save every register and call
//!   `trap_dispatch` with a pointer to the [`super::traps::TrapFrame`].
//!   Returning goes through `HYPERVISOR_iret` (`xen-x86_64.h`, "struct
//!   iret_context"), which also restores the event mask from the saved
//!   `rflags.IF`: the hypercall page's iret stub pushes rcx, r11 and rax
//!   itself, so we jump to it with `{flags, rip, cs, rflags, rsp, ss}` on
//!   the stack and the interrupted rcx/r11/rax in their registers.

use core::arch::global_asm;

/// Bytes of the boot stack the kernel runs on.
pub const BOOT_STACK_BYTES: usize = 64 * 1024;

// Xen guest ELF notes. Numbers from xen/include/public/elfnote.h.
global_asm!(
    r#"
    .macro xen_note type, kind, value
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 2f - 1f
    .long \type
    .asciz "Xen"
    .balign 4
1:
    .ifc \kind, str
    .asciz "\value"
    .else
    .quad \value
    .endif
2:
    .balign 4
    .popsection
    .endm

    xen_note 6, str, "xenrs"
    xen_note 7, str, "0.1.0"
    xen_note 5, str, "xen-3.0"
    xen_note 8, str, "generic"
    xen_note 3, quad, 0xffffffff80000000
    xen_note 4, quad, 0xffffffff80000000
    xen_note 1, quad, _start
    xen_note 2, quad, hypercall_page
    "#,
    options(att_syntax)
);

// Entry, hypercall page and stack.
global_asm!(
    r#"
    .pushsection .text.entry, "ax"
    .globl _start
_start:
    cld
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %rsi, %rdi
    call kernel_main
    ud2
    .popsection

    .pushsection .text.hypercall_page, "ax"
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
    .popsection

    .pushsection .bss.boot_stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip {stack_bytes}
    .globl boot_stack_top
boot_stack_top:
    .popsection
    "#,
    stack_bytes = const BOOT_STACK_BYTES,
    options(att_syntax)
);

/// Vector numbers the stubs pass for the two callbacks, beyond the 0..32
/// exception vectors.
pub const VECTOR_EVENT_UPCALL: u64 = 256;
pub const VECTOR_FAILSAFE: u64 = 257;
/// A `syscall` from user mode (CALLBACKTYPE_syscall).
pub const VECTOR_SYSCALL: u64 = 258;

// Trap stubs and the common save/restore path.
global_asm!(
    r#"
    .macro trap_no_error vector
    .globl xen_trap_\vector
xen_trap_\vector:
    pop %rcx
    pop %r11
    pushq $0
    pushq $\vector
    jmp trap_common
    .endm

    .macro trap_with_error vector
    .globl xen_trap_\vector
xen_trap_\vector:
    pop %rcx
    pop %r11
    pushq $\vector
    jmp trap_common
    .endm

    .pushsection .text.traps, "ax"
    trap_no_error 0
    trap_no_error 1
    trap_no_error 3
    trap_no_error 4
    trap_no_error 5
    trap_no_error 6
    trap_no_error 7
    trap_with_error 8
    trap_no_error 9
    trap_with_error 10
    trap_with_error 11
    trap_with_error 12
    trap_with_error 13
    trap_with_error 14
    trap_no_error 16
    trap_with_error 17
    trap_no_error 18
    trap_no_error 19
    trap_no_error 256
    trap_no_error 257
    trap_no_error 258

trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    // From user mode: save the program's FPU/SSE state before any kernel
    // code (the prebuilt core uses SSE) can touch the registers.
    testb $3, {cs_offset}(%rsp)
    jz 1f
    mov user_fpu_area(%rip), %rax
    test %rax, %rax
    jz 1f
    fxsave64 (%rax)
1:
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call trap_dispatch
    mov %rbx, %rsp
    .globl trap_restore
trap_restore:
    // Back to user mode: restore the program's FPU/SSE state.
    testb $3, {cs_offset}(%rsp)
    jz 2f
    mov user_fpu_area(%rip), %rax
    test %rax, %rax
    jz 2f
    fxrstor64 (%rax)
2:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    lock incq {irets}(%rip)
    pushq $0
    jmp hypercall_page + {iret} * 32

    // switch_context(save_rsp: *mut u64 [rdi], load_rsp: u64 [rsi]):
    // saves the callee-saved registers and stack pointer of the current
    // context, loads another context saved the same way and returns into it.
    .globl switch_context
switch_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    // A new process's first context returns here, with its user-mode
    // TrapFrame right above: enter user mode through the common path.
    .globl process_first_run
process_first_run:
    jmp trap_restore

    .popsection
    "#,
    iret = const xen_abi::hypercall::IRET,
    irets = sym crate::counters::IRETS,
    cs_offset = const core::mem::offset_of!(super::traps::TrapFrame, cs),
    options(att_syntax)
);

/// The 512-byte, 16-aligned FXSAVE area of the program running in user
/// mode (0 when none): the trap stubs save into it on every entry from
/// user mode and restore from it on every return there.
#[no_mangle]
pub static user_fpu_area: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

extern "C" {
    static boot_stack_bottom: u8;
    static boot_stack_top: u8;
    static hypercall_page: u8;
}

/// Address range of the boot stack, for backtraces.
pub fn boot_stack_range() -> core::ops::Range<u64> {
    (&raw const boot_stack_bottom) as u64..(&raw const boot_stack_top) as u64
}

/// Address of the hypercall page Xen filled in at load time.
pub fn hypercall_page_address() -> u64 {
    (&raw const hypercall_page) as u64
}
