//! Passes the kernel's linker script and bare-metal link flags to rustc.
//!
//! Only the kernel binary gets them (`rustc-link-arg-bins`); the codegen
//! flags (`code-model=kernel` ...) come from image-builder through RUSTFLAGS
//! with an explicit `--target`, which cargo keeps away from build scripts.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = format!("{dir}/kernel.ld");
    println!("cargo::rerun-if-changed={script}");
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
        "-Wl,--gc-sections",
        "-Wl,-z,noexecstack",
    ] {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
    println!("cargo::rustc-link-arg-bins=-Wl,-T,{script}");
}
