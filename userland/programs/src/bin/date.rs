//! `date [-u] [+FORMAT]`: the current UTC time from `CLOCK_REALTIME`.
//!
//! Prints `YYYY-MM-DD HH:MM:SS UTC` by default; `+FORMAT` takes the
//! `strftime` subset of `userland_core::time::strftime`. There are no time
//! zones here, so `-u` changes nothing.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use userland_core::cli::parse_date;
use userland_core::strerror;
use userland_core::time::{strftime, DateTime};
use userland_rt::{eprintln, println, program_name, sys, Args, Env};

userland_rt::entry!(main);

fn main(args: Args, _env: Env) -> i32 {
    let format = match args.operands().map(parse_date) {
        Ok(Ok(format)) => format,
        Ok(Err(error)) => {
            eprintln!("{}: {error}", program_name());
            return 1;
        }
        Err(_) => {
            eprintln!("{}: arguments must be UTF-8", program_name());
            return 1;
        }
    };
    let now = match sys::clock_gettime(sys::Clock::Realtime) {
        Ok(now) => now,
        Err(error) => {
            eprintln!(
                "{}: cannot read the clock: {}",
                program_name(),
                strerror(error)
            );
            return 1;
        }
    };
    let time = DateTime::from_unix(now.tv_sec, now.tv_nsec as u32);
    match format {
        None => println!("{time}"),
        Some(format) => {
            let mut text = String::new();
            if let Err(error) = strftime(&format, &time, &mut text) {
                eprintln!("{}: {error}", program_name());
                return 1;
            }
            println!("{text}");
        }
    }
    0
}
