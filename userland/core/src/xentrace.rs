//! Xen's trace records, as `xentrace` writes them, counted per domain:
//! the outside view of a guest's hypercalls.
//!
//! # The format (Xen 4.17, `xen/include/public/trace.h`, `tools/xentrace`)
//!
//! A record is a `u32` header, then an optional 64-bit TSC, then up to
//! seven `u32`s of data (`struct t_rec`): bits 0-27 of the header are the
//! event, bits 28-30 (`TRACE_EXTRA_SHIFT`) the number of data words, bit
//! 31 (`TRC_HD_CYCLE_FLAG`) says whether the TSC is there. Xen keeps one
//! buffer per physical CPU; `xentrace` copies a buffer's new records as a
//! *window* preceded by its own `TRC_TRACE_CPU_CHANGE` record (`struct
//! cpu_change_record` in `xentrace.c`: data `{cpu, window_size}`), itself
//! shaped like a record, so the whole file is one stream of records. Xen
//! pads a wrapping buffer with a `TRC_TRACE_WRAP_BUFFER` record, also
//! self-sized. All fields are little-endian (x86).
//!
//! # Attribution
//!
//! A hypercall record (`TRC_PV_HYPERCALL_V2`, written by `pv_hypercall`
//! through `__trace_hypercall`: data `{op | argument flags, args...}`)
//! does not name its domain: it belongs to whoever runs on that CPU. The
//! scheduler's `TRC_SCHED_SWITCH` (data `{prev domain, prev unit, next
//! domain, next unit}`) says who that is, per CPU, and Xen's
//! `TRC_LOST_RECORDS` (data `{lost, domain << 0 | vcpu << 16, tsc}`)
//! names the running domain again after a gap. Hypercalls seen on a CPU
//! before its first switch are counted as unattributed: a guest created
//! after tracing started is never among them.
//!
//! A hypercall Xen preempts is re-executed as a continuation and traced
//! again; those are counted apart ([`DomainCounts::continuations`]) and
//! left out of [`DomainCounts::guest_hypercalls`], the figure comparable
//! to what the guest itself counts. A long `mmu_update` or `mmuext_op`
//! is marked: `MMU_UPDATE_PREEMPTED` (bit 31) in its count argument. A
//! multicall is not (`do_multicall` in `xen/common/multicall.c` continues
//! with the count of entries left), so the counter follows its entries:
//! Xen traces each one as it starts (`TRC_PV_HYPERCALL_SUBCALL`), and a
//! multicall that arrives while the domain's previous one still has `n`
//! untraced entries, with a count of `n` (preempted between entries) or
//! `n + 1` (preempted inside the last traced one), is its continuation.
//! (A multicall that stopped at an error also leaves entries untraced; the
//! guest's next multicall could then be mistaken for a continuation if
//! its count happened to match. Our kernel treats such errors as fatal.)

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// `TRC_TRACE_CPU_CHANGE`: `xentrace`'s per-window CPU record.
pub const TRC_TRACE_CPU_CHANGE: u32 = 0x0001_f003;
/// `TRC_LOST_RECORDS`: Xen dropped records on this CPU.
pub const TRC_LOST_RECORDS: u32 = 0x0001_f001;
/// `TRC_SCHED_SWITCH` (`TRC_SCHED_VERBOSE + 10`).
pub const TRC_SCHED_SWITCH: u32 = 0x0002_800a;
/// `TRC_PV_HYPERCALL` (`TRC_PV_ENTRY + 1`), the pre-4.5 record.
pub const TRC_PV_HYPERCALL: u32 = 0x0020_1001;
/// `TRC_PV_HYPERCALL_V2` (`TRC_PV_ENTRY + 13`).
pub const TRC_PV_HYPERCALL_V2: u32 = 0x0020_100d;
/// `TRC_PV_HYPERCALL_SUBCALL` (`TRC_PV_SUBCALL + 14`): one multicall entry.
pub const TRC_PV_HYPERCALL_SUBCALL: u32 = 0x0020_200e;
/// `TRC_PV_HYPERCALL_V2_ARG_MASK`: the argument flags above the op.
const HYPERCALL_V2_ARG_MASK: u32 = 0xfff0_0000;
/// The event mask that records exactly what [`TraceCounter`] needs:
/// classes PV and SCHED (bits 16-27: 0x020 | 0x002), subclasses
/// `TRC_PV_ENTRY`, `TRC_PV_SUBCALL` and `TRC_SCHED_VERBOSE` (bits 12-15:
/// 1 | 2 | 8). Xen matches class and subclass separately (`__trace_var`),
/// so this also lets `TRC_SCHED_MIN` and `TRC_SCHED_CLASS` through, which
/// is harmless.
pub const EVENT_MASK: u32 = 0x0022_b000;
/// `DOMID_IDLE`: the idle domain in scheduler records.
pub const DOMID_IDLE: u32 = 0x7fff;

/// `__HYPERVISOR_mmu_update` (`xen/include/public/xen.h`).
pub const HYPERVISOR_MMU_UPDATE: u32 = 1;
/// `__HYPERVISOR_multicall`.
pub const HYPERVISOR_MULTICALL: u32 = 13;
/// `__HYPERVISOR_iret`.
pub const HYPERVISOR_IRET: u32 = 23;
/// `__HYPERVISOR_mmuext_op`.
pub const HYPERVISOR_MMUEXT_OP: u32 = 26;
/// `MMU_UPDATE_PREEMPTED`: the count argument of a continuation.
const MMU_UPDATE_PREEMPTED: u32 = 0x8000_0000;

/// A trace file that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceError {
    /// The file ends inside a record (offset of that record's header).
    Truncated { offset: u64 },
    /// A `TRC_TRACE_CPU_CHANGE` record without its two data words.
    BadCpuChange { offset: u64 },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Truncated { offset } => {
                write!(f, "the trace ends inside the record at byte {offset}")
            }
            TraceError::BadCpuChange { offset } => write!(
                f,
                "the CPU-change record at byte {offset} has fewer than 2 data words"
            ),
        }
    }
}

impl core::error::Error for TraceError {}

/// What one domain did, as the trace saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainCounts {
    /// Every hypercall record, continuations included.
    pub hypercalls: u64,
    /// Re-executions of preempted calls (marked `mmu_update`/`mmuext_op`
    /// ones and multicalls, see the module documentation).
    pub continuations: u64,
    /// Of those, multicalls.
    pub multicall_continuations: u64,
    /// Multicalls that arrived while the previous one had untraced
    /// entries but with a count that does not continue it (a diagnostic:
    /// the previous one stopped at an error, or a rule is missing).
    pub multicalls_after_incomplete: u64,
    /// `HYPERVISOR_iret`s.
    pub irets: u64,
    /// `mmu_update` calls (first executions).
    pub mmu_updates: u64,
    /// Their PTE updates (the count argument).
    pub mmu_update_entries: u64,
    /// `mmuext_op` calls (first executions).
    pub mmuext_ops: u64,
    /// Multicalls (first executions).
    pub multicalls: u64,
    /// Their entries (the count argument).
    pub multicall_entries: u64,
    /// Entries of the last multicall not traced yet.
    outstanding_entries: u64,
}

impl DomainCounts {
    /// Hypercalls the guest issued: every record but continuations.
    pub fn guest_hypercalls(&self) -> u64 {
        self.hypercalls - self.continuations
    }

    /// `xentrace-count domain=<id> hypercalls=... ...`: what
    /// `xentrace-count` prints per domain.
    pub fn line(&self, domain: u32) -> String {
        alloc::format!(
            "xentrace-count domain={domain} hypercalls={} guest_hypercalls={} \
             continuations={} multicall_continuations={} irets={} mmu_updates={} \
             mmu_update_entries={} mmuext_ops={} multicalls={} multicall_entries={} \
             multicalls_after_incomplete={}",
            self.hypercalls,
            self.guest_hypercalls(),
            self.continuations,
            self.multicall_continuations,
            self.irets,
            self.mmu_updates,
            self.mmu_update_entries,
            self.mmuext_ops,
            self.multicalls,
            self.multicall_entries,
            self.multicalls_after_incomplete,
        )
    }
}

/// Counts a trace stream's hypercalls per domain; feed it the file in
/// pieces of any size.
#[derive(Clone, Debug, Default)]
pub struct TraceCounter {
    /// Bytes of an incomplete record carried to the next `feed`.
    pending: Vec<u8>,
    /// File offset of `pending[0]`.
    offset: u64,
    /// The CPU whose window is being read.
    cpu: Option<u32>,
    /// Who runs on each CPU, as far as the trace has said.
    running: BTreeMap<u32, u32>,
    /// Per domain id.
    domains: BTreeMap<u32, DomainCounts>,
    /// Records read.
    pub records: u64,
    /// Records Xen said it dropped (`TRC_LOST_RECORDS`).
    pub lost_records: u64,
    /// Hypercalls on a CPU whose running domain was not known yet.
    pub unattributed_hypercalls: u64,
}

/// The size in bytes of the record whose header is `header`.
fn record_len(header: u32) -> usize {
    let extra_words = ((header >> 28) & 7) as usize;
    let cycles = header >> 31 == 1;
    4 + if cycles { 8 } else { 0 } + 4 * extra_words
}

impl TraceCounter {
    /// A counter that has seen nothing.
    pub fn new() -> TraceCounter {
        TraceCounter::default()
    }

    /// Reads `bytes`, the next part of the file.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), TraceError> {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        while self.pending.len() - at >= 4 {
            let header = word(&self.pending, at);
            let len = record_len(header);
            if self.pending.len() - at < len {
                break;
            }
            let record_offset = self.offset + at as u64;
            let data_start = at + if header >> 31 == 1 { 12 } else { 4 };
            let mut data = [0u32; 7];
            let mut words = 0;
            for index in (data_start..at + len).step_by(4) {
                data[words] = word(&self.pending, index);
                words += 1;
            }
            self.record(header & 0x0fff_ffff, &data[..words], record_offset)?;
            at += len;
        }
        self.pending.drain(..at);
        self.offset += at as u64;
        Ok(())
    }

    /// Checks the stream ended on a record boundary.
    pub fn finish(&self) -> Result<(), TraceError> {
        if self.pending.is_empty() {
            Ok(())
        } else {
            Err(TraceError::Truncated {
                offset: self.offset,
            })
        }
    }

    fn record(&mut self, event: u32, data: &[u32], offset: u64) -> Result<(), TraceError> {
        self.records += 1;
        match event {
            TRC_TRACE_CPU_CHANGE => {
                let cpu = *data.first().ok_or(TraceError::BadCpuChange { offset })?;
                if data.len() < 2 {
                    return Err(TraceError::BadCpuChange { offset });
                }
                self.cpu = Some(cpu);
            }
            TRC_SCHED_SWITCH => {
                if let (Some(cpu), Some(&next)) = (self.cpu, data.get(2)) {
                    self.running.insert(cpu, next);
                }
            }
            TRC_LOST_RECORDS => {
                // struct { u32 lost_records; u16 did, vid; u64 first_tsc; }
                if let Some(&lost) = data.first() {
                    self.lost_records += u64::from(lost);
                }
                if let (Some(cpu), Some(&ids)) = (self.cpu, data.get(1)) {
                    self.running.insert(cpu, ids & 0xffff);
                }
            }
            TRC_PV_HYPERCALL_SUBCALL => {
                let domain = self.cpu.and_then(|cpu| self.running.get(&cpu)).copied();
                if let Some(counts) = domain.and_then(|domain| self.domains.get_mut(&domain)) {
                    counts.outstanding_entries = counts.outstanding_entries.saturating_sub(1);
                }
            }
            TRC_PV_HYPERCALL | TRC_PV_HYPERCALL_V2 => {
                let domain = self.cpu.and_then(|cpu| self.running.get(&cpu)).copied();
                let Some(domain) = domain else {
                    self.unattributed_hypercalls += 1;
                    return Ok(());
                };
                let counts = self.domains.entry(domain).or_default();
                counts.hypercalls += 1;
                if event == TRC_PV_HYPERCALL_V2 {
                    let op = data
                        .first()
                        .map_or(u32::MAX, |op| op & !HYPERCALL_V2_ARG_MASK);
                    let count = data.get(1).copied().unwrap_or(0);
                    let preempted = count & MMU_UPDATE_PREEMPTED != 0;
                    match op {
                        HYPERVISOR_IRET => counts.irets += 1,
                        HYPERVISOR_MMU_UPDATE | HYPERVISOR_MMUEXT_OP if preempted => {
                            counts.continuations += 1
                        }
                        HYPERVISOR_MMU_UPDATE => {
                            counts.mmu_updates += 1;
                            counts.mmu_update_entries += u64::from(count);
                        }
                        HYPERVISOR_MMUEXT_OP => counts.mmuext_ops += 1,
                        HYPERVISOR_MULTICALL => {
                            let count = u64::from(count);
                            let left = counts.outstanding_entries;
                            if left > 0 && (count == left || count == left + 1) {
                                counts.continuations += 1;
                                counts.multicall_continuations += 1;
                            } else {
                                if left > 0 {
                                    counts.multicalls_after_incomplete += 1;
                                }
                                counts.multicalls += 1;
                                counts.multicall_entries += count;
                            }
                            counts.outstanding_entries = count;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The counts of `domain` (all zero if it made no hypercall).
    pub fn domain(&self, domain: u32) -> DomainCounts {
        self.domains.get(&domain).cloned().unwrap_or_default()
    }

    /// `xentrace-count records=... lost_records=...
    /// unattributed_hypercalls=...`: the whole trace's line.
    pub fn summary_line(&self) -> String {
        alloc::format!(
            "xentrace-count records={} lost_records={} unattributed_hypercalls={}",
            self.records,
            self.lost_records,
            self.unattributed_hypercalls
        )
    }

    /// Every domain that made a hypercall, by id.
    pub fn domains(&self) -> impl Iterator<Item = (u32, &DomainCounts)> {
        self.domains.iter().map(|(id, counts)| (*id, counts))
    }
}

/// The little-endian `u32` at `bytes[at..at + 4]` (the caller checked the
/// length).
fn word(bytes: &[u8], at: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(raw)
}

/// Encodes one record (tests, and the host tool's self-check).
pub fn encode_record(event: u32, tsc: Option<u64>, data: &[u32]) -> Vec<u8> {
    let words = data.len().min(7) as u32;
    let mut header = (event & 0x0fff_ffff) | (words << 28);
    if tsc.is_some() {
        header |= 1 << 31;
    }
    let mut bytes = Vec::from(header.to_le_bytes());
    if let Some(tsc) = tsc {
        bytes.extend_from_slice(&tsc.to_le_bytes());
    }
    for value in &data[..words as usize] {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::vec;

    fn cpu_window(cpu: u32, records: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = records.concat();
        let mut window = encode_record(TRC_TRACE_CPU_CHANGE, None, &[cpu, body.len() as u32]);
        window.extend(body);
        window
    }

    fn hypercall(op: u32, args: &[u32]) -> Vec<u8> {
        let mut data = vec![op | if args.is_empty() { 0 } else { 1 << 20 }];
        data.extend_from_slice(args);
        encode_record(TRC_PV_HYPERCALL_V2, Some(1000), &data)
    }

    fn subcall(op: u32) -> Vec<u8> {
        encode_record(TRC_PV_HYPERCALL_SUBCALL, Some(1001), &[op])
    }

    fn switch(prev: u32, next: u32) -> Vec<u8> {
        encode_record(TRC_SCHED_SWITCH, Some(5), &[prev, 0, next, 0])
    }

    fn sample() -> Vec<u8> {
        let mut file = cpu_window(
            0,
            &[
                hypercall(29, &[1]), // before any switch: unattributed
                switch(DOMID_IDLE, 0),
                hypercall(HYPERVISOR_IRET, &[]),
                switch(0, 5),
                hypercall(HYPERVISOR_MMU_UPDATE, &[512]),
                hypercall(HYPERVISOR_MMU_UPDATE, &[MMU_UPDATE_PREEMPTED | 100]),
                hypercall(HYPERVISOR_MULTICALL, &[3]),
                subcall(HYPERVISOR_MMUEXT_OP),
                subcall(HYPERVISOR_MMUEXT_OP),
                subcall(HYPERVISOR_MMUEXT_OP),
            ],
        );
        file.extend(cpu_window(
            1,
            &[
                switch(DOMID_IDLE, 5),
                hypercall(HYPERVISOR_IRET, &[]),
                // A wrap record pads the buffer: self-sized, ignored.
                encode_record(0x0001_f002, Some(0), &[0; 7]),
            ],
        ));
        // Back to CPU 0: domain 5 still runs there.
        file.extend(cpu_window(0, &[hypercall(HYPERVISOR_MMUEXT_OP, &[2])]));
        file
    }

    #[test]
    fn hypercalls_go_to_the_domain_running_on_their_cpu() {
        let mut counter = TraceCounter::new();
        counter.feed(&sample()).expect("parses");
        counter.finish().expect("complete");
        assert_eq!(counter.unattributed_hypercalls, 1);
        assert_eq!(counter.domain(0).hypercalls, 1);
        assert_eq!(counter.domain(0).irets, 1);
        let guest = counter.domain(5);
        assert_eq!(guest.hypercalls, 5);
        assert_eq!(guest.continuations, 1);
        assert_eq!(guest.guest_hypercalls(), 4);
        assert_eq!((guest.mmu_updates, guest.mmu_update_entries), (1, 512));
        assert_eq!((guest.multicalls, guest.multicall_entries), (1, 3));
        assert_eq!(guest.mmuext_ops, 1);
        assert_eq!(guest.irets, 1);
        assert_eq!(counter.domain(9), DomainCounts::default());
        assert_eq!(counter.domains().count(), 2);
        assert_eq!(counter.lost_records, 0);
        assert_eq!(
            counter.summary_line(),
            "xentrace-count records=17 lost_records=0 unattributed_hypercalls=1"
        );
        assert_eq!(
            guest.line(5),
            "xentrace-count domain=5 hypercalls=5 guest_hypercalls=4 continuations=1 \
             multicall_continuations=0 irets=1 mmu_updates=1 mmu_update_entries=512 \
             mmuext_ops=1 multicalls=1 multicall_entries=3 multicalls_after_incomplete=0"
        );
    }

    #[test]
    fn preempted_multicalls_are_continuations() {
        let file = cpu_window(
            0,
            &[
                switch(DOMID_IDLE, 4),
                // 4 entries, preempted after 2 (between entries): 2 left.
                hypercall(HYPERVISOR_MULTICALL, &[4]),
                subcall(26),
                subcall(26),
                hypercall(HYPERVISOR_MULTICALL, &[2]),
                // Preempted inside its first entry: that one again + 1.
                subcall(26),
                hypercall(HYPERVISOR_MULTICALL, &[2]),
                subcall(26),
                subcall(26),
                // A fresh multicall of the same size after a complete one.
                hypercall(HYPERVISOR_MULTICALL, &[2]),
                subcall(26),
                subcall(26),
            ],
        );
        let mut counter = TraceCounter::new();
        counter.feed(&file).unwrap();
        let guest = counter.domain(4);
        assert_eq!(guest.hypercalls, 4);
        assert_eq!(guest.continuations, 2);
        assert_eq!(guest.multicall_continuations, 2);
        assert_eq!(guest.guest_hypercalls(), 2);
        assert_eq!((guest.multicalls, guest.multicall_entries), (2, 6));
    }

    #[test]
    fn any_split_of_the_file_gives_the_same_counts() {
        let file = sample();
        let mut whole = TraceCounter::new();
        whole.feed(&file).unwrap();
        for chunk in [1, 3, 7, 13] {
            let mut pieces = TraceCounter::new();
            for piece in file.chunks(chunk) {
                pieces.feed(piece).unwrap();
            }
            pieces.finish().unwrap();
            assert_eq!(pieces.domain(5), whole.domain(5), "chunks of {chunk}");
            assert_eq!(pieces.records, whole.records);
        }
    }

    #[test]
    fn lost_records_are_counted_and_name_the_running_domain() {
        // struct { u32 lost; u16 did, vid; u64 first_tsc } as 4 words.
        let lost = encode_record(TRC_LOST_RECORDS, Some(9), &[42, 7 | (1 << 16), 0, 0]);
        let file = cpu_window(1, &[lost, hypercall(HYPERVISOR_IRET, &[])]);
        let mut counter = TraceCounter::new();
        counter.feed(&file).unwrap();
        assert_eq!(counter.lost_records, 42);
        assert_eq!(counter.domain(7).hypercalls, 1);
    }

    #[test]
    fn broken_files_are_reported() {
        let mut counter = TraceCounter::new();
        let file = sample();
        counter.feed(&file[..file.len() - 2]).unwrap();
        assert!(matches!(
            counter.finish(),
            Err(TraceError::Truncated { .. })
        ));
        let mut counter = TraceCounter::new();
        let bad = encode_record(TRC_TRACE_CPU_CHANGE, None, &[1]);
        assert_eq!(
            counter.feed(&bad),
            Err(TraceError::BadCpuChange { offset: 0 })
        );
        assert_eq!(
            format!("{}", TraceError::Truncated { offset: 12 }),
            "the trace ends inside the record at byte 12"
        );
    }

    #[test]
    fn the_event_mask_admits_what_is_counted() {
        // Xen's filter (`__trace_var`): event & mask, then class, then
        // subclass must intersect.
        let admitted = |event: u32| {
            (EVENT_MASK & event) != 0
                && ((EVENT_MASK >> 16) & (event >> 16)) != 0
                && (((EVENT_MASK >> 12) & 0xf) & ((event >> 12) & 0xf)) != 0
        };
        assert!(admitted(TRC_PV_HYPERCALL_V2));
        assert!(admitted(TRC_SCHED_SWITCH));
        assert!(admitted(TRC_PV_HYPERCALL_SUBCALL));
        assert!(!admitted(0x0020_4001)); // PV subclass 4
        assert!(!admitted(0x0008_1001)); // HVM
    }
}
