//! The x86_64 machine layer: entry assembly, CPU instructions, traps.
//!
//! With `xen::hypercall`, this is where the kernel's unsafe code lives.

pub mod boot;
pub mod cmos;
pub mod cpu;
pub mod mem;
pub mod test_programs;
pub mod traps;
