//! Event channels: `event_channel.h` (the `event_channel_op` hypercall).
//!
//! An event channel is a one-bit, edge-style notification between two
//! endpoints, addressed by a per-domain port. Ports are bound to a virtual
//! IRQ ([`EvtchnBindVirq`]), an IPI ([`EvtchnBindIpi`]), or a port of another
//! domain: one side allocates an unbound port for a named peer
//! ([`EvtchnAllocUnbound`]) and advertises it (usually in xenstore), the peer
//! binds to it ([`EvtchnBindInterdomain`]). Delivery uses the 2-level
//! bitmaps in `xen::SharedInfo` ([`EVTCHN_2L_NR_CHANNELS`] ports); the FIFO
//! ABI constants are here for completeness.
//!
//! In every struct, the `IN` fields are written by the guest and the `OUT`
//! fields by Xen.

// --- event_channel.h: enum event_channel_op ------------------------------------

/// `EVTCHNOP_bind_interdomain` (arg = [`EvtchnBindInterdomain`]).
pub const EVTCHNOP_BIND_INTERDOMAIN: u32 = 0;
/// `EVTCHNOP_bind_virq` (arg = [`EvtchnBindVirq`]).
pub const EVTCHNOP_BIND_VIRQ: u32 = 1;
/// `EVTCHNOP_bind_pirq` (arg = [`EvtchnBindPirq`]).
pub const EVTCHNOP_BIND_PIRQ: u32 = 2;
/// `EVTCHNOP_close` (arg = [`EvtchnClose`]).
pub const EVTCHNOP_CLOSE: u32 = 3;
/// `EVTCHNOP_send` (arg = [`EvtchnSend`]).
pub const EVTCHNOP_SEND: u32 = 4;
/// `EVTCHNOP_status` (arg = [`EvtchnStatus`]).
pub const EVTCHNOP_STATUS: u32 = 5;
/// `EVTCHNOP_alloc_unbound` (arg = [`EvtchnAllocUnbound`]).
pub const EVTCHNOP_ALLOC_UNBOUND: u32 = 6;
/// `EVTCHNOP_bind_ipi` (arg = [`EvtchnBindIpi`]).
pub const EVTCHNOP_BIND_IPI: u32 = 7;
/// `EVTCHNOP_bind_vcpu` (arg = [`EvtchnBindVcpu`]).
pub const EVTCHNOP_BIND_VCPU: u32 = 8;
/// `EVTCHNOP_unmask` (arg = [`EvtchnUnmask`]).
pub const EVTCHNOP_UNMASK: u32 = 9;
/// `EVTCHNOP_reset` (arg = [`EvtchnReset`]).
pub const EVTCHNOP_RESET: u32 = 10;
/// `EVTCHNOP_init_control`: switch to the FIFO ABI (arg =
/// [`EvtchnInitControl`]).
pub const EVTCHNOP_INIT_CONTROL: u32 = 11;
/// `EVTCHNOP_expand_array` (arg = [`EvtchnExpandArray`]).
pub const EVTCHNOP_EXPAND_ARRAY: u32 = 12;
/// `EVTCHNOP_set_priority` (arg = [`EvtchnSetPriority`]).
pub const EVTCHNOP_SET_PRIORITY: u32 = 13;

/// `EVTCHN_2L_NR_CHANNELS`: ports of the 2-level ABI,
/// `sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64` = 4096 on x86_64 (one
/// selector bit per word of a 64-word pending bitmap).
pub const EVTCHN_2L_NR_CHANNELS: usize = 8 * 8 * 64;

/// Allocate a port that `remote_dom` may bind to:
/// `struct evtchn_alloc_unbound` (`evtchn_alloc_unbound_t`),
/// `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnAllocUnbound {
    /// IN: domain to allocate in, usually `DOMID_SELF`.
    pub dom: u16,
    /// IN: the only domain allowed to bind to the port.
    pub remote_dom: u16,
    /// OUT: the new port.
    pub port: u32,
}

/// Connect to a peer's unbound port: `struct evtchn_bind_interdomain`
/// (`evtchn_bind_interdomain_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnBindInterdomain {
    /// IN: the peer domain.
    pub remote_dom: u16,
    /// IN: the peer's unbound port.
    pub remote_port: u32,
    /// OUT: the local end.
    pub local_port: u32,
}

/// Bind a virtual IRQ to a port: `struct evtchn_bind_virq`
/// (`evtchn_bind_virq_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnBindVirq {
    /// IN: `VIRQ_*`.
    pub virq: u32,
    /// IN: vCPU to deliver to (0 for global VIRQs).
    pub vcpu: u32,
    /// OUT: the new port.
    pub port: u32,
}

/// `BIND_PIRQ__WILL_SHARE`: in [`EvtchnBindPirq::flags`], the IRQ may be
/// shared.
pub const BIND_PIRQ__WILL_SHARE: u32 = 1;

/// Bind a physical IRQ to a port: `struct evtchn_bind_pirq`
/// (`evtchn_bind_pirq_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnBindPirq {
    /// IN: physical IRQ.
    pub pirq: u32,
    /// IN: `BIND_PIRQ__*` flags.
    pub flags: u32,
    /// OUT: the new port.
    pub port: u32,
}

/// Allocate an inter-vCPU port: `struct evtchn_bind_ipi`
/// (`evtchn_bind_ipi_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnBindIpi {
    /// IN: vCPU to notify.
    pub vcpu: u32,
    /// OUT: the new port.
    pub port: u32,
}

/// Close a port: `struct evtchn_close` (`evtchn_close_t`),
/// `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnClose {
    /// IN: the port.
    pub port: u32,
}

/// Notify the other end of a port: `struct evtchn_send` (`evtchn_send_t`),
/// `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnSend {
    /// IN: the local port.
    pub port: u32,
}

/// `EVTCHNSTAT_closed`: the channel is not in use.
pub const EVTCHNSTAT_CLOSED: u32 = 0;
/// `EVTCHNSTAT_unbound`: waiting for an inter-domain connection.
pub const EVTCHNSTAT_UNBOUND: u32 = 1;
/// `EVTCHNSTAT_interdomain`: connected to a remote domain.
pub const EVTCHNSTAT_INTERDOMAIN: u32 = 2;
/// `EVTCHNSTAT_pirq`: bound to a physical IRQ.
pub const EVTCHNSTAT_PIRQ: u32 = 3;
/// `EVTCHNSTAT_virq`: bound to a virtual IRQ.
pub const EVTCHNSTAT_VIRQ: u32 = 4;
/// `EVTCHNSTAT_ipi`: bound to a virtual IPI.
pub const EVTCHNSTAT_IPI: u32 = 5;

/// Query a port: `struct evtchn_status` (`evtchn_status_t`),
/// `event_channel.h`.
///
/// C's `u` is a union picked by `status`: `unbound { dom }`,
/// `interdomain { dom, port }`, `pirq`, `virq`. Here it is the two 32-bit
/// words it occupies; read it with the accessors.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnStatus {
    /// IN: the domain owning the port (`DOMID_SELF` for our own).
    pub dom: u16,
    /// IN: the port.
    pub port: u32,
    /// OUT: `EVTCHNSTAT_*`.
    pub status: u32,
    /// OUT: vCPU the channel is bound to.
    pub vcpu: u32,
    /// OUT: the status-specific union.
    pub u: [u32; 2],
}

impl EvtchnStatus {
    /// `u.unbound.dom` / `u.interdomain.dom`: the remote domain (for
    /// `EVTCHNSTAT_unbound` and `EVTCHNSTAT_interdomain`).
    pub const fn remote_dom(&self) -> u16 {
        self.u[0] as u16
    }

    /// `u.interdomain.port`: the remote port (`EVTCHNSTAT_interdomain`).
    pub const fn interdomain_port(&self) -> u32 {
        self.u[1]
    }

    /// `u.pirq` (`EVTCHNSTAT_pirq`).
    pub const fn pirq(&self) -> u32 {
        self.u[0]
    }

    /// `u.virq` (`EVTCHNSTAT_virq`).
    pub const fn virq(&self) -> u32 {
        self.u[0]
    }
}

/// Re-target a port's notifications to another vCPU:
/// `struct evtchn_bind_vcpu` (`evtchn_bind_vcpu_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnBindVcpu {
    /// IN: the port.
    pub port: u32,
    /// IN: the vCPU.
    pub vcpu: u32,
}

/// Unmask a port and redeliver a pending event: `struct evtchn_unmask`
/// (`evtchn_unmask_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnUnmask {
    /// IN: the port.
    pub port: u32,
}

/// Close all of a domain's ports: `struct evtchn_reset` (`evtchn_reset_t`),
/// `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnReset {
    /// IN: the domain (`DOMID_SELF`).
    pub dom: u16,
}

/// Register a FIFO control block: `struct evtchn_init_control`
/// (`evtchn_init_control_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnInitControl {
    /// IN: frame of the control block.
    pub control_gfn: u64,
    /// IN: offset of the block within the frame.
    pub offset: u32,
    /// IN: the vCPU.
    pub vcpu: u32,
    /// OUT: `EVTCHN_FIFO_LINK_BITS` supported.
    pub link_bits: u8,
    /// Padding.
    pub _pad: [u8; 7],
}

/// Add a page to the FIFO event array: `struct evtchn_expand_array`
/// (`evtchn_expand_array_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnExpandArray {
    /// IN: frame of the new event-array page.
    pub array_gfn: u64,
}

/// Set a port's FIFO priority: `struct evtchn_set_priority`
/// (`evtchn_set_priority_t`), `event_channel.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnSetPriority {
    /// IN: the port.
    pub port: u32,
    /// IN: 0 (highest) to 15 (lowest).
    pub priority: u32,
}

// --- event_channel.h: FIFO ABI ---------------------------------------------------

/// `EVTCHN_FIFO_PRIORITY_MAX`.
pub const EVTCHN_FIFO_PRIORITY_MAX: u32 = 0;
/// `EVTCHN_FIFO_PRIORITY_DEFAULT`.
pub const EVTCHN_FIFO_PRIORITY_DEFAULT: u32 = 7;
/// `EVTCHN_FIFO_PRIORITY_MIN`.
pub const EVTCHN_FIFO_PRIORITY_MIN: u32 = 15;
/// `EVTCHN_FIFO_MAX_QUEUES`.
pub const EVTCHN_FIFO_MAX_QUEUES: usize = EVTCHN_FIFO_PRIORITY_MIN as usize + 1;
/// `EVTCHN_FIFO_PENDING`: bit number in an event word.
pub const EVTCHN_FIFO_PENDING: u32 = 31;
/// `EVTCHN_FIFO_MASKED`.
pub const EVTCHN_FIFO_MASKED: u32 = 30;
/// `EVTCHN_FIFO_LINKED`.
pub const EVTCHN_FIFO_LINKED: u32 = 29;
/// `EVTCHN_FIFO_BUSY`.
pub const EVTCHN_FIFO_BUSY: u32 = 28;
/// `EVTCHN_FIFO_LINK_BITS`.
pub const EVTCHN_FIFO_LINK_BITS: u32 = 17;
/// `EVTCHN_FIFO_LINK_MASK`.
pub const EVTCHN_FIFO_LINK_MASK: u32 = (1 << EVTCHN_FIFO_LINK_BITS) - 1;
/// `EVTCHN_FIFO_NR_CHANNELS`.
pub const EVTCHN_FIFO_NR_CHANNELS: u32 = 1 << EVTCHN_FIFO_LINK_BITS;

/// The per-vCPU FIFO control block: `struct evtchn_fifo_control_block`
/// (`evtchn_fifo_control_block_t`), `event_channel.h`. Shared with Xen,
/// which sets `ready` bits and queue heads; the guest consumes them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnFifoControlBlock {
    /// Bit per priority queue with events ready.
    pub ready: u32,
    /// Reserved.
    pub _rsvd: u32,
    /// Head port of each priority queue.
    pub head: [u32; EVTCHN_FIFO_MAX_QUEUES],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_union_accessors() {
        let status = EvtchnStatus {
            status: EVTCHNSTAT_INTERDOMAIN,
            u: [3, 17],
            ..EvtchnStatus::default()
        };
        assert_eq!(status.remote_dom(), 3);
        assert_eq!(status.interdomain_port(), 17);
        assert_eq!(status.virq(), 3);
    }
}
