//! One-shot timers ordered by deadline, for a single VCPU.
//!
//! The kernel keeps one hardware timer armed (`VCPUOP_set_singleshot_timer`)
//! at the earliest deadline in this queue; when `VIRQ_TIMER` fires it pops
//! everything due. Timers with equal deadlines fire in insertion order. The
//! queue has a fixed capacity so it can live in a static and never allocate
//! inside the event path.

/// Identifies a timer so it can be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

#[derive(Clone, Copy, Debug)]
struct Entry<T> {
    deadline_ns: u64,
    id: TimerId,
    payload: T,
}

/// The queue is full: the caller must not assume its timer is armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull;

impl core::fmt::Display for QueueFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("timer queue is full")
    }
}

impl core::error::Error for QueueFull {}

/// Up to `N` pending timers carrying a `T` each, kept sorted by
/// (deadline, id) so the next one is at the front.
pub struct TimerQueue<T: Copy, const N: usize> {
    entries: [Option<Entry<T>>; N],
    len: usize,
    next_id: u64,
}

impl<T: Copy, const N: usize> Default for TimerQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy, const N: usize> TimerQueue<T, N> {
    pub const fn new() -> Self {
        TimerQueue {
            entries: [None; N],
            len: 0,
            next_id: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a timer. A deadline in the past is accepted: it is simply due
    /// at the next `pop_due`.
    pub fn insert(&mut self, deadline_ns: u64, payload: T) -> Result<TimerId, QueueFull> {
        if self.len == N {
            return Err(QueueFull);
        }
        let id = TimerId(self.next_id);
        self.next_id += 1;
        // Insertion point: after every entry with deadline <= ours, so equal
        // deadlines keep insertion order.
        let position = self.entries[..self.len]
            .iter()
            .position(|e| e.as_ref().expect("slots below len are full").deadline_ns > deadline_ns)
            .unwrap_or(self.len);
        self.entries[position..=self.len].rotate_right(1);
        self.entries[position] = Some(Entry {
            deadline_ns,
            id,
            payload,
        });
        self.len += 1;
        Ok(id)
    }

    /// Removes a timer; returns its payload if it was still pending.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let position = self.entries[..self.len]
            .iter()
            .position(|e| e.as_ref().map(|e| e.id) == Some(id))?;
        let entry = self.entries[position].take().expect("found above");
        self.entries[position..self.len].rotate_left(1);
        self.len -= 1;
        Some(entry.payload)
    }

    /// The earliest deadline, to arm the hardware timer with.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries[0].as_ref().map(|e| e.deadline_ns)
    }

    /// Removes and returns the earliest timer if it is due at `now_ns`.
    pub fn pop_due(&mut self, now_ns: u64) -> Option<(TimerId, T)> {
        let first = self.entries[0].as_ref()?;
        if first.deadline_ns > now_ns {
            return None;
        }
        let entry = self.entries[0].take().expect("checked above");
        self.entries[..self.len].rotate_left(1);
        self.len -= 1;
        Some((entry.id, entry.payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn pops_in_deadline_then_insertion_order() {
        let mut queue: TimerQueue<u32, 8> = TimerQueue::new();
        queue.insert(30, 1).unwrap();
        queue.insert(10, 2).unwrap();
        queue.insert(20, 3).unwrap();
        queue.insert(10, 4).unwrap();
        assert_eq!(queue.next_deadline(), Some(10));
        assert_eq!(queue.pop_due(5), None, "nothing fires early");
        let fired: Vec<u32> = core::iter::from_fn(|| queue.pop_due(25).map(|(_, p)| p)).collect();
        assert_eq!(fired, [2, 4, 3]);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pop_due(30).map(|(_, p)| p), Some(1));
        assert!(queue.is_empty());
        assert_eq!(queue.next_deadline(), None);
    }

    #[test]
    fn past_deadline_is_due_immediately() {
        let mut queue: TimerQueue<(), 2> = TimerQueue::new();
        queue.insert(0, ()).unwrap();
        assert!(queue.pop_due(1_000).is_some());
    }

    #[test]
    fn full_queue_refuses_and_cancel_frees_a_slot() {
        let mut queue: TimerQueue<u8, 2> = TimerQueue::new();
        let a = queue.insert(5, 1).unwrap();
        queue.insert(6, 2).unwrap();
        assert_eq!(queue.insert(7, 3), Err(QueueFull));
        assert_eq!(queue.cancel(a), Some(1));
        assert_eq!(queue.cancel(a), None, "cancelling twice is harmless");
        queue.insert(1, 3).unwrap();
        assert_eq!(queue.pop_due(10).map(|(_, p)| p), Some(3));
        assert_eq!(queue.pop_due(10).map(|(_, p)| p), Some(2));
    }

    #[test]
    fn seeded_random_operations_keep_order() {
        let mut queue: TimerQueue<u64, 64> = TimerQueue::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut model: Vec<(u64, u64)> = Vec::new();
        let mut inserted = 0u64;
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed % 3 != 0 && queue.len() < 64 {
                let deadline = seed % 1000;
                queue.insert(deadline, inserted).unwrap();
                model.push((deadline, inserted));
                inserted += 1;
            } else {
                let now = seed % 1000;
                model.sort();
                let expected = model.first().filter(|(d, _)| *d <= now).copied();
                let got = queue.pop_due(now).map(|(_, p)| p);
                assert_eq!(got, expected.map(|(_, p)| p));
                if expected.is_some() {
                    model.remove(0);
                }
            }
        }
    }
}
