//! Grant tables: `grant_table.h` (the `grant_table_op` hypercall).
//!
//! A domain shares a page by writing a [`GrantEntryV1`] into its grant
//! table (frames obtained with [`GNTTABOP_SETUP_TABLE`]) naming the peer
//! domain and the frame; the peer then maps it
//! ([`GnttabMapGrantRef`]) or copies to and from it ([`GnttabCopy`]) by
//! grant reference. Xen marks an entry in use with [`GTF_READING`] /
//! [`GTF_WRITING`], and the granting domain may only revoke an entry when
//! both are clear (with a compare-and-exchange of `flags` to 0, as the
//! header's "Invalidating an unused GTF_permit_access entry" describes).
//!
//! Version 2 entries (`grant_entry_v2`) are not modelled; this project uses
//! version 1, the default.

// --- grant_table.h: struct grant_entry_v1 ---------------------------------------

/// A version-1 grant entry: `struct grant_entry_v1` (`grant_entry_v1_t`),
/// `grant_table.h`. 8 bytes, in the grant-table frames shared between the
/// granting guest and Xen. The header tags each field with who writes it:
/// `[GST]` the granting guest, `[XEN]` the hypervisor.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GrantEntryV1 {
    /// `GTF_*` type and flags. `[XEN,GST]`: the guest writes the type and
    /// `GTF_readonly`, Xen sets `GTF_reading`/`GTF_writing` while the peer
    /// has the frame mapped. Write it last, after `domid` and `frame` are
    /// visible (a write barrier in between).
    pub flags: u16,
    /// The domain being granted access. `[GST]`
    pub domid: u16,
    /// The frame granted (`GTF_permit_access`) or to transfer into
    /// (`GTF_accept_transfer`) `[GST]`; the transferred MFN once
    /// `GTF_transfer_completed` `[XEN]`.
    pub frame: u32,
}

impl GrantEntryV1 {
    /// Bytes per entry.
    pub const BYTES: usize = 8;
    /// Entries per 4 KiB grant-table frame.
    pub const PER_FRAME: usize = crate::xen::XEN_PAGE_SIZE / Self::BYTES;
}

/// `GNTTAB_NR_RESERVED_ENTRIES`: entries kept across a grant table reset,
/// reserved for the toolstack; guests allocate references from here on.
pub const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;
/// `GNTTAB_RESERVED_CONSOLE`: the entry the toolstack uses for the console
/// ring.
pub const GNTTAB_RESERVED_CONSOLE: u32 = 0;
/// `GNTTAB_RESERVED_XENSTORE`: the entry the toolstack uses for the
/// xenstore ring.
pub const GNTTAB_RESERVED_XENSTORE: u32 = 1;

// --- grant_table.h: GTF_* flags (grant_entry_v1.flags) ----------------------------

/// `GTF_invalid`: the entry grants nothing.
pub const GTF_INVALID: u16 = 0;
/// `GTF_permit_access`: `domid` may map and access `frame`.
pub const GTF_PERMIT_ACCESS: u16 = 1;
/// `GTF_accept_transfer`: `domid` may transfer a frame into `frame`.
pub const GTF_ACCEPT_TRANSFER: u16 = 2;
/// `GTF_transitive`: grant of another domain's grant (v2 only).
pub const GTF_TRANSITIVE: u16 = 3;
/// `GTF_type_mask`.
pub const GTF_TYPE_MASK: u16 = 3;
/// `GTF_readonly`: restrict `domid` to read-only access. `[GST]`
pub const GTF_READONLY: u16 = 1 << 2;
/// `GTF_reading`: currently mapped for reading by `domid`. `[XEN]`
pub const GTF_READING: u16 = 1 << 3;
/// `GTF_writing`: currently mapped for writing by `domid`. `[XEN]`
pub const GTF_WRITING: u16 = 1 << 4;
/// `GTF_PWT`: x86 cache attribute for mappings of the grant. `[GST]`
pub const GTF_PWT: u16 = 1 << 5;
/// `GTF_PCD`: x86 cache attribute. `[GST]`
pub const GTF_PCD: u16 = 1 << 6;
/// `GTF_PAT`: x86 cache attribute. `[GST]`
pub const GTF_PAT: u16 = 1 << 7;
/// `GTF_sub_page`: grant only a subrange of the page (copy only). `[GST]`
pub const GTF_SUB_PAGE: u16 = 1 << 8;
/// `GTF_transfer_committed`: Xen is committed to a transfer; do not modify
/// the entry until `GTF_transfer_completed`. `[XEN]`
pub const GTF_TRANSFER_COMMITTED: u16 = 1 << 2;
/// `GTF_transfer_completed`: the transferred frame is in `frame`. `[XEN]`
pub const GTF_TRANSFER_COMPLETED: u16 = 1 << 3;

// --- grant_table.h: enum grant_table_op ------------------------------------------

/// `GNTTABOP_map_grant_ref` (arg = array of [`GnttabMapGrantRef`]).
pub const GNTTABOP_MAP_GRANT_REF: u32 = 0;
/// `GNTTABOP_unmap_grant_ref` (arg = array of [`GnttabUnmapGrantRef`]).
pub const GNTTABOP_UNMAP_GRANT_REF: u32 = 1;
/// `GNTTABOP_setup_table` (arg = [`GnttabSetupTable`]).
pub const GNTTABOP_SETUP_TABLE: u32 = 2;
/// `GNTTABOP_dump_table` (arg = [`GnttabDumpTable`]).
pub const GNTTABOP_DUMP_TABLE: u32 = 3;
/// `GNTTABOP_transfer` (arg = array of [`GnttabTransfer`]).
pub const GNTTABOP_TRANSFER: u32 = 4;
/// `GNTTABOP_copy` (arg = array of [`GnttabCopy`]).
pub const GNTTABOP_COPY: u32 = 5;
/// `GNTTABOP_query_size` (arg = [`GnttabQuerySize`]).
pub const GNTTABOP_QUERY_SIZE: u32 = 6;
/// `GNTTABOP_unmap_and_replace` (arg = array of [`GnttabUnmapAndReplace`]).
pub const GNTTABOP_UNMAP_AND_REPLACE: u32 = 7;
/// `GNTTABOP_set_version` (arg = [`GnttabSetVersion`]).
pub const GNTTABOP_SET_VERSION: u32 = 8;
/// `GNTTABOP_get_status_frames` (arg = [`GnttabGetStatusFrames`]).
pub const GNTTABOP_GET_STATUS_FRAMES: u32 = 9;
/// `GNTTABOP_get_version` (arg = [`GnttabGetVersion`]).
pub const GNTTABOP_GET_VERSION: u32 = 10;
/// `GNTTABOP_swap_grant_ref` (arg = array of [`GnttabSwapGrantRef`]).
pub const GNTTABOP_SWAP_GRANT_REF: u32 = 11;
/// `GNTTABOP_cache_flush` (arg = array of [`GnttabCacheFlush`]).
pub const GNTTABOP_CACHE_FLUSH: u32 = 12;

// --- grant_table.h: GNTMAP_* flags (gnttab_map_grant_ref.flags) --------------------

/// `GNTMAP_device_map`: map for access by I/O devices.
pub const GNTMAP_DEVICE_MAP: u32 = 1 << 0;
/// `GNTMAP_host_map`: map for access by host CPUs.
pub const GNTMAP_HOST_MAP: u32 = 1 << 1;
/// `GNTMAP_readonly`: read-only mapping.
pub const GNTMAP_READONLY: u32 = 1 << 2;
/// `GNTMAP_application_map`: the host mapping is usable by the current
/// application too, not just the guest kernel.
pub const GNTMAP_APPLICATION_MAP: u32 = 1 << 3;
/// `GNTMAP_contains_pte`: `host_addr` is the machine address of the PTE to
/// update, not a virtual address.
pub const GNTMAP_CONTAINS_PTE: u32 = 1 << 4;
/// `GNTMAP_guest_avail_mask`: bits passed through to the PTE's
/// guest-available bits (with `XENFEAT_gnttab_map_avail_bits`).
pub const GNTMAP_GUEST_AVAIL_MASK: u32 = !0 << 16;

// --- grant_table.h: enum grant_status ---------------------------------------------

/// `GNTST_okay`: normal return.
pub const GNTST_OKAY: i16 = 0;
/// `GNTST_general_error`: general undefined error.
pub const GNTST_GENERAL_ERROR: i16 = -1;
/// `GNTST_bad_domain`: unrecognised domain id.
pub const GNTST_BAD_DOMAIN: i16 = -2;
/// `GNTST_bad_gntref`: unrecognised or inappropriate grant reference.
pub const GNTST_BAD_GNTREF: i16 = -3;
/// `GNTST_bad_handle`: unrecognised or inappropriate handle.
pub const GNTST_BAD_HANDLE: i16 = -4;
/// `GNTST_bad_virt_addr`: inappropriate virtual address to map.
pub const GNTST_BAD_VIRT_ADDR: i16 = -5;
/// `GNTST_bad_dev_addr`: inappropriate device address to unmap.
pub const GNTST_BAD_DEV_ADDR: i16 = -6;
/// `GNTST_no_device_space`: out of space in the I/O MMU.
pub const GNTST_NO_DEVICE_SPACE: i16 = -7;
/// `GNTST_permission_denied`: not enough privilege.
pub const GNTST_PERMISSION_DENIED: i16 = -8;
/// `GNTST_bad_page`: the page was invalid for the operation.
pub const GNTST_BAD_PAGE: i16 = -9;
/// `GNTST_bad_copy_arg`: copy arguments cross a page boundary.
pub const GNTST_BAD_COPY_ARG: i16 = -10;
/// `GNTST_address_too_big`: transfer page address too large.
pub const GNTST_ADDRESS_TOO_BIG: i16 = -11;
/// `GNTST_eagain`: operation not done; try again.
pub const GNTST_EAGAIN: i16 = -12;
/// `GNTST_no_space`: out of space (handles etc.).
pub const GNTST_NO_SPACE: i16 = -13;

/// `GNTTABOP_error_msgs`: the message for status `-i` at index `i`.
pub const GNTTABOP_ERROR_MSGS: [&str; 14] = [
    "okay",
    "undefined error",
    "unrecognised domain id",
    "invalid grant reference",
    "invalid mapping handle",
    "invalid virtual address",
    "invalid device address",
    "no spare translation slot in the I/O MMU",
    "permission denied",
    "bad page",
    "copy arguments cross page boundary",
    "page address size too large",
    "operation not done; try again",
    "out of space",
];

/// The `GNTTABOP_error_msgs` text for a `GNTST_*` status, if known.
pub fn gntst_message(status: i16) -> Option<&'static str> {
    if status > 0 {
        return None;
    }
    GNTTABOP_ERROR_MSGS
        .get(usize::from(status.unsigned_abs()))
        .copied()
}

// --- grant_table.h: operation arguments ---------------------------------------------

/// Map a foreign grant: `struct gnttab_map_grant_ref`
/// (`gnttab_map_grant_ref_t`), `grant_table.h`. IN fields are written by
/// the mapping guest, OUT fields by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabMapGrantRef {
    /// IN: virtual address to map at, or the PTE's machine address with
    /// `GNTMAP_contains_pte`.
    pub host_addr: u64,
    /// IN: `GNTMAP_*`.
    pub flags: u32,
    /// IN: the grant reference (C field `ref`, a Rust keyword).
    pub ref_: u32,
    /// IN: the granting domain.
    pub dom: u16,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// OUT: handle to present when unmapping.
    pub handle: u32,
    /// OUT: bus address for `GNTMAP_device_map`.
    pub dev_bus_addr: u64,
}

/// Unmap a grant mapping: `struct gnttab_unmap_grant_ref`
/// (`gnttab_unmap_grant_ref_t`), `grant_table.h`. IN fields by the guest,
/// `status` by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabUnmapGrantRef {
    /// IN: the host mapping to remove (0 = none).
    pub host_addr: u64,
    /// IN: the device mapping to remove (0 = none).
    pub dev_bus_addr: u64,
    /// IN: handle from the map call.
    pub handle: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// Set up the caller's grant table: `struct gnttab_setup_table`
/// (`gnttab_setup_table_t`), `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabSetupTable {
    /// IN: the domain (`DOMID_SELF` unless privileged).
    pub dom: u16,
    /// IN: frames wanted.
    pub nr_frames: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// IN: guest handle of a `xen_pfn_t` array; Xen writes the frames (MFNs
    /// for a PV guest) of the table into it.
    pub frame_list: u64,
}

/// Dump a grant table to Xen's console: `struct gnttab_dump_table`
/// (`gnttab_dump_table_t`), `grant_table.h`. Debugging only.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabDumpTable {
    /// IN: the domain.
    pub dom: u16,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// Transfer a page to a foreign domain: `struct gnttab_transfer`
/// (`gnttab_transfer_t`), `grant_table.h`. PV guests only.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabTransfer {
    /// IN: the frame given away.
    pub mfn: u64,
    /// IN: the receiving domain.
    pub domid: u16,
    /// IN: its `GTF_accept_transfer` grant (C field `ref`).
    pub ref_: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// `GNTCOPY_source_gref`: the source is a grant reference, not a GMFN.
pub const GNTCOPY_SOURCE_GREF: u16 = 1 << 0;
/// `GNTCOPY_dest_gref`: the destination is a grant reference.
pub const GNTCOPY_DEST_GREF: u16 = 1 << 1;

/// One end of a grant copy: `struct gnttab_copy_ptr` (nested in
/// `struct gnttab_copy`), `grant_table.h`. Written by the guest.
///
/// C's `u` is a union of `ref` (a `grant_ref_t`, with the matching
/// `GNTCOPY_*_gref` flag) and `gmfn` (a `xen_pfn_t` of the caller's own
/// memory); here it is the 8-byte integer they share.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabCopyPtr {
    /// `ref` (low 32 bits) or `gmfn`.
    pub u: u64,
    /// The domain owning the frame.
    pub domid: u16,
    /// Byte offset within the frame.
    pub offset: u16,
}

impl GnttabCopyPtr {
    /// A frame of `domid` named by grant reference `gref`.
    pub const fn grant(gref: crate::GrantRef, domid: crate::DomId, offset: u16) -> Self {
        GnttabCopyPtr {
            u: gref.0 as u64,
            domid: domid.0,
            offset,
        }
    }

    /// A frame named by its frame number (for a PV guest, an MFN; normally
    /// the caller's own memory with `DOMID_SELF`).
    pub const fn frame(gmfn: u64, domid: crate::DomId, offset: u16) -> Self {
        GnttabCopyPtr {
            u: gmfn,
            domid: domid.0,
            offset,
        }
    }

    /// The `u.ref` view.
    pub const fn gref(&self) -> crate::GrantRef {
        crate::GrantRef(self.u as u32)
    }
}

/// Copy bytes between frames by Xen: `struct gnttab_copy`
/// (`gnttab_copy_t`), `grant_table.h`. The guest writes everything but
/// `status`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabCopy {
    /// IN: where to copy from.
    pub source: GnttabCopyPtr,
    /// IN: where to copy to.
    pub dest: GnttabCopyPtr,
    /// IN: bytes to copy; neither end may cross its page.
    pub len: u16,
    /// IN: `GNTCOPY_*`.
    pub flags: u16,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// Query the grant table size: `struct gnttab_query_size`
/// (`gnttab_query_size_t`), `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabQuerySize {
    /// IN: the domain.
    pub dom: u16,
    /// OUT: current frames.
    pub nr_frames: u32,
    /// OUT: maximum frames.
    pub max_nr_frames: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// Unmap a grant and put another mapping in its place:
/// `struct gnttab_unmap_and_replace` (`gnttab_unmap_and_replace_t`),
/// `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabUnmapAndReplace {
    /// IN: the mapping to remove.
    pub host_addr: u64,
    /// IN: the address whose mapping moves to `host_addr`.
    pub new_addr: u64,
    /// IN: handle from the map call.
    pub handle: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// Choose the grant table version: `struct gnttab_set_version`
/// (`gnttab_set_version_t`), `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabSetVersion {
    /// IN: requested version; OUT: the version in force.
    pub version: u32,
}

/// Get the v2 status frames: `struct gnttab_get_status_frames`
/// (`gnttab_get_status_frames_t`), `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabGetStatusFrames {
    /// IN: frames wanted.
    pub nr_frames: u32,
    /// IN: the domain.
    pub dom: u16,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// IN: guest handle of a `uint64_t` array Xen fills.
    pub frame_list: u64,
}

/// Get a domain's grant table version: `struct gnttab_get_version`
/// (`gnttab_get_version_t`), `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabGetVersion {
    /// IN: the domain.
    pub dom: u16,
    /// Padding.
    pub pad: u16,
    /// OUT: the version.
    pub version: u32,
}

/// Swap two grant entries: `struct gnttab_swap_grant_ref`
/// (`gnttab_swap_grant_ref_t`), `grant_table.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabSwapGrantRef {
    /// IN: first entry.
    pub ref_a: u32,
    /// IN: second entry.
    pub ref_b: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
}

/// `GNTTAB_CACHE_CLEAN`.
pub const GNTTAB_CACHE_CLEAN: u32 = 1 << 0;
/// `GNTTAB_CACHE_INVAL`.
pub const GNTTAB_CACHE_INVAL: u32 = 1 << 1;
/// `GNTTAB_CACHE_SOURCE_GREF`: `a` is a grant reference.
pub const GNTTAB_CACHE_SOURCE_GREF: u32 = 1 << 31;

/// Cache maintenance on a granted page (ARM): `struct gnttab_cache_flush`
/// (`gnttab_cache_flush_t`), `grant_table.h`. C's `a` is a union of
/// `dev_bus_addr` and `ref`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GnttabCacheFlush {
    /// `dev_bus_addr`, or `ref` (low 32 bits) with
    /// `GNTTAB_CACHE_SOURCE_GREF`.
    pub a: u64,
    /// Offset from the start of the grant.
    pub offset: u16,
    /// Length within the grant.
    pub length: u16,
    /// `GNTTAB_CACHE_*`.
    pub op: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DomId, GrantRef};

    #[test]
    fn status_messages_follow_the_header_table() {
        assert_eq!(gntst_message(GNTST_OKAY), Some("okay"));
        assert_eq!(
            gntst_message(GNTST_BAD_GNTREF),
            Some("invalid grant reference")
        );
        assert_eq!(gntst_message(GNTST_NO_SPACE), Some("out of space"));
        assert_eq!(gntst_message(-14), None);
        assert_eq!(gntst_message(1), None);
        assert_eq!(gntst_message(i16::MIN), None);
    }

    #[test]
    fn copy_ptr_views() {
        let pointer = GnttabCopyPtr::grant(GrantRef(77), DomId(3), 128);
        assert_eq!(pointer.u, 77);
        assert_eq!(pointer.gref(), GrantRef(77));
        let own = GnttabCopyPtr::frame(0x1_2345_6789, DomId::SELF, 0);
        assert_eq!(own.u, 0x1_2345_6789);
        assert_eq!(own.domid, 0x7FF0);
    }

    #[test]
    fn entries_per_frame() {
        assert_eq!(GrantEntryV1::PER_FRAME, 512);
    }
}
