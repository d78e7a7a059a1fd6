//! Shared I/O ring layout: `io/ring.h`.
//!
//! Split drivers talk over a page holding a 64-byte header
//! ([`SringHeader`]: producer and event indices for requests and responses)
//! followed by an array of slots, each a union of one request and one
//! response. The header's `DEFINE_RING_TYPES` macro generates those structs
//! per protocol; here the header is one struct and the slot count comes from
//! [`ring_size`], so a protocol crate only supplies its entry size.
//!
//! Indices are free-running `u32` counters (`RING_IDX`); a slot is
//! `index & (size - 1)`. The frontend writes `req_prod` and `rsp_event`, the
//! backend `rsp_prod` and `req_event`; each side must treat the other's
//! values as allegations (`RING_REQUEST_PROD_OVERFLOW` in the header) and
//! copy requests out before validating them (`RING_COPY_REQUEST`). The ring
//! logic itself lives in the protocol crate, not here.

/// `RING_IDX`: a free-running ring index (`unsigned int`).
pub type RingIdx = u32;

/// Bytes before the first ring slot: the four indices, the 4-byte `pvt`
/// union and `__pad[44]`.
pub const SRING_HEADER_BYTES: usize = 64;

/// The header of a shared ring page: the fixed part of
/// `struct <name>_sring` from `DEFINE_RING_TYPES` in `io/ring.h`; the
/// `ring[]` slots follow at offset 64.
///
/// The frontend initialises it (`SHARED_RING_INIT`, see
/// [`SringHeader::new`]); afterwards the frontend writes `req_prod` and
/// `rsp_event` and the backend writes `rsp_prod` and `req_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SringHeader {
    /// Requests produced so far (frontend).
    pub req_prod: RingIdx,
    /// Notify the backend when `req_prod` passes this (backend).
    pub req_event: RingIdx,
    /// Responses produced so far (backend).
    pub rsp_prod: RingIdx,
    /// Notify the frontend when `rsp_prod` passes this (frontend).
    pub rsp_event: RingIdx,
    /// The `pvt` union (`netif.smartpoll_active`, `tapif_user.msg`,
    /// `pvt_pad[4]`): protocol-private bytes, zero unless a protocol uses
    /// them.
    pub pvt: [u8; 4],
    /// Padding up to the first slot (C `__pad`).
    pub __pad: [u8; 44],
}

impl SringHeader {
    /// The state `SHARED_RING_INIT` leaves: producers 0, event thresholds 1
    /// (notify on the first message), private bytes zero.
    pub const fn new() -> Self {
        SringHeader {
            req_prod: 0,
            req_event: 1,
            rsp_prod: 0,
            rsp_event: 1,
            pvt: [0; 4],
            __pad: [0; 44],
        }
    }
}

impl Default for SringHeader {
    /// Same as [`SringHeader::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// Slots in a shared ring of `page_bytes` bytes whose slot (the
/// request/response union) is `entry_bytes` bytes: `__CONST_RING_SIZE` /
/// `__RING_SIZE` from `io/ring.h`, "as many entries as will fit, rounded
/// down to the nearest power of two (so we can mask with (size-1) to loop
/// around)". Returns 0 if not even one slot fits or `entry_bytes` is 0.
///
/// `__RD32` rounds a 32-bit value; for sizes that fit in 32 bits (every
/// real ring) the result is the same.
pub const fn ring_size(page_bytes: usize, entry_bytes: usize) -> usize {
    if entry_bytes == 0 || page_bytes < SRING_HEADER_BYTES {
        return 0;
    }
    let fits = (page_bytes - SRING_HEADER_BYTES) / entry_bytes;
    if fits == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - fits.leading_zeros())
    }
}

/// `XEN_FLEX_RING_SIZE(order)`: bytes in each direction of a "flex" ring
/// (data rings such as 9pfs or pvcalls) built from `2^order` pages, half
/// per direction.
pub const fn xen_flex_ring_size(order: u32) -> usize {
    1 << (order + crate::xen::XEN_PAGE_SHIFT - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_size_matches_known_protocols() {
        // blkif: the request/response union is 112 bytes -> 36 fit -> 32.
        assert_eq!(ring_size(4096, 112), 32);
        // netif TX: 12-byte union -> 336 fit -> 256.
        assert_eq!(ring_size(4096, 12), 256);
        // netif RX: 8-byte union -> 504 fit -> 256.
        assert_eq!(ring_size(4096, 8), 256);
        // Exactly a power of two fits.
        assert_eq!(ring_size(64 + 4 * 16, 16), 4);
        // Multi-page ring (blkif ring-page-order 2).
        assert_eq!(ring_size(4 * 4096, 112), 128);
    }

    #[test]
    fn ring_size_degenerate_inputs() {
        assert_eq!(ring_size(4096, 0), 0);
        assert_eq!(ring_size(32, 8), 0);
        assert_eq!(ring_size(64, 8), 0);
        assert_eq!(ring_size(4096, 4096), 0);
        assert_eq!(ring_size(4096, 4032), 1);
    }

    #[test]
    fn shared_ring_init_state() {
        let header = SringHeader::new();
        assert_eq!((header.req_prod, header.req_event), (0, 1));
        assert_eq!((header.rsp_prod, header.rsp_event), (0, 1));
        assert_eq!(core::mem::size_of::<SringHeader>(), SRING_HEADER_BYTES);
    }

    #[test]
    fn flex_ring_is_half_the_pages() {
        assert_eq!(xen_flex_ring_size(0), 2048);
        assert_eq!(xen_flex_ring_size(1), 4096);
    }
}
