//! Physical device access: `physdev.h` (the `physdev_op` hypercall).
//!
//! A PV kernel uses [`PHYSDEVOP_SET_IOPL`] to let its own code (ring 3 under
//! Xen) execute port I/O; dom0 uses the IRQ operations to route physical
//! interrupts to event channels.

// --- physdev.h: PHYSDEVOP_* -------------------------------------------------------

/// `PHYSDEVOP_IRQ_UNMASK_NOTIFY`: obsolete since 0x00030202.
pub const PHYSDEVOP_IRQ_UNMASK_NOTIFY: u32 = 4;
/// `PHYSDEVOP_irq_status_query` (arg = [`PhysdevIrqStatusQuery`]).
pub const PHYSDEVOP_IRQ_STATUS_QUERY: u32 = 5;
/// `PHYSDEVOP_set_iopl` (arg = [`PhysdevSetIopl`]).
pub const PHYSDEVOP_SET_IOPL: u32 = 6;
/// `PHYSDEVOP_set_iobitmap` (arg = [`PhysdevSetIobitmap`]).
pub const PHYSDEVOP_SET_IOBITMAP: u32 = 7;
/// `PHYSDEVOP_apic_read`.
pub const PHYSDEVOP_APIC_READ: u32 = 8;
/// `PHYSDEVOP_apic_write`.
pub const PHYSDEVOP_APIC_WRITE: u32 = 9;
/// `PHYSDEVOP_alloc_irq_vector`.
pub const PHYSDEVOP_ALLOC_IRQ_VECTOR: u32 = 10;
/// `PHYSDEVOP_free_irq_vector`.
pub const PHYSDEVOP_FREE_IRQ_VECTOR: u32 = 11;
/// `PHYSDEVOP_eoi` (arg = [`PhysdevEoi`]).
pub const PHYSDEVOP_EOI: u32 = 12;
/// `PHYSDEVOP_map_pirq`.
pub const PHYSDEVOP_MAP_PIRQ: u32 = 13;
/// `PHYSDEVOP_unmap_pirq`.
pub const PHYSDEVOP_UNMAP_PIRQ: u32 = 14;
/// `PHYSDEVOP_manage_pci_add`.
pub const PHYSDEVOP_MANAGE_PCI_ADD: u32 = 15;
/// `PHYSDEVOP_manage_pci_remove`.
pub const PHYSDEVOP_MANAGE_PCI_REMOVE: u32 = 16;
/// `PHYSDEVOP_pirq_eoi_gmfn_v1` (arg = [`PhysdevPirqEoiGmfn`]).
pub const PHYSDEVOP_PIRQ_EOI_GMFN_V1: u32 = 17;
/// `PHYSDEVOP_restore_msi`.
pub const PHYSDEVOP_RESTORE_MSI: u32 = 19;
/// `PHYSDEVOP_manage_pci_add_ext`.
pub const PHYSDEVOP_MANAGE_PCI_ADD_EXT: u32 = 20;
/// `PHYSDEVOP_setup_gsi`.
pub const PHYSDEVOP_SETUP_GSI: u32 = 21;
/// `PHYSDEVOP_get_free_pirq`.
pub const PHYSDEVOP_GET_FREE_PIRQ: u32 = 23;
/// `PHYSDEVOP_pci_mmcfg_reserved`.
pub const PHYSDEVOP_PCI_MMCFG_RESERVED: u32 = 24;
/// `PHYSDEVOP_pci_device_add`.
pub const PHYSDEVOP_PCI_DEVICE_ADD: u32 = 25;
/// `PHYSDEVOP_pci_device_remove`.
pub const PHYSDEVOP_PCI_DEVICE_REMOVE: u32 = 26;
/// `PHYSDEVOP_restore_msi_ext`.
pub const PHYSDEVOP_RESTORE_MSI_EXT: u32 = 27;
/// `PHYSDEVOP_pirq_eoi_gmfn_v2` (arg = [`PhysdevPirqEoiGmfn`]).
pub const PHYSDEVOP_PIRQ_EOI_GMFN_V2: u32 = 28;
/// `PHYSDEVOP_dbgp_op`.
pub const PHYSDEVOP_DBGP_OP: u32 = 29;
/// `PHYSDEVOP_prepare_msix`.
pub const PHYSDEVOP_PREPARE_MSIX: u32 = 30;
/// `PHYSDEVOP_release_msix`.
pub const PHYSDEVOP_RELEASE_MSIX: u32 = 31;

/// Notify end of interrupt: `struct physdev_eoi` (`physdev_eoi_t`),
/// `physdev.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysdevEoi {
    /// IN: the IRQ.
    pub irq: u32,
}

/// Register the PIRQ EOI bitmap page: `struct physdev_pirq_eoi_gmfn`
/// (`physdev_pirq_eoi_gmfn_t`), `physdev.h`. Written by the guest; Xen
/// then sets a bit per PIRQ that needs `PHYSDEVOP_eoi`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysdevPirqEoiGmfn {
    /// IN: the frame of the bitmap page.
    pub gmfn: u64,
}

/// `XENIRQSTAT_needs_eoi`: the IRQ needs `PHYSDEVOP_eoi` when serviced.
pub const XENIRQSTAT_NEEDS_EOI: u32 = 1 << 0;
/// `XENIRQSTAT_shared`: the IRQ is shared by several guests.
pub const XENIRQSTAT_SHARED: u32 = 1 << 1;

/// Query an IRQ line: `struct physdev_irq_status_query`
/// (`physdev_irq_status_query_t`), `physdev.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysdevIrqStatusQuery {
    /// IN (guest): the IRQ.
    pub irq: u32,
    /// OUT (Xen): `XENIRQSTAT_*`.
    pub flags: u32,
}

/// Set the vCPU's I/O privilege level: `struct physdev_set_iopl`
/// (`physdev_set_iopl_t`), `physdev.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysdevSetIopl {
    /// IN: the virtual IOPL, 0-3. A PV kernel runs in ring 3 under Xen, so
    /// its own port I/O needs the virtual IOPL raised (1 is enough for the
    /// kernel: Xen checks it against the guest's virtual ring, which is 1
    /// for kernel mode).
    pub iopl: u32,
}

/// Set the vCPU's I/O-port permission bitmap: `struct physdev_set_iobitmap`
/// (`physdev_set_iobitmap_t`), `physdev.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysdevSetIobitmap {
    /// IN: guest handle (virtual address) of the bitmap.
    pub bitmap: u64,
    /// IN: ports the bitmap covers.
    pub nr_ports: u32,
}
