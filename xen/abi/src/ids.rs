//! Typed identifiers: domain ids, grant references, ports, frame numbers.
//!
//! The C headers use bare integer typedefs (`domid_t`, `grant_ref_t`,
//! `evtchn_port_t`, `xen_pfn_t`); these newtypes keep the same
//! representation (`#[repr(transparent)]`) but stop a pfn being passed where
//! an mfn is meant, or a port where a grant reference is meant. The raw value
//! is public as `.0` for the ABI structs, whose fields stay plain integers.

use core::fmt;

/// A domain id: `domid_t` (`uint16_t`) from `xen.h`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomId(pub u16);

impl DomId {
    /// Domain 0, the initial control domain.
    pub const ZERO: DomId = DomId(0);
    /// `DOMID_SELF` (`xen.h`): "used in certain contexts to refer to oneself".
    pub const SELF: DomId = DomId(crate::xen::DOMID_SELF);
    /// `DOMID_IO` (`xen.h`): the owner of I/O memory; with `mmu_update` it
    /// lets a privileged domain map device memory.
    pub const IO: DomId = DomId(crate::xen::DOMID_IO);
    /// `DOMID_XEN` (`xen.h`): the owner of Xen's own pages (for example the
    /// machine-to-phys table).
    pub const XEN: DomId = DomId(crate::xen::DOMID_XEN);
    /// `DOMID_INVALID` (`xen.h`): a page with unknown owner.
    pub const INVALID: DomId = DomId(crate::xen::DOMID_INVALID);

    /// Whether this is one of the special ids at or above
    /// `DOMID_FIRST_RESERVED` that no ordinary domain can have.
    pub const fn is_reserved(self) -> bool {
        self.0 >= crate::xen::DOMID_FIRST_RESERVED
    }
}

impl fmt::Display for DomId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "dom{}", self.0)
    }
}

/// A grant reference: an index into a domain's grant table, `grant_ref_t`
/// (`uint32_t`) from `grant_table.h`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantRef(pub u32);

impl fmt::Display for GrantRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "gref {}", self.0)
    }
}

/// An event-channel port, `evtchn_port_t` (`uint32_t`) from
/// `event_channel.h`. Ports are local to a domain.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventChannelPort(pub u32);

impl fmt::Display for EventChannelPort {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "port {}", self.0)
    }
}

macro_rules! frame_number {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// Bytes per frame: Xen's page size on x86, 4096
            /// (`XEN_PAGE_SHIFT` in `io/ring.h`).
            pub const PAGE_SIZE: u64 = 1 << crate::xen::XEN_PAGE_SHIFT;

            /// The frame containing byte `address` (the low 12 bits are
            /// dropped).
            pub const fn from_address(address: u64) -> Self {
                Self(address >> crate::xen::XEN_PAGE_SHIFT)
            }

            /// The address of the first byte of this frame.
            pub const fn address(self) -> u64 {
                self.0 << crate::xen::XEN_PAGE_SHIFT
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, concat!($label, " {:#x}"), self.0)
            }
        }
    };
}

frame_number!(
    /// A guest pseudo-physical frame number (`xen_pfn_t` used as a pfn).
    ///
    /// A PV guest sees memory as pfns `0..nr_pages`; the p2m list
    /// (`start_info.mfn_list`) maps each to the machine frame behind it.
    Pfn,
    "pfn"
);

frame_number!(
    /// A machine frame number (`xen_pfn_t` used as an mfn).
    ///
    /// Page-table entries, `mmu_update` pointers and `mmuext_op` arguments
    /// of a PV guest hold machine frames, not pfns.
    Mfn,
    "mfn"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_numbers_convert_addresses() {
        assert_eq!(Mfn::from_address(0x1234_5fff), Mfn(0x12345));
        assert_eq!(Mfn(0x12345).address(), 0x1234_5000);
        assert_eq!(Pfn::from_address(4096), Pfn(1));
        assert_eq!(Pfn::PAGE_SIZE, 4096);
        assert_eq!(Mfn::PAGE_SIZE, 4096);
    }

    #[test]
    fn special_domain_ids_match_xen_h() {
        assert_eq!(DomId::SELF.0, 0x7FF0);
        assert_eq!(DomId::IO.0, 0x7FF1);
        assert_eq!(DomId::XEN.0, 0x7FF2);
        assert!(DomId::SELF.is_reserved());
        assert!(!DomId::ZERO.is_reserved());
        assert!(!DomId(0x7FEF).is_reserved());
    }
}
