//! Clocks and time structs: `timespec`, `timeval`, `timezone`, `tms`, clock ids.
//!
//! Layouts from `linux/time_types.h` (`__kernel_timespec`, identical to the
//! x86_64 `struct timespec`), `linux/time.h` and `linux/times.h`; clock ids
//! from `linux/time.h`. Used by `clock_gettime`, `nanosleep`,
//! `gettimeofday`, `times` and the `stat` time fields.

use crate::wire_struct;

pub const NSEC_PER_SEC: u64 = 1_000_000_000;

wire_struct! {
    /// `struct timespec`: seconds and nanoseconds.
    pub struct Timespec {
        pub tv_sec: i64,
        pub tv_nsec: i64,
    }
}

wire_struct! {
    /// `struct timeval`: seconds and microseconds.
    pub struct Timeval {
        pub tv_sec: i64,
        pub tv_usec: i64,
    }
}

wire_struct! {
    /// `struct timezone` for `gettimeofday` (obsolete; we report zeros).
    pub struct Timezone {
        pub tz_minuteswest: i32,
        pub tz_dsttime: i32,
    }
}

wire_struct! {
    /// `struct tms` for `times`, in clock ticks (`AT_CLKTCK` per second).
    pub struct Tms {
        pub tms_utime: i64,
        pub tms_stime: i64,
        pub tms_cutime: i64,
        pub tms_cstime: i64,
    }
}

/// Why a user-supplied `timespec` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTimespec;

impl Timespec {
    /// From nanoseconds since some epoch.
    pub const fn from_nanos(ns: u64) -> Timespec {
        Timespec {
            tv_sec: (ns / NSEC_PER_SEC) as i64,
            tv_nsec: (ns % NSEC_PER_SEC) as i64,
        }
    }

    /// Validates a user-supplied duration or absolute time (`nanosleep`:
    /// `EINVAL` unless `0 <= tv_nsec < 1e9` and `tv_sec >= 0`) and converts
    /// it to nanoseconds, saturating at `u64::MAX`.
    pub const fn to_nanos(self) -> Result<u64, InvalidTimespec> {
        if self.tv_sec < 0 || self.tv_nsec < 0 || self.tv_nsec >= NSEC_PER_SEC as i64 {
            return Err(InvalidTimespec);
        }
        Ok((self.tv_sec as u64)
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(self.tv_nsec as u64))
    }
}

impl Timeval {
    pub const fn from_nanos(ns: u64) -> Timeval {
        Timeval {
            tv_sec: (ns / NSEC_PER_SEC) as i64,
            tv_usec: ((ns % NSEC_PER_SEC) / 1000) as i64,
        }
    }
}

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
pub const CLOCK_REALTIME_COARSE: u32 = 5;
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
pub const CLOCK_BOOTTIME: u32 = 7;
pub const CLOCK_REALTIME_ALARM: u32 = 8;
pub const CLOCK_BOOTTIME_ALARM: u32 = 9;
pub const CLOCK_TAI: u32 = 11;

/// `clock_nanosleep` flag: the time is absolute.
pub const TIMER_ABSTIME: u32 = 1;

/// The clocks the kernel serves, grouped by the time source behind them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockId {
    /// Wall-clock time (`REALTIME`, `REALTIME_COARSE`, `TAI`: no leap
    /// second table, so TAI equals UTC here).
    Realtime,
    /// Time since boot (`MONOTONIC`, `MONOTONIC_RAW`, `MONOTONIC_COARSE`,
    /// `BOOTTIME`: the guest never suspends, so they coincide).
    Monotonic,
    /// CPU time of the calling process.
    ProcessCpu,
    /// CPU time of the calling thread.
    ThreadCpu,
}

impl ClockId {
    /// Decodes a `clockid_t`; `None` means `EINVAL` (including the alarm
    /// clocks and the dynamic, negative, per-process clock ids).
    pub const fn from_raw(id: u32) -> Option<ClockId> {
        match id {
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI => Some(ClockId::Realtime),
            CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
                Some(ClockId::Monotonic)
            }
            CLOCK_PROCESS_CPUTIME_ID => Some(ClockId::ProcessCpu),
            CLOCK_THREAD_CPUTIME_ID => Some(ClockId::ThreadCpu),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_validation() {
        assert_eq!(
            Timespec {
                tv_sec: 1,
                tv_nsec: 5
            }
            .to_nanos(),
            Ok(1_000_000_005)
        );
        assert_eq!(
            Timespec {
                tv_sec: -1,
                tv_nsec: 0
            }
            .to_nanos(),
            Err(InvalidTimespec)
        );
        assert_eq!(
            Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000
            }
            .to_nanos(),
            Err(InvalidTimespec)
        );
        assert_eq!(
            Timespec {
                tv_sec: 0,
                tv_nsec: -1
            }
            .to_nanos(),
            Err(InvalidTimespec)
        );
        assert_eq!(
            Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0
            }
            .to_nanos(),
            Ok(u64::MAX)
        );
        assert_eq!(
            Timespec::from_nanos(2_500_000_000),
            Timespec {
                tv_sec: 2,
                tv_nsec: 500_000_000
            }
        );
        assert_eq!(
            Timeval::from_nanos(2_500_001_999),
            Timeval {
                tv_sec: 2,
                tv_usec: 500_001
            }
        );
    }

    #[test]
    fn clock_ids() {
        assert_eq!(ClockId::from_raw(CLOCK_MONOTONIC), Some(ClockId::Monotonic));
        assert_eq!(ClockId::from_raw(CLOCK_BOOTTIME), Some(ClockId::Monotonic));
        assert_eq!(
            ClockId::from_raw(CLOCK_REALTIME_COARSE),
            Some(ClockId::Realtime)
        );
        assert_eq!(ClockId::from_raw(CLOCK_REALTIME_ALARM), None);
        assert_eq!(ClockId::from_raw(10), None);
        assert_eq!(ClockId::from_raw(u32::MAX), None);
    }

    #[test]
    fn layouts() {
        assert_eq!(core::mem::size_of::<Timespec>(), 16);
        assert_eq!(core::mem::size_of::<Timeval>(), 16);
        assert_eq!(core::mem::size_of::<Timezone>(), 8);
        assert_eq!(core::mem::size_of::<Tms>(), 32);
        let image = Timespec {
            tv_sec: 1,
            tv_nsec: 2,
        }
        .to_bytes();
        assert_eq!(image, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    }
}
