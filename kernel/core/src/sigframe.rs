//! The signal frame on the user stack: built to run a handler, read back
//! by `rt_sigreturn` (Linux x86_64's `rt_sigframe`, so glibc's and musl's
//! restorers and `ucontext_t` readers work unchanged).
//!
//! Layout, from the handler's stack pointer upwards:
//!
//! ```text
//! rsp →  pretcode (sa_restorer: the handler's return address)
//!        struct ucontext   (304 bytes: flags, link, stack, sigcontext, mask)
//!        struct siginfo    (128 bytes)
//!        ... padding ...
//!        FXSAVE area       (512 bytes, 64-aligned), sigcontext.fpstate
//! ```
//!
//! placed below the interrupted stack pointer minus the 128-byte red
//! zone, with `rsp + 8` 16-byte aligned as after a `call`.
//!
//! `rt_sigreturn` trusts nothing in the frame: the user can rewrite it
//! at will. Segment selectors are not taken from it at all, only the
//! arithmetic flags (and DF, TF, AC, RF) are, interrupts stay enabled, the
//! return address must be a user address, and MXCSR is masked to the bits
//! the CPU supports (reserved bits would make `fxrstor` fault in the
//! kernel).

use alloc::vec;
use alloc::vec::Vec;

use linux_abi::signal::{SigSet, Sigaction, Siginfo, Signal, Stack, Ucontext, SA_RESTORER};

/// A process's general registers as a signal frame saves them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserRegisters {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
}

/// Bytes skipped below the interrupted stack pointer (the ABI's red zone).
pub const RED_ZONE: u64 = 128;
/// Size of the FXSAVE image saved in the frame.
pub const FPU_BYTES: usize = 512;
const UCONTEXT_BYTES: u64 = core::mem::size_of::<Ucontext>() as u64;
const SIGINFO_BYTES: u64 = core::mem::size_of::<Siginfo>() as u64;
/// pretcode + ucontext + siginfo.
const FRAME_BYTES: u64 = 8 + UCONTEXT_BYTES + SIGINFO_BYTES;

/// The interrupt flag: always on in user mode.
const FLAG_IF: u64 = 0x200;
/// Flags `rt_sigreturn` takes from the frame (Linux's `FIX_EFLAGS`): CF,
/// PF, AF, ZF, SF, TF, DF, OF, AC and RF.
pub const RESTORABLE_FLAGS: u64 =
    0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4_0000 | 0x1_0000;
/// Flags cleared on entry to a handler: TF, DF and RF.
const CLEARED_FOR_HANDLER: u64 = 0x100 | 0x400 | 0x1_0000;

/// Why a frame could not be built or accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The action has no `SA_RESTORER` (x86_64 requires one).
    NoRestorer,
    /// The stack pointer leaves no room for a frame.
    StackOverflow,
    /// The saved return address is not a user address.
    BadReturnAddress,
}

/// Everything needed to build a handler frame.
pub struct FrameRequest<'a> {
    pub registers: &'a UserRegisters,
    pub fpu: &'a [u8; FPU_BYTES],
    pub signal: Signal,
    pub info: Siginfo,
    pub action: &'a Sigaction,
    /// The mask `rt_sigreturn` restores.
    pub saved_mask: SigSet,
    /// Exception details for `sigcontext` (0 for a non-fault signal).
    pub trap_number: u64,
    pub error_code: u64,
    pub fault_address: u64,
}

/// A frame ready to be copied to user memory at `address`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltFrame {
    /// The lowest address written (the handler's stack pointer).
    pub address: u64,
    pub bytes: Vec<u8>,
    /// The registers the handler starts with.
    pub handler_registers: UserRegisters,
}

/// Lays out the frame for `request` below `request.registers.rsp`.
pub fn build(request: &FrameRequest<'_>) -> Result<BuiltFrame, FrameError> {
    let action = request.action;
    if action.sa_flags & SA_RESTORER == 0 {
        return Err(FrameError::NoRestorer);
    }
    let regs = request.registers;
    let fpstate = regs
        .rsp
        .checked_sub(RED_ZONE + FPU_BYTES as u64)
        .ok_or(FrameError::StackOverflow)?
        & !63;
    let address = (fpstate
        .checked_sub(FRAME_BYTES + 16)
        .ok_or(FrameError::StackOverflow)?
        & !15)
        - 8;
    let mut bytes = vec![0u8; (fpstate + FPU_BYTES as u64 - address) as usize];
    bytes[..8].copy_from_slice(&action.sa_restorer.to_le_bytes());
    let mut context = Ucontext {
        uc_stack: Stack {
            ss_sp: 0,
            ss_flags: linux_abi::signal::SS_DISABLE as i32,
            __pad0: 0,
            ss_size: 0,
        },
        ..Ucontext::default()
    };
    let mc = &mut context.uc_mcontext;
    mc.r8 = regs.r8;
    mc.r9 = regs.r9;
    mc.r10 = regs.r10;
    mc.r11 = regs.r11;
    mc.r12 = regs.r12;
    mc.r13 = regs.r13;
    mc.r14 = regs.r14;
    mc.r15 = regs.r15;
    mc.rdi = regs.rdi;
    mc.rsi = regs.rsi;
    mc.rbp = regs.rbp;
    mc.rbx = regs.rbx;
    mc.rdx = regs.rdx;
    mc.rax = regs.rax;
    mc.rcx = regs.rcx;
    mc.rsp = regs.rsp;
    mc.rip = regs.rip;
    mc.eflags = regs.rflags;
    mc.cs = 0x33;
    mc.ss = 0x2b;
    mc.err = request.error_code;
    mc.trapno = request.trap_number;
    mc.oldmask = request.saved_mask.0;
    mc.cr2 = request.fault_address;
    mc.fpstate = fpstate;
    context.uc_sigmask = request.saved_mask.0;
    let uc_offset = 8usize;
    let info_offset = uc_offset + UCONTEXT_BYTES as usize;
    bytes[uc_offset..info_offset].copy_from_slice(&context.to_bytes());
    bytes[info_offset..info_offset + SIGINFO_BYTES as usize]
        .copy_from_slice(&request.info.to_bytes());
    let fpu_offset = (fpstate - address) as usize;
    bytes[fpu_offset..].copy_from_slice(request.fpu);
    let mut handler = *regs;
    handler.rip = action.sa_handler;
    handler.rsp = address;
    handler.rdi = request.signal.number() as u64;
    handler.rsi = address + info_offset as u64;
    handler.rdx = address + uc_offset as u64;
    handler.rax = 0;
    handler.rflags = (regs.rflags & !CLEARED_FOR_HANDLER) | FLAG_IF;
    Ok(BuiltFrame {
        address,
        bytes,
        handler_registers: handler,
    })
}

/// Where `rt_sigreturn` finds the `ucontext`: the handler's `ret` popped
/// pretcode, so the stack pointer points just past it.
pub fn ucontext_address(rsp_at_sigreturn: u64) -> u64 {
    rsp_at_sigreturn
}

/// What `rt_sigreturn` restores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    pub registers: UserRegisters,
    pub mask: SigSet,
    /// Where the saved FXSAVE image is (0: none; keep the current state).
    pub fpstate: u64,
}

/// Reads a `ucontext` back. `current_flags` are the flags at the
/// `rt_sigreturn`; `user_end` bounds user addresses.
pub fn restore(
    context: &[u8; core::mem::size_of::<Ucontext>()],
    current_flags: u64,
    user_end: u64,
) -> Result<Restored, FrameError> {
    let context = Ucontext::from_bytes(context);
    let mc = context.uc_mcontext;
    if mc.rip >= user_end {
        return Err(FrameError::BadReturnAddress);
    }
    let registers = UserRegisters {
        rax: mc.rax,
        rbx: mc.rbx,
        rcx: mc.rcx,
        rdx: mc.rdx,
        rsi: mc.rsi,
        rdi: mc.rdi,
        rbp: mc.rbp,
        rsp: mc.rsp,
        r8: mc.r8,
        r9: mc.r9,
        r10: mc.r10,
        r11: mc.r11,
        r12: mc.r12,
        r13: mc.r13,
        r14: mc.r14,
        r15: mc.r15,
        rip: mc.rip,
        rflags: (current_flags & !RESTORABLE_FLAGS) | (mc.eflags & RESTORABLE_FLAGS) | FLAG_IF,
    };
    Ok(Restored {
        registers,
        mask: SigSet(context.uc_sigmask).difference(SigSet::UNBLOCKABLE),
        fpstate: mc.fpstate,
    })
}

/// Makes a user-supplied FXSAVE image safe to load: MXCSR keeps only the
/// bits in `mxcsr_mask` (the CPU's, from its own FXSAVE).
pub fn sanitize_fxsave(image: &mut [u8; FPU_BYTES], mxcsr_mask: u32) {
    let mask = if mxcsr_mask == 0 { 0xffbf } else { mxcsr_mask };
    let mxcsr = u32::from_le_bytes(image[24..28].try_into().expect("4 bytes")) & mask;
    image[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    // The image's own MXCSR_MASK is ignored by fxrstor; keep it truthful.
    image[28..32].copy_from_slice(&mask.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_abi::signal::SA_RESTORER;

    fn action() -> Sigaction {
        Sigaction {
            sa_handler: 0x40_1000,
            sa_flags: SA_RESTORER,
            sa_restorer: 0x40_2000,
            sa_mask: 0,
        }
    }

    fn registers() -> UserRegisters {
        UserRegisters {
            rax: 1,
            rbx: 2,
            rcx: 3,
            rdx: 4,
            rsi: 5,
            rdi: 6,
            rbp: 7,
            rsp: 0x7ffe_f123,
            r8: 8,
            r9: 9,
            r10: 10,
            r11: 11,
            r12: 12,
            r13: 13,
            r14: 14,
            r15: 15,
            rip: 0x40_0abc,
            rflags: 0x202 | 0x400 | 0x1,
        }
    }

    fn built(signal: Signal) -> BuiltFrame {
        let regs = registers();
        let fpu = [0x5au8; FPU_BYTES];
        build(&FrameRequest {
            registers: &regs,
            fpu: &fpu,
            signal,
            info: Siginfo::sent(signal, 0, 3, 0),
            action: &action(),
            saved_mask: SigSet(0b1010),
            trap_number: 0,
            error_code: 0,
            fault_address: 0,
        })
        .unwrap()
    }

    #[test]
    fn the_handler_starts_with_linux_calling_convention_and_alignment() {
        let frame = built(Signal::SIGINT);
        let h = frame.handler_registers;
        assert_eq!(h.rip, 0x40_1000);
        assert_eq!(h.rdi, 2, "signal number");
        assert_eq!(h.rsp, frame.address);
        assert_eq!((h.rsp + 8) % 16, 0, "as after a call");
        assert_eq!(h.rdx, frame.address + 8, "ucontext");
        assert_eq!(h.rsi, frame.address + 8 + 304, "siginfo");
        assert!(frame.address + (frame.bytes.len() as u64) <= 0x7ffe_f123 - RED_ZONE);
        assert_eq!(h.rflags & 0x400, 0, "DF cleared for the handler");
        assert_ne!(h.rflags & 0x200, 0, "interrupts on");
        assert_eq!(
            &frame.bytes[..8],
            &0x40_2000u64.to_le_bytes(),
            "returns to the restorer"
        );
        let info = &frame.bytes[8 + 304..8 + 304 + 4];
        assert_eq!(info, &2i32.to_le_bytes(), "si_signo");
    }

    #[test]
    fn sigreturn_restores_what_the_frame_saved() {
        let frame = built(Signal::SIGCHLD);
        // rt_sigreturn runs with rsp just past pretcode.
        let at = ucontext_address(frame.address + 8) - frame.address;
        let context: [u8; 304] = frame.bytes[at as usize..at as usize + 304]
            .try_into()
            .unwrap();
        let restored = restore(&context, 0x202, 0x8000_0000_0000).unwrap();
        assert_eq!(restored.registers, registers());
        assert_eq!(restored.mask, SigSet(0b1010));
        let fpu_at = (restored.fpstate - frame.address) as usize;
        assert_eq!(restored.fpstate % 64, 0);
        assert_eq!(&frame.bytes[fpu_at..fpu_at + 512], &[0x5au8; 512][..]);
    }

    #[test]
    fn sigreturn_distrusts_the_frame() {
        let frame = built(Signal::SIGUSR1);
        let mut context: [u8; 304] = frame.bytes[8..312].try_into().unwrap();
        let mut uc = Ucontext::from_bytes(&context);
        uc.uc_mcontext.eflags = u64::MAX; // IOPL, VM, NT ... all set
        uc.uc_sigmask = u64::MAX;
        uc.uc_mcontext.cs = 0x10; // a kernel selector: never used
        context = uc.to_bytes();
        let restored = restore(&context, 0x202, 0x8000_0000_0000).unwrap();
        assert_eq!(restored.registers.rflags, RESTORABLE_FLAGS | 0x202);
        assert_eq!(restored.registers.rflags & 0x3000, 0, "no IOPL");
        assert!(!restored.mask.contains(Signal::SIGKILL));
        assert!(!restored.mask.contains(Signal::SIGSTOP));
        uc.uc_mcontext.rip = 0xffff_8000_0000_0000;
        assert_eq!(
            restore(&uc.to_bytes(), 0x202, 0x8000_0000_0000),
            Err(FrameError::BadReturnAddress)
        );
    }

    #[test]
    fn frames_need_a_restorer_and_room() {
        let regs = registers();
        let fpu = [0u8; FPU_BYTES];
        let mut request = FrameRequest {
            registers: &regs,
            fpu: &fpu,
            signal: Signal::SIGINT,
            info: Siginfo::sent(Signal::SIGINT, 0, 1, 0),
            action: &Sigaction {
                sa_flags: 0,
                ..action()
            },
            saved_mask: SigSet::EMPTY,
            trap_number: 0,
            error_code: 0,
            fault_address: 0,
        };
        assert_eq!(build(&request), Err(FrameError::NoRestorer));
        let low = UserRegisters { rsp: 100, ..regs };
        let with_restorer = action();
        request.registers = &low;
        request.action = &with_restorer;
        assert_eq!(build(&request), Err(FrameError::StackOverflow));
    }

    #[test]
    fn mxcsr_loses_reserved_bits() {
        let mut image = [0u8; FPU_BYTES];
        image[24..28].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
        sanitize_fxsave(&mut image, 0xffff);
        assert_eq!(
            u32::from_le_bytes(image[24..28].try_into().unwrap()),
            0xffff
        );
        sanitize_fxsave(&mut image, 0);
        assert_eq!(
            u32::from_le_bytes(image[24..28].try_into().unwrap()),
            0xffbf
        );
    }
}
