//! `free [-b|-k|-m|-g]`: total, used and free memory from `/proc/meminfo`,
//! in procps `free`'s layout (used = MemTotal - MemFree).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use userland_core::cli::parse_free;
use userland_core::procfs::parse_meminfo;
use userland_core::strerror;
use userland_rt::{eprintln, println, program_name, read_file_string, Args, Env};

userland_rt::entry!(main);

fn main(args: Args, _env: Env) -> i32 {
    let unit = match args.operands().map(parse_free) {
        Ok(Ok(unit)) => unit,
        Ok(Err(error)) => {
            eprintln!("{}: {error}", program_name());
            return 1;
        }
        Err(_) => {
            eprintln!("{}: arguments must be UTF-8", program_name());
            return 1;
        }
    };
    let text = match read_file_string("/proc/meminfo") {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: /proc/meminfo: {}", program_name(), strerror(error));
            return 1;
        }
    };
    let info = match parse_meminfo(&text) {
        Ok(info) => info,
        Err(error) => {
            eprintln!("{}: {error}", program_name());
            return 1;
        }
    };
    let used = info.total_kib.saturating_sub(info.free_kib);
    match info.available_kib {
        Some(available) => {
            println!(
                "{:<7}{:>13}{:>12}{:>12}{:>12}",
                "", "total", "used", "free", "available"
            );
            println!(
                "{:<7}{:>13}{:>12}{:>12}{:>12}",
                "Mem:",
                unit.convert(info.total_kib),
                unit.convert(used),
                unit.convert(info.free_kib),
                unit.convert(available)
            );
        }
        None => {
            println!("{:<7}{:>13}{:>12}{:>12}", "", "total", "used", "free");
            println!(
                "{:<7}{:>13}{:>12}{:>12}",
                "Mem:",
                unit.convert(info.total_kib),
                unit.convert(used),
                unit.convert(info.free_kib)
            );
        }
    }
    0
}
