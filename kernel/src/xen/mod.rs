//! The kernel's view of Xen: hypercalls, start_info, shared_info, console.

pub mod console;
pub mod hypercall;
pub mod shared_info;
pub mod shared_page;
pub mod start_info;
