//! Link arguments that make each program a freestanding static ELF.
//!
//! Only this package's binaries get them (`rustc-link-arg-bins`), so the
//! rest of the workspace, and this package's host integration tests, link
//! as usual. Why each flag:
//!
//! - `-nostartfiles -nostdlib`: no C runtime (`crt1.o` would bring its own
//!   `_start` and want libc); `userland-rt` provides `_start`, `memcpy`
//!   & co. and the panic handler.
//! - `-static -no-pie`: a position-dependent executable (`ET_EXEC`, no
//!   `PT_INTERP`, no dynamic relocations), so the kernel's ELF loader only
//!   maps `PT_LOAD` segments at their addresses. A static-pie would need
//!   `_start` to apply its own relocations before any Rust code runs.
//! - `--image-base=0x400000`: the conventional x86_64 load address (lld's
//!   default is 0x200000), the address our kernel's loader expects first.
//! - `--undefined=_start`: `_start` lives in the runtime's rlib; name it so
//!   the linker always pulls it in, whatever else the program uses.
//! - `--build-id=none`: smaller, reproducible binaries.
//! - `-z noexecstack`: a `PT_GNU_STACK` without execute permission.

fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--image-base=0x400000",
        "-Wl,--undefined=_start",
        "-Wl,--build-id=none",
        "-Wl,-z,noexecstack",
        "-Wl,--gc-sections",
    ] {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
