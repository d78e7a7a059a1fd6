//! `xentrace-count FILE...`: counts the hypercalls in `xentrace` output
//! files per domain, one `xentrace-count domain=<id> ...` line each, plus
//! a summary line per file (`records=`, `lost_records=`,
//! `unattributed_hypercalls=`).
//!
//! Runs in the Linux dom0 of the benchmark harness (`image-builder
//! bench-userland`), where the trace is taken: Debian's `xentrace_format`
//! needs Python and a format file, and the trace can be hundreds of
//! megabytes, too much to send to the host over the console. The parsing
//! is `userland_core::xentrace`, tested on the host.
//!
//! Exit status 1 if a file cannot be read or does not parse.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use userland_core::strerror;
use userland_core::xentrace::TraceCounter;
use userland_rt::{eprintln, println, Args, Env, File};

userland_rt::entry!(main);

/// Counts one file.
fn count(path: &[u8]) -> Result<TraceCounter, String> {
    let mut file = File::open(path).map_err(|error| alloc::format!("{}", strerror(error)))?;
    let mut buffer = alloc::vec![0u8; 1 << 20];
    let mut counter = TraceCounter::new();
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => counter
                .feed(&buffer[..read])
                .map_err(|error| alloc::format!("{error}"))?,
            Err(error) => return Err(alloc::format!("{}", strerror(error))),
        }
    }
    counter
        .finish()
        .map_err(|error| alloc::format!("{error}"))?;
    Ok(counter)
}

fn main(args: Args, _env: Env) -> i32 {
    let mut status = 0;
    let paths: alloc::vec::Vec<&[u8]> = args.iter().skip(1).collect();
    if paths.is_empty() {
        eprintln!("Usage: xentrace-count FILE...");
        return 2;
    }
    for path in paths {
        let name = String::from_utf8_lossy(path);
        match count(path) {
            Ok(counter) => {
                for (domain, counts) in counter.domains() {
                    println!("{}", counts.line(domain));
                }
                println!("{}", counter.summary_line());
            }
            Err(error) => {
                eprintln!("xentrace-count: {name}: {error}");
                status = 1;
            }
        }
    }
    status
}
