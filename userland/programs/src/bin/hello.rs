//! `hello`: the smallest useful static program, for exec benchmarks.
//!
//! Like lmbench's `hello`, it makes exactly one `write` and exits: the
//! cost of running it is the cost of `execve` and process teardown.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use userland_rt::{sys, Args, Env, Fd};

userland_rt::entry!(main);

fn main(_args: Args, _env: Env) -> i32 {
    // The benchmark closes stdout first, so this write may fail: fine.
    let _ = sys::write(Fd::STDOUT, b"Hello world\n");
    0
}
