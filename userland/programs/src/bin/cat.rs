//! `cat [file...]`: copies files (or standard input, for none or `-`) to
//! standard output, like coreutils `cat` without options.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use userland_core::strerror;
use userland_core::Errno;
use userland_rt::{eprintln, program_name, sys, Args, Env, Fd, File};

userland_rt::entry!(main);

/// Why copying one input stopped.
enum CopyError {
    Read(Errno),
    Write(Errno),
}

fn copy(from: Fd, buffer: &mut [u8]) -> Result<(), CopyError> {
    loop {
        match sys::read(from, buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => sys::write_all(Fd::STDOUT, &buffer[..count]).map_err(CopyError::Write)?,
            Err(Errno::EINTR) => {}
            Err(error) => return Err(CopyError::Read(error)),
        }
    }
}

fn main(args: Args, _env: Env) -> i32 {
    let mut buffer = alloc::vec![0u8; 64 * 1024];
    let operands: alloc::vec::Vec<&[u8]> = args.iter().skip(1).collect();
    let inputs: &[&[u8]] = if operands.is_empty() {
        &[b"-"]
    } else {
        &operands
    };
    let mut status = 0;
    for &input in inputs {
        let name = alloc::string::String::from_utf8_lossy(input);
        let result = if input == b"-" {
            copy(Fd::STDIN, &mut buffer)
        } else {
            match File::open(input) {
                Ok(file) => copy(file.fd(), &mut buffer),
                Err(error) => Err(CopyError::Read(error)),
            }
        };
        match result {
            Ok(()) => {}
            Err(CopyError::Read(error)) => {
                eprintln!("{}: {name}: {}", program_name(), strerror(error));
                status = 1;
            }
            Err(CopyError::Write(error)) => {
                eprintln!("{}: write error: {}", program_name(), strerror(error));
                return 1;
            }
        }
    }
    status
}
