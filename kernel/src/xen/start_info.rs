//! The `start_info` page: what Xen tells a PV guest at boot.
//!
//! Xen passes its virtual address in `rsi` (`xen.h`, "struct start_info").
//! We copy the fields we use once, validate them, and hand out this typed
//! summary; nothing later reads the raw page again.

use core::fmt;

use xen_abi::xen::{StartInfo, SIF_INITDOMAIN, SIF_PRIVILEGED};
use xen_abi::{EventChannelPort, Mfn};

/// Where the kernel image is mapped; pfn 0 is at this address in Xen's
/// start-of-day mapping (our VIRT_BASE = PADDR_OFFSET note).
pub const VIRT_BASE: u64 = 0xffff_ffff_8000_0000;

/// Smallest domain the kernel agrees to run in: image, tables, heap seed.
pub const MIN_PAGES: u64 = 1024;

/// Why the start_info page cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartInfoError {
    /// The magic does not start with "xen-3.0-x86_64".
    BadMagic([u8; 32]),
    /// Fewer pages than [`MIN_PAGES`].
    TooLittleMemory { nr_pages: u64 },
    /// `pt_base` or `mfn_list` lies outside the start-of-day mapping.
    BadLayout { what: &'static str, address: u64 },
}

impl fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartInfoError::BadMagic(magic) => {
                let end = magic.iter().position(|&b| b == 0).unwrap_or(magic.len());
                write!(
                    f,
                    "start_info magic {:?} is not xen-3.0-x86_64",
                    core::str::from_utf8(&magic[..end]).unwrap_or("<not utf-8>")
                )
            }
            StartInfoError::TooLittleMemory { nr_pages } => write!(
                f,
                "domain has {nr_pages} pages ({} KiB), the kernel needs at least {MIN_PAGES}",
                nr_pages * 4
            ),
            StartInfoError::BadLayout { what, address } => {
                write!(
                    f,
                    "start_info {what} {address:#x} is outside the boot mapping"
                )
            }
        }
    }
}

/// The validated facts from `start_info`.
#[derive(Clone, Copy, Debug)]
pub struct BootInfo {
    pub nr_pages: u64,
    /// Machine address of the shared_info page.
    pub shared_info_machine_address: u64,
    pub flags: u32,
    /// Virtual address of the initial L4 page table.
    pub pt_base: u64,
    pub nr_pt_frames: u64,
    /// Virtual address of the p2m list (`nr_pages` machine frame numbers).
    pub mfn_list: u64,
    /// Initrd (first multiboot module): virtual address and length.
    pub module_start: u64,
    pub module_length: u64,
    /// xenstore ring and event channel (domU only).
    pub store_mfn: Mfn,
    pub store_evtchn: EventChannelPort,
    /// Console ring and event channel (domU only).
    pub console_mfn: Mfn,
    pub console_evtchn: EventChannelPort,
    pub command_line: [u8; 1024],
    /// Virtual address of the start_info page itself.
    pub start_info_address: u64,
}

impl BootInfo {
    /// Copies and validates `raw`, located at `address`.
    pub fn from_raw(raw: &StartInfo, address: u64) -> Result<BootInfo, StartInfoError> {
        if !raw.magic.starts_with(b"xen-3.0-x86_64") {
            return Err(StartInfoError::BadMagic(raw.magic));
        }
        if raw.nr_pages < MIN_PAGES {
            return Err(StartInfoError::TooLittleMemory {
                nr_pages: raw.nr_pages,
            });
        }
        for (what, value) in [("pt_base", raw.pt_base), ("mfn_list", raw.mfn_list)] {
            if value < VIRT_BASE || value % 4096 != 0 && what == "pt_base" {
                return Err(StartInfoError::BadLayout {
                    what,
                    address: value,
                });
            }
        }
        Ok(BootInfo {
            nr_pages: raw.nr_pages,
            shared_info_machine_address: raw.shared_info,
            flags: raw.flags,
            pt_base: raw.pt_base,
            nr_pt_frames: raw.nr_pt_frames,
            mfn_list: raw.mfn_list,
            module_start: raw.mod_start,
            module_length: raw.mod_len,
            store_mfn: Mfn(raw.store_mfn),
            store_evtchn: EventChannelPort(raw.store_evtchn),
            console_mfn: Mfn(raw.console.mfn),
            console_evtchn: EventChannelPort(raw.console.evtchn),
            command_line: raw.cmd_line,
            start_info_address: address,
        })
    }

    /// Flag bits this kernel does not know (`xen.h`, SIF_*): reported at
    /// boot, otherwise ignored.
    pub fn unknown_flags(&self) -> u32 {
        use xen_abi::xen::{SIF_MOD_START_PFN, SIF_MULTIBOOT_MOD, SIF_VIRT_P2M_4TOOLS};
        // SIF_PM_MASK (bits 8-15) carries power-management settings.
        let known = SIF_PRIVILEGED
            | SIF_INITDOMAIN
            | SIF_MULTIBOOT_MOD
            | SIF_MOD_START_PFN
            | SIF_VIRT_P2M_4TOOLS
            | 0xff00;
        self.flags & !known
    }

    /// True when we are the initial (hardware) domain.
    pub fn is_dom0(&self) -> bool {
        self.flags & SIF_INITDOMAIN != 0
    }

    /// True when we may use privileged operations (dom0, driver domains).
    pub fn is_privileged(&self) -> bool {
        self.flags & SIF_PRIVILEGED != 0
    }

    pub fn command_line(&self) -> &str {
        kernel_core::cmdline::from_start_info_bytes(&self.command_line)
    }

    /// First pfn after the bootstrap page tables: everything below it is
    /// the image, initrd, p2m list, start_info and tables.
    pub fn bootstrap_tables_end_pfn(&self) -> u64 {
        (self.pt_base - VIRT_BASE) / 4096 + self.nr_pt_frames
    }

    /// The start-of-day mapping covers pfns `0..this`: it ends on a 4 MiB
    /// boundary at least 512 KiB past the last bootstrap element (`xen.h`,
    /// "Start-of-day memory layout", rules 2 and 7).
    pub fn bootstrap_mapped_end_pfn(&self) -> u64 {
        // The bootstrap stack follows the tables; 512 KiB of padding after.
        let last = self.bootstrap_tables_end_pfn() + 1 + 128;
        last.div_ceil(1024) * 1024
    }
}
