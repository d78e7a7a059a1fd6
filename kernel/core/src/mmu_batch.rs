//! The page-table update queue: many PTE writes per hypercall.
//!
//! A PV guest cannot write its page tables; it asks Xen, which validates
//! every entry (`xen.h`, `HYPERVISOR_mmu_update` / `HYPERVISOR_mmuext_op`).
//! A trap into Xen costs far more than validating one entry, so the kernel
//! queues updates here and commits them together:
//!
//! * consecutive PTE writes share one `mmu_update` call (up to `U` entries);
//! * consecutive extended operations (pin, clear page, TLB flush, new base
//!   pointer) share one `mmuext_op` call;
//! * a mix of calls goes to Xen as one `multicall`, which runs them in order;
//! * a TLB flush requested by any operation is deferred to the end of the
//!   batch and issued once, after every PTE write it covers.
//!
//! This module only plans: it fills the arrays and the list of calls and
//! keeps the counters. The kernel's MMU layer turns the plan into the real
//! hypercall (one `multicall`, or the single call directly) and reports the
//! outcome back through [`MmuBatch::complete`].

use xen_abi::xen::{MmuUpdate, MmuextOp};

/// One hypercall of a planned batch, in execution order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// `mmu_update(&updates[first..first + count])`.
    MmuUpdate { first: usize, count: usize },
    /// `mmuext_op(&ext_ops[first..first + count])`.
    MmuextOp { first: usize, count: usize },
    /// `update_va_mapping(va, new_pte, flags)`.
    UpdateVaMapping { va: u64, new_pte: u64, flags: u64 },
    /// `stack_switch(ss, sp)`: the kernel stack for entries from user
    /// mode. Part of a context switch, batched with its base pointers.
    StackSwitch { ss: u64, sp: u64 },
    /// `set_segment_base(which, base)`: a process's FS base, likewise.
    SetSegmentBase { which: u64, base: u64 },
}

/// What the TLB needs once the batch's entries are in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlbFlush {
    /// Only new mappings were added: nothing stale can be cached.
    #[default]
    None,
    /// A few pages lost or reduced their mapping: `invlpg` each.
    Pages,
    /// Flush the whole local TLB (cheaper than many `invlpg`s).
    Local,
}

/// The queue cannot take another entry until it is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchFull;

/// Counters by kind, for benchmarks and `/proc`-style reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmuStats {
    /// Traps into Xen made for page-table work (a multicall counts once).
    pub hypercalls: u64,
    /// Multicalls among those hypercalls.
    pub multicalls: u64,
    /// Calls carried inside multicalls.
    pub multicall_entries: u64,
    /// PTE writes carried by `mmu_update`.
    pub pte_updates: u64,
    /// `mmuext_op` operations (pins, clears, flushes ...).
    pub ext_ops: u64,
    /// `update_va_mapping` calls.
    pub va_mappings: u64,
    /// TLB flushes (whole or per page) issued.
    pub tlb_flushes: u64,
    /// Commits that carried at least one call.
    pub commits: u64,
}

impl MmuStats {
    /// Counter differences `self - earlier`, for measuring one operation.
    pub fn since(&self, earlier: &MmuStats) -> MmuStats {
        MmuStats {
            hypercalls: self.hypercalls - earlier.hypercalls,
            multicalls: self.multicalls - earlier.multicalls,
            multicall_entries: self.multicall_entries - earlier.multicall_entries,
            pte_updates: self.pte_updates - earlier.pte_updates,
            ext_ops: self.ext_ops - earlier.ext_ops,
            va_mappings: self.va_mappings - earlier.va_mappings,
            tlb_flushes: self.tlb_flushes - earlier.tlb_flushes,
            commits: self.commits - earlier.commits,
        }
    }
}

/// Maximum pages flushed one by one before a whole-TLB flush is cheaper.
pub const MAX_INVLPG_PAGES: usize = 8;

/// A batch of up to `U` PTE writes, `E` extended ops and `C` calls.
pub struct MmuBatch<const U: usize, const E: usize, const C: usize> {
    updates: [MmuUpdate; U],
    update_count: usize,
    ext_ops: [MmuextOp; E],
    ext_count: usize,
    calls: [Call; C],
    call_count: usize,
    tlb: TlbFlush,
    invlpg_pages: [u64; MAX_INVLPG_PAGES],
    invlpg_count: usize,
    stats: MmuStats,
}

impl<const U: usize, const E: usize, const C: usize> Default for MmuBatch<U, E, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const U: usize, const E: usize, const C: usize> MmuBatch<U, E, C> {
    pub const fn new() -> Self {
        MmuBatch {
            updates: [MmuUpdate { ptr: 0, val: 0 }; U],
            update_count: 0,
            ext_ops: [MmuextOp {
                cmd: 0,
                arg1: 0,
                arg2: 0,
            }; E],
            ext_count: 0,
            calls: [Call::MmuUpdate { first: 0, count: 0 }; C],
            call_count: 0,
            tlb: TlbFlush::None,
            invlpg_pages: [0; MAX_INVLPG_PAGES],
            invlpg_count: 0,
            stats: MmuStats {
                hypercalls: 0,
                multicalls: 0,
                multicall_entries: 0,
                pte_updates: 0,
                ext_ops: 0,
                va_mappings: 0,
                tlb_flushes: 0,
                commits: 0,
            },
        }
    }

    /// True when nothing is queued (a deferred flush counts as queued).
    pub fn is_empty(&self) -> bool {
        self.call_count == 0 && self.tlb == TlbFlush::None
    }

    pub fn stats(&self) -> MmuStats {
        self.stats
    }

    /// PTE writes queued so far.
    pub fn queued_updates(&self) -> usize {
        self.update_count
    }

    /// Queues a write of `new_value` to the PTE at machine address
    /// `pte_machine_address` (`MMU_NORMAL_PT_UPDATE`).
    pub fn push_pte(&mut self, pte_machine_address: u64, new_value: u64) -> Result<(), BatchFull> {
        self.push_update(MmuUpdate::normal_pt_update(pte_machine_address, new_value))
    }

    /// Queues any `mmu_update` request (e.g. an m2p update).
    pub fn push_update(&mut self, update: MmuUpdate) -> Result<(), BatchFull> {
        if self.update_count == U {
            return Err(BatchFull);
        }
        let next = self.update_count;
        match self.last_call_mut() {
            Some(Call::MmuUpdate { first, count }) if *first + *count == next => {
                *count += 1;
            }
            _ => self.push_call(Call::MmuUpdate {
                first: self.update_count,
                count: 1,
            })?,
        }
        self.updates[self.update_count] = update;
        self.update_count += 1;
        Ok(())
    }

    /// Queues an extended operation (pin, unpin, clear, copy, base pointer).
    pub fn push_ext(&mut self, op: MmuextOp) -> Result<(), BatchFull> {
        // Keep one slot free for the deferred TLB flush.
        if self.ext_count + 1 >= E {
            return Err(BatchFull);
        }
        let next = self.ext_count;
        match self.last_call_mut() {
            Some(Call::MmuextOp { first, count }) if *first + *count == next => {
                *count += 1;
            }
            _ => self.push_call(Call::MmuextOp {
                first: self.ext_count,
                count: 1,
            })?,
        }
        self.ext_ops[self.ext_count] = op;
        self.ext_count += 1;
        Ok(())
    }

    /// Queues an `update_va_mapping` (a single PTE by virtual address).
    pub fn push_va_mapping(&mut self, va: u64, new_pte: u64, flags: u64) -> Result<(), BatchFull> {
        self.push_call(Call::UpdateVaMapping { va, new_pte, flags })
    }

    /// Queues a `stack_switch` (context switch).
    pub fn push_stack_switch(&mut self, ss: u64, sp: u64) -> Result<(), BatchFull> {
        self.push_call(Call::StackSwitch { ss, sp })
    }

    /// Queues a `set_segment_base` (context switch).
    pub fn push_segment_base(&mut self, which: u64, base: u64) -> Result<(), BatchFull> {
        self.push_call(Call::SetSegmentBase { which, base })
    }

    /// Asks for the TLB entry of `va` to be dropped after the batch.
    pub fn flush_page_after(&mut self, va: u64) {
        match self.tlb {
            TlbFlush::Local => {}
            _ if self.invlpg_count == MAX_INVLPG_PAGES => self.tlb = TlbFlush::Local,
            _ => {
                self.invlpg_pages[self.invlpg_count] = va;
                self.invlpg_count += 1;
                self.tlb = TlbFlush::Pages;
            }
        }
    }

    /// Asks for a whole local TLB flush after the batch.
    pub fn flush_all_after(&mut self) {
        self.tlb = TlbFlush::Local;
    }

    fn last_call_mut(&mut self) -> Option<&mut Call> {
        self.calls[..self.call_count].last_mut()
    }

    fn push_call(&mut self, call: Call) -> Result<(), BatchFull> {
        // Keep one call slot free for the deferred TLB flush.
        if self.call_count + 1 >= C {
            return Err(BatchFull);
        }
        self.calls[self.call_count] = call;
        self.call_count += 1;
        Ok(())
    }

    /// Appends the deferred TLB flush and returns the calls to issue, in
    /// order. The arrays they index are [`Self::updates`] and
    /// [`Self::ext_ops`]. Calling `seal` twice appends nothing more.
    pub fn seal(&mut self) -> &[Call] {
        let mut ops = [MmuextOp::tlb_flush_local(); MAX_INVLPG_PAGES];
        let wanted = match self.tlb {
            TlbFlush::None => 0,
            TlbFlush::Local => 1,
            TlbFlush::Pages => {
                for (op, va) in ops.iter_mut().zip(&self.invlpg_pages[..self.invlpg_count]) {
                    *op = MmuextOp::invlpg_local(*va);
                }
                self.invlpg_count
            }
        };
        if wanted > 0 {
            // push_ext and push_call always leave one slot free, so a single
            // whole flush fits even when per-page flushes do not.
            if self.ext_count + wanted <= E {
                self.append_flush(&ops[..wanted]);
            } else {
                self.append_flush(&[MmuextOp::tlb_flush_local()]);
            }
            self.tlb = TlbFlush::None;
            self.invlpg_count = 0;
        }
        &self.calls[..self.call_count]
    }

    fn append_flush(&mut self, ops: &[MmuextOp]) {
        let first = self.ext_count;
        self.ext_ops[first..first + ops.len()].copy_from_slice(ops);
        self.ext_count += ops.len();
        self.stats.tlb_flushes += ops.len() as u64;
        match self.calls[..self.call_count].last_mut() {
            Some(Call::MmuextOp { first: f, count }) if *f + *count == first => {
                *count += ops.len();
            }
            _ => {
                self.calls[self.call_count] = Call::MmuextOp {
                    first,
                    count: ops.len(),
                };
                self.call_count += 1;
            }
        }
    }

    /// The queued PTE writes (indexed by [`Call::MmuUpdate`]).
    pub fn updates(&self) -> &[MmuUpdate] {
        &self.updates[..self.update_count]
    }

    /// The queued extended operations (indexed by [`Call::MmuextOp`]).
    pub fn ext_ops(&self) -> &[MmuextOp] {
        &self.ext_ops[..self.ext_count]
    }

    /// The calls of the sealed batch.
    pub fn calls(&self) -> &[Call] {
        &self.calls[..self.call_count]
    }

    /// Records that the sealed batch was issued (as one multicall when it
    /// has several calls) and empties the queue.
    pub fn complete(&mut self) {
        if self.call_count > 0 {
            self.stats.commits += 1;
            self.stats.hypercalls += 1;
            if self.call_count > 1 {
                self.stats.multicalls += 1;
                self.stats.multicall_entries += self.call_count as u64;
            }
            self.stats.pte_updates += self.update_count as u64;
            self.stats.ext_ops += self.ext_count as u64;
            self.stats.va_mappings += self.calls[..self.call_count]
                .iter()
                .filter(|c| matches!(c, Call::UpdateVaMapping { .. }))
                .count() as u64;
        }
        self.update_count = 0;
        self.ext_count = 0;
        self.call_count = 0;
        self.tlb = TlbFlush::None;
        self.invlpg_count = 0;
    }

    /// Counts a hypercall made outside the queue (e.g. a one-off
    /// `update_va_mapping` during early boot), so totals stay honest.
    pub fn count_direct_hypercall(&mut self) {
        self.stats.hypercalls += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;
    use xen_abi::xen::{MMUEXT_CLEAR_PAGE, MMUEXT_INVLPG_LOCAL, MMUEXT_TLB_FLUSH_LOCAL};

    type Batch = MmuBatch<64, 8, 8>;

    /// Plays Xen: applies a sealed batch to a map of "machine memory" and
    /// returns the order in which operations ran, as labels.
    #[test]
    fn a_context_switch_is_one_batch_in_order() {
        let mut batch = Batch::new();
        batch
            .push_ext(MmuextOp::new_baseptr(xen_abi::Mfn(7)))
            .unwrap();
        batch
            .push_ext(MmuextOp::new_user_baseptr(xen_abi::Mfn(8)))
            .unwrap();
        batch
            .push_stack_switch(0xe02b, 0xffff_8000_0000_1000)
            .unwrap();
        batch.push_segment_base(0, 0x7000).unwrap();
        let mut memory = BTreeMap::new();
        assert_eq!(
            execute(&mut batch, &mut memory),
            ["ext", "ext", "stack", "segbase"]
        );
        assert_eq!(batch.stats().hypercalls, 1, "one multicall");
    }

    fn execute(batch: &mut Batch, memory: &mut BTreeMap<u64, u64>) -> Vec<&'static str> {
        let mut trace = Vec::new();
        let calls: Vec<Call> = batch.seal().to_vec();
        for call in calls {
            match call {
                Call::MmuUpdate { first, count } => {
                    for update in &batch.updates()[first..first + count] {
                        memory.insert(update.ptr & !7, update.val);
                        trace.push("pte");
                    }
                }
                Call::MmuextOp { first, count } => {
                    for op in &batch.ext_ops()[first..first + count] {
                        trace.push(match op.cmd {
                            MMUEXT_TLB_FLUSH_LOCAL => "flush",
                            MMUEXT_INVLPG_LOCAL => "invlpg",
                            MMUEXT_CLEAR_PAGE => "clear",
                            _ => "ext",
                        });
                    }
                }
                Call::UpdateVaMapping { .. } => trace.push("va"),
                Call::StackSwitch { .. } => trace.push("stack"),
                Call::SetSegmentBase { .. } => trace.push("segbase"),
            }
        }
        batch.complete();
        trace
    }

    #[test]
    fn consecutive_ptes_share_one_call() {
        let mut batch = Batch::new();
        let mut memory = BTreeMap::new();
        for i in 0..64u64 {
            batch.push_pte(0x1000 + i * 8, i << 12 | 1).unwrap();
        }
        assert_eq!(batch.push_pte(0x2000, 1), Err(BatchFull));
        assert_eq!(
            batch.seal(),
            &[Call::MmuUpdate {
                first: 0,
                count: 64
            }]
        );
        let trace = execute(&mut batch, &mut memory);
        assert_eq!(trace.len(), 64);
        assert_eq!(memory[&(0x1000 + 63 * 8)], 63 << 12 | 1);
        let stats = batch.stats();
        assert_eq!(
            (stats.hypercalls, stats.multicalls, stats.pte_updates),
            (1, 0, 64)
        );
        assert!(batch.is_empty());
    }

    #[test]
    fn mixed_operations_keep_order_and_flush_last() {
        let mut batch = Batch::new();
        let mut memory = BTreeMap::new();
        batch
            .push_ext(MmuextOp::clear_page(xen_abi::Mfn(7)))
            .unwrap();
        batch.push_pte(0x10, 0x7001).unwrap();
        batch.flush_all_after();
        batch.push_pte(0x18, 0).unwrap();
        batch.push_va_mapping(0xffff_8000_0000_0000, 0, 0).unwrap();
        let trace = execute(&mut batch, &mut memory);
        assert_eq!(trace, ["clear", "pte", "pte", "va", "flush"]);
        let stats = batch.stats();
        assert_eq!(stats.hypercalls, 1, "one multicall");
        assert_eq!(stats.multicall_entries, 4);
        assert_eq!(stats.tlb_flushes, 1);
        assert_eq!(stats.va_mappings, 1);
    }

    #[test]
    fn few_pages_use_invlpg_many_use_one_flush() {
        let mut batch = Batch::new();
        let mut memory = BTreeMap::new();
        batch.push_pte(0x10, 0).unwrap();
        batch.flush_page_after(0x4000);
        batch.flush_page_after(0x5000);
        assert_eq!(
            execute(&mut batch, &mut memory),
            ["pte", "invlpg", "invlpg"]
        );
        for page in 0..=MAX_INVLPG_PAGES as u64 {
            batch.push_pte(0x10 + page * 8, 0).unwrap();
            batch.flush_page_after(page << 12);
        }
        let trace = execute(&mut batch, &mut memory);
        assert_eq!(trace.last(), Some(&"flush"));
        assert_eq!(trace.iter().filter(|t| **t == "flush").count(), 1);
        assert!(!trace.contains(&"invlpg"));
    }

    #[test]
    fn full_ext_and_call_queues_still_have_room_for_the_flush() {
        let mut batch = Batch::new();
        let mut memory = BTreeMap::new();
        let mut pushed = 0;
        while batch
            .push_ext(MmuextOp::clear_page(xen_abi::Mfn(1)))
            .is_ok()
        {
            pushed += 1;
        }
        assert_eq!(pushed, 7);
        batch.flush_all_after();
        let trace = execute(&mut batch, &mut memory);
        assert_eq!(trace.last(), Some(&"flush"));
        // Alternate calls until the call list is full.
        let mut calls = 0;
        loop {
            let ok = if calls % 2 == 0 {
                batch.push_pte(0x10, 0).is_ok()
            } else {
                batch.push_va_mapping(0, 0, 0).is_ok()
            };
            if !ok {
                break;
            }
            calls += 1;
        }
        assert_eq!(calls, 7);
        for page in 0..3 {
            batch.flush_page_after(page << 12);
        }
        let trace = execute(&mut batch, &mut memory);
        assert_eq!(trace[trace.len() - 3..], ["invlpg"; 3], "{trace:?}");
    }

    #[test]
    fn empty_commit_counts_nothing() {
        let mut batch = Batch::new();
        assert!(batch.seal().is_empty());
        batch.complete();
        assert_eq!(batch.stats(), MmuStats::default());
    }
}
