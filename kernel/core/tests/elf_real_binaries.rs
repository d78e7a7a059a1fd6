//! Runs the ELF load planner over programs the host toolchain links.
//!
//! The unit tests in `elf.rs` use hand-built headers; these check that the
//! planner accepts what real linkers produce — a static glibc program
//! (`ET_EXEC`), the same as static-pie (`ET_DYN`) — and refuses a
//! dynamically linked one with `ElfError::Dynamic`. For the accepted ones
//! the planned image is materialised and compared, byte for byte, with
//! the file contents each `PT_LOAD` describes.
//!
//! Needs `cc` and glibc's static libraries (`libc6-dev`); without them the
//! test fails rather than passing vacuously.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use kernel_core::elf::{plan_load, program_headers, ElfError, Limits, LoadPlan, PT_LOAD};

const PROGRAM: &str = "#include <stdio.h>\nint counter = 7;\nstatic char big[100000];\n\
int main(int argc, char **argv) { big[argc] = 1; printf(\"%d %s\\n\", counter, argv[0]); return big[1]; }\n";

fn compile(name: &str, flags: &[&str]) -> Vec<u8> {
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let directory: PathBuf = std::env::temp_dir().join(format!(
        "kernel-core-elf-{name}-{}-{unique}",
        std::process::id()
    ));
    std::fs::create_dir_all(&directory).expect("create a scratch directory");
    let source = directory.join("program.c");
    let binary = directory.join(name);
    std::fs::write(&source, PROGRAM).expect("write the C program");
    let output = Command::new("cc")
        .args(flags)
        .arg("-O1")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .unwrap_or_else(|error| panic!("cannot run the C compiler `cc`: {error}"));
    assert!(
        output.status.success(),
        "cc {flags:?} failed (is libc6-dev installed?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = std::fs::read(&binary).expect("read the linked program");
    // Best effort: a leftover scratch directory is harmless.
    let _ = std::fs::remove_dir_all(&directory);
    bytes
}

/// Builds the image from the plan and checks every byte of every segment.
fn check_image(file: &[u8], plan: &LoadPlan) {
    let (_, _, headers) = program_headers(file, &Limits::default()).expect("valid headers");
    for header in headers
        .iter()
        .filter(|header| header.p_type == PT_LOAD && header.p_memsz > 0)
    {
        let start = header.p_vaddr + plan.load_bias;
        for offset in (0..header.p_memsz).step_by(61) {
            let address = start + offset;
            let page_address = address & !0xfff;
            let page = plan
                .pages
                .iter()
                .find(|page| page.vaddr == page_address)
                .unwrap_or_else(|| panic!("no page planned for {address:#x}"));
            let in_page = (address - page_address) as u32;
            let planned = plan
                .copies_for(page)
                .iter()
                .find(|copy| in_page >= copy.page_offset && in_page < copy.page_offset + copy.len)
                .map(|copy| {
                    file[(copy.file_offset + u64::from(in_page - copy.page_offset)) as usize]
                })
                .unwrap_or(0);
            let expected = if offset < header.p_filesz {
                file[(header.p_offset + offset) as usize]
            } else {
                0
            };
            assert_eq!(planned, expected, "byte at {address:#x}");
        }
    }
    assert!(plan.brk_start >= plan.pages.last().expect("pages").vaddr + 4096);
}

#[test]
fn static_executable_is_planned_exactly() {
    let file = compile("static", &["-static", "-no-pie"]);
    let plan = plan_load(&file, &Limits::default()).expect("a static program loads");
    assert_eq!(plan.load_bias, 0);
    assert_eq!(
        plan.entry,
        u64::from_le_bytes(file[24..32].try_into().unwrap())
    );
    assert_ne!(plan.phdr_vaddr, 0, "glibc finds its TLS through AT_PHDR");
    assert!(!plan.executable_stack);
    check_image(&file, &plan);
}

#[test]
fn static_pie_is_planned_at_the_dyn_base() {
    let file = compile("static-pie", &["-static-pie", "-fPIE"]);
    let plan = plan_load(&file, &Limits::default()).expect("a static-pie program loads");
    assert_eq!(plan.load_bias, kernel_core::elf::ET_DYN_BASE);
    assert!(plan.entry > plan.load_bias);
    check_image(&file, &plan);
}

#[test]
fn dynamic_executable_is_refused() {
    let file = compile("dynamic", &[]);
    assert_eq!(plan_load(&file, &Limits::default()), Err(ElfError::Dynamic));
}
