//! Xen's three clocks as arithmetic: real, wall-clock and virtual time.
//!
//! * **Real time** ("system time"): nanoseconds since Xen booted. Xen
//!   publishes a `vcpu_time_info` record per VCPU (`xen.h`, "struct
//!   vcpu_time_info"): the system time at one TSC reading plus the scale
//!   from TSC ticks to nanoseconds, so the guest extrapolates with `rdtsc`
//!   and no hypercall.
//! * **Wall-clock time**: `shared_info.wc_sec/wc_nsec` is the wall time at
//!   system time zero; add the current system time.
//! * **Virtual time**: nanoseconds this VCPU actually ran, from the runstate
//!   area (`vcpu.h`, "struct vcpu_runstate_info"): time spent `running`
//!   plus, if running now, the time since it entered that state.
//!
//! The kernel takes consistent snapshots (version counters) and feeds them
//! to these pure functions.

/// A copy of `vcpu_time_info` taken while its version was even and stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRecord {
    pub tsc_timestamp: u64,
    pub system_time_ns: u64,
    pub tsc_to_system_mul: u32,
    pub tsc_shift: i8,
}

/// Converts a TSC delta to nanoseconds the way `xen.h` specifies:
/// `ns = ((delta << tsc_shift) * tsc_to_system_mul) >> 32`, where a negative
/// shift means a right shift.
pub fn scale_tsc_delta(delta: u64, mul: u32, shift: i8) -> u64 {
    let shifted = if shift >= 0 {
        delta << (shift as u32).min(63)
    } else {
        delta >> ((-(shift as i32)) as u32).min(63)
    };
    // 64x32 -> 96-bit product; keep bits 32..96 (fits u64 for sane deltas).
    ((shifted as u128 * mul as u128) >> 32) as u64
}

impl TimeRecord {
    /// System time at TSC value `tsc`. The difference is taken modulo 2^64:
    /// a domain's (virtual) TSC may start just below zero, so a record's
    /// `tsc_timestamp` can be a huge unsigned number while the TSC has
    /// already wrapped past it. A reading from before the record (a
    /// "negative" difference) counts as no time elapsed.
    pub fn system_time_at(&self, tsc: u64) -> u64 {
        let delta = tsc.wrapping_sub(self.tsc_timestamp);
        let delta = if (delta as i64) < 0 { 0 } else { delta };
        self.system_time_ns.wrapping_add(scale_tsc_delta(
            delta,
            self.tsc_to_system_mul,
            self.tsc_shift,
        ))
    }
}

/// Nanoseconds per second.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// Wall-clock time as seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct WallTime {
    pub secs: u64,
    pub nanos: u32,
}

impl WallTime {
    /// Wall time at system time `system_ns`, given the boot-time wall clock
    /// Xen published in `shared_info` (`wc_sec_hi:wc_sec`, `wc_nsec`).
    pub fn from_boot_wallclock(wc_secs: u64, wc_nsec: u32, system_ns: u64) -> WallTime {
        let total_nanos = wc_nsec as u64 + system_ns % NS_PER_SEC;
        WallTime {
            secs: wc_secs + system_ns / NS_PER_SEC + total_nanos / NS_PER_SEC,
            nanos: (total_nanos % NS_PER_SEC) as u32,
        }
    }

    /// As [`Self::from_boot_wallclock`], with the boot wall clock as a value.
    pub fn from_boot_wallclock_parts(boot: WallTime, system_ns: u64) -> WallTime {
        Self::from_boot_wallclock(boot.secs, boot.nanos, system_ns)
    }

    /// Signed difference `self - other` in nanoseconds (saturating).
    pub fn nanos_since(&self, other: &WallTime) -> i128 {
        (self.secs as i128 - other.secs as i128) * NS_PER_SEC as i128
            + (self.nanos as i128 - other.nanos as i128)
    }
}

/// A copy of the runstate area (`struct vcpu_runstate_info`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunstateSnapshot {
    /// `RUNSTATE_running` (0), `runnable` (1), `blocked` (2), `offline` (3).
    pub state: u32,
    /// System time when `state` was entered (update flag bit cleared).
    pub state_entry_time: u64,
    /// Nanoseconds spent in each state, up to `state_entry_time`.
    pub time: [u64; 4],
}

/// Bit 63 of `state_entry_time` while Xen is updating the area
/// (`XEN_RUNSTATE_UPDATE` in `vcpu.h`).
pub const RUNSTATE_UPDATE_FLAG: u64 = 1 << 63;

impl RunstateSnapshot {
    /// Nanoseconds this VCPU has spent running, as of system time `now_ns`.
    pub fn running_ns(&self, now_ns: u64) -> u64 {
        let mut running = self.time[0];
        if self.state == 0 {
            running += now_ns.saturating_sub(self.state_entry_time);
        }
        running
    }

    /// Nanoseconds the VCPU wanted to run but Xen ran someone else.
    pub fn stolen_ns(&self, now_ns: u64) -> u64 {
        let mut stolen = self.time[1] + self.time[3];
        if self.state == 1 || self.state == 3 {
            stolen += now_ns.saturating_sub(self.state_entry_time);
        }
        stolen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_matches_the_header_formula() {
        // mul = 2^31 means 0.5 ns per shifted tick.
        assert_eq!(scale_tsc_delta(1000, 1 << 31, 0), 500);
        assert_eq!(scale_tsc_delta(1000, 1 << 31, 1), 1000);
        assert_eq!(scale_tsc_delta(1000, 1 << 31, -1), 250);
        // A 3 GHz TSC: mul = 2^32 / 3 with shift 0 gives ns = ticks / 3.
        let mul = ((1u64 << 32) / 3) as u32;
        let ns = scale_tsc_delta(3_000_000_000, mul, 0);
        assert!((999_999_999..=1_000_000_000).contains(&ns), "{ns}");
    }

    #[test]
    fn scale_does_not_overflow_on_large_deltas() {
        // An hour of 4 GHz ticks with the largest multiplier and shift 1.
        let ns = scale_tsc_delta(4_000_000_000 * 3600, u32::MAX, 1);
        assert!(ns > 0);
    }

    #[test]
    fn tsc_before_record_counts_as_zero() {
        let record = TimeRecord {
            tsc_timestamp: 1000,
            system_time_ns: 5000,
            tsc_to_system_mul: 1 << 31,
            tsc_shift: 1,
        };
        assert_eq!(record.system_time_at(900), 5000);
        assert_eq!(record.system_time_at(1100), 5100);
    }

    #[test]
    fn tsc_difference_wraps_around_zero() {
        // Seen on Xen 4.17 with an emulated domU TSC: the record was taken
        // at "-658743203", the TSC now reads 1242095339.
        let record = TimeRecord {
            tsc_timestamp: 0u64.wrapping_sub(658_743_203),
            system_time_ns: 15_639_809_974,
            tsc_to_system_mul: 1 << 31,
            tsc_shift: 1,
        };
        assert_eq!(
            record.system_time_at(1_242_095_339),
            15_639_809_974 + 658_743_203 + 1_242_095_339
        );
        assert_eq!(
            record.system_time_at(0u64.wrapping_sub(658_743_204)),
            15_639_809_974
        );
    }

    #[test]
    fn wallclock_carries_nanoseconds() {
        let wall = WallTime::from_boot_wallclock(100, 900_000_000, 1_200_000_000);
        assert_eq!(
            wall,
            WallTime {
                secs: 102,
                nanos: 100_000_000
            }
        );
        let earlier = WallTime {
            secs: 101,
            nanos: 600_000_000,
        };
        assert_eq!(wall.nanos_since(&earlier), 500_000_000);
        assert_eq!(earlier.nanos_since(&wall), -500_000_000);
    }

    #[test]
    fn running_time_includes_current_stint_only_when_running() {
        let mut snapshot = RunstateSnapshot {
            state: 0,
            state_entry_time: 1_000,
            time: [500, 20, 300, 0],
        };
        assert_eq!(snapshot.running_ns(1_400), 900);
        snapshot.state = 2;
        assert_eq!(snapshot.running_ns(1_400), 500);
        snapshot.state = 1;
        assert_eq!(snapshot.stolen_ns(1_100), 120);
    }
}
