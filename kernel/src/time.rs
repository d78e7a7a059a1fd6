//! Clocks and timers: real, wall-clock and virtual time; one-shot timers.
//!
//! Reading any clock costs no hypercall: real time extrapolates VCPU 0's
//! `vcpu_time_info` with `rdtsc`; wall-clock time adds shared_info's boot
//! wall clock; virtual time reads the runstate area Xen keeps up to date
//! for us. (The arithmetic lives in `kernel_core::time`.)
//!
//! Timers: a queue ordered by deadline; the hardware one-shot timer
//! (`VCPUOP_set_singleshot_timer`, delivered as VIRQ_TIMER) is always armed
//! for the earliest one. The legacy periodic tick is switched off, so an
//! idle kernel gets no interrupts at all.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use kernel_core::time::{RunstateSnapshot, WallTime, RUNSTATE_UPDATE_FLAG};
use kernel_core::timer_queue::{TimerId, TimerQueue};
use spin::Mutex;
use xen_abi::vcpu::VcpuRunstateInfo;
use xen_abi::EventChannelPort;

use crate::arch::x86_64::cpu::rdtsc;
use crate::events;
use crate::xen::{hypercall, shared_info};

/// What to do when a timer fires.
#[derive(Clone, Copy, Debug)]
pub enum TimerAction {
    /// Nothing: the waiter polls the clock (used by [`sleep_until`]).
    Wake,
    /// Call a function with (timer id, system time when it ran).
    Call(fn(TimerId, u64)),
}

/// Room for every process sleeping at once, plus the kernel's own timers.
const TIMER_CAPACITY: usize = 256;
static TIMERS: Mutex<TimerQueue<TimerAction, TIMER_CAPACITY>> = Mutex::new(TimerQueue::new());
static TIMER_PORT: AtomicU32 = AtomicU32::new(u32::MAX);

/// Xen writes the runstate here on every context switch.
#[repr(C, align(64))]
struct RunstateArea(UnsafeCell<VcpuRunstateInfo>);

// SAFETY: only read through volatile reads of a copy; Xen is the writer.
unsafe impl Sync for RunstateArea {}

static RUNSTATE: RunstateArea = RunstateArea(UnsafeCell::new(VcpuRunstateInfo {
    state: 0,
    state_entry_time: 0,
    time: [0; 4],
}));

/// The latest real time handed out, so readings never go backwards.
static LAST_SYSTEM_NS: AtomicU64 = AtomicU64::new(0);

/// Real time: nanoseconds since Xen booted.
///
/// Extrapolating the TSC from one time record and then reading the next
/// record can step back slightly when Xen re-anchors system time to its
/// platform timer (more so under emulation, where the TSC rate and Xen's
/// calibration disagree). Like Linux's pvclock without a stable-TSC flag,
/// we never return less than a value already returned.
pub fn system_time_ns() -> u64 {
    let now = shared_info::time_record().system_time_at(rdtsc());
    let last = LAST_SYSTEM_NS.fetch_max(now, Ordering::Relaxed);
    now.max(last)
}

/// Wall-clock time now.
pub fn wallclock() -> WallTime {
    WallTime::from_boot_wallclock_parts(shared_info::boot_wallclock(), system_time_ns())
}

/// Nanoseconds VCPU 0 has actually run. Never less than a value it
/// returned before: the running stint is extrapolated with our reading of
/// system time, which can run slightly ahead of the entry time Xen writes
/// at the next state change (the same reason `system_time_ns` is kept
/// monotonic).
pub fn virtual_ns() -> u64 {
    let snapshot = runstate();
    let now = snapshot.running_ns(system_time_ns());
    let previous = LAST_VIRTUAL_NS.fetch_max(now, Ordering::SeqCst);
    now.max(previous)
}

/// The largest virtual time returned so far.
static LAST_VIRTUAL_NS: AtomicU64 = AtomicU64::new(0);

/// A consistent copy of the runstate area.
pub fn runstate() -> RunstateSnapshot {
    let area = RUNSTATE.0.get();
    loop {
        // Xen writes the area asynchronously: the copy is accepted only if
        // state_entry_time is the same before and after and carries no
        // update flag (vcpu.h, XEN_RUNSTATE_UPDATE).
        // SAFETY: `area` is a live static; only volatile reads of it.
        let (before, copy, after) = unsafe {
            let entry = core::ptr::addr_of!((*area).state_entry_time);
            let before = core::ptr::read_volatile(entry);
            let copy = core::ptr::read_volatile(area);
            core::sync::atomic::fence(Ordering::Acquire);
            (before, copy, core::ptr::read_volatile(entry))
        };
        if before == after && before & RUNSTATE_UPDATE_FLAG == 0 {
            return RunstateSnapshot {
                state: copy.state as u32,
                state_entry_time: copy.state_entry_time,
                time: copy.time,
            };
        }
    }
}

/// Registers the runstate area, stops the periodic tick and binds VIRQ_TIMER.
pub fn init() -> Result<(), hypercall::XenError> {
    // SAFETY: RUNSTATE is a static, valid for the life of the domain.
    unsafe { hypercall::register_runstate_area(RUNSTATE.0.get() as u64)? };
    if let Err(error) = hypercall::stop_periodic_timer() {
        log::warn!("time: cannot stop the periodic timer: {error}");
    }
    let port = hypercall::bind_virq(xen_abi::xen::VIRQ_TIMER)?;
    TIMER_PORT.store(port.0, Ordering::SeqCst);
    events::bind(port).map_err(|_| hypercall::XenError(xen_abi::errno::EINVAL))?;
    Ok(())
}

fn arm(queue: &TimerQueue<TimerAction, TIMER_CAPACITY>) {
    let result = match queue.next_deadline() {
        Some(deadline) => hypercall::set_singleshot_timer(deadline),
        None => hypercall::stop_singleshot_timer(),
    };
    if let Err(error) = result {
        log::error!("time: arming the one-shot timer failed: {error}");
    }
}

/// Adds a timer for absolute system time `deadline_ns`. A deadline in the
/// past fires at the next [`poll`].
pub fn add_timer(deadline_ns: u64, action: TimerAction) -> Option<TimerId> {
    let mut queue = TIMERS.lock();
    let was_first = queue.next_deadline().is_none_or(|d| deadline_ns < d);
    match queue.insert(deadline_ns, action) {
        Ok(id) => {
            if was_first {
                arm(&queue);
            }
            Some(id)
        }
        Err(error) => {
            log::error!("time: {error}; timer for {deadline_ns} ns dropped");
            None
        }
    }
}

/// Cancels a pending timer; false if it already fired.
pub fn cancel_timer(id: TimerId) -> bool {
    let mut queue = TIMERS.lock();
    let earliest = queue.next_deadline();
    let cancelled = queue.cancel(id).is_some();
    // Re-arm only if the earliest deadline changed (one hypercall saved
    // per context switch).
    if queue.next_deadline() != earliest {
        arm(&queue);
    }
    cancelled
}

/// Runs every due timer. Call after [`events::block`] returns.
pub fn poll() {
    let port = EventChannelPort(TIMER_PORT.load(Ordering::SeqCst));
    events::take_fired(port);
    loop {
        let now = system_time_ns();
        let due = TIMERS.lock().pop_due(now);
        match due {
            Some((id, TimerAction::Call(function))) => function(id, now),
            Some((_, TimerAction::Wake)) => {}
            None => break,
        }
    }
    arm(&TIMERS.lock());
}

/// Blocks (costing no CPU) until system time `deadline_ns`. Every timer
/// due by then has run when it returns, even if the VCPU was descheduled
/// past the deadline before it got here.
pub fn sleep_until(deadline_ns: u64) {
    let Some(id) = add_timer(deadline_ns, TimerAction::Wake) else {
        // No timer to wake us: yield the CPU until the deadline instead.
        while system_time_ns() < deadline_ns {
            hypercall::sched_yield();
            poll();
        }
        return;
    };
    loop {
        poll();
        if system_time_ns() >= deadline_ns {
            break;
        }
        events::block();
    }
    cancel_timer(id);
}

/// Blocks for `duration_ns`.
pub fn sleep_ns(duration_ns: u64) {
    sleep_until(system_time_ns().saturating_add(duration_ns));
}
