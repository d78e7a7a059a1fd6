//! Scanning Xen's 2-level event-channel bitmaps for ports to deliver.
//!
//! `xen.h` ("Event channel endpoints"): each VCPU has a selector word
//! `evtchn_pending_sel` whose bit *i* says "word *i* of
//! `shared_info.evtchn_pending` may have news". The upcall handler
//! atomically takes the selector (exchange with 0), then for each flagged
//! word delivers the ports that are pending and not masked, clearing each
//! pending bit before delivering so that a new event on the same port
//! re-sets it and is not lost. The memory is shared with Xen, so the kernel
//! implements [`EventBitmaps`] with atomic operations; tests use arrays.

/// Bits per word of the 2-level ABI on x86_64 (`xen_ulong_t` is 64 bits).
pub const BITS_PER_WORD: u32 = 64;

/// Access to the selector, pending and mask words of one VCPU.
pub trait EventBitmaps {
    /// Atomically reads and clears `evtchn_pending_sel`.
    fn take_selector(&mut self) -> u64;
    /// Reads `evtchn_pending[word]`.
    fn pending(&self, word: usize) -> u64;
    /// Reads `evtchn_mask[word]`.
    fn mask(&self, word: usize) -> u64;
    /// Atomically clears one bit of `evtchn_pending[word]`.
    fn clear_pending(&mut self, word: usize, bit: u32);
}

/// Delivers every pending, unmasked port flagged by the selector, in
/// ascending order. Returns how many ports were delivered.
pub fn demux(bitmaps: &mut impl EventBitmaps, mut deliver: impl FnMut(u32)) -> usize {
    let mut delivered = 0;
    let mut selector = bitmaps.take_selector();
    while selector != 0 {
        let word = selector.trailing_zeros() as usize;
        selector &= selector - 1;
        let mut ready = bitmaps.pending(word) & !bitmaps.mask(word);
        while ready != 0 {
            let bit = ready.trailing_zeros();
            ready &= ready - 1;
            bitmaps.clear_pending(word, bit);
            deliver(word as u32 * BITS_PER_WORD + bit);
            delivered += 1;
        }
    }
    delivered
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    struct Arrays {
        selector: u64,
        pending: [u64; 64],
        mask: [u64; 64],
    }

    impl Arrays {
        fn raise(&mut self, port: u32) {
            self.pending[(port / 64) as usize] |= 1 << (port % 64);
            self.selector |= 1 << (port / 64);
        }
    }

    impl EventBitmaps for Arrays {
        fn take_selector(&mut self) -> u64 {
            core::mem::take(&mut self.selector)
        }
        fn pending(&self, word: usize) -> u64 {
            self.pending[word]
        }
        fn mask(&self, word: usize) -> u64 {
            self.mask[word]
        }
        fn clear_pending(&mut self, word: usize, bit: u32) {
            self.pending[word] &= !(1 << bit);
        }
    }

    fn fresh() -> Arrays {
        Arrays {
            selector: 0,
            pending: [0; 64],
            mask: [0; 64],
        }
    }

    #[test]
    fn delivers_pending_unmasked_ports_in_order() {
        let mut arrays = fresh();
        for port in [3, 200, 64, 4095, 1] {
            arrays.raise(port);
        }
        arrays.mask[3] |= 1 << (200 % 64);
        let mut ports = Vec::new();
        assert_eq!(demux(&mut arrays, |p| ports.push(p)), 4);
        assert_eq!(ports, [1, 3, 64, 4095]);
        assert_ne!(arrays.pending[3] & (1 << 8), 0, "masked port stays pending");
        assert_eq!(arrays.pending[0], 0);
    }

    #[test]
    fn spurious_selector_bits_deliver_nothing() {
        let mut arrays = fresh();
        arrays.selector = u64::MAX;
        assert_eq!(demux(&mut arrays, |_| panic!("nothing pending")), 0);
        assert_eq!(arrays.selector, 0);
    }
}
