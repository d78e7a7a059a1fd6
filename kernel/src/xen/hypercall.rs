//! Hypercalls: the one place that calls into the hypercall page.
//!
//! Xen writes a page of 32-byte stubs at the address named by our
//! HYPERCALL_PAGE note; hypercall *N* is a `call` to `hypercall_page +
//! 32 * N` with arguments in rdi, rsi, rdx, r10, r8 and the result in rax
//! (`arch-x86/xen-x86_64.h`, "Hypercall interface"). Xen clobbers rcx and
//! r11 (`syscall`), and a debug hypervisor also scribbles over argument
//! registers, so every argument register is declared clobbered.
//!
//! Above the raw [`call`] sits one typed wrapper per operation. Wrappers
//! whose misuse could break memory safety (page-table and multicall
//! operations, trap and callback registration) are `unsafe fn` with their
//! contract spelled out; the MMU layer builds safe APIs on them.

use core::arch::asm;
use core::fmt;

use xen_abi::{hypercall as nr, DomId, EventChannelPort};

use crate::arch::x86_64::boot::hypercall_page_address;

/// A negative errno returned by Xen (`errno.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenError(pub i32);

impl fmt::Display for XenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match xen_abi::errno::name(self.0) {
            Some(name) => write!(f, "Xen error {name} (-{})", self.0),
            None => write!(f, "Xen error -{}", self.0),
        }
    }
}

impl core::error::Error for XenError {}

/// Result of a hypercall.
pub type XenResult<T = u64> = Result<T, XenError>;

fn check(result: i64) -> XenResult {
    if result < 0 {
        Err(XenError((-result) as i32))
    } else {
        Ok(result as u64)
    }
}

/// Makes hypercall `number` with five arguments.
///
/// # Safety
///
/// The arguments must be valid for the operation: any pointer among them
/// must point to memory of the right type and size that stays valid for the
/// call, and the operation itself must not break the kernel's memory
/// invariants (e.g. by remapping memory Rust code is using).
pub unsafe fn call(number: u32, args: [u64; 5]) -> i64 {
    let entry = hypercall_page_address() + number as u64 * 32;
    crate::counters::count_hypercall(number);
    let result: i64;
    // (1) `entry` is a stub in the hypercall page Xen filled in at load
    // time (HYPERCALL_PAGE note); (2) arguments go in rdi, rsi, rdx, r10, r8
    // and the result comes back in rax per arch-x86/xen-x86_64.h; (3) rcx
    // and r11 are clobbered by the `syscall` inside the stub and argument
    // registers may be clobbered by a debug Xen, all declared; (4) the stub
    // uses our stack for the return address only, and the kernel is built
    // without a red zone.
    // SAFETY: (1)-(4) above; pointer validity is the caller's contract.
    unsafe {
        asm!(
            "call {entry}",
            entry = in(reg) entry,
            inout("rdi") args[0] => _,
            inout("rsi") args[1] => _,
            inout("rdx") args[2] => _,
            inout("r10") args[3] => _,
            inout("r8") args[4] => _,
            lateout("rax") result,
            out("rcx") _,
            out("r11") _,
        );
    }
    result
}

// ---- console_io (xen.h: CONSOLEIO_write) ------------------------------

/// Reads bytes typed on Xen's console (dom0 only, once Xen has given
/// dom0 the input focus). Returns how many bytes were stored in `out`.
pub fn console_read(out: &mut [u8]) -> XenResult {
    // SAFETY: Xen writes at most `len` bytes into `out`, a live slice.
    check(unsafe {
        call(
            nr::CONSOLE_IO,
            [
                xen_abi::xen::CONSOLEIO_READ as u64,
                out.len() as u64,
                out.as_mut_ptr() as u64,
                0,
                0,
            ],
        )
    })
}

/// Writes bytes to Xen's console (dom0's console; a domU's lands in the
/// hypervisor log). Returns the number of bytes Xen took.
pub fn console_write(bytes: &[u8]) -> XenResult {
    // SAFETY: Xen reads `len` bytes from `bytes`, which is a live slice.
    check(unsafe {
        call(
            nr::CONSOLE_IO,
            [
                xen_abi::xen::CONSOLEIO_WRITE as u64,
                bytes.len() as u64,
                bytes.as_ptr() as u64,
                0,
                0,
            ],
        )
    })
}

// ---- sched_op (sched.h) ------------------------------------------------

/// Blocks the VCPU until an event is pending. Called with events masked,
/// Xen atomically unmasks them and re-checks for pending events first, so
/// an event that arrived just before cannot be missed (sched.h,
/// SCHEDOP_block).
pub fn sched_block() {
    // SAFETY: SCHEDOP_block takes no argument memory.
    let _ = unsafe {
        call(
            nr::SCHED_OP,
            [xen_abi::sched::SCHEDOP_BLOCK as u64, 0, 0, 0, 0],
        )
    };
}

/// Gives up the CPU to other VCPUs without blocking.
pub fn sched_yield() {
    // SAFETY: SCHEDOP_yield takes no argument memory.
    let _ = unsafe {
        call(
            nr::SCHED_OP,
            [xen_abi::sched::SCHEDOP_YIELD as u64, 0, 0, 0, 0],
        )
    };
}

/// Asks Xen to shut this domain down with `reason` (SHUTDOWN_*). Returns
/// only if Xen refused.
pub fn sched_shutdown(reason: u32) -> XenError {
    let request = xen_abi::sched::SchedShutdown { reason };
    // SAFETY: Xen reads one sched_shutdown struct from a live local.
    let result = unsafe {
        call(
            nr::SCHED_OP,
            [
                xen_abi::sched::SCHEDOP_SHUTDOWN as u64,
                &request as *const _ as u64,
                0,
                0,
                0,
            ],
        )
    };
    XenError(-(result.min(-1)) as i32)
}

// ---- xen_version (version.h) --------------------------------------------

/// `(major, minor)` of the running hypervisor.
pub fn xen_version() -> (u32, u32) {
    // SAFETY: XENVER_version takes no argument memory.
    let packed = unsafe {
        call(
            nr::XEN_VERSION,
            [xen_abi::version::XENVER_VERSION as u64, 0, 0, 0, 0],
        )
    };
    (
        (packed as u64 >> 16) as u32,
        (packed as u64 & 0xffff) as u32,
    )
}

/// Fills `buffer` with a version string selected by `command`
/// (XENVER_extraversion: 16 bytes, XENVER_capabilities: 1024 bytes).
pub fn xen_version_string(command: u32, buffer: &mut [u8]) -> XenResult {
    let needed = match command {
        xen_abi::version::XENVER_EXTRAVERSION => 16,
        xen_abi::version::XENVER_CAPABILITIES => 1024,
        xen_abi::version::XENVER_CHANGESET => 64,
        _ => return Err(XenError(xen_abi::errno::EINVAL)),
    };
    if buffer.len() < needed {
        return Err(XenError(xen_abi::errno::EINVAL));
    }
    // SAFETY: Xen writes at most `needed` bytes into `buffer`, checked above.
    check(unsafe {
        call(
            nr::XEN_VERSION,
            [command as u64, buffer.as_mut_ptr() as u64, 0, 0, 0],
        )
    })
}

/// The feature bits of submap 0 (XENVER_get_features).
pub fn xen_features() -> XenResult<u32> {
    let mut info = xen_abi::version::XenFeatureInfo {
        submap_idx: 0,
        submap: 0,
    };
    // SAFETY: Xen reads and writes one xen_feature_info struct in a local.
    check(unsafe {
        call(
            nr::XEN_VERSION,
            [
                xen_abi::version::XENVER_GET_FEATURES as u64,
                &mut info as *mut _ as u64,
                0,
                0,
                0,
            ],
        )
    })?;
    Ok(info.submap)
}

// ---- page tables (xen.h: mmu_update, mmuext_op, update_va_mapping) --------

/// Applies `updates`; returns how many Xen completed before any error.
///
/// # Safety
///
/// The updates must not unmap or remap memory that live Rust references
/// or the kernel's own code, stack or statics rely on.
pub unsafe fn mmu_update(updates: &[xen_abi::xen::MmuUpdate]) -> Result<usize, (usize, XenError)> {
    let mut done: u32 = 0;
    // SAFETY: Xen reads `updates.len()` entries from a live slice and writes
    // the done count to a live local; the mapping effects are the caller's
    // contract.
    let result = unsafe {
        call(
            nr::MMU_UPDATE,
            [
                updates.as_ptr() as u64,
                updates.len() as u64,
                &mut done as *mut u32 as u64,
                DomId::SELF.0 as u64,
                0,
            ],
        )
    };
    match check(result) {
        Ok(_) => Ok(done as usize),
        Err(error) => Err((done as usize, error)),
    }
}

/// Performs extended MMU operations (pin, unpin, flush, base pointers ...).
///
/// # Safety
///
/// As for [`mmu_update`]: the operations must not invalidate memory the
/// kernel is using (e.g. switching to a base pointer that lacks the kernel).
pub unsafe fn mmuext_op(ops: &[xen_abi::xen::MmuextOp]) -> Result<usize, (usize, XenError)> {
    let mut done: u32 = 0;
    // SAFETY: Xen reads `ops.len()` entries and writes the done count, both
    // live; the effects are the caller's contract.
    let result = unsafe {
        call(
            nr::MMUEXT_OP,
            [
                ops.as_ptr() as u64,
                ops.len() as u64,
                &mut done as *mut u32 as u64,
                DomId::SELF.0 as u64,
                0,
            ],
        )
    };
    match check(result) {
        Ok(_) => Ok(done as usize),
        Err(error) => Err((done as usize, error)),
    }
}

/// Writes the PTE that maps `va` (one page) and flushes as `flags` says
/// (UVMF_*).
///
/// # Safety
///
/// As for [`mmu_update`].
pub unsafe fn update_va_mapping(va: u64, new_pte: u64, flags: u64) -> XenResult {
    // SAFETY: no argument memory; the mapping change is the caller's contract.
    check(unsafe { call(nr::UPDATE_VA_MAPPING, [va, new_pte, flags, 0, 0]) })
}

/// Runs `entries` in order inside Xen; each entry's `result` is filled in.
///
/// # Safety
///
/// Every entry must be a valid call whose pointer arguments stay valid
/// for the duration, and each call must satisfy its own contract.
pub unsafe fn multicall(entries: &mut [xen_abi::xen::MulticallEntry]) -> XenResult {
    // SAFETY: Xen reads and writes `entries.len()` live entries; the calls'
    // own contracts are the caller's.
    check(unsafe {
        call(
            nr::MULTICALL,
            [entries.as_mut_ptr() as u64, entries.len() as u64, 0, 0, 0],
        )
    })
}

// ---- traps and callbacks (xen.h set_trap_table, callback.h) ---------------

/// Installs the exception handlers.
///
/// # Safety
///
/// Each entry's address must be a handler that understands Xen's PV
/// exception frame; the table must end with a zero entry.
pub unsafe fn set_trap_table(table: &[xen_abi::arch::TrapInfo]) -> XenResult {
    // SAFETY: Xen reads the zero-terminated table from a live slice; handler
    // validity is the caller's contract.
    check(unsafe { call(nr::SET_TRAP_TABLE, [table.as_ptr() as u64, 0, 0, 0, 0]) })
}

/// Registers an event, failsafe, syscall ... callback.
///
/// # Safety
///
/// `address` must be an entry point that understands Xen's callback frame.
pub unsafe fn callback_register(kind: u16, address: u64, flags: u16) -> XenResult {
    let request = xen_abi::callback::CallbackRegister {
        type_: kind,
        flags,
        address,
    };
    // SAFETY: Xen reads one callback_register struct from a live local;
    // entry validity is the caller's contract.
    check(unsafe {
        call(
            nr::CALLBACK_OP,
            [
                xen_abi::callback::CALLBACKOP_REGISTER as u64,
                &request as *const _ as u64,
                0,
                0,
                0,
            ],
        )
    })
}

// ---- vcpu_op (vcpu.h) ----------------------------------------------------

/// Arms the one-shot timer of VCPU 0 for absolute system time `deadline_ns`.
/// A deadline in the past fires at once (we do not pass
/// VCPU_SSHOTTMR_future, which would make Xen refuse it with -ETIME).
pub fn set_singleshot_timer(deadline_ns: u64) -> XenResult {
    let request = xen_abi::vcpu::VcpuSetSingleshotTimer {
        timeout_abs_ns: deadline_ns,
        flags: 0,
    };
    // SAFETY: Xen reads one struct from a live local.
    check(unsafe {
        call(
            nr::VCPU_OP,
            [
                xen_abi::vcpu::VCPUOP_SET_SINGLESHOT_TIMER as u64,
                0,
                &request as *const _ as u64,
                0,
                0,
            ],
        )
    })
}

/// Cancels VCPU 0's one-shot timer.
pub fn stop_singleshot_timer() -> XenResult {
    // SAFETY: no argument memory.
    check(unsafe {
        call(
            nr::VCPU_OP,
            [
                xen_abi::vcpu::VCPUOP_STOP_SINGLESHOT_TIMER as u64,
                0,
                0,
                0,
                0,
            ],
        )
    })
}

/// Stops the legacy 100 Hz periodic timer Xen starts for PV guests, so the
/// kernel is tickless.
pub fn stop_periodic_timer() -> XenResult {
    // SAFETY: no argument memory.
    check(unsafe {
        call(
            nr::VCPU_OP,
            [xen_abi::vcpu::VCPUOP_STOP_PERIODIC_TIMER as u64, 0, 0, 0, 0],
        )
    })
}

/// Tells Xen where to keep VCPU 0's runstate record.
///
/// # Safety
///
/// `area` must stay valid and mapped for the life of the domain: Xen
/// writes it on every context switch.
pub unsafe fn register_runstate_area(area: u64) -> XenResult {
    let request = xen_abi::vcpu::VcpuRegisterRunstateMemoryArea { addr: area };
    // SAFETY: Xen reads the request from a live local; the area's lifetime
    // is the caller's contract.
    check(unsafe {
        call(
            nr::VCPU_OP,
            [
                xen_abi::vcpu::VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA as u64,
                0,
                &request as *const _ as u64,
                0,
                0,
            ],
        )
    })
}

// ---- event_channel_op (event_channel.h) --------------------------------------

fn event_channel_op<T>(command: u32, argument: &mut T) -> XenResult {
    // SAFETY: every EVTCHNOP_* takes one struct that Xen reads and writes in
    // place; `argument` is a live exclusive reference to it.
    check(unsafe {
        call(
            nr::EVENT_CHANNEL_OP,
            [command as u64, argument as *mut T as u64, 0, 0, 0],
        )
    })
}

/// Binds a virtual IRQ (VIRQ_*) of VCPU 0 to a new port.
pub fn bind_virq(virq: u32) -> XenResult<EventChannelPort> {
    let mut request = xen_abi::event_channel::EvtchnBindVirq {
        virq,
        vcpu: 0,
        port: 0,
    };
    event_channel_op(xen_abi::event_channel::EVTCHNOP_BIND_VIRQ, &mut request)?;
    Ok(EventChannelPort(request.port))
}

/// Allocates a port that `remote` may bind to.
pub fn alloc_unbound(remote: DomId) -> XenResult<EventChannelPort> {
    let mut request = xen_abi::event_channel::EvtchnAllocUnbound {
        dom: DomId::SELF.0,
        remote_dom: remote.0,
        port: 0,
    };
    event_channel_op(xen_abi::event_channel::EVTCHNOP_ALLOC_UNBOUND, &mut request)?;
    Ok(EventChannelPort(request.port))
}

/// Connects a new local port to `remote_port` of domain `remote`.
pub fn bind_interdomain(
    remote: DomId,
    remote_port: EventChannelPort,
) -> XenResult<EventChannelPort> {
    let mut request = xen_abi::event_channel::EvtchnBindInterdomain {
        remote_dom: remote.0,
        remote_port: remote_port.0,
        local_port: 0,
    };
    event_channel_op(
        xen_abi::event_channel::EVTCHNOP_BIND_INTERDOMAIN,
        &mut request,
    )?;
    Ok(EventChannelPort(request.local_port))
}

/// Signals the other end of `port`.
pub fn notify(port: EventChannelPort) -> XenResult {
    let mut request = xen_abi::event_channel::EvtchnSend { port: port.0 };
    event_channel_op(xen_abi::event_channel::EVTCHNOP_SEND, &mut request)
}

/// Closes `port`.
pub fn close(port: EventChannelPort) -> XenResult {
    let mut request = xen_abi::event_channel::EvtchnClose { port: port.0 };
    event_channel_op(xen_abi::event_channel::EVTCHNOP_CLOSE, &mut request)
}

/// Unmasks `port` and, if it became pending while masked, re-raises the
/// upcall (event_channel.h, EVTCHNOP_unmask).
pub fn unmask(port: EventChannelPort) -> XenResult {
    let mut request = xen_abi::event_channel::EvtchnUnmask { port: port.0 };
    event_channel_op(xen_abi::event_channel::EVTCHNOP_UNMASK, &mut request)
}

// ---- physdev_op (physdev.h) ---------------------------------------------------

/// Sets the kernel's virtual I/O privilege level (1 lets the PV kernel use
/// in/out on the ports Xen permits this domain).
pub fn set_iopl(iopl: u32) -> XenResult {
    let mut request = xen_abi::physdev::PhysdevSetIopl { iopl };
    // SAFETY: Xen reads one struct from a live local.
    check(unsafe {
        call(
            nr::PHYSDEV_OP,
            [
                xen_abi::physdev::PHYSDEVOP_SET_IOPL as u64,
                &mut request as *mut _ as u64,
                0,
                0,
                0,
            ],
        )
    })
}

// ---- memory_op (memory.h) -------------------------------------------------------

/// The largest machine frame number in the system (XENMEM_maximum_ram_page).
pub fn maximum_ram_page() -> XenResult {
    // SAFETY: no argument memory.
    check(unsafe {
        call(
            nr::MEMORY_OP,
            [xen_abi::memory::XENMEM_MAXIMUM_RAM_PAGE as u64, 0, 0, 0, 0],
        )
    })
}

/// Pages this domain may own at most (XENMEM_maximum_reservation), i.e.
/// the toolstack's `maxmem`.
pub fn maximum_reservation() -> XenResult {
    let domain: u16 = DomId::SELF.0;
    // SAFETY: Xen reads one domid_t from a live local.
    check(unsafe {
        call(
            nr::MEMORY_OP,
            [
                xen_abi::memory::XENMEM_MAXIMUM_RESERVATION as u64,
                &domain as *const u16 as u64,
                0,
                0,
                0,
            ],
        )
    })
}

/// Pages this domain owns now (XENMEM_current_reservation).
pub fn current_reservation() -> XenResult {
    let domain: u16 = DomId::SELF.0;
    // SAFETY: Xen reads one domid_t from a live local.
    check(unsafe {
        call(
            nr::MEMORY_OP,
            [
                xen_abi::memory::XENMEM_CURRENT_RESERVATION as u64,
                &domain as *const u16 as u64,
                0,
                0,
                0,
            ],
        )
    })
}

/// Gives the machine frames in `mfns` back to Xen
/// (XENMEM_decrease_reservation, order-0 extents). Returns how many Xen
/// took; it takes a prefix of the list.
///
/// # Safety
///
/// No mapping of these frames may remain (the kernel's physmap alias must
/// be gone), and the kernel must stop using them: they become Xen's.
pub unsafe fn decrease_reservation(mfns: &mut [u64]) -> XenResult {
    let reservation = xen_abi::memory::XenMemoryReservation {
        extent_start: mfns.as_mut_ptr() as u64,
        nr_extents: mfns.len() as u64,
        extent_order: 0,
        mem_flags: 0,
        domid: DomId::SELF.0,
    };
    // SAFETY: Xen reads the reservation and the frame list, both live; the
    // frames' ownership transfer is the caller's contract.
    check(unsafe {
        call(
            nr::MEMORY_OP,
            [
                xen_abi::memory::XENMEM_DECREASE_RESERVATION as u64,
                &reservation as *const _ as u64,
                0,
                0,
                0,
            ],
        )
    })
}

/// Backs the pfns in `frames` with fresh machine frames
/// (XENMEM_populate_physmap). For a PV guest Xen overwrites each entry
/// with the new mfn. Returns how many were populated (a prefix).
pub fn populate_physmap(frames: &mut [u64]) -> XenResult {
    let reservation = xen_abi::memory::XenMemoryReservation {
        extent_start: frames.as_mut_ptr() as u64,
        nr_extents: frames.len() as u64,
        extent_order: 0,
        mem_flags: 0,
        domid: DomId::SELF.0,
    };
    // SAFETY: Xen reads the reservation and reads/writes the live list;
    // populating a pfn changes no existing mapping.
    check(unsafe {
        call(
            nr::MEMORY_OP,
            [
                xen_abi::memory::XENMEM_POPULATE_PHYSMAP as u64,
                &reservation as *const _ as u64,
                0,
                0,
                0,
            ],
        )
    })
}

// ---- grant_table_op (grant_table.h) -------------------------------------------

/// # Safety
///
/// `T` must be the struct `command` takes; and for operations that write
/// guest memory (copy, map), the targets must be safe to overwrite.
unsafe fn grant_table_op<T>(command: u32, operations: &mut [T]) -> XenResult {
    // SAFETY: each GNTTABOP_* takes an array of its own struct (caller's
    // contract), read and written in place by Xen; `operations` is a live
    // exclusive slice.
    check(unsafe {
        call(
            nr::GRANT_TABLE_OP,
            [
                command as u64,
                operations.as_mut_ptr() as u64,
                operations.len() as u64,
                0,
                0,
            ],
        )
    })
}

/// Converts a per-operation GNTST_* status into an error.
fn grant_status(status: i16) -> XenResult<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(XenError(-(status as i32)))
    }
}

/// (current frames, maximum frames) of our grant table.
pub fn grant_query_size() -> XenResult<(u32, u32)> {
    let mut query = [xen_abi::grant_table::GnttabQuerySize {
        dom: DomId::SELF.0,
        ..Default::default()
    }];
    // SAFETY: GNTTABOP_query_size takes gnttab_query_size and writes only it.
    unsafe { grant_table_op(xen_abi::grant_table::GNTTABOP_QUERY_SIZE, &mut query)? };
    grant_status(query[0].status)?;
    Ok((query[0].nr_frames, query[0].max_nr_frames))
}

/// Grows our grant table to `frames.len()` frames and fills `frames` with
/// their machine frame numbers, for the kernel to map.
pub fn grant_setup_table(frames: &mut [u64]) -> XenResult<()> {
    let mut setup = [xen_abi::grant_table::GnttabSetupTable {
        dom: DomId::SELF.0,
        nr_frames: frames.len() as u32,
        status: 0,
        frame_list: frames.as_mut_ptr() as u64,
    }];
    // SAFETY: GNTTABOP_setup_table takes gnttab_setup_table and writes
    // `nr_frames` entries to `frame_list`, which is `frames`, long enough.
    unsafe { grant_table_op(xen_abi::grant_table::GNTTABOP_SETUP_TABLE, &mut setup)? };
    grant_status(setup[0].status)
}

/// Performs grant copies; each operation's own status says whether it
/// worked (GNTST_*), returned per entry.
///
/// # Safety
///
/// Xen writes `len` bytes into each destination frame: those bytes must
/// not hold anything Rust code relies on (a frame the caller owns and
/// reads back only through raw pointers).
pub unsafe fn grant_copy(operations: &mut [xen_abi::grant_table::GnttabCopy]) -> XenResult<()> {
    // SAFETY: GNTTABOP_copy takes gnttab_copy; destinations are the
    // caller's contract.
    unsafe { grant_table_op(xen_abi::grant_table::GNTTABOP_COPY, operations) }.map(drop)
}

// ---- stack_switch (xen.h) ------------------------------------------------------

/// Sets the kernel stack Xen switches to when user mode traps, syscalls or
/// takes an event (the PV equivalent of the TSS's rsp0).
///
/// # Safety
///
/// `rsp` must be the top of a stack that stays valid, and unused by
/// anything else, for as long as user code may enter the kernel.
pub unsafe fn stack_switch(ss: u16, rsp: u64) -> XenResult {
    // SAFETY: no argument memory; the stack's validity is the caller's contract.
    check(unsafe { call(nr::STACK_SWITCH, [ss as u64, rsp, 0, 0, 0]) })
}

// ---- set_segment_base (arch-x86/xen-x86_64.h) -------------------------------------

/// Sets the FS base (SEGBASE_FS) or a GS base; `wrmsr` is privileged.
pub fn set_segment_base(which: u32, base: u64) -> XenResult {
    // SAFETY: no argument memory; the base only affects user-mode (and
    // %fs-relative) accesses, which the kernel does not make.
    check(unsafe { call(nr::SET_SEGMENT_BASE, [which as u64, base, 0, 0, 0]) })
}
