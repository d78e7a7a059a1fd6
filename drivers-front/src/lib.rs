//! Xen split-driver frontends for unprivileged domains (not yet written).
//!
//! This crate will hold `netfront` and `blkfront`: the guest halves of the
//! standard Xen network and block protocols (`io/netif.h`, `io/blkif.h`).
//! They are generic over small platform traits (grant table, event
//! channels, xenstore, shared pages) so the same code runs inside the kernel
//! and against a host simulator in unit tests. The kernel wires its real
//! platform into them; this crate never depends on the kernel. Today it only
//! builds, so the workspace has its final shape: see ARCHITECTURE.md.
#![no_std]
#![forbid(unsafe_code)]
