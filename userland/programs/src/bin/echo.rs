//! `echo [-neE] [string...]`: coreutils `echo` (see `userland_core::echo`).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use userland_core::echo::echo;
use userland_core::strerror;
use userland_rt::{eprintln, program_name, sys, Args, Env, Fd};

userland_rt::entry!(main);

fn main(args: Args, _env: Env) -> i32 {
    let output = echo(args.iter().skip(1));
    match sys::write_all(Fd::STDOUT, &output) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("{}: write error: {}", program_name(), strerror(error));
            1
        }
    }
}
