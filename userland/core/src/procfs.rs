//! Parsers for the `/proc` files our tools read, in Linux's formats.
//!
//! - `/proc/<pid>/stat` (`proc(5)`, `fs/proc/array.c do_task_stat`): `pid
//!   (comm) state ppid ...`; `comm` may hold spaces and parentheses, so it
//!   ends at the *last* `)`. Fields 14/15 are user/system CPU time and 22
//!   the start time since boot, all in clock ticks (`USER_HZ`, 100).
//! - `/proc/meminfo`: `Name:   value kB` lines.
//! - `/proc/uptime`: seconds since boot and idle seconds, two decimals.
//! - `/proc/loadavg`: three load averages, then run-queue and last pid.
//!
//! What the kernel writes is checked like any input: a malformed file is an
//! error naming the file and the field, never a panic.

use core::fmt;

use crate::time::{parse_decimal_nanos, CpuTime, Elapsed, NANOS_PER_SECOND};

/// `USER_HZ`: the tick rate of `/proc` times on x86_64 Linux.
pub const USER_HZ: u64 = 100;

/// What is wrong with a `/proc` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcParseError {
    /// The file, e.g. `/proc/<pid>/stat`.
    pub file: &'static str,
    /// The field that is missing or malformed.
    pub field: &'static str,
}

impl fmt::Display for ProcParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: field {} is missing or malformed",
            self.file, self.field
        )
    }
}

impl core::error::Error for ProcParseError {}

/// The fields of `/proc/<pid>/stat` that `ps` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessStat<'a> {
    /// Field 1.
    pub pid: i32,
    /// Field 2, without the parentheses.
    pub comm: &'a str,
    /// Field 3: R, S, D, Z, T, I ...
    pub state: char,
    /// Field 4.
    pub ppid: i32,
    /// Field 14, in clock ticks.
    pub utime_ticks: u64,
    /// Field 15, in clock ticks.
    pub stime_ticks: u64,
    /// Field 22: when the process started, in ticks since boot.
    pub start_ticks: u64,
}

const STAT_FILE: &str = "/proc/<pid>/stat";

/// Parses one `/proc/<pid>/stat` line.
pub fn parse_process_stat(text: &str) -> Result<ProcessStat<'_>, ProcParseError> {
    let error = |field| ProcParseError {
        file: STAT_FILE,
        field,
    };
    let open = text.find(" (").ok_or(error("comm"))?;
    let close = text.rfind(')').ok_or(error("comm"))?;
    if close < open {
        return Err(error("comm"));
    }
    let pid = text[..open].trim().parse().map_err(|_| error("pid"))?;
    let comm = &text[open + 2..close];
    // Fields 3.. follow the comm; index 0 here is field 3.
    let mut rest = text[close + 1..].split_ascii_whitespace();
    let mut field = |number: usize| -> Option<&str> {
        // Each call consumes up to field `number`; called in order.
        rest.nth(number)
    };
    let state = field(0)
        .and_then(|state| state.chars().next())
        .ok_or(error("state"))?;
    let ppid = field(0)
        .and_then(|text| text.parse().ok())
        .ok_or(error("ppid"))?;
    // After field 4 (ppid), field 14 is 9 further on.
    let utime_ticks = field(9)
        .and_then(|text| text.parse().ok())
        .ok_or(error("utime"))?;
    let stime_ticks = field(0)
        .and_then(|text| text.parse().ok())
        .ok_or(error("stime"))?;
    // After field 15, field 22 is 6 further on.
    let start_ticks = field(6)
        .and_then(|text| text.parse().ok())
        .ok_or(error("starttime"))?;
    Ok(ProcessStat {
        pid,
        comm,
        state,
        ppid,
        utime_ticks,
        stime_ticks,
        start_ticks,
    })
}

/// The header of `ps`'s table (procps `ps -eo pid,ppid,s,etime,time,comm`).
pub const PS_HEADER: &str = "  PID  PPID S     ELAPSED     TIME COMMAND";

/// One row of `ps`'s table for `stat`, given the system uptime and the
/// tick rate (`hz`, normally [`USER_HZ`]).
pub struct PsRow<'a> {
    pub stat: &'a ProcessStat<'a>,
    pub uptime_ns: u64,
    pub hz: u64,
}

impl PsRow<'_> {
    /// Wall-clock seconds since the process started.
    pub fn elapsed_seconds(&self) -> u64 {
        let hz = self.hz.max(1);
        let started_ns = self.stat.start_ticks.saturating_mul(NANOS_PER_SECOND) / hz;
        self.uptime_ns.saturating_sub(started_ns) / NANOS_PER_SECOND
    }

    /// CPU seconds used (user + system), truncated like procps.
    pub fn cpu_seconds(&self) -> u64 {
        (self.stat.utime_ticks + self.stat.stime_ticks) / self.hz.max(1)
    }
}

impl fmt::Display for PsRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>5} {:>5} {} {:>11} {:>8} {}",
            self.stat.pid,
            self.stat.ppid,
            self.stat.state,
            Elapsed(self.elapsed_seconds()),
            CpuTime(self.cpu_seconds()),
            self.stat.comm
        )
    }
}

/// The `/proc/meminfo` fields `free` shows, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemInfo {
    pub total_kib: u64,
    pub free_kib: u64,
    /// `MemAvailable`, when the kernel reports it.
    pub available_kib: Option<u64>,
}

/// Parses `/proc/meminfo` (needs `MemTotal` and `MemFree`).
pub fn parse_meminfo(text: &str) -> Result<MemInfo, ProcParseError> {
    let value = |name: &str| -> Option<u64> {
        text.lines().find_map(|line| {
            let (key, rest) = line.split_once(':')?;
            if key.trim() != name {
                return None;
            }
            let mut words = rest.split_ascii_whitespace();
            let number = words.next()?.parse().ok()?;
            match words.next() {
                None | Some("kB") => Some(number),
                Some(_) => None,
            }
        })
    };
    let error = |field| ProcParseError {
        file: "/proc/meminfo",
        field,
    };
    Ok(MemInfo {
        total_kib: value("MemTotal").ok_or(error("MemTotal"))?,
        free_kib: value("MemFree").ok_or(error("MemFree"))?,
        available_kib: value("MemAvailable"),
    })
}

/// Parses `/proc/uptime` into nanoseconds since boot.
pub fn parse_uptime(text: &str) -> Result<u64, ProcParseError> {
    text.split_ascii_whitespace()
        .next()
        .and_then(parse_decimal_nanos)
        .ok_or(ProcParseError {
            file: "/proc/uptime",
            field: "uptime",
        })
}

/// The three load averages of `/proc/loadavg`, as printed there.
pub fn parse_loadavg(text: &str) -> Result<[&str; 3], ProcParseError> {
    let mut words = text.split_ascii_whitespace();
    let mut next = |field| {
        words
            .next()
            .filter(|word| parse_decimal_nanos(word).is_some())
            .ok_or(ProcParseError {
                file: "/proc/loadavg",
                field,
            })
    };
    Ok([next("1-minute")?, next("5-minute")?, next("15-minute")?])
}

/// Whether a `/proc` directory entry names a process (all digits).
pub fn is_pid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    const BASH_STAT: &str = "1234 (bash) S 1000 1234 1234 34816 1240 4194304 2000 \
        10000 0 0 57 13 40 10 20 0 1 0 360000 9000000 1000 \
        18446744073709551615 1 1 0 0 0 0 65536 3686404 1266761467 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_lines_parse_fields_by_number() {
        let stat = parse_process_stat(BASH_STAT).unwrap();
        assert_eq!(
            stat,
            ProcessStat {
                pid: 1234,
                comm: "bash",
                state: 'S',
                ppid: 1000,
                utime_ticks: 57,
                stime_ticks: 13,
                start_ticks: 360_000,
            }
        );
    }

    #[test]
    fn comm_with_spaces_and_parentheses_ends_at_the_last_paren() {
        let line = "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 0 0";
        let stat = parse_process_stat(line).unwrap();
        assert_eq!(stat.comm, "a) b (c)");
        assert_eq!((stat.state, stat.ppid), ('R', 1));
        assert_eq!(
            (stat.utime_ticks, stat.stime_ticks, stat.start_ticks),
            (3, 4, 99)
        );
    }

    #[test]
    fn malformed_stat_lines_name_the_field() {
        let field = |line| parse_process_stat(line).unwrap_err().field;
        assert_eq!(field("1 bash S"), "comm");
        assert_eq!(field("x (bash) S 1"), "pid");
        assert_eq!(field("1 (bash)"), "state");
        assert_eq!(field("1 (bash) S x"), "ppid");
        assert_eq!(field("1 (bash) S 0 1 1 0 -1 0 0 0 0 0 x 1"), "utime");
        assert_eq!(
            field("1 (bash) S 0 1 1 0 -1 0 0 0 0 0 1 1 0 0 0 0 1 0"),
            "starttime"
        );
    }

    #[test]
    fn ps_rows_compute_elapsed_and_cpu_time() {
        let stat = parse_process_stat(BASH_STAT).unwrap();
        // Started at 3600 s; now 3725.5 s since boot.
        let row = PsRow {
            stat: &stat,
            uptime_ns: 3_725_500_000_000,
            hz: USER_HZ,
        };
        assert_eq!(row.elapsed_seconds(), 125);
        assert_eq!(row.cpu_seconds(), 0);
        assert_eq!(format!("{row}"), " 1234  1000 S       02:05 00:00:00 bash");
        // The header's columns line up with the rows'.
        assert_eq!(PS_HEADER.find("PPID").unwrap() + 4, 11);
        let busy = ProcessStat {
            utime_ticks: 6100,
            stime_ticks: 100,
            ..stat
        };
        let row = PsRow {
            stat: &busy,
            uptime_ns: 0,
            hz: USER_HZ,
        };
        assert_eq!(row.cpu_seconds(), 62);
        assert_eq!(row.elapsed_seconds(), 0);
    }

    #[test]
    fn meminfo_uptime_and_loadavg_parse() {
        let meminfo = "MemTotal:       24683656 kB\nMemFree:        21348684 kB\n\
                       MemAvailable:   22587212 kB\nHugePages_Total:       0\n";
        assert_eq!(
            parse_meminfo(meminfo).unwrap(),
            MemInfo {
                total_kib: 24_683_656,
                free_kib: 21_348_684,
                available_kib: Some(22_587_212)
            }
        );
        assert_eq!(
            parse_meminfo("MemTotal: 10 kB\n").unwrap_err().field,
            "MemFree"
        );
        assert_eq!(
            parse_meminfo("MemTotal: 10 kB\nMemFree: 4 kB\n")
                .unwrap()
                .available_kib,
            None
        );
        assert_eq!(
            parse_uptime("3945.62 5690.70\n").unwrap(),
            3_945_620_000_000
        );
        assert!(parse_uptime("").is_err());
        assert_eq!(
            parse_loadavg("0.65 0.71 0.92 2/345 1234\n").unwrap(),
            ["0.65", "0.71", "0.92"]
        );
        assert!(parse_loadavg("0.65 x").is_err());
        assert!(is_pid_name(b"123"));
        assert!(!is_pid_name(b"self"));
        assert!(!is_pid_name(b""));
    }
}
