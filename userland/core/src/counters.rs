//! The kernel's entries-into-Xen counters (`/proc/xenrs/counters`):
//! parsed, subtracted, and turned into per-operation figures.
//!
//! The file is text, one `name value` line per counter (decimal `u64`),
//! for example `hypercalls 1234` (the format `kernel/src/counters.rs`
//! renders). [`Counters::parse`] accepts any names in any order, so a
//! kernel that adds a counter does not break the benchmark; the getters
//! say which name is missing. A [`Decimal`] prints a ratio with two
//! decimals without floating point, so the lines are the same on every
//! machine for the same counts.
//!
//! `xenrs-bench` reads the file before and after each timed loop; the
//! difference minus [`Counters::minus`] the cost of one empty read pair
//! is what the loop cost (see `userland/programs/src/bin/xenrs-bench.rs`).
//! On Linux the file does not exist and the lines carry no counter keys.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Where the kernel publishes its counters.
pub const COUNTERS_PATH: &str = "/proc/xenrs/counters";

/// Every hypercall the kernel made (a multicall counts once,
/// `HYPERVISOR_iret` included).
pub const HYPERCALLS: &str = "hypercalls";
/// `mmu_update`, `mmuext_op` and multicalls of them made by the MMU batch.
pub const MMU_HYPERCALLS: &str = "mmu_hypercalls";
/// Page-table entries written through `mmu_update`.
pub const PTE_UPDATES: &str = "pte_updates";
/// Hypercalls + syscalls + exceptions Xen bounced to us: every entry
/// into Xen made on our behalf.
pub const XEN_ENTRIES: &str = "xen_entries";
/// Page faults from user mode.
pub const PAGE_FAULTS: &str = "page_faults";
/// `syscall` instructions from user mode.
pub const SYSCALLS: &str = "syscalls";

/// What is wrong with the counters file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CountersError {
    /// Line `line` (1-based) is not `name value`.
    Malformed { line: usize, text: String },
    /// The value on line `line` is not a decimal `u64`.
    BadValue { line: usize, name: String },
    /// `name` appears twice.
    Duplicate(String),
}

impl fmt::Display for CountersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountersError::Malformed { line, text } => {
                write!(f, "line {line} {text:?} is not `name value`")
            }
            CountersError::BadValue { line, name } => {
                write!(f, "line {line}: {name}'s value is not a decimal u64")
            }
            CountersError::Duplicate(name) => write!(f, "counter {name:?} appears twice"),
        }
    }
}

impl core::error::Error for CountersError {}

/// One reading of the counters, in the file's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    entries: Vec<(String, u64)>,
}

impl Counters {
    /// Parses `name value` lines; blank lines are skipped.
    pub fn parse(text: &str) -> Result<Counters, CountersError> {
        let mut counters = Counters::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let mut words = line.split_whitespace();
            let (Some(name), value, None) = (words.next(), words.next(), words.next()) else {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(CountersError::Malformed {
                    line: line_number,
                    text: line.to_string(),
                });
            };
            let value = value
                .filter(|value| value.bytes().all(|byte| byte.is_ascii_digit()))
                .and_then(|value| value.parse::<u64>().ok())
                .ok_or_else(|| CountersError::BadValue {
                    line: line_number,
                    name: name.to_string(),
                })?;
            if counters.get(name).is_some() {
                return Err(CountersError::Duplicate(name.to_string()));
            }
            counters.entries.push((name.to_string(), value));
        }
        Ok(counters)
    }

    /// The value of `name`, if the file had it.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.entries
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| *value)
    }

    /// The value of `name`, 0 if absent.
    pub fn value(&self, name: &str) -> u64 {
        self.get(name).unwrap_or(0)
    }

    /// Every counter, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries
            .iter()
            .map(|(name, value)| (name.as_str(), *value))
    }

    /// `self - earlier` for every counter of `self` (a counter `earlier`
    /// lacks counts from 0; one that went backwards gives 0).
    pub fn since(&self, earlier: &Counters) -> Counters {
        self.minus(earlier)
    }

    /// `self - other`, per counter, saturating at 0: removes a measured
    /// overhead (the cost of the counter reads themselves) from a delta.
    pub fn minus(&self, other: &Counters) -> Counters {
        Counters {
            entries: self
                .entries
                .iter()
                .map(|(name, value)| (name.clone(), value.saturating_sub(other.value(name))))
                .collect(),
        }
    }

    /// `self + other`, per counter of `self` (for summing deltas).
    pub fn plus(&self, other: &Counters) -> Counters {
        if self.entries.is_empty() {
            return other.clone();
        }
        Counters {
            entries: self
                .entries
                .iter()
                .map(|(name, value)| (name.clone(), value.saturating_add(other.value(name))))
                .collect(),
        }
    }

    /// `self * factor`, per counter (the overhead of `factor` read pairs).
    pub fn times(&self, factor: u64) -> Counters {
        Counters {
            entries: self
                .entries
                .iter()
                .map(|(name, value)| (name.clone(), value.saturating_mul(factor)))
                .collect(),
        }
    }

    /// The smaller value of each counter of `self` and `other` (the
    /// cheapest of several overhead measurements).
    pub fn min(&self, other: &Counters) -> Counters {
        Counters {
            entries: self
                .entries
                .iter()
                .map(|(name, value)| {
                    let smaller = other.get(name).map_or(*value, |theirs| theirs.min(*value));
                    (name.clone(), smaller)
                })
                .collect(),
        }
    }
}

/// `bench <name> counter=value ...` with every counter of `counters`
/// (the run's totals, printed at its start and end).
pub fn totals_line(name: &str, counters: &Counters) -> String {
    let mut line = alloc::format!("bench {name}");
    for (counter, value) in counters.iter() {
        line.push_str(&alloc::format!(" {counter}={value}"));
    }
    line
}

/// A non-negative ratio printed with two decimals (`12.34`), rounded to
/// the nearest hundredth; integer arithmetic only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal {
    hundredths: u64,
}

impl Decimal {
    /// `numerator / denominator`, `None` when the denominator is 0.
    pub fn ratio(numerator: u64, denominator: u64) -> Option<Decimal> {
        if denominator == 0 {
            return None;
        }
        let scaled = u128::from(numerator) * 100 + u128::from(denominator) / 2;
        let hundredths = scaled / u128::from(denominator);
        Some(Decimal {
            hundredths: u64::try_from(hundredths).unwrap_or(u64::MAX),
        })
    }

    /// The value in hundredths (`12.34` is 1234).
    pub fn hundredths(self) -> u64 {
        self.hundredths
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.hundredths / 100, self.hundredths % 100)
    }
}

/// The per-operation figures of one benchmark case, from the counters'
/// difference over its timed loop (overhead already removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerOperation {
    /// Hypercalls over the loop.
    pub hypercalls: u64,
    /// Entries into Xen over the loop.
    pub xen_entries: u64,
    /// `hypercalls / operations`.
    pub hypercalls_per_op: Option<Decimal>,
    /// `pte_updates / mmu_hypercalls`: how well page-table writes were
    /// batched (`None` when the loop made no MMU hypercall).
    pub pte_updates_per_hypercall: Option<Decimal>,
    /// `xen_entries / operations`.
    pub xen_entries_per_op: Option<Decimal>,
}

impl PerOperation {
    /// Figures for `operations` operations that cost `delta`.
    pub fn new(delta: &Counters, operations: u64) -> PerOperation {
        let hypercalls = delta.value(HYPERCALLS);
        let xen_entries = delta.value(XEN_ENTRIES);
        PerOperation {
            hypercalls,
            xen_entries,
            hypercalls_per_op: Decimal::ratio(hypercalls, operations),
            pte_updates_per_hypercall: Decimal::ratio(
                delta.value(PTE_UPDATES),
                delta.value(MMU_HYPERCALLS),
            ),
            xen_entries_per_op: Decimal::ratio(xen_entries, operations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    const SAMPLE: &str = "hypercalls 1000\nirets 400\nsyscalls 300\npage_faults 0\n\
                          xen_entries 1300\nmmu_hypercalls 10\npte_updates 5120\n";

    #[test]
    fn the_kernels_format_parses() {
        let counters = Counters::parse(SAMPLE).expect("parses");
        assert_eq!(counters.get(HYPERCALLS), Some(1000));
        assert_eq!(counters.get(PTE_UPDATES), Some(5120));
        assert_eq!(counters.get("upcalls"), None);
        assert_eq!(counters.value("upcalls"), 0);
        assert_eq!(counters.iter().count(), 7);
        assert_eq!(Counters::parse("\n  \n"), Ok(Counters::default()));
    }

    #[test]
    fn malformed_files_name_the_line() {
        assert_eq!(
            Counters::parse("hypercalls 1\nbroken\n"),
            Err(CountersError::BadValue {
                line: 2,
                name: "broken".into()
            })
        );
        assert!(matches!(
            Counters::parse("a 1 2"),
            Err(CountersError::Malformed { line: 1, .. })
        ));
        for bad in ["a -1", "a +1", "a 1.5", "a 99999999999999999999"] {
            assert!(
                matches!(Counters::parse(bad), Err(CountersError::BadValue { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            Counters::parse("a 1\na 2"),
            Err(CountersError::Duplicate("a".into()))
        );
        let error = Counters::parse("x").unwrap_err();
        assert_eq!(format!("{error}"), "line 1: x's value is not a decimal u64");
    }

    #[test]
    fn deltas_subtract_the_read_overhead() {
        let before = Counters::parse("hypercalls 100\nxen_entries 150\npte_updates 0").unwrap();
        let after = Counters::parse("hypercalls 190\nxen_entries 260\npte_updates 4096").unwrap();
        let overhead = Counters::parse("hypercalls 4\nxen_entries 7\npte_updates 0").unwrap();
        let delta = after.since(&before).minus(&overhead.times(2));
        assert_eq!(delta.value(HYPERCALLS), 82);
        assert_eq!(delta.value(XEN_ENTRIES), 96);
        assert_eq!(delta.value(PTE_UPDATES), 4096);
        // A counter that went backwards, or an overhead larger than the
        // delta, gives 0 rather than wrapping.
        assert_eq!(before.since(&after).value(HYPERCALLS), 0);
        // Summing deltas, and the cheaper of two overhead readings.
        let sum = Counters::default().plus(&delta).plus(&delta);
        assert_eq!(sum.value(HYPERCALLS), 164);
        let other = Counters::parse("hypercalls 3\nxen_entries 9").unwrap();
        let cheapest = overhead.min(&other);
        assert_eq!(
            (cheapest.value(HYPERCALLS), cheapest.value(XEN_ENTRIES)),
            (3, 7)
        );
    }

    #[test]
    fn totals_lines_list_every_counter() {
        let counters = Counters::parse("hypercalls 5\nsyscalls 2").unwrap();
        assert_eq!(
            totals_line("counters-end", &counters),
            "bench counters-end hypercalls=5 syscalls=2"
        );
    }

    #[test]
    fn decimals_round_to_hundredths() {
        assert_eq!(Decimal::ratio(1, 0), None);
        assert_eq!(format!("{}", Decimal::ratio(1, 3).unwrap()), "0.33");
        assert_eq!(format!("{}", Decimal::ratio(2, 3).unwrap()), "0.67");
        assert_eq!(format!("{}", Decimal::ratio(1024, 1).unwrap()), "1024.00");
        assert_eq!(format!("{}", Decimal::ratio(0, 5).unwrap()), "0.00");
        assert_eq!(Decimal::ratio(11, 10).unwrap().hundredths(), 110);
        let huge = Decimal::ratio(u64::MAX, 1).unwrap();
        assert_eq!(huge.hundredths(), u64::MAX);
    }

    #[test]
    fn per_operation_figures() {
        let delta =
            Counters::parse("hypercalls 60\nxen_entries 200\nmmu_hypercalls 4\npte_updates 2048")
                .unwrap();
        let figures = PerOperation::new(&delta, 20);
        assert_eq!(figures.hypercalls, 60);
        assert_eq!(figures.hypercalls_per_op, Decimal::ratio(3, 1));
        assert_eq!(figures.xen_entries_per_op, Decimal::ratio(10, 1));
        assert_eq!(figures.pte_updates_per_hypercall, Decimal::ratio(512, 1));
        let idle = PerOperation::new(&Counters::default(), 0);
        assert_eq!(idle.hypercalls_per_op, None);
        assert_eq!(idle.pte_updates_per_hypercall, None);
    }
}
