//! `arch_prctl` codes (`asm/prctl.h`): how a static libc sets its TLS base.
//!
//! glibc and musl call `arch_prctl(ARCH_SET_FS, tcb)` before `main`; a PV
//! guest kernel implements it with `HYPERVISOR_set_segment_base`.

pub const ARCH_SET_GS: u64 = 0x1001;
pub const ARCH_SET_FS: u64 = 0x1002;
pub const ARCH_GET_FS: u64 = 0x1003;
pub const ARCH_GET_GS: u64 = 0x1004;
pub const ARCH_GET_CPUID: u64 = 0x1011;
pub const ARCH_SET_CPUID: u64 = 0x1012;
