//! `ps`: every process, from `/proc/<pid>/stat`, in the layout of procps
//! `ps -eo pid,ppid,s,etime,time,comm`.
//!
//! ELAPSED is wall-clock time since the process started (`/proc/uptime`
//! minus field 22, starttime); TIME is the CPU time it used (fields 14 and
//! 15, utime + stime). Both `/proc` times are in clock ticks: `AT_CLKTCK`
//! from the auxiliary vector if the kernel passes it, else `USER_HZ` (100).
//! Options (`-e`, `-A`, `aux` ...) are accepted and ignored: every process
//! is always listed.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use linux_abi::auxv::AT_CLKTCK;
use userland_core::procfs::{
    is_pid_name, parse_process_stat, parse_uptime, PsRow, PS_HEADER, USER_HZ,
};
use userland_core::strerror;
use userland_rt::{eprintln, println, program_name, read_dir, read_file_string, Args, Env};

userland_rt::entry!(main);

fn main(_args: Args, env: Env) -> i32 {
    let hz = env.aux(AT_CLKTCK).filter(|&hz| hz > 0).unwrap_or(USER_HZ);
    let uptime_ns = match read_file_string("/proc/uptime") {
        Ok(text) => match parse_uptime(&text) {
            Ok(ns) => ns,
            Err(error) => {
                eprintln!("{}: {error}", program_name());
                return 1;
            }
        },
        Err(error) => {
            eprintln!("{}: /proc/uptime: {}", program_name(), strerror(error));
            return 1;
        }
    };
    let entries = match read_dir("/proc") {
        Ok(entries) => entries,
        Err(error) => {
            eprintln!("{}: /proc: {}", program_name(), strerror(error));
            return 1;
        }
    };
    let mut pids: Vec<u32> = entries
        .iter()
        .filter(|entry| is_pid_name(&entry.name))
        .filter_map(|entry| core::str::from_utf8(&entry.name).ok()?.parse().ok())
        .collect();
    pids.sort_unstable();
    println!("{PS_HEADER}");
    for pid in pids {
        // A process may exit between the listing and the read: skip it.
        let Ok(text) = read_file_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        match parse_process_stat(text.trim_end()) {
            Ok(stat) => println!(
                "{}",
                PsRow {
                    stat: &stat,
                    uptime_ns,
                    hz
                }
            ),
            Err(error) => eprintln!("{}: pid {pid}: {error}", program_name()),
        }
    }
    0
}
