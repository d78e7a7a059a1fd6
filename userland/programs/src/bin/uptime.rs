//! `uptime [-p|-s]`: how long the system has run, from `/proc/uptime`.
//!
//! Default output follows procps (` 10:20:30 up  1:05,  load average: ...`,
//! without the user count: there are no logins here); the load averages
//! appear when `/proc/loadavg` exists. `-p` prints `up 1 hour, 5 minutes`,
//! `-s` the boot time.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use userland_core::cli::{parse_uptime, UptimeStyle};
use userland_core::procfs::{parse_loadavg, parse_uptime as parse_proc_uptime};
use userland_core::time::{DateTime, PrettyUptime, UptimeSpan, NANOS_PER_SECOND};
use userland_rt::{eprintln, println, program_name, read_file_string, sys, Args, Env};

userland_rt::entry!(main);

fn main(args: Args, _env: Env) -> i32 {
    let style = match args.operands().map(parse_uptime) {
        Ok(Ok(style)) => style,
        Ok(Err(error)) => {
            eprintln!("{}: {error}", program_name());
            return 1;
        }
        Err(_) => {
            eprintln!("{}: arguments must be UTF-8", program_name());
            return 1;
        }
    };
    let uptime_ns = match read_file_string("/proc/uptime")
        .map_err(errno_text)
        .and_then(|text| parse_proc_uptime(&text).map_err(|_| "malformed"))
    {
        Ok(ns) => ns,
        Err(reason) => {
            eprintln!("{}: /proc/uptime: {reason}", program_name());
            return 1;
        }
    };
    let uptime_seconds = uptime_ns / NANOS_PER_SECOND;
    let now = sys::clock_gettime(sys::Clock::Realtime).unwrap_or_default();
    match style {
        UptimeStyle::Pretty => println!("{}", PrettyUptime(uptime_seconds)),
        UptimeStyle::Since => {
            let boot = DateTime::from_unix(now.tv_sec - uptime_seconds as i64, 0);
            println!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                boot.year, boot.month, boot.day, boot.hour, boot.minute, boot.second
            );
        }
        UptimeStyle::Default => {
            let time = DateTime::from_unix(now.tv_sec, 0);
            let mut line = format!(
                " {:02}:{:02}:{:02} up {}",
                time.hour,
                time.minute,
                time.second,
                UptimeSpan(uptime_seconds)
            );
            let loadavg = read_file_string("/proc/loadavg").ok();
            if let Some(Ok([one, five, fifteen])) = loadavg.as_deref().map(parse_loadavg) {
                line.push_str(&format!(",  load average: {one}, {five}, {fifteen}"));
            }
            println!("{line}");
        }
    }
    0
}

/// The text of an errno (the messages are static).
fn errno_text(error: userland_core::Errno) -> &'static str {
    error.description().unwrap_or("read error")
}
