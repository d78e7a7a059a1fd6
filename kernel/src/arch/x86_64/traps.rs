//! Exception and callback handling: trap table, dispatch, fatal reports.
//!
//! The stubs in [`super::boot`] save the interrupted registers into a
//! [`TrapFrame`] and call [`trap_dispatch`]. Event upcalls go to the event
//! layer and return; every exception in the kernel is fatal for now: it
//! prints one `FATAL:` line with the vector, error code, rip, rsp (and cr2
//! for page faults), a frame-pointer backtrace, and shuts the domain down
//! as crashed.

use xen_abi::arch::TrapInfo;

use super::boot::{VECTOR_EVENT_UPCALL, VECTOR_FAILSAFE, VECTOR_SYSCALL};

/// Registers as saved by `trap_common`, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    /// True if the trap interrupted user mode: Xen gives kernel-mode frames
    /// a CS with RPL 0 and user-mode frames RPL 3 (bits 32+ of the CS slot
    /// carry Xen's saved upcall mask).
    pub fn interrupted_user_mode(&self) -> bool {
        self.cs & 3 == 3
    }
}

/// Name of an exception vector (Intel SDM vol. 3, table 6-1).
pub fn vector_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        9 => "coprocessor segment overrun",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack fault",
        13 => "general protection",
        14 => "page fault",
        16 => "x87 floating point",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating point",
        VECTOR_FAILSAFE => "failsafe callback",
        _ => "unknown",
    }
}

macro_rules! stubs {
    ($($vector:literal => $stub:ident),* $(,)?) => {
        extern "C" { $(fn $stub();)* }
        /// (vector, stub address) for every exception we handle.
        fn exception_stubs() -> [(u8, u64); stubs!(@count $($vector)*)] {
            [$(($vector, $stub as *const () as u64)),*]
        }
    };
    (@count $($x:tt)*) => { 0usize $(+ stubs!(@one $x))* };
    (@one $x:tt) => { 1usize };
}

stubs! {
    0 => xen_trap_0, 1 => xen_trap_1, 3 => xen_trap_3, 4 => xen_trap_4,
    5 => xen_trap_5, 6 => xen_trap_6, 7 => xen_trap_7, 8 => xen_trap_8,
    9 => xen_trap_9, 10 => xen_trap_10, 11 => xen_trap_11, 12 => xen_trap_12,
    13 => xen_trap_13, 14 => xen_trap_14, 16 => xen_trap_16, 17 => xen_trap_17,
    18 => xen_trap_18, 19 => xen_trap_19,
}

extern "C" {
    fn xen_trap_256();
    fn xen_trap_257();
    fn xen_trap_258();
}

/// `trap_info.flags` bit 2: events are masked when the handler is entered
/// (xen.h, "clear event enable"; Linux sets it for interrupt gates).
const TRAP_MASKS_EVENTS: u8 = 1 << 2;

/// Installs the trap table and the event and failsafe callbacks.
pub fn init() -> Result<(), crate::xen::hypercall::XenError> {
    let stubs = exception_stubs();
    let mut table = [TrapInfo::default(); 20];
    for (slot, (vector, address)) in table.iter_mut().zip(stubs) {
        *slot = TrapInfo {
            vector,
            // Privilege bits 0-1: lowest ring allowed to raise it with `int`;
            // 3 for breakpoint/overflow so `int3` works from user mode, 0
            // (kernel only) otherwise. Bit 2: mask events on entry (an
            // interrupt gate), as the kernel assumes everywhere; without it
            // an upcall could land inside a page-fault handler and the
            // timer work it brings (the slice timer) would be lost.
            flags: (if vector == 3 || vector == 4 { 3 } else { 0 }) | TRAP_MASKS_EVENTS,
            cs: xen_abi::arch::FLAT_KERNEL_CS,
            address,
        };
    }
    // SAFETY: every address is a stub from boot.rs that handles Xen's PV
    // exception frame; the unused tail entries are zero, terminating the
    // table (xen.h, set_trap_table).
    unsafe { crate::xen::hypercall::set_trap_table(&table)? };
    // SAFETY: xen_trap_256 handles the event upcall frame (no error code)
    // and returns through HYPERVISOR_iret. Mask events on entry so a second
    // upcall cannot nest while the bitmaps are scanned.
    unsafe {
        crate::xen::hypercall::callback_register(
            xen_abi::callback::CALLBACKTYPE_EVENT,
            xen_trap_256 as *const () as u64,
            xen_abi::callback::CALLBACKF_MASK_EVENTS,
        )?
    };
    // SAFETY: xen_trap_258 handles the syscall frame (no error code) and
    // returns through HYPERVISOR_iret; events are masked on entry like the
    // upcall's.
    unsafe {
        crate::xen::hypercall::callback_register(
            xen_abi::callback::CALLBACKTYPE_SYSCALL,
            xen_trap_258 as *const () as u64,
            xen_abi::callback::CALLBACKF_MASK_EVENTS,
        )?
    };
    // SAFETY: xen_trap_257 reports the failsafe frame and never returns.
    unsafe {
        crate::xen::hypercall::callback_register(
            xen_abi::callback::CALLBACKTYPE_FAILSAFE,
            xen_trap_257 as *const () as u64,
            0,
        )?
    };
    Ok(())
}

/// Called by `trap_common` with the saved frame.
#[no_mangle]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    use crate::counters::{bump, SYSCALLS, UPCALLS, USER_EXCEPTIONS, USER_PAGE_FAULTS};
    if frame.vector == VECTOR_EVENT_UPCALL {
        bump(&UPCALLS);
        crate::events::upcall();
        if frame.interrupted_user_mode() {
            // The process's state is all in `frame` on its own kernel
            // stack: a safe point to hand the CPU to another process.
            crate::process::after_upcall(frame);
            crate::process::before_user_return();
        }
        return;
    }
    if frame.vector == VECTOR_SYSCALL {
        bump(&SYSCALLS);
        crate::process::syscall(frame);
        crate::process::before_user_return();
        return;
    }
    if frame.interrupted_user_mode() {
        bump(if frame.vector == 14 {
            &USER_PAGE_FAULTS
        } else {
            &USER_EXCEPTIONS
        });
        // A fault in a process ends the process, never the kernel.
        crate::process::fault(frame);
        crate::process::before_user_return();
        return;
    }
    fatal_exception(frame);
}

fn fatal_exception(frame: &TrapFrame) -> ! {
    use crate::shutdown;
    shutdown::enter_crash_path(|| {
        let name = vector_name(frame.vector);
        if frame.vector == 14 {
            crate::xen::console::print_emergency(format_args!(
                "FATAL: {name} vector={} error={:#x} rip={:#x} rsp={:#x} cr2={:#x}\n",
                frame.vector,
                frame.error_code,
                frame.rip,
                frame.rsp,
                crate::xen::shared_info::cr2()
            ));
        } else {
            crate::xen::console::print_emergency(format_args!(
                "FATAL: {name} vector={} error={:#x} rip={:#x} rsp={:#x}\n",
                frame.vector, frame.error_code, frame.rip, frame.rsp
            ));
        }
        crate::xen::console::print_emergency(format_args!(
            "registers: rax={:#x} rbx={:#x} rcx={:#x} rdx={:#x} rsi={:#x} rdi={:#x} rbp={:#x} \
             cs={:#x} ss={:#x} rflags={:#x}\n",
            frame.rax,
            frame.rbx,
            frame.rcx,
            frame.rdx,
            frame.rsi,
            frame.rdi,
            frame.rbp,
            frame.cs,
            frame.ss,
            frame.rflags
        ));
        print_backtrace(Some(frame.rip), frame.rbp);
    });
    shutdown::crash(match frame.vector {
        0 => "divide error",
        14 => "page fault",
        13 => "general protection",
        6 => "invalid opcode",
        _ => "exception",
    })
}

/// Prints `backtrace:` and one line per frame, starting at `rip` if given.
pub fn print_backtrace(rip: Option<u64>, rbp: u64) {
    use crate::xen::console::print_emergency;
    print_emergency(format_args!("backtrace:\n"));
    let mut index = 0;
    if let Some(rip) = rip {
        print_emergency(format_args!("  #0 {rip:#018x}\n"));
        index = 1;
    }
    let stack = super::boot::boot_stack_range();
    let read = |address: u64| {
        if address < stack.start || address + 8 > stack.end {
            return None;
        }
        // SAFETY: the address lies inside the boot stack (checked above),
        // which is mapped for the life of the kernel, and is 8-aligned
        // (walk() checks frame alignment).
        Some(unsafe { core::ptr::read_volatile(address as *const u64) })
    };
    kernel_core::backtrace::walk(rbp, stack.clone(), 32, read, |depth, address| {
        print_emergency(format_args!("  #{} {address:#018x}\n", depth + index));
    });
}
