//! Xen split-driver backends for driver domains and dom0 (not yet written).
//!
//! This crate will hold `netback` and `blkback`: the driver-domain halves of
//! the standard Xen network and block protocols. A backend never trusts its
//! frontend: every request is copied out of the shared ring once and
//! validated before use, and a misbehaving peer is disconnected, never
//! allowed to crash the backend domain. Like the frontends, they are generic
//! over platform traits and host-tested. Today it only builds, so the
//! workspace has its final shape: see ARCHITECTURE.md.
#![no_std]
#![forbid(unsafe_code)]
