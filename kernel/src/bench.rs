//! Benchmarks (`bench` on the command line): figures, not pass/fail.
//!
//! Prints `bench <name> key=value ...` lines. The headline figures are
//! counts that do not depend on machine noise (hypercalls, PTE updates per
//! hypercall, from the MMU layer's counters), next to elapsed Xen system
//! time for both variants measured side by side in one run.

use alloc::vec::Vec;

use kernel_core::mmu_batch::MmuStats;
use xen_abi::Mfn;

use crate::kprintln;
use crate::mm::paging::{MapError, MMU};
use crate::mm::{frames, pfn_to_mfn, SCRATCH_BASE};
use crate::time;

/// Pages mapped and unmapped per run (64 MiB).
const PAGES: u64 = 16384;
/// Distinct frames behind them (each mapped PAGES / FRAMES times), so the
/// benchmark also runs in a small domain.
const MAX_DISTINCT_FRAMES: u64 = 4096;

pub fn run() {
    let available = frames::free_count().saturating_sub(512);
    let distinct = available.min(MAX_DISTINCT_FRAMES);
    if distinct == 0 {
        kprintln!("bench map-unmap skipped: no free frames");
        return;
    }
    let mut pfns = Vec::new();
    for _ in 0..distinct {
        match frames::allocate() {
            Ok(pfn) => pfns.push(pfn),
            Err(_) => break,
        }
    }
    let mfns: Vec<Mfn> = pfns
        .iter()
        .map(|&p| pfn_to_mfn(p).expect("populated"))
        .collect();
    let result = (|| -> Result<(), MapError> {
        // Warm-up: creates the window's page tables, which both variants
        // then share, so neither pays for them.
        map_unmap(&mfns, true)?;
        let (batched, batched_ns) = measure(|| map_unmap(&mfns, true))?;
        let (unbatched, unbatched_ns) = measure(|| map_unmap(&mfns, false))?;
        print("map-unmap-batched", &batched, batched_ns, mfns.len());
        print("map-unmap-unbatched", &unbatched, unbatched_ns, mfns.len());
        kprintln!(
            "bench map-unmap-ratio hypercalls_ratio={:.1} elapsed_ratio={:.1}",
            unbatched.hypercalls as f64 / batched.hypercalls.max(1) as f64,
            unbatched_ns as f64 / batched_ns.max(1) as f64
        );
        Ok(())
    })();
    if let Err(error) = result {
        kprintln!("bench map-unmap failed: {error}");
    }
    for pfn in pfns {
        let _ = frames::free(pfn);
    }
}

fn measure(run: impl FnOnce() -> Result<(), MapError>) -> Result<(MmuStats, u64), MapError> {
    let before = MMU.lock().stats();
    let start = time::system_time_ns();
    run()?;
    let elapsed = time::system_time_ns() - start;
    Ok((MMU.lock().stats().since(&before), elapsed))
}

/// Maps PAGES pages at the scratch window and unmaps them again, either
/// as two batched commits or committing after every single PTE.
fn map_unmap(mfns: &[Mfn], batched: bool) -> Result<(), MapError> {
    let mut mmu = MMU.lock();
    for page in 0..PAGES {
        mmu.map(
            SCRATCH_BASE + page * 4096,
            mfns[(page % mfns.len() as u64) as usize],
            true,
        )?;
        if !batched {
            mmu.commit()?;
        }
    }
    mmu.commit()?;
    for page in 0..PAGES {
        mmu.unmap(SCRATCH_BASE + page * 4096)?;
        if !batched {
            mmu.commit()?;
        }
    }
    mmu.commit()
}

fn print(name: &str, stats: &MmuStats, elapsed_ns: u64, distinct: usize) {
    kprintln!(
        "bench {name} pages={PAGES} distinct_frames={distinct} hypercalls={} pte_updates={} \
         ptes_per_hypercall={} multicalls={} tlb_flushes={} elapsed_ns={elapsed_ns}",
        stats.hypercalls,
        stats.pte_updates,
        stats.pte_updates / stats.hypercalls.max(1),
        stats.multicalls,
        stats.tlb_flushes
    );
}
