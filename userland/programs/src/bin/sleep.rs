//! `sleep NUMBER[smhd]...`: waits for the sum of its operands (fractions
//! allowed), like coreutils `sleep`.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use userland_core::cli::parse_sleep;
use userland_core::strerror;
use userland_rt::{eprintln, program_name, sys, Args, Env};

userland_rt::entry!(main);

fn main(args: Args, _env: Env) -> i32 {
    let Ok(operands) = args.operands() else {
        eprintln!("{}: invalid time interval", program_name());
        return 1;
    };
    let ns = match parse_sleep(operands) {
        Ok(ns) => ns,
        Err(error) => {
            eprintln!("{}: {error}", program_name());
            return 1;
        }
    };
    match sys::sleep_ns(ns) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("{}: cannot sleep: {}", program_name(), strerror(error));
            1
        }
    }
}
