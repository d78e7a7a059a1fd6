//! Signals: numbers, default actions, `sigaction`, sets, `siginfo`, frames.
//!
//! Numbers and `SA_*` flags from `asm/signal.h`, default actions from
//! signal(7) ("Standard signals"), the kernel's `struct sigaction` (the
//! `rt_sigaction` layout: handler, flags, restorer, mask) from
//! `asm/signal.h`, `siginfo_t` from `asm-generic/siginfo.h`, and the
//! handler frame pieces (`struct sigcontext`, `struct ucontext`, `stack_t`)
//! from `asm/sigcontext.h`, `asm/ucontext.h` and `asm-generic/signal.h`.
//! `kernel-core::signals` keeps per-process state with these types; the
//! kernel builds the `rt_sigframe` on the user stack from them.

use core::fmt;

use crate::wire_struct;

/// Highest signal number (`_NSIG`).
pub const NSIG: u32 = 64;
/// First real-time signal as the kernel numbers it (glibc reserves 32-34
/// for itself and reports `SIGRTMIN` as 34).
pub const SIGRTMIN: u32 = 32;
pub const SIGRTMAX: u32 = 64;

/// A signal number in `1..=64`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(u8);

/// What a signal does when its disposition is `SIG_DFL` (signal(7)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process ("Term").
    Terminate,
    /// Discard the signal ("Ign").
    Ignore,
    /// Terminate and dump core ("Core"); we report the core bit in the
    /// wait status but write no core file.
    CoreDump,
    /// Stop the process ("Stop").
    Stop,
    /// Continue the process if stopped ("Cont").
    Continue,
}

macro_rules! signals {
    ($( $name:ident = $number:literal, $action:ident; )*) => {
        impl Signal {
            $( pub const $name: Signal = Signal($number); )*

            /// The C name (`"SIGINT"`), `None` for the real-time signals.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $number => Some(stringify!($name)), )*
                    _ => None,
                }
            }

            /// The action `SIG_DFL` takes.
            pub const fn default_action(self) -> DefaultAction {
                match self.0 {
                    $( $number => DefaultAction::$action, )*
                    // Real-time signals terminate by default.
                    _ => DefaultAction::Terminate,
                }
            }
        }
    };
}

signals! {
    SIGHUP = 1, Terminate;
    SIGINT = 2, Terminate;
    SIGQUIT = 3, CoreDump;
    SIGILL = 4, CoreDump;
    SIGTRAP = 5, CoreDump;
    SIGABRT = 6, CoreDump;
    SIGBUS = 7, CoreDump;
    SIGFPE = 8, CoreDump;
    SIGKILL = 9, Terminate;
    SIGUSR1 = 10, Terminate;
    SIGSEGV = 11, CoreDump;
    SIGUSR2 = 12, Terminate;
    SIGPIPE = 13, Terminate;
    SIGALRM = 14, Terminate;
    SIGTERM = 15, Terminate;
    SIGSTKFLT = 16, Terminate;
    SIGCHLD = 17, Ignore;
    SIGCONT = 18, Continue;
    SIGSTOP = 19, Stop;
    SIGTSTP = 20, Stop;
    SIGTTIN = 21, Stop;
    SIGTTOU = 22, Stop;
    SIGURG = 23, Ignore;
    SIGXCPU = 24, CoreDump;
    SIGXFSZ = 25, CoreDump;
    SIGVTALRM = 26, Terminate;
    SIGPROF = 27, Terminate;
    SIGWINCH = 28, Ignore;
    SIGIO = 29, Terminate;
    SIGPWR = 30, Terminate;
    SIGSYS = 31, CoreDump;
}

impl Signal {
    /// `SIGIO`'s other name.
    pub const SIGPOLL: Signal = Signal::SIGIO;
    /// `SIGABRT`'s other name.
    pub const SIGIOT: Signal = Signal::SIGABRT;

    /// The signal numbered `number`, if it is in `1..=64`.
    pub const fn new(number: u32) -> Option<Signal> {
        if number >= 1 && number <= NSIG {
            Some(Signal(number as u8))
        } else {
            None
        }
    }

    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The signal's bit in a [`SigSet`] (bit `number - 1`).
    pub const fn bit(self) -> u64 {
        1 << (self.0 - 1)
    }

    pub const fn is_realtime(self) -> bool {
        self.0 as u32 >= SIGRTMIN
    }

    /// `SIGKILL` and `SIGSTOP` can be neither caught, blocked nor ignored.
    pub const fn is_unblockable(self) -> bool {
        self.0 == Signal::SIGKILL.0 || self.0 == Signal::SIGSTOP.0
    }

    /// The stop signals a terminal may send (`SIGTSTP`, `SIGTTIN`,
    /// `SIGTTOU`) plus `SIGSTOP`.
    pub const fn is_stop(self) -> bool {
        matches!(self.default_action(), DefaultAction::Stop)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "SIGRTMIN+{}", self.0 as u32 - SIGRTMIN),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A set of signals: the kernel's 64-bit `sigset_t` (bit `n - 1` is signal
/// `n`), as `rt_sigprocmask` and `rt_sigaction` exchange it.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    pub const FULL: SigSet = SigSet(u64::MAX);
    /// The signals no mask may hold.
    pub const UNBLOCKABLE: SigSet = SigSet(Signal::SIGKILL.bit() | Signal::SIGSTOP.bit());
    /// The stop signals (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`).
    pub const STOP: SigSet = SigSet(
        Signal::SIGSTOP.bit()
            | Signal::SIGTSTP.bit()
            | Signal::SIGTTIN.bit()
            | Signal::SIGTTOU.bit(),
    );

    pub const fn of(signal: Signal) -> SigSet {
        SigSet(signal.bit())
    }

    pub const fn contains(self, signal: Signal) -> bool {
        self.0 & signal.bit() != 0
    }

    pub const fn with(self, signal: Signal) -> SigSet {
        SigSet(self.0 | signal.bit())
    }

    pub const fn without(self, signal: Signal) -> SigSet {
        SigSet(self.0 & !signal.bit())
    }

    pub const fn union(self, other: SigSet) -> SigSet {
        SigSet(self.0 | other.0)
    }

    pub const fn intersection(self, other: SigSet) -> SigSet {
        SigSet(self.0 & other.0)
    }

    /// The signals in `self` but not in `other`.
    pub const fn difference(self, other: SigSet) -> SigSet {
        SigSet(self.0 & !other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The lowest-numbered signal in the set.
    pub const fn lowest(self) -> Option<Signal> {
        if self.0 == 0 {
            None
        } else {
            Some(Signal(self.0.trailing_zeros() as u8 + 1))
        }
    }

    /// The signals in ascending order.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        let mut rest = self.0;
        core::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros();
            rest &= rest - 1;
            Some(Signal(bit as u8 + 1))
        })
    }
}

impl fmt::Debug for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// `rt_sigprocmask` `how` values.
pub const SIG_BLOCK: u32 = 0;
pub const SIG_UNBLOCK: u32 = 1;
pub const SIG_SETMASK: u32 = 2;

/// Handler values with special meaning.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;
/// What `signal()` returns on error; never a valid handler.
pub const SIG_ERR: u64 = u64::MAX;

pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
pub const SA_SIGINFO: u64 = 0x0000_0004;
pub const SA_UNSUPPORTED: u64 = 0x0000_0400;
pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

wire_struct! {
    /// The kernel's `struct sigaction` on x86_64, as `rt_sigaction` copies
    /// it (not glibc's, whose mask is 128 bytes and comes second).
    pub struct Sigaction {
        /// `SIG_DFL`, `SIG_IGN` or the handler's address.
        pub sa_handler: u64,
        pub sa_flags: u64,
        /// Where the handler returns to (calls `rt_sigreturn`); x86_64
        /// requires `SA_RESTORER`.
        pub sa_restorer: u64,
        /// Signals blocked while the handler runs.
        pub sa_mask: u64,
    }
}

pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
pub const MINSIGSTKSZ: u64 = 2048;
pub const SIGSTKSZ: u64 = 8192;

wire_struct! {
    /// `stack_t` for `sigaltstack` and `uc_stack`.
    pub struct Stack {
        pub ss_sp: u64,
        pub ss_flags: i32,
        pub __pad0: u32,
        pub ss_size: u64,
    }
}

/// `si_code` values.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_TRAPPED: i32 = 4;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const ILL_ILLOPC: i32 = 1;
pub const FPE_INTDIV: i32 = 1;
pub const BUS_ADRERR: i32 = 2;

wire_struct! {
    /// `siginfo_t` (128 bytes). The union `_sifields` starts at offset 16;
    /// the constructors below fill the member their signal uses.
    pub struct Siginfo {
        pub si_signo: i32,
        pub si_errno: i32,
        pub si_code: i32,
        pub __pad0: i32,
        /// `_sifields` and the padding to 128 bytes, as 64-bit words (the
        /// union holds 64-bit members, so the struct is 8-aligned).
        pub sifields: [u64; 14],
    }
}

impl Siginfo {
    fn with_fields(signal: Signal, code: i32) -> Siginfo {
        Siginfo {
            si_signo: signal.number() as i32,
            si_errno: 0,
            si_code: code,
            __pad0: 0,
            sifields: [0; 14],
        }
    }

    /// Stores a 32-bit member at byte `offset` of the whole struct.
    fn set_u32(&mut self, offset: usize, value: u32) {
        let word = &mut self.sifields[(offset - 16) / 8];
        let shift = (offset % 8) * 8;
        *word = (*word & !(0xffff_ffffu64 << shift)) | (u64::from(value) << shift);
    }

    /// Stores a 64-bit member at byte `offset` (8-aligned) of the struct.
    fn set_u64(&mut self, offset: usize, value: u64) {
        self.sifields[(offset - 16) / 8] = value;
    }

    /// A signal sent by `kill`/`tgkill` (`_kill`: `si_pid` at 16, `si_uid`
    /// at 20); `code` is `SI_USER` or `SI_TKILL`.
    pub fn sent(signal: Signal, code: i32, pid: u32, uid: u32) -> Siginfo {
        let mut info = Siginfo::with_fields(signal, code);
        info.set_u32(16, pid);
        info.set_u32(20, uid);
        info
    }

    /// `SIGCHLD` about a child (`_sigchld`: pid 16, uid 20, status 24,
    /// utime 32, stime 40); `code` is a `CLD_*` value and `status` the exit
    /// code or signal number.
    pub fn child(code: i32, pid: u32, uid: u32, status: i32, utime: u64, stime: u64) -> Siginfo {
        let mut info = Siginfo::with_fields(Signal::SIGCHLD, code);
        info.set_u32(16, pid);
        info.set_u32(20, uid);
        info.set_u32(24, status as u32);
        info.set_u64(32, utime);
        info.set_u64(40, stime);
        info
    }

    /// A fault (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`) at `address`
    /// (`_sigfault.si_addr` at 16).
    pub fn fault(signal: Signal, code: i32, address: u64) -> Siginfo {
        let mut info = Siginfo::with_fields(signal, code);
        info.set_u64(16, address);
        info
    }
}

wire_struct! {
    /// `struct sigcontext` (64-bit, 256 bytes): the registers saved in a
    /// signal frame's `uc_mcontext`, restored by `rt_sigreturn`.
    pub struct Sigcontext {
        pub r8: u64,
        pub r9: u64,
        pub r10: u64,
        pub r11: u64,
        pub r12: u64,
        pub r13: u64,
        pub r14: u64,
        pub r15: u64,
        pub rdi: u64,
        pub rsi: u64,
        pub rbp: u64,
        pub rbx: u64,
        pub rdx: u64,
        pub rax: u64,
        pub rcx: u64,
        pub rsp: u64,
        pub rip: u64,
        pub eflags: u64,
        pub cs: u16,
        pub gs: u16,
        pub fs: u16,
        pub ss: u16,
        pub err: u64,
        pub trapno: u64,
        pub oldmask: u64,
        pub cr2: u64,
        /// User address of the saved FPU state, 0 if none.
        pub fpstate: u64,
        pub reserved1: [u64; 8],
    }
}

/// `uc_flags` bits (`asm/ucontext.h`).
pub const UC_FP_XSTATE: u64 = 0x1;
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

wire_struct! {
    /// `struct ucontext` (304 bytes): the middle of an `rt_sigframe`, which
    /// is `{ pretcode: u64, uc: Ucontext, info: Siginfo }` followed by the
    /// FPU state.
    pub struct Ucontext {
        pub uc_flags: u64,
        pub uc_link: u64,
        pub uc_stack: Stack,
        pub uc_mcontext: Sigcontext,
        pub uc_sigmask: u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{format, vec::Vec};

    #[test]
    fn numbers_names_and_defaults() {
        assert_eq!(Signal::new(0), None);
        assert_eq!(Signal::new(65), None);
        assert_eq!(Signal::new(9), Some(Signal::SIGKILL));
        assert_eq!(Signal::SIGCHLD.number(), 17);
        assert_eq!(Signal::SIGINT.default_action(), DefaultAction::Terminate);
        assert_eq!(Signal::SIGSEGV.default_action(), DefaultAction::CoreDump);
        assert_eq!(Signal::SIGCHLD.default_action(), DefaultAction::Ignore);
        assert_eq!(Signal::SIGWINCH.default_action(), DefaultAction::Ignore);
        assert_eq!(Signal::SIGCONT.default_action(), DefaultAction::Continue);
        assert_eq!(Signal::SIGTSTP.default_action(), DefaultAction::Stop);
        let rt = Signal::new(40).unwrap();
        assert!(rt.is_realtime());
        assert_eq!(rt.default_action(), DefaultAction::Terminate);
        assert_eq!(format!("{rt:?}"), "SIGRTMIN+8");
        assert_eq!(format!("{}", Signal::SIGPIPE), "SIGPIPE");
        assert!(Signal::SIGKILL.is_unblockable() && Signal::SIGSTOP.is_unblockable());
        assert!(!Signal::SIGTSTP.is_unblockable());
        assert_eq!(Signal::new(64).unwrap().bit(), 1 << 63);
    }

    #[test]
    fn sets() {
        let set = SigSet::EMPTY
            .with(Signal::SIGTERM)
            .with(Signal::SIGHUP)
            .with(Signal::new(64).unwrap());
        assert_eq!(set.lowest(), Some(Signal::SIGHUP));
        let all: Vec<u32> = set.iter().map(Signal::number).collect();
        assert_eq!(all, [1, 15, 64]);
        assert!(set.contains(Signal::SIGTERM));
        assert!(!set.without(Signal::SIGTERM).contains(Signal::SIGTERM));
        assert_eq!(
            SigSet::FULL.difference(SigSet::UNBLOCKABLE).iter().count(),
            62
        );
        assert_eq!(SigSet::EMPTY.lowest(), None);
        assert_eq!(format!("{:?}", SigSet::UNBLOCKABLE), "{SIGKILL, SIGSTOP}");
        assert_eq!(SigSet::STOP.iter().count(), 4);
    }

    #[test]
    fn siginfo_fields_land_at_their_offsets() {
        let info = Siginfo::child(CLD_EXITED, 42, 0, 3, 7, 9).to_bytes();
        assert_eq!(info.len(), 128);
        assert_eq!(&info[0..4], &17i32.to_le_bytes());
        assert_eq!(&info[8..12], &CLD_EXITED.to_le_bytes());
        assert_eq!(&info[16..20], &42u32.to_le_bytes());
        assert_eq!(&info[24..28], &3u32.to_le_bytes());
        assert_eq!(&info[32..40], &7u64.to_le_bytes());
        assert_eq!(&info[40..48], &9u64.to_le_bytes());
        let fault = Siginfo::fault(Signal::SIGSEGV, SEGV_MAPERR, 0xdead_beef_0000).to_bytes();
        assert_eq!(&fault[16..24], &0xdead_beef_0000u64.to_le_bytes());
        let sent = Siginfo::sent(Signal::SIGTERM, SI_USER, 5, 1000).to_bytes();
        assert_eq!(&sent[20..24], &1000u32.to_le_bytes());
    }

    #[test]
    fn frame_layouts() {
        assert_eq!(core::mem::size_of::<Sigaction>(), 32);
        assert_eq!(core::mem::offset_of!(Sigaction, sa_mask), 24);
        assert_eq!(core::mem::size_of::<Stack>(), 24);
        assert_eq!(core::mem::size_of::<Sigcontext>(), 256);
        assert_eq!(core::mem::offset_of!(Sigcontext, cs), 144);
        assert_eq!(core::mem::offset_of!(Sigcontext, fpstate), 184);
        assert_eq!(core::mem::size_of::<Ucontext>(), 304);
        assert_eq!(core::mem::offset_of!(Ucontext, uc_mcontext), 40);
        assert_eq!(core::mem::offset_of!(Ucontext, uc_sigmask), 296);
        assert_eq!(core::mem::size_of::<Siginfo>(), 128);
    }
}
