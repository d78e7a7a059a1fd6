//! `kill [-s SIGNAL | -SIGNAL] [--] pid...` and `kill -l [signal]`.
//!
//! Sends a signal (TERM by default) to processes, or to a process group
//! for a negative pid (`kill -INT -- -42`), like procps `kill`.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use userland_core::cli::{parse_kill, KillRequest};
use userland_core::strerror;
use userland_core::Signal;
use userland_rt::{eprintln, println, program_name, sys, Args, Env};

userland_rt::entry!(main);

fn main(args: Args, _env: Env) -> i32 {
    let request = match args.operands().map(parse_kill) {
        Ok(Ok(request)) => request,
        Ok(Err(error)) => {
            eprintln!("{}: {error}", program_name());
            eprintln!("Usage: kill [-s SIGNAL | -SIGNAL] [--] pid... | kill -l [signal]");
            return 1;
        }
        Err(_) => {
            eprintln!("{}: arguments must be UTF-8", program_name());
            return 1;
        }
    };
    match request {
        KillRequest::List(None) => {
            let mut names = String::new();
            for signal in Signal::all() {
                if !names.is_empty() {
                    names.push(' ');
                }
                names.push_str(signal.name().unwrap_or("?"));
            }
            println!("{names}");
            0
        }
        KillRequest::List(Some(which)) => {
            // A number prints its name; a name prints its number.
            match (which.parse::<i32>(), Signal::parse(&which)) {
                (Ok(number), _) => match Signal(number & 0x7f).name() {
                    Some(name) => {
                        println!("{name}");
                        0
                    }
                    None => {
                        eprintln!("{}: unknown signal: {which}", program_name());
                        1
                    }
                },
                (Err(_), Some(signal)) => {
                    println!("{}", signal.0);
                    0
                }
                (Err(_), None) => {
                    eprintln!("{}: unknown signal: {which}", program_name());
                    1
                }
            }
        }
        KillRequest::Send { signal, pids } => {
            let mut status = 0;
            for pid in pids {
                if let Err(error) = sys::kill(pid, signal) {
                    eprintln!("{}: ({pid}) - {}", program_name(), strerror(error));
                    status = 1;
                }
            }
            status
        }
    }
}
