//! The PV console ring page: `io/console.h`.
//!
//! A domU's console is one shared page (`start_info.console.mfn`, event
//! channel `start_info.console.evtchn`) holding two byte rings: `in` (from
//! the console backend to the guest) and `out` (from the guest to the
//! backend), each with free-running `u32` producer and consumer indices.

/// `XENCONS_RING_IDX`: a free-running console ring index.
pub type XenconsRingIdx = u32;

/// Size of the `in` ring.
pub const XENCONS_IN_RING_BYTES: usize = 1024;
/// Size of the `out` ring.
pub const XENCONS_OUT_RING_BYTES: usize = 2048;

/// The console page: `struct xencons_interface`, `io/console.h`.
///
/// Writers: the backend (xenconsoled, or a dom0 console driver) writes
/// `in_` and `in_prod` and `out_cons`; the guest writes `out` and
/// `out_prod` and `in_cons`. Indices from the backend are allegations:
/// check `prod - cons <= ring size` before using them.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenconsInterface {
    /// Input ring (backend to guest). C field `in`, a Rust keyword.
    pub in_: [u8; XENCONS_IN_RING_BYTES],
    /// Output ring (guest to backend).
    pub out: [u8; XENCONS_OUT_RING_BYTES],
    /// Input consumed so far (guest).
    pub in_cons: XenconsRingIdx,
    /// Input produced so far (backend).
    pub in_prod: XenconsRingIdx,
    /// Output consumed so far (backend).
    pub out_cons: XenconsRingIdx,
    /// Output produced so far (guest).
    pub out_prod: XenconsRingIdx,
}

impl Default for XenconsInterface {
    fn default() -> Self {
        XenconsInterface {
            in_: [0; XENCONS_IN_RING_BYTES],
            out: [0; XENCONS_OUT_RING_BYTES],
            in_cons: 0,
            in_prod: 0,
            out_cons: 0,
            out_prod: 0,
        }
    }
}

/// `MASK_XENCONS_IDX(idx, ring)`: the byte offset of free-running index
/// `idx` in a ring of `ring_bytes` bytes (a power of two).
pub const fn mask_xencons_idx(idx: XenconsRingIdx, ring_bytes: usize) -> usize {
    idx as usize & (ring_bytes - 1)
}

/// `MASK_XENCONS_IDX(idx, intf->in)`.
pub const fn mask_in_idx(idx: XenconsRingIdx) -> usize {
    mask_xencons_idx(idx, XENCONS_IN_RING_BYTES)
}

/// `MASK_XENCONS_IDX(idx, intf->out)`.
pub const fn mask_out_idx(idx: XenconsRingIdx) -> usize {
    mask_xencons_idx(idx, XENCONS_OUT_RING_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_wrap_within_each_ring() {
        assert_eq!(mask_in_idx(1024), 0);
        assert_eq!(mask_in_idx(1025), 1);
        assert_eq!(mask_out_idx(2047), 2047);
        assert_eq!(mask_out_idx(2048), 0);
        assert_eq!(mask_out_idx(u32::MAX), 2047);
    }
}
