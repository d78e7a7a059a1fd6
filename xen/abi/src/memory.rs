//! Memory reservations and the physical map: `memory.h` (`memory_op`).
//!
//! A PV guest grows and shrinks its memory with
//! [`XENMEM_INCREASE_RESERVATION`] / [`XENMEM_DECREASE_RESERVATION`] /
//! [`XENMEM_POPULATE_PHYSMAP`] (all taking a [`XenMemoryReservation`]),
//! reads its size limits, and (dom0) reads the machine memory map with
//! [`XENMEM_MACHINE_MEMORY_MAP`]. The `add_to_physmap` family is for
//! auto-translated (HVM/PVH) guests.
//!
//! Sub-op numbers are `u32` because `memory_op`'s first argument is the
//! command. Toolstack-only parts of the header (`#if defined(__XEN__) ||
//! defined(__XEN_TOOLS__)`: paging, sharing, access, claims) are left out.

// --- memory.h: XENMEM_* sub-ops -------------------------------------------------

/// `XENMEM_increase_reservation`: allocate extents; OUT: their MFN bases
/// (arg = [`XenMemoryReservation`]). Returns the number of extents done.
pub const XENMEM_INCREASE_RESERVATION: u32 = 0;
/// `XENMEM_decrease_reservation`: free the extents whose GMFN bases are
/// listed (arg = [`XenMemoryReservation`]).
pub const XENMEM_DECREASE_RESERVATION: u32 = 1;
/// `XENMEM_maximum_ram_page`: the highest machine frame of RAM (arg NULL).
pub const XENMEM_MAXIMUM_RAM_PAGE: u32 = 2;
/// `XENMEM_current_reservation`: pages the domain has (arg =
/// [`XenMemoryDomain`]).
pub const XENMEM_CURRENT_RESERVATION: u32 = 3;
/// `XENMEM_maximum_reservation`: pages the domain may have (arg =
/// [`XenMemoryDomain`]).
pub const XENMEM_MAXIMUM_RESERVATION: u32 = 4;
/// `XENMEM_machphys_mfn_list` (arg = [`XenMachphysMfnList`]).
pub const XENMEM_MACHPHYS_MFN_LIST: u32 = 5;
/// `XENMEM_populate_physmap`: back the listed GPFNs with memory (arg =
/// [`XenMemoryReservation`]); also updates the machine-to-phys table.
pub const XENMEM_POPULATE_PHYSMAP: u32 = 6;
/// `XENMEM_add_to_physmap` (translated guests only; arg =
/// [`XenAddToPhysmap`]).
pub const XENMEM_ADD_TO_PHYSMAP: u32 = 7;
/// `XENMEM_memory_map`: the domain's pseudo-physical memory map (arg =
/// [`XenMemoryMap`]).
pub const XENMEM_MEMORY_MAP: u32 = 9;
/// `XENMEM_machine_memory_map`: the real machine memory map, E820 format
/// (dom0; arg = [`XenMemoryMap`]).
pub const XENMEM_MACHINE_MEMORY_MAP: u32 = 10;
/// `XENMEM_exchange`: atomically exchange pages (PV only; arg =
/// [`XenMemoryExchange`]).
pub const XENMEM_EXCHANGE: u32 = 11;
/// `XENMEM_machphys_mapping`: where the machine-to-phys table is mapped
/// (arg = [`XenMachphysMapping`]).
pub const XENMEM_MACHPHYS_MAPPING: u32 = 12;
/// `XENMEM_set_memory_map` (arg = [`XenForeignMemoryMap`]).
pub const XENMEM_SET_MEMORY_MAP: u32 = 13;
/// `XENMEM_maximum_gpfn` (arg = [`XenMemoryDomain`]).
pub const XENMEM_MAXIMUM_GPFN: u32 = 14;
/// `XENMEM_remove_from_physmap` (arg = [`XenRemoveFromPhysmap`]).
pub const XENMEM_REMOVE_FROM_PHYSMAP: u32 = 15;
/// `XENMEM_set_pod_target` (arg = [`XenPodTarget`]).
pub const XENMEM_SET_POD_TARGET: u32 = 16;
/// `XENMEM_get_pod_target` (arg = [`XenPodTarget`]).
pub const XENMEM_GET_POD_TARGET: u32 = 17;
/// `XENMEM_add_to_physmap_batch` (arg = [`XenAddToPhysmapBatch`]).
pub const XENMEM_ADD_TO_PHYSMAP_BATCH: u32 = 23;
/// `XENMEM_machphys_compat_mfn_list`.
pub const XENMEM_MACHPHYS_COMPAT_MFN_LIST: u32 = 25;
/// `XENMEM_get_vnumainfo`.
pub const XENMEM_GET_VNUMAINFO: u32 = 26;
/// `XENMEM_acquire_resource` (arg = [`XenMemAcquireResource`]).
pub const XENMEM_ACQUIRE_RESOURCE: u32 = 28;

// --- memory.h: XENMEMF_* flags for xen_memory_reservation.mem_flags ------------

/// `XENMEMF_address_bits(x)`: allocate below `2^bits` (0 = no limit).
pub const fn xenmemf_address_bits(bits: u32) -> u32 {
    bits
}

/// `XENMEMF_get_address_bits(x)`.
pub const fn xenmemf_get_address_bits(flags: u32) -> u32 {
    flags & 0xff
}

/// `XENMEMF_node(x)`: allocate from NUMA node `node`.
pub const fn xenmemf_node(node: u32) -> u32 {
    (node + 1) << 8
}

/// `XENMEMF_get_node(x)`.
pub const fn xenmemf_get_node(flags: u32) -> u32 {
    ((flags >> 8).wrapping_sub(1)) & 0xff
}

/// `XENMEMF_populate_on_demand`.
pub const XENMEMF_POPULATE_ON_DEMAND: u32 = 1 << 16;
/// `XENMEMF_exact_node_request`.
pub const XENMEMF_EXACT_NODE_REQUEST: u32 = 1 << 17;
/// `XENMEMF_vnode`: the node is a virtual node.
pub const XENMEMF_VNODE: u32 = 1 << 18;

/// Argument of the reservation sub-ops: `struct xen_memory_reservation`
/// (`xen_memory_reservation_t`), `memory.h`. Written by the guest, except
/// that Xen writes the frame list for increase/populate.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMemoryReservation {
    /// Guest handle (virtual address) of a `xen_pfn_t` array: IN the GMFNs
    /// to free or GPFNs to populate; OUT (written by Xen) the MFNs/GMFNs
    /// allocated.
    pub extent_start: u64,
    /// Number of extents.
    pub nr_extents: u64,
    /// Each extent is `2^extent_order` pages.
    pub extent_order: u32,
    /// `XENMEMF_*` flags (the field was `address_bits` before 0x00030209).
    pub mem_flags: u32,
    /// The domain; unprivileged domains may only name `DOMID_SELF`.
    pub domid: u16,
}

/// Argument of `XENMEM_exchange`: `struct xen_memory_exchange`
/// (`xen_memory_exchange_t`), `memory.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMemoryExchange {
    /// IN: extents to give up (GMFN bases). C field `in`, a Rust keyword.
    pub in_: XenMemoryReservation,
    /// IN/OUT: GPFNs to populate; Xen overwrites the list with the new
    /// GMFNs.
    pub out: XenMemoryReservation,
    /// OUT (Xen): input extents exchanged. Must be zero on entry.
    pub nr_exchanged: u64,
}

/// Argument of the per-domain queries: `struct xen_memory_domain`,
/// `memory.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMemoryDomain {
    /// The domain queried (may be `DOMID_SELF`).
    pub domid: u16,
}

/// Argument of `XENMEM_machphys_mfn_list`: `struct xen_machphys_mfn_list`
/// (`xen_machphys_mfn_list_t`), `memory.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMachphysMfnList {
    /// IN: size of the `extent_start` array.
    pub max_extents: u32,
    /// IN: guest handle of the array, filled by Xen with the MFN of each
    /// 2 MiB extent of the machine-to-phys table.
    pub extent_start: u64,
    /// OUT (Xen): entries written.
    pub nr_extents: u32,
}

/// Argument of `XENMEM_machphys_mapping`: `struct xen_machphys_mapping`
/// (`xen_machphys_mapping_t`), `memory.h`. Written by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMachphysMapping {
    /// Start virtual address of the machine-to-phys table.
    pub v_start: u64,
    /// End virtual address.
    pub v_end: u64,
    /// Largest MFN that can be looked up.
    pub max_mfn: u64,
}

// --- memory.h: enum phys_map_space -----------------------------------------------

/// `XENMAPSPACE_shared_info`: the shared-info page.
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;
/// `XENMAPSPACE_grant_table`: a grant-table frame.
pub const XENMAPSPACE_GRANT_TABLE: u32 = 1;
/// `XENMAPSPACE_gmfn`: a GMFN.
pub const XENMAPSPACE_GMFN: u32 = 2;
/// `XENMAPSPACE_gmfn_range`: a GMFN range (`add_to_physmap` only).
pub const XENMAPSPACE_GMFN_RANGE: u32 = 3;
/// `XENMAPSPACE_gmfn_foreign`: a GMFN of another domain
/// (`add_to_physmap_batch` only).
pub const XENMAPSPACE_GMFN_FOREIGN: u32 = 4;
/// `XENMAPSPACE_dev_mmio`: device MMIO (ARM only).
pub const XENMAPSPACE_DEV_MMIO: u32 = 5;
/// `XENMAPIDX_grant_table_status`: with `XENMAPSPACE_grant_table`, map a
/// status frame rather than a shared frame.
pub const XENMAPIDX_GRANT_TABLE_STATUS: u64 = 0x8000_0000;

/// Argument of `XENMEM_add_to_physmap`: `struct xen_add_to_physmap`
/// (`xen_add_to_physmap_t`), `memory.h`. Written by the guest; for
/// translated guests only.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenAddToPhysmap {
    /// The domain whose map changes.
    pub domid: u16,
    /// Pages to go through, for `XENMAPSPACE_gmfn_range`.
    pub size: u16,
    /// `XENMAPSPACE_*`.
    pub space: u32,
    /// Index into the space.
    pub idx: u64,
    /// GPFN where the page should appear.
    pub gpfn: u64,
}

/// Argument of `XENMEM_add_to_physmap_batch`: `struct
/// xen_add_to_physmap_batch` (`xen_add_to_physmap_batch_t`), `memory.h`.
///
/// C's `u` is a union of `foreign_domid` (for `XENMAPSPACE_gmfn_foreign`)
/// and `res0` (zero for other spaces), both `uint16_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenAddToPhysmapBatch {
    /// IN: the domain whose map changes.
    pub domid: u16,
    /// IN: `XENMAPSPACE_*`.
    pub space: u16,
    /// IN: number of pages.
    pub size: u16,
    /// IN: `foreign_domid` or 0.
    pub u: u16,
    /// IN: guest handle of `xen_ulong_t` indexes into the space.
    pub idxs: u64,
    /// IN: guest handle of `xen_pfn_t` GPFNs where pages should appear.
    pub gpfns: u64,
    /// OUT: guest handle of `int` per-index error codes (Xen writes them).
    pub errs: u64,
}

/// Argument of `XENMEM_remove_from_physmap`: `struct
/// xen_remove_from_physmap` (`xen_remove_from_physmap_t`), `memory.h`.
/// Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenRemoveFromPhysmap {
    /// The domain whose map changes.
    pub domid: u16,
    /// GPFN of the current mapping.
    pub gpfn: u64,
}

/// Argument of `XENMEM_memory_map` and `XENMEM_machine_memory_map`:
/// `struct xen_memory_map` (`xen_memory_map_t`), `memory.h`.
///
/// The buffer holds entries "in the same format as returned by the BIOS INT
/// 0x15 EAX=0xE820 call": packed 20-byte records of `u64` address, `u64`
/// length, `u32` type.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMemoryMap {
    /// IN: entries the buffer can hold; OUT (Xen): entries stored.
    pub nr_entries: u32,
    /// Guest handle of the buffer (Xen writes it). NULL asks, for the
    /// machine map, how many entries are needed.
    pub buffer: u64,
}

/// Argument of `XENMEM_set_memory_map`: `struct xen_foreign_memory_map`
/// (`xen_foreign_memory_map_t`), `memory.h`. Written by the toolstack.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenForeignMemoryMap {
    /// The domain whose map is set.
    pub domid: u16,
    /// The map.
    pub map: XenMemoryMap,
}

/// Argument of `XENMEM_{set,get}_pod_target`: `struct xen_pod_target`
/// (`xen_pod_target_t`), `memory.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenPodTarget {
    /// IN: target in pages.
    pub target_pages: u64,
    /// OUT: total pages.
    pub tot_pages: u64,
    /// OUT: populate-on-demand cache pages.
    pub pod_cache_pages: u64,
    /// OUT: populate-on-demand entries.
    pub pod_entries: u64,
    /// IN: the domain.
    pub domid: u16,
}

/// `XENMEM_resource_ioreq_server`.
pub const XENMEM_RESOURCE_IOREQ_SERVER: u16 = 0;
/// `XENMEM_resource_grant_table`.
pub const XENMEM_RESOURCE_GRANT_TABLE: u16 = 1;
/// `XENMEM_resource_vmtrace_buf`.
pub const XENMEM_RESOURCE_VMTRACE_BUF: u16 = 2;
/// `XENMEM_resource_grant_table_id_shared`.
pub const XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED: u32 = 0;
/// `XENMEM_resource_grant_table_id_status`.
pub const XENMEM_RESOURCE_GRANT_TABLE_ID_STATUS: u32 = 1;

/// Argument of `XENMEM_acquire_resource`: `struct xen_mem_acquire_resource`
/// (`xen_mem_acquire_resource_t`), `memory.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMemAcquireResource {
    /// IN: the domain whose resource is mapped.
    pub domid: u16,
    /// IN: `XENMEM_resource_*` (C field `type`, a Rust keyword).
    pub type_: u16,
    /// IN: type-specific id.
    pub id: u32,
    /// IN/OUT: frames to map; with a NULL list and 0, OUT the resource size.
    pub nr_frames: u32,
    /// Must be zero.
    pub pad: u32,
    /// IN: index of the first frame.
    pub frame: u64,
    /// IN/OUT: guest handle of the `xen_pfn_t` list (a PV caller gets the
    /// MFNs written by Xen).
    pub frame_list: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_flags_round_trip() {
        assert_eq!(xenmemf_node(0), 0x100);
        assert_eq!(xenmemf_get_node(xenmemf_node(5)), 5);
        assert_eq!(
            xenmemf_get_address_bits(xenmemf_address_bits(32) | xenmemf_node(1)),
            32
        );
    }
}
