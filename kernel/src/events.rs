//! Event channels: the upcall, the 2-level demux, binding and idling.
//!
//! The kernel runs with events masked (`evtchn_upcall_mask` = 1; DESIGN.md
//! §3: the prebuilt `core` uses a red zone, so no asynchronous frame may
//! land on kernel code at an arbitrary point). Events are taken only in
//! [`block`]: `SCHEDOP_block` atomically unmasks and sleeps until an event
//! is pending; on the way out Xen delivers the upcall (at a known point,
//! right after the hypercall), the handler moves pending ports into the
//! kernel's own `FIRED` set, `HYPERVISOR_iret` returns, and we mask again.
//! Kernel code then consumes fired ports with [`take_fired`].
//!
//! A port that fires without being bound here is spurious: it is counted,
//! masked so it cannot storm, and otherwise ignored.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel_core::event_demux::{demux, EventBitmaps};
use xen_abi::EventChannelPort;

use crate::xen::{hypercall, shared_info};

/// Ports of the 2-level ABI: 64 words of 64 bits.
pub const PORTS: u32 = 64 * 64;

static BOUND: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
static FIRED: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
/// Upcalls taken.
pub static UPCALLS: AtomicU64 = AtomicU64::new(0);
/// Events on ports nobody bound.
pub static SPURIOUS: AtomicU64 = AtomicU64::new(0);

/// Why an event-channel operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventError {
    /// A port number beyond the 2-level ABI's 4096.
    PortOutOfRange(u32),
    /// Xen refused the operation.
    Xen(hypercall::XenError),
}

impl core::fmt::Display for EventError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EventError::PortOutOfRange(port) => write!(f, "event port {port} out of range"),
            EventError::Xen(error) => write!(f, "event channel operation failed: {error}"),
        }
    }
}

fn split(port: EventChannelPort) -> Result<(usize, u64), EventError> {
    if port.0 >= PORTS {
        return Err(EventError::PortOutOfRange(port.0));
    }
    Ok(((port.0 / 64) as usize, 1 << (port.0 % 64)))
}

/// Masks events for the whole kernel. Called once at boot; from then on
/// only [`block`] unmasks, for the duration of the hypercall.
pub fn init() {
    shared_info::upcall_mask().store(1, Ordering::SeqCst);
}

/// Makes the kernel accept events on `port` and unmasks it in Xen.
pub fn bind(port: EventChannelPort) -> Result<(), EventError> {
    let (word, bit) = split(port)?;
    BOUND[word].fetch_or(bit, Ordering::SeqCst);
    hypercall::unmask(port).map_err(EventError::Xen)?;
    Ok(())
}

/// Stops accepting events on `port` (and masks it); returns whether an
/// event was still unconsumed.
pub fn unbind(port: EventChannelPort) -> Result<bool, EventError> {
    let (word, bit) = split(port)?;
    shared_info::mask_word(word).fetch_or(bit, Ordering::SeqCst);
    BOUND[word].fetch_and(!bit, Ordering::SeqCst);
    Ok(FIRED[word].fetch_and(!bit, Ordering::SeqCst) & bit != 0)
}

/// Masks `port` in shared_info: Xen keeps it pending but does not raise it.
pub fn mask(port: EventChannelPort) -> Result<(), EventError> {
    let (word, bit) = split(port)?;
    shared_info::mask_word(word).fetch_or(bit, Ordering::SeqCst);
    Ok(())
}

/// Unmasks `port` through Xen, which re-raises it if it became pending.
pub fn unmask(port: EventChannelPort) -> Result<(), EventError> {
    split(port)?;
    hypercall::unmask(port).map(drop).map_err(EventError::Xen)
}

/// Consumes a fired event on `port`: true if there was one.
pub fn take_fired(port: EventChannelPort) -> bool {
    match split(port) {
        Ok((word, bit)) => FIRED[word].fetch_and(!bit, Ordering::SeqCst) & bit != 0,
        Err(_) => false,
    }
}

/// Sleeps until an event arrives. Callers loop on their own condition
/// (`take_fired(port)`, a deadline), so an event that fired earlier and
/// nobody consumed does not make this return: only a new one does.
///
/// The race between "nothing new" and "an event arrives" is closed by Xen:
/// we collect pending events with events masked, and SCHEDOP_block
/// re-checks Xen's pending bits after unmasking, atomically.
pub fn block() {
    // Events are masked, so no upcall can run concurrently: collect what
    // Xen has already marked pending ourselves, exactly as the upcall would.
    if shared_info::upcall_pending().load(Ordering::SeqCst) != 0 && harvest() > 0 {
        return;
    }
    hypercall::sched_block();
    // The upcall (if any) ran and returned before we get here; events are
    // unmasked now, so mask them again for the kernel.
    shared_info::upcall_mask().store(1, Ordering::SeqCst);
}

struct SharedBitmaps;

impl EventBitmaps for SharedBitmaps {
    fn take_selector(&mut self) -> u64 {
        shared_info::pending_selector().swap(0, Ordering::SeqCst)
    }
    fn pending(&self, word: usize) -> u64 {
        shared_info::pending_word(word).load(Ordering::SeqCst)
    }
    fn mask(&self, word: usize) -> u64 {
        shared_info::mask_word(word).load(Ordering::SeqCst)
    }
    fn clear_pending(&mut self, word: usize, bit: u32) {
        shared_info::pending_word(word).fetch_and(!(1 << bit), Ordering::SeqCst);
    }
}

/// The event upcall, from `trap_dispatch`. Runs with events masked.
pub fn upcall() {
    UPCALLS.fetch_add(1, Ordering::Relaxed);
    harvest();
}

/// Moves pending, unmasked ports into `FIRED`; returns how many bound
/// ports fired. Only with events masked.
fn harvest() -> usize {
    let mut fired = 0;
    // Clear the flag before scanning: an event raised during the scan sets
    // it again and is seen on the next upcall (xen.h, evtchn_upcall_pending).
    shared_info::upcall_pending().store(0, Ordering::SeqCst);
    demux(&mut SharedBitmaps, |port| {
        let (word, bit) = ((port / 64) as usize, 1u64 << (port % 64));
        if BOUND[word].load(Ordering::SeqCst) & bit != 0 {
            FIRED[word].fetch_or(bit, Ordering::SeqCst);
            fired += 1;
        } else {
            SPURIOUS.fetch_add(1, Ordering::Relaxed);
            shared_info::mask_word(word).fetch_or(bit, Ordering::SeqCst);
        }
    });
    fired
}

/// An interdomain channel from this domain to itself: two ports wired to
/// each other, for the self-check. Closes both on drop.
pub struct Loopback {
    pub a: EventChannelPort,
    pub b: EventChannelPort,
}

impl Loopback {
    pub fn new() -> Result<Loopback, EventError> {
        let a = hypercall::alloc_unbound(xen_abi::DomId::SELF).map_err(EventError::Xen)?;
        let b = match hypercall::bind_interdomain(xen_abi::DomId::SELF, a) {
            Ok(b) => b,
            Err(error) => {
                let _ = hypercall::close(a);
                return Err(EventError::Xen(error));
            }
        };
        let loopback = Loopback { a, b };
        bind(a)?;
        bind(b)?;
        Ok(loopback)
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        for port in [self.a, self.b] {
            let _ = unbind(port);
            if let Err(error) = hypercall::close(port) {
                log::warn!("events: closing port {}: {error}", port.0);
            }
        }
    }
}
