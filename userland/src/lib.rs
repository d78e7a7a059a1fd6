//! The guest's userland: init, shell and tools (not yet written).
//!
//! Programs here will be static x86_64 ELF binaries on the Linux system-call
//! ABI, so they run unmodified on our kernel and, for their own unit tests,
//! on the Linux build host. A small runtime (start-up code and system-call
//! stubs, the only unsafe code in userland) will live beside them, and
//! `image-builder` will pack them into the initrd. Today the crate only
//! builds, so the workspace has its final shape: see ARCHITECTURE.md.
#![no_std]
#![forbid(unsafe_code)]
