//! User mode: code in its own address space, system calls and faults.
//!
//! The first step toward processes. [`run_program`] builds a user address
//! space (two pinned L4s, see `mm::paging::UserTables`), copies a program
//! into it, gives Xen a kernel stack for traps from user mode
//! (`stack_switch`) and enters ring 3 through `HYPERVISOR_iret` with
//! `rflags.IF` set, so events are unmasked only while user code runs.
//! `syscall` arrives through the CALLBACKTYPE_syscall callback as vector
//! 258 in `trap_dispatch`; a fault in user mode ends the program with a
//! signal-style report and never reaches the kernel's fatal path. When
//! the program exits, the syscall handler switches back to the kernel
//! thread that called `run_program` (`resume_kernel`), which tears the
//! address space down.
//!
//! What is here: write(1/2), getpid, exit, exit_group, and ENOSYS (logged
//! once per number) for everything else. Processes, ELF loading, fork and
//! the Linux syscall set are the next steps (see ARCHITECTURE.md).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;
use xen_abi::Pfn;

use crate::arch::x86_64::traps::{vector_name, TrapFrame};
use crate::mm::paging::{UserTables, MMU, USER_END, USER_START};
use crate::mm::{frames, pfn_to_mfn, physmap_address};
use crate::xen::hypercall;

/// How a user program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserExit {
    /// It called exit or exit_group with this status.
    Exited(i32),
    /// The kernel ended it: signal number and what happened.
    Killed { signal: u32, reason: String },
}

/// Where programs are loaded and their stack ends.
pub const LOAD_ADDRESS: u64 = 0x40_0000;
pub const STACK_TOP: u64 = 0x7fff_0000;
const KERNEL_STACK_BYTES: usize = 32 * 1024;

/// Linux x86_64 numbers of the calls handled here.
const SYS_WRITE: u64 = 1;
const SYS_GETPID: u64 = 39;
const SYS_EXIT: u64 = 60;
const SYS_EXIT_GROUP: u64 = 231;
/// Not Linux: a test hook that overwrites every SSE register in the
/// kernel, so the self-check can prove user FPU state is preserved.
const SYS_TEST_CLOBBER_SSE: u64 = 1000;
const ENOSYS: i64 = 38;
const EFAULT: i64 = 14;
const EBADF: i64 = 9;

/// The kernel thread's stack pointer while a program runs (enter_user
/// saves it, resume_kernel restores it).
static SAVED_KERNEL_RSP: AtomicU64 = AtomicU64::new(0);
/// The running program's tables, for validating user pointers.
static SPACE: Mutex<Option<UserTables>> = Mutex::new(None);
static EXIT: Mutex<Option<UserExit>> = Mutex::new(None);
/// What the program wrote to fds 1 and 2 (also printed), for checks.
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Syscall numbers already reported as unknown (logged once each).
static UNKNOWN_REPORTED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

extern "C" {
    fn enter_user(save_rsp: *mut u64, frame: *const TrapFrame);
    fn resume_kernel(saved_rsp: u64) -> !;
}

/// Runs position-independent machine code `code` at [`LOAD_ADDRESS`] in a
/// fresh address space with one stack page; returns how it ended and what
/// it wrote.
pub fn run_program(code: &[u8]) -> Result<(UserExit, Vec<u8>), String> {
    let pages = code.len().div_ceil(4096).max(1);
    let mut owned: Vec<Pfn> = Vec::new();
    let result = (|| {
        let tables = MMU
            .lock()
            .create_user_tables()
            .map_err(|e| format!("tables: {e}"))?;
        let mut mmu = MMU.lock();
        for page in 0..pages {
            let pfn = frames::allocate().map_err(|e| format!("frame: {e}"))?;
            owned.push(pfn);
            let chunk = &code[page * 4096..code.len().min((page + 1) * 4096)];
            let target = physmap_address(pfn);
            // SAFETY: the frame was just allocated and is mapped writable in
            // the physmap; nothing else refers to it yet.
            unsafe {
                core::ptr::write_bytes(target as *mut u8, 0, 4096);
                core::ptr::copy_nonoverlapping(chunk.as_ptr(), target as *mut u8, chunk.len());
            }
            let mfn = pfn_to_mfn(pfn).expect("populated");
            mmu.map_user(&tables, LOAD_ADDRESS + page as u64 * 4096, mfn, false)
                .map_err(|e| format!("map code: {e}"))?;
        }
        let stack = frames::allocate().map_err(|e| format!("frame: {e}"))?;
        owned.push(stack);
        // SAFETY: as above.
        unsafe { core::ptr::write_bytes(physmap_address(stack) as *mut u8, 0, 4096) };
        mmu.map_user(
            &tables,
            STACK_TOP - 4096,
            pfn_to_mfn(stack).expect("populated"),
            true,
        )
        .map_err(|e| format!("map stack: {e}"))?;
        mmu.commit().map_err(|e| format!("commit: {e}"))?;
        drop(mmu);
        Ok(tables)
    })();
    let tables = match result {
        Ok(tables) => tables,
        Err(error) => {
            for pfn in owned {
                let _ = frames::free(pfn);
            }
            return Err(error);
        }
    };
    // The program's pages now belong to its tables and are freed with them.
    drop(owned);

    let fpu_area = FpuArea::new();
    let kernel_stack: Box<[u64]> = alloc::vec![0u64; KERNEL_STACK_BYTES / 8].into_boxed_slice();
    let top = (kernel_stack.as_ptr() as u64 + KERNEL_STACK_BYTES as u64) & !15;
    let frame_address = top - core::mem::size_of::<TrapFrame>() as u64;
    let frame = TrapFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip: LOAD_ADDRESS,
        cs: xen_abi::arch::FLAT_USER_CS64 as u64,
        // IF set: events are delivered while user code runs.
        rflags: 0x202,
        rsp: STACK_TOP,
        ss: xen_abi::arch::FLAT_USER_SS64 as u64,
    };
    // SAFETY: frame_address lies inside kernel_stack (its top 176 bytes),
    // which is live until after the program ends, and is 8-aligned.
    unsafe { core::ptr::write(frame_address as *mut TrapFrame, frame) };
    // SAFETY: kernel_stack outlives the program: it is dropped only after
    // enter_user returns, when no user code can enter the kernel anymore.
    if let Err(error) = unsafe { hypercall::stack_switch(xen_abi::arch::FLAT_KERNEL_SS64, top) } {
        let _ = MMU.lock().destroy_user_tables(tables);
        return Err(format!("stack_switch: {error}"));
    }
    OUTPUT.lock().clear();
    *EXIT.lock() = None;
    let switched = MMU.lock().switch_address_space(Some(&tables));
    if let Err(error) = switched {
        let _ = MMU.lock().destroy_user_tables(tables);
        return Err(format!("switching to the program's tables: {error}"));
    }
    *SPACE.lock() = Some(tables);
    crate::arch::x86_64::boot::user_fpu_area.store(fpu_area.address(), Ordering::SeqCst);
    // (1) The frame is a complete user-mode TrapFrame (user CS/SS,
    // canonical rip and rsp in mapped user pages); (2) the loaded tables
    // map the kernel at the same addresses, so this code keeps running;
    // (3) enter_user saves our callee-saved registers and stack pointer in
    // SAVED_KERNEL_RSP, and only resume_kernel (from `finish`) comes back
    // here, with the same stack intact; (4) no lock is held across it.
    // SAFETY: (1)-(4) above.
    unsafe { enter_user(SAVED_KERNEL_RSP.as_ptr(), frame_address as *const TrapFrame) };

    // Back on the kernel thread: the program has ended.
    crate::arch::x86_64::boot::user_fpu_area.store(0, Ordering::SeqCst);
    drop(fpu_area);
    let tables = SPACE.lock().take().expect("set before entering user mode");
    let mut mmu = MMU.lock();
    mmu.switch_address_space(None)
        .map_err(|e| format!("switch back: {e}"))?;
    mmu.destroy_user_tables(tables)
        .map_err(|e| format!("teardown: {e}"))?;
    drop(mmu);
    drop(kernel_stack);
    let exit = EXIT.lock().take().expect("set before resuming the kernel");
    let output = core::mem::take(&mut *OUTPUT.lock());
    Ok((exit, output))
}

/// A program's FPU/SSE state as FXSAVE stores it (512 bytes, 16-aligned),
/// starting in the state `fninit` leaves plus the default MXCSR.
#[repr(C, align(16))]
struct FpuState([u8; 512]);

struct FpuArea(Box<FpuState>);

impl FpuArea {
    fn new() -> FpuArea {
        let mut state = Box::new(FpuState([0; 512]));
        state.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes()); // FCW
        state.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR
        FpuArea(state)
    }

    fn address(&self) -> u64 {
        &*self.0 as *const FpuState as u64
    }
}

/// Ends the running program and returns to `run_program`'s caller.
fn finish(exit: UserExit) -> ! {
    *EXIT.lock() = Some(exit);
    // SAVED_KERNEL_RSP was stored by enter_user on the kernel thread's
    // stack, untouched since (we are on the program's kernel stack); events
    // are masked (syscall and trap entries mask them), as it expects.
    // SAFETY: the saved stack and register state are intact (above).
    unsafe { resume_kernel(SAVED_KERNEL_RSP.load(Ordering::SeqCst)) }
}

/// Copies `len` bytes from user address `address` after checking every
/// page is a mapped user page of the running program.
fn copy_from_user(address: u64, len: u64) -> Result<Vec<u8>, i64> {
    let end = address.checked_add(len).ok_or(EFAULT)?;
    if address < USER_START || end > USER_END || len > 1 << 20 {
        return Err(EFAULT);
    }
    {
        let space = SPACE.lock();
        let space = space.as_ref().ok_or(EFAULT)?;
        let mut mmu = MMU.lock();
        let mut page = address & !0xfff;
        while page < end {
            mmu.translate_user(space, page).ok_or(EFAULT)?;
            page += 4096;
        }
    }
    let mut bytes = Vec::with_capacity(len as usize);
    for offset in 0..len {
        // Every page of [address, end) was just checked to be a mapped user
        // page of the loaded address space, which the kernel-mode L4 maps;
        // the program is not running, so it cannot change under us.
        // SAFETY: mapped, readable and stable (above); byte reads need no
        // alignment.
        bytes.push(unsafe { core::ptr::read_volatile((address + offset) as *const u8) });
    }
    Ok(bytes)
}

/// Handles a `syscall` from user mode (vector 258).
pub fn syscall(frame: &mut TrapFrame) {
    let result: i64 = match frame.rax {
        SYS_WRITE => match frame.rdi {
            1 | 2 => match copy_from_user(frame.rsi, frame.rdx) {
                Ok(bytes) => {
                    crate::kprint!("{}", String::from_utf8_lossy(&bytes));
                    OUTPUT.lock().extend_from_slice(&bytes);
                    bytes.len() as i64
                }
                Err(errno) => -errno,
            },
            _ => -EBADF,
        },
        SYS_GETPID => 1,
        SYS_TEST_CLOBBER_SSE => {
            crate::arch::x86_64::test_programs::clobber_sse();
            0
        }
        SYS_EXIT | SYS_EXIT_GROUP => finish(UserExit::Exited(frame.rdi as i32)),
        number => {
            let mut reported = UNKNOWN_REPORTED.lock();
            if !reported.contains(&number) {
                reported.push(number);
                log::warn!("unknown system call {number}; returning ENOSYS");
            }
            -ENOSYS
        }
    };
    frame.rax = result as u64;
}

/// Handles an exception from user mode: the program ends.
pub fn fault(frame: &mut TrapFrame) {
    let (signal, name) = match frame.vector {
        10..=14 => (11, "SIGSEGV"),
        0 | 16 | 19 => (8, "SIGFPE"),
        6 => (4, "SIGILL"),
        3 | 1 => (5, "SIGTRAP"),
        _ => (11, "SIGSEGV"),
    };
    let reason = if frame.vector == 14 {
        format!(
            "{name}: {} at {:#x} (error {:#x}) rip={:#x}",
            vector_name(frame.vector),
            crate::xen::shared_info::cr2(),
            frame.error_code,
            frame.rip
        )
    } else {
        format!("{name}: {} rip={:#x}", vector_name(frame.vector), frame.rip)
    };
    crate::kprintln!("user: program killed by {reason}");
    finish(UserExit::Killed { signal, reason })
}
