//! Walking a frame-pointer chain to print a backtrace.
//!
//! The kernel is built with `-C force-frame-pointers=yes`, so each frame
//! starts with the caller's `rbp` followed by the return address. A crash
//! may have corrupted the chain, so every step is checked: the frame must
//! lie inside the stack, be 8-byte aligned and move strictly upwards, and
//! reads go through a caller-supplied function that refuses bad addresses.

/// Return addresses from `rbp`'s chain, innermost first, at most `limit`.
pub fn walk(
    mut rbp: u64,
    stack: core::ops::Range<u64>,
    limit: usize,
    read_u64: impl Fn(u64) -> Option<u64>,
    mut visit: impl FnMut(usize, u64),
) -> usize {
    let mut depth = 0;
    while depth < limit {
        let frame_ok = rbp % 8 == 0
            && rbp >= stack.start
            && rbp.checked_add(16).is_some_and(|end| end <= stack.end);
        if !frame_ok {
            break;
        }
        let (Some(next_rbp), Some(return_address)) = (read_u64(rbp), read_u64(rbp + 8)) else {
            break;
        };
        if return_address == 0 {
            break;
        }
        visit(depth, return_address);
        depth += 1;
        if next_rbp <= rbp {
            break;
        }
        rbp = next_rbp;
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    fn memory(words: &[(u64, u64)]) -> impl Fn(u64) -> Option<u64> + '_ {
        let map: BTreeMap<u64, u64> = words.iter().copied().collect();
        move |addr| map.get(&addr).copied()
    }

    #[test]
    fn follows_chain_until_zero_frame() {
        let words = [
            (0x1000, 0x1040),
            (0x1008, 0xaaaa),
            (0x1040, 0x1080),
            (0x1048, 0xbbbb),
            (0x1080, 0),
            (0x1088, 0xcccc),
        ];
        let mut seen = Vec::new();
        let depth = walk(0x1000, 0x1000..0x2000, 16, memory(&words), |_, a| {
            seen.push(a)
        });
        assert_eq!(seen, [0xaaaa, 0xbbbb, 0xcccc]);
        assert_eq!(depth, 3);
    }

    #[test]
    fn stops_on_loops_misalignment_and_out_of_stack() {
        let looping = [(0x1000, 0x1000), (0x1008, 0xaaaa)];
        assert_eq!(
            walk(0x1000, 0x1000..0x2000, 16, memory(&looping), |_, _| {}),
            1
        );
        assert_eq!(
            walk(0x1004, 0x1000..0x2000, 16, memory(&looping), |_, _| {}),
            0
        );
        assert_eq!(
            walk(0x3000, 0x1000..0x2000, 16, memory(&looping), |_, _| {}),
            0
        );
        assert_eq!(
            walk(u64::MAX - 7, 0..u64::MAX, 16, |_| Some(1), |_, _| {}),
            0
        );
    }
}
