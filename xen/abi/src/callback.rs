//! Guest entry points: `callback.h` (the `callback_op` hypercall).
//!
//! Xen enters a PV kernel at addresses the kernel registers here: the event
//! upcall ([`CALLBACKTYPE_EVENT`]), the failsafe callback used when Xen
//! cannot restore the guest's segment state ([`CALLBACKTYPE_FAILSAFE`]), the
//! 64-bit `syscall` entry ([`CALLBACKTYPE_SYSCALL`]) and the NMI entry.

// --- callback.h: CALLBACKTYPE_* -------------------------------------------------

/// `CALLBACKTYPE_event`: event (upcall) delivery.
pub const CALLBACKTYPE_EVENT: u16 = 0;
/// `CALLBACKTYPE_failsafe`: Xen could not restore guest state on return.
pub const CALLBACKTYPE_FAILSAFE: u16 = 1;
/// `CALLBACKTYPE_syscall`: `syscall` by a 64-bit guest application.
pub const CALLBACKTYPE_SYSCALL: u16 = 2;
/// `CALLBACKTYPE_sysenter_deprecated`: x86/32 hypervisors only; do not use.
pub const CALLBACKTYPE_SYSENTER_DEPRECATED: u16 = 3;
/// `CALLBACKTYPE_nmi`: NMI delivery.
pub const CALLBACKTYPE_NMI: u16 = 4;
/// `CALLBACKTYPE_sysenter`: `sysenter` by a 32-bit application on Intel
/// CPUs (and 64-bit ones, though `syscall` is preferred). Interface
/// versions before 0x00030207 gave this name the value 3.
pub const CALLBACKTYPE_SYSENTER: u16 = 5;
/// `CALLBACKTYPE_syscall32`: `syscall` by a 32-bit application on AMD CPUs.
pub const CALLBACKTYPE_SYSCALL32: u16 = 7;

/// `CALLBACKF_mask_events`: mask event delivery while in the callback
/// (ignored for event and NMI callbacks, which always mask).
pub const CALLBACKF_MASK_EVENTS: u16 = 1 << 0;

// --- callback.h: CALLBACKOP_* ---------------------------------------------------

/// `CALLBACKOP_register` (arg = [`CallbackRegister`]).
pub const CALLBACKOP_REGISTER: u32 = 0;
/// `CALLBACKOP_unregister` (arg = [`CallbackUnregister`]); not every
/// callback can be unregistered (`-EINVAL`).
pub const CALLBACKOP_UNREGISTER: u32 = 1;

/// Register a callback: `struct callback_register`
/// (`callback_register_t`), `callback.h`. Written by the guest.
///
/// `address` is `xen_callback_t`, on x86_64 a plain `unsigned long` entry
/// address (x86_32's `{cs, eip}` pair does not apply).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallbackRegister {
    /// `CALLBACKTYPE_*` (C field `type`, a Rust keyword).
    pub type_: u16,
    /// `CALLBACKF_*` flags.
    pub flags: u16,
    /// Entry address.
    pub address: u64,
}

impl CallbackRegister {
    /// Register `address` as the entry for callback `type_`.
    pub const fn new(type_: u16, flags: u16, address: u64) -> Self {
        CallbackRegister {
            type_,
            flags,
            address,
        }
    }
}

/// Unregister a callback: `struct callback_unregister`
/// (`callback_unregister_t`), `callback.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallbackUnregister {
    /// `CALLBACKTYPE_*` (C field `type`, a Rust keyword).
    pub type_: u16,
    /// Unused.
    pub _unused: u16,
}
