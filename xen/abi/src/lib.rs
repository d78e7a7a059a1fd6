//! The public Xen 4.17 x86_64 PV guest ABI as plain `#[repr(C)]` Rust data.
//!
//! This crate is the Rust twin of the C headers a paravirtualized guest is
//! written against (Debian's `libxen-dev`, installed under
//! `/usr/include/xen`). It holds only data: hypercall numbers, the structures
//! passed to hypercalls or shared with Xen and with peer domains, ring
//! layouts, the xenstore wire format, and the constants that go with them.
//! There is no hypercall, no pointer and no `unsafe` here, so every item can
//! be used, and tested, on the host.
//!
//! # How it maps to the C headers
//!
//! - One module per header, named after it: [`xen`] is `xen.h`, [`arch`] is
//!   `arch-x86/xen.h` plus `arch-x86/xen-x86_64.h`, [`grant_table`] is
//!   `grant_table.h`, [`ring`] is `io/ring.h`, and so on. Each struct's doc
//!   comment names its header and C struct.
//! - Struct names are the C names in CamelCase without `struct`/`_t`
//!   (`struct start_info` is [`xen::StartInfo`]); field names copy the C
//!   field names exactly so the two can be diffed, except that the Rust
//!   keywords `in`, `type` and `ref` become `in_`, `type_` and `ref_`.
//! - Constants keep their C name, upper-cased (`MMUEXT_PIN_L4_TABLE`,
//!   `SCHEDOP_BLOCK`); hypercall numbers drop the `__HYPERVISOR_` prefix
//!   ([`hypercall::MMU_UPDATE`]).
//! - A C union becomes an integer field of the union's size and alignment,
//!   with constructors and accessors for each view (see [`xen::MmuextOp`]).
//!   A `XEN_GUEST_HANDLE(...)` field is a `u64` holding a guest virtual
//!   address.
//! - The interface version is `__XEN_LATEST_INTERFACE_VERSION__`
//!   (0x00040e00) from `xen-compat.h`, the one Xen itself implements: for
//!   example `vcpu_time_info` has its `flags` byte and `CALLBACKTYPE_sysenter`
//!   is 5.
//! - Each struct documents which side writes each field where that matters:
//!   the guest, Xen, or the peer domain at the other end of a ring. Fields
//!   that another party writes are allegations; copy them out once and
//!   validate them before use.
//!
//! Typed identifiers ([`DomId`], [`GrantRef`], [`EventChannelPort`], [`Pfn`],
//! [`Mfn`]) are `#[repr(transparent)]` newtypes over the C integer types, so
//! a pfn cannot be passed where an mfn is expected.
//!
//! `tests/layout_against_c_headers.rs` compiles a C program against the real
//! headers and checks the size, alignment and every field offset of every
//! struct here, plus the value of the constants, against it.
//!
//! # Neighbours
//!
//! The kernel's hypercall layer fills these structs and passes their
//! addresses to Xen; the shared-memory types (`SharedInfo`, grant entries,
//! ring pages, `XenstoreDomainInterface`) describe pages that the kernel
//! accesses only through its own copy-in/copy-out accessors, using the field
//! offsets from here. The protocol crates (rings, xenbus, xenstore codec) and
//! the front and back drivers use the constants, ring layout and wire types.
//! Nothing here depends on any other crate of the project.

#![no_std]
#![forbid(unsafe_code)]

// Unit tests may format into `String`s; the library itself never uses std.
#[cfg(test)]
extern crate std;

pub mod arch;
pub mod callback;
pub mod console;
pub mod elfnote;
pub mod errno;
pub mod event_channel;
pub mod grant_table;
pub mod hypercall;
mod ids;
pub mod memory;
pub mod physdev;
pub mod ring;
pub mod sched;
pub mod vcpu;
pub mod version;
pub mod xen;
pub mod xenbus;
pub mod xs_wire;

pub use ids::{DomId, EventChannelPort, GrantRef, Mfn, Pfn};

/// Returns the bytes of a NUL-terminated C string buffer up to (not
/// including) the first NUL, or the whole buffer if it has none.
pub(crate) fn c_string_bytes(buffer: &[u8]) -> &[u8] {
    match buffer.iter().position(|&byte| byte == 0) {
        Some(end) => &buffer[..end],
        None => buffer,
    }
}

/// Returns the longest prefix of `bytes` that is valid UTF-8.
///
/// Used for text Xen or a peer wrote into a fixed buffer: a malformed tail is
/// dropped rather than trusted or panicked on.
pub(crate) fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let (valid, _) = bytes.split_at(error.valid_up_to());
            core::str::from_utf8(valid).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_string_stops_at_first_nul() {
        assert_eq!(c_string_bytes(b"abc\0def"), b"abc");
        assert_eq!(c_string_bytes(b"abc"), b"abc");
        assert_eq!(c_string_bytes(b"\0"), b"");
    }

    #[test]
    fn utf8_prefix_drops_malformed_tail() {
        assert_eq!(utf8_prefix(b"xen-3.0"), "xen-3.0");
        assert_eq!(utf8_prefix(b"ok\xffbad"), "ok");
    }
}
