//! System calls that report time and resources, and `alarm`.

use super::*;

const NS_PER_TICK: u64 = 10_000_000; // USER_HZ = 100

fn timeval(ns: u64) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    bytes[8..].copy_from_slice(&(ns % 1_000_000_000 / 1000).to_le_bytes());
    bytes
}

fn wall_ns() -> u64 {
    let wall = crate::time::wallclock();
    wall.secs * 1_000_000_000 + wall.nanos as u64
}

/// gettimeofday(tv, tz): the wall clock; the time zone is UTC.
pub(super) fn gettimeofday(tv: u64, tz: u64) -> Result<u64, i64> {
    if tv != 0 {
        copy_to_user(tv, &timeval(wall_ns()))?;
    }
    if tz != 0 {
        copy_to_user(tz, &[0u8; 8])?;
    }
    Ok(0)
}

/// getrusage(who, usage): CPU time (virtual time: what the process
/// really ran); the rest of `struct rusage` is zero.
pub(super) fn getrusage(who: i32, address: u64) -> Result<u64, i64> {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    let cpu = match who {
        RUSAGE_SELF | 1 => current_cpu_ns(),
        RUSAGE_CHILDREN => with_current(|p| p.children_cpu_ns),
        _ => return Err(EINVAL),
    };
    let mut usage = [0u8; 144];
    usage[..16].copy_from_slice(&timeval(cpu));
    copy_to_user(address, &usage).map(|()| 0)
}

/// times(buf): CPU times in clock ticks; returns ticks since boot.
pub(super) fn times(address: u64) -> Result<u64, i64> {
    if address != 0 {
        let (own, children) = (current_cpu_ns(), with_current(|p| p.children_cpu_ns));
        let mut tms = [0u8; 32];
        tms[..8].copy_from_slice(&(own / NS_PER_TICK).to_le_bytes());
        tms[16..24].copy_from_slice(&(children / NS_PER_TICK).to_le_bytes());
        copy_to_user(address, &tms)?;
    }
    Ok(crate::time::system_time_ns() / NS_PER_TICK)
}

/// sysinfo(info): uptime, memory in pages (`mem_unit` 4096), processes.
pub(super) fn sysinfo(address: u64) -> Result<u64, i64> {
    let mut info = [0u8; 112];
    let put = |info: &mut [u8; 112], offset: usize, value: u64| {
        info[offset..offset + 8].copy_from_slice(&value.to_le_bytes())
    };
    put(&mut info, 0, crate::time::system_time_ns() / 1_000_000_000);
    put(&mut info, 32, crate::mm::balloon::current_pages());
    put(&mut info, 40, crate::mm::frames::free_count());
    let processes = PROCESSES.lock().len() as u16;
    info[80..82].copy_from_slice(&processes.to_le_bytes());
    info[104..108].copy_from_slice(&4096u32.to_le_bytes());
    copy_to_user(address, &info).map(|()| 0)
}

/// sched_getaffinity(pid, size, mask): one CPU.
pub(super) fn sched_getaffinity(pid: i32, size: u64, address: u64) -> Result<u64, i64> {
    if size < 8 || size % 8 != 0 {
        return Err(EINVAL);
    }
    if pid != 0 && !PROCESSES.lock().contains_key(&(pid as u32)) {
        return Err(ESRCH);
    }
    copy_to_user(address, &1u64.to_le_bytes()).map(|()| 8)
}

/// alarm(seconds): SIGALRM after `seconds` (0 cancels); returns the
/// seconds that were left on the previous alarm.
pub(super) fn alarm(seconds: u64) -> u64 {
    let now = crate::time::system_time_ns();
    let deadline = (seconds != 0).then(|| now + seconds.min(1 << 32) * 1_000_000_000);
    let previous = with_current(|p| core::mem::replace(&mut p.alarm_at, deadline));
    if let Some(deadline) = deadline {
        // Only a wake-up: `fire_alarms` finds what is due.
        let _ = crate::time::add_timer(deadline, crate::time::TimerAction::Wake);
    }
    previous.map_or(0, |at| at.saturating_sub(now).div_ceil(1_000_000_000))
}

/// Posts SIGALRM to every process whose alarm is due.
pub(super) fn fire_alarms() {
    let now = crate::time::system_time_ns();
    let due: Vec<u32> = PROCESSES
        .lock()
        .values_mut()
        .filter(|p| p.alarm_at.is_some_and(|at| at <= now))
        .map(|p| {
            p.alarm_at = None;
            p.pid
        })
        .collect();
    for pid in due {
        let _ = post(pid, linux_abi::signal::Signal::SIGALRM.number());
    }
}
