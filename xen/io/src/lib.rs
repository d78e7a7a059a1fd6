//! Xen protocol logic both ends share, over memory a peer can write.
//!
//! This crate holds the pure half of every shared-memory protocol the
//! kernel speaks: the PV console ring, the xenstore ring, wire codec and
//! client state machine, the version-1 grant table, and the generic
//! `io/ring.h` request/response ring. Nothing here makes a hypercall, maps a
//! page or sends an event: every piece works on a [`shared::SharedPage`],
//! which the kernel implements over a mapped page with atomic accesses and
//! the tests implement over plain host memory
//! (`shared::test_page::MemoryPage`, with the `test-utils` feature).
//!
//! # Key types
//!
//! - [`console::ConsoleRing`]: write to and read from the PV console page.
//! - [`xenstore::XenstoreRing`], [`xenstore::ReplyDecoder`] and
//!   [`xenstore::Client`]: move bytes over the xenstore page, cut them into
//!   messages, and match replies to requests (sans-io: the caller owns the
//!   loop, the event channel and the waiting).
//! - [`grant_table::GrantTable`]: hand out and revoke grant references,
//!   quarantining entries a peer still maps.
//! - [`ring::FrontRing`] and [`ring::BackRing`]: the two halves of an
//!   `io/ring.h` shared ring, for the split drivers.
//! - [`byte_ring`]: the producer and consumer halves of a byte ring with
//!   free-running indices, which the console and xenstore rings are made of.
//!
//! # Trust
//!
//! Everything a peer writes is an allegation. Each call copies a
//! peer-written index out of shared memory exactly once, checks it against
//! the ring size, and only then uses it; a violation is a typed error that
//! names the field and its bound, never a panic. The crate's own indices are
//! kept privately and only published, so a peer scribbling on them cannot
//! steer a copy.
//!
//! # Neighbours
//!
//! Below: `xen-abi` (layouts, constants, typed ids); this crate uses its
//! offsets (`offset_of!` on the `#[repr(C)]` structs) rather than redefining
//! them. Above: the kernel, which implements [`shared::SharedPage`], notifies
//! event channels and waits; and the front and back drivers, which use
//! [`ring`] and [`grant_table`]. Peers that play the other end in tests
//! (xenconsoled, a small xenstored) are in `test_utils` behind the
//! `test-utils` feature.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

// Unit tests may use std (threads, formatting); the library never does.
#[cfg(test)]
extern crate std;

pub mod byte_ring;
pub mod console;
pub mod grant_table;
pub mod ring;
pub mod shared;
pub mod xenstore;

#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use byte_ring::RingError;
pub use shared::SharedPage;
