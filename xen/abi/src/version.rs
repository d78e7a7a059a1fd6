//! Version and feature queries: `version.h` and `features.h`
//! (the `xen_version` hypercall).
//!
//! `XENVER_version` returns `major << 16 | minor` directly; the other
//! queries fill a buffer the guest passes: fixed-size, NUL-terminated text
//! ([`XenExtraversion`], [`XenCapabilitiesInfo`], ...) or the structs below,
//! all written by Xen. [`XENVER_GET_FEATURES`] reports the `XENFEAT_*` bits,
//! 32 per submap.

// --- version.h: XENVER_* ------------------------------------------------------------

/// `XENVER_version`: returns `major:minor` (16:16); arg NULL.
pub const XENVER_VERSION: u32 = 0;
/// `XENVER_extraversion` (arg = [`XenExtraversion`]).
pub const XENVER_EXTRAVERSION: u32 = 1;
/// `XENVER_compile_info` (arg = [`XenCompileInfo`]).
pub const XENVER_COMPILE_INFO: u32 = 2;
/// `XENVER_capabilities` (arg = [`XenCapabilitiesInfo`]), e.g.
/// "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_64 ...".
pub const XENVER_CAPABILITIES: u32 = 3;
/// `XENVER_changeset` (arg = [`XenChangesetInfo`]).
pub const XENVER_CHANGESET: u32 = 4;
/// `XENVER_platform_parameters` (arg = [`XenPlatformParameters`]).
pub const XENVER_PLATFORM_PARAMETERS: u32 = 5;
/// `XENVER_get_features` (arg = [`XenFeatureInfo`]).
pub const XENVER_GET_FEATURES: u32 = 6;
/// `XENVER_pagesize`: returns the host page size; arg NULL.
pub const XENVER_PAGESIZE: u32 = 7;
/// `XENVER_guest_handle` (arg = [`XenDomainHandle`]): the UUID the
/// toolstack gave the guest.
pub const XENVER_GUEST_HANDLE: u32 = 8;
/// `XENVER_commandline` (arg = [`XenCommandline`]): Xen's command line.
pub const XENVER_COMMANDLINE: u32 = 9;
/// `XENVER_build_id`: Xen's build id (variable-length buffer).
pub const XENVER_BUILD_ID: u32 = 10;

/// `xen_extraversion_t`: e.g. ".2" or "-rc" (`char[16]`).
pub type XenExtraversion = [u8; 16];
/// `XEN_EXTRAVERSION_LEN`.
pub const XEN_EXTRAVERSION_LEN: usize = 16;
/// `xen_capabilities_info_t` (`char[1024]`).
pub type XenCapabilitiesInfo = [u8; 1024];
/// `XEN_CAPABILITIES_INFO_LEN`.
pub const XEN_CAPABILITIES_INFO_LEN: usize = 1024;
/// `xen_changeset_info_t` (`char[64]`).
pub type XenChangesetInfo = [u8; 64];
/// `XEN_CHANGESET_INFO_LEN`.
pub const XEN_CHANGESET_INFO_LEN: usize = 64;
/// `xen_commandline_t` (`char[1024]`).
pub type XenCommandline = [u8; 1024];
/// `xen_domain_handle_t` (`xen.h`, `uint8_t[16]`): a domain's UUID.
pub type XenDomainHandle = [u8; 16];

/// Who built Xen, and when: `struct xen_compile_info`
/// (`xen_compile_info_t`), `version.h`. Written by Xen; NUL-terminated
/// strings.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenCompileInfo {
    /// Compiler.
    pub compiler: [u8; 64],
    /// User who built Xen.
    pub compile_by: [u8; 16],
    /// Build host domain.
    pub compile_domain: [u8; 32],
    /// Build date.
    pub compile_date: [u8; 32],
}

impl Default for XenCompileInfo {
    fn default() -> Self {
        XenCompileInfo {
            compiler: [0; 64],
            compile_by: [0; 16],
            compile_domain: [0; 32],
            compile_date: [0; 32],
        }
    }
}

/// `struct xen_platform_parameters` (`xen_platform_parameters_t`),
/// `version.h`. Written by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenPlatformParameters {
    /// Start of the hypervisor's virtual address range.
    pub virt_start: u64,
}

/// One 32-bit word of the feature bitmap: `struct xen_feature_info`
/// (`xen_feature_info_t`), `version.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenFeatureInfo {
    /// IN (guest): which 32-bit submap to return.
    pub submap_idx: u32,
    /// OUT (Xen): the submap; bit `n` is feature `32 * submap_idx + n`.
    pub submap: u32,
}

/// Splits the `XENVER_version` return value into `(major, minor)`.
pub const fn split_version(raw: u32) -> (u16, u16) {
    ((raw >> 16) as u16, raw as u16)
}

// --- features.h: XENFEAT_* bit numbers -------------------------------------------------

/// `XENFEAT_writable_page_tables`: page tables can be written directly.
pub const XENFEAT_WRITABLE_PAGE_TABLES: u32 = 0;
/// `XENFEAT_writable_descriptor_tables`: descriptor tables can be written
/// directly.
pub const XENFEAT_WRITABLE_DESCRIPTOR_TABLES: u32 = 1;
/// `XENFEAT_auto_translated_physmap`: Xen translates pseudo-physical to
/// machine addresses (not the case for a PV guest).
pub const XENFEAT_AUTO_TRANSLATED_PHYSMAP: u32 = 2;
/// `XENFEAT_supervisor_mode_kernel`: the guest runs in ring 0.
pub const XENFEAT_SUPERVISOR_MODE_KERNEL: u32 = 3;
/// `XENFEAT_pae_pgdir_above_4gb`.
pub const XENFEAT_PAE_PGDIR_ABOVE_4GB: u32 = 4;
/// `XENFEAT_mmu_pt_update_preserve_ad`: `MMU_PT_UPDATE_PRESERVE_AD` works.
pub const XENFEAT_MMU_PT_UPDATE_PRESERVE_AD: u32 = 5;
/// `XENFEAT_highmem_assist`: `MMUEXT_{CLEAR,COPY}_PAGE` work.
pub const XENFEAT_HIGHMEM_ASSIST: u32 = 6;
/// `XENFEAT_gnttab_map_avail_bits`: grant maps honour
/// `GNTMAP_guest_avail_mask`.
pub const XENFEAT_GNTTAB_MAP_AVAIL_BITS: u32 = 7;
/// `XENFEAT_hvm_callback_vector`.
pub const XENFEAT_HVM_CALLBACK_VECTOR: u32 = 8;
/// `XENFEAT_hvm_safe_pvclock`.
pub const XENFEAT_HVM_SAFE_PVCLOCK: u32 = 9;
/// `XENFEAT_hvm_pirqs`.
pub const XENFEAT_HVM_PIRQS: u32 = 10;
/// `XENFEAT_dom0`: operation as dom0 is supported.
pub const XENFEAT_DOM0: u32 = 11;
// 12 was XENFEAT_grant_map_identity, deprecated: the header keeps it only
// inside a comment.
/// `XENFEAT_memory_op_vnode_supported`.
pub const XENFEAT_MEMORY_OP_VNODE_SUPPORTED: u32 = 13;
/// `XENFEAT_ARM_SMCCC_supported`.
pub const XENFEAT_ARM_SMCCC_SUPPORTED: u32 = 14;
/// `XENFEAT_linux_rsdp_unrestricted`.
pub const XENFEAT_LINUX_RSDP_UNRESTRICTED: u32 = 15;
/// `XENFEAT_not_direct_mapped`.
pub const XENFEAT_NOT_DIRECT_MAPPED: u32 = 16;
/// `XENFEAT_direct_mapped`: local pages have gfn == mfn.
pub const XENFEAT_DIRECT_MAPPED: u32 = 17;
/// `XENFEAT_NR_SUBMAPS`: number of 32-bit submaps.
pub const XENFEAT_NR_SUBMAPS: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_splits_into_major_and_minor() {
        assert_eq!(split_version(0x0004_0011), (4, 17));
    }
}
