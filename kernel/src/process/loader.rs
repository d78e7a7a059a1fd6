//! Building address spaces from programs: ELF images and execve.

use super::*;

/// Builds a user address space page by page.
pub(super) struct Loader {
    pub(super) tables: UserTables,
}

impl Loader {
    pub(super) fn new() -> Result<Loader, String> {
        let tables = MMU
            .lock()
            .create_user_tables()
            .map_err(|e| format!("page tables: {e}"))?;
        Ok(Loader { tables })
    }

    /// Maps a fresh zeroed page at `va`, after `fill` wrote into it.
    pub(super) fn page(
        &mut self,
        va: u64,
        writable: bool,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), String> {
        let pfn =
            frames::allocate_for_user().map_err(|e| format!("out of memory at {va:#x}: {e}"))?;
        // SAFETY: the frame was just allocated: nothing else refers to it,
        // and the physmap maps it writable at this address.
        let bytes =
            unsafe { core::slice::from_raw_parts_mut(physmap_address(pfn) as *mut u8, 4096) };
        bytes.fill(0);
        fill(bytes);
        let mfn = pfn_to_mfn(pfn).expect("populated");
        MMU.lock()
            .map_user(&self.tables, va, mfn, writable)
            .map_err(|e| {
                let _ = frames::free(pfn);
                format!("mapping {va:#x}: {e}")
            })
    }

    pub(super) fn finish(self) -> Result<UserTables, String> {
        match MMU.lock().commit() {
            Ok(()) => Ok(self.tables),
            Err(error) => {
                let _ = MMU.lock().destroy_user_tables(self.tables);
                Err(format!("commit: {error}"))
            }
        }
    }

    pub(super) fn abandon(self) {
        let mut mmu = MMU.lock();
        let _ = mmu.commit();
        let _ = mmu.destroy_user_tables(self.tables);
    }
}

/// Pages of stack a new program gets.
pub(super) const STACK_PAGES: u64 = 32;
/// Where anonymous mmap()s are placed, growing upwards.
pub(super) const MMAP_BASE: u64 = 0x10_0000_0000;

/// A loaded image: its tables, memory map, entry, initial stack pointer
/// and break.
pub(super) struct Image {
    pub(super) tables: UserTables,
    pub(super) map: Map,
    pub(super) entry: u64,
    pub(super) rsp: u64,
    pub(super) brk_start: u64,
}

/// The stack region below [`STACK_TOP`]; the page under it stays unmapped
/// (a guard: an overflow faults).
fn stack_region() -> kernel_core::vma::Region<Backing> {
    kernel_core::vma::Region {
        start: STACK_TOP - STACK_BYTES,
        end: STACK_TOP,
        protection: kernel_core::vma::Protection::READ_WRITE,
        backing: Backing::Anonymous,
    }
}

pub(super) fn load_code(code: &[u8]) -> Result<Image, String> {
    let mut loader = Loader::new()?;
    let loaded = (|| {
        for (page, chunk) in code.chunks(4096).enumerate() {
            loader.page(LOAD_ADDRESS + page as u64 * 4096, false, |bytes| {
                bytes[..chunk.len()].copy_from_slice(chunk)
            })?;
        }
        loader.page(STACK_TOP - 4096, true, |_| {})
    })();
    if let Err(error) = loaded {
        loader.abandon();
        return Err(error);
    }
    let mut map = Map::new();
    let code_end = LOAD_ADDRESS + (code.len() as u64).div_ceil(4096).max(1) * 4096;
    let inserted = map
        .insert(kernel_core::vma::Region {
            start: LOAD_ADDRESS,
            end: code_end,
            protection: kernel_core::vma::Protection::from_bits(5),
            backing: Backing::Anonymous,
        })
        .and_then(|()| map.insert(stack_region()));
    if inserted.is_err() {
        loader.abandon();
        return Err("test program too large".into());
    }
    Ok(Image {
        tables: loader.finish()?,
        map,
        entry: LOAD_ADDRESS,
        rsp: STACK_TOP,
        brk_start: LOAD_ADDRESS + 0x10_0000,
    })
}

/// Loads a static ELF executable: the memory map gets one region per run
/// of pages with the same protection, backed by the file (pages come at
/// first touch); only the stack pages holding argv, envp and auxv are
/// written now.
pub(super) fn load_elf(
    file: Arc<Vec<u8>>,
    path: &str,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<Image, (i64, String)> {
    use kernel_core::elf;
    use kernel_core::vma::{Protection, Region};
    let plan = elf::plan_load(&file, &elf::Limits::default())
        .map_err(|e| (e.errno().code() as i64, format!("{path}: {e}")))?;
    let random = {
        let seed = crate::arch::x86_64::cpu::rdtsc();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..].copy_from_slice(
            &seed
                .rotate_left(29)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .to_le_bytes(),
        );
        bytes
    };
    let auxv = plan.auxv(elf::Credentials::default(), 0);
    let spec = elf::StackSpec {
        argv,
        envp,
        execfn: path.as_bytes(),
        platform: b"x86_64",
        random,
        auxv: &auxv,
    };
    let stack = elf::build_initial_stack(STACK_TOP, &spec, STACK_PAGES * 4096 / 4)
        .map_err(|e| (E2BIG, format!("{path}: initial stack: {e}")))?;
    // Regions: runs of consecutive pages with the same protection.
    let mut runs: Vec<(u64, u64, u32)> = Vec::new();
    for page in &plan.pages {
        match runs.last_mut() {
            Some((_, end, prot)) if *end == page.vaddr && *prot == page.prot => *end += 4096,
            _ => runs.push((page.vaddr, page.vaddr + 4096, page.prot)),
        }
    }
    let entry = plan.entry;
    let brk_start = plan.brk_start;
    let image = Arc::new(ExecImage { file, plan });
    let mut map = Map::new();
    for (start, end, prot) in runs {
        map.insert(Region {
            start,
            end,
            protection: Protection::from_bits(u64::from(prot)),
            backing: Backing::Image(image.clone()),
        })
        .map_err(|_| (ENOEXEC, format!("{path}: overlapping segments")))?;
    }
    map.insert(stack_region())
        .map_err(|_| (ENOEXEC, format!("{path}: segments overlap the stack")))?;
    let mut loader = Loader::new().map_err(|e| (ENOMEM, e))?;
    let loaded = (|| {
        let mut va = stack.rsp & !0xfff;
        while va < STACK_TOP {
            loader.page(va, true, |bytes| {
                for (i, byte) in bytes.iter_mut().enumerate() {
                    let address = va + i as u64;
                    if address >= stack.rsp && address < STACK_TOP {
                        *byte = stack.bytes[(address - stack.rsp) as usize];
                    }
                }
            })?;
            va += 4096;
        }
        Ok::<(), String>(())
    })();
    if let Err(error) = loaded {
        loader.abandon();
        return Err((ENOMEM, error));
    }
    Ok(Image {
        tables: loader.finish().map_err(|e| (ENOMEM, e))?,
        map,
        entry,
        rsp: stack.rsp,
        brk_start,
    })
}

/// Programs kept by [`read_executable`], most recent first.
const EXEC_CACHE_ENTRIES: usize = 8;
/// (inode, size, mtime) and the file's bytes.
#[allow(clippy::type_complexity, reason = "a private list of plain pairs")]
static EXEC_CACHE: Mutex<Vec<((kernel_core::vfs::InodeId, u64, u64, u64), Arc<Vec<u8>>)>> =
    Mutex::new(Vec::new());

/// Reads the program at `path` for execve: it must be a regular file
/// with an execute bit (EACCES otherwise, as on Linux).
fn read_executable(path: &[u8]) -> Result<Arc<Vec<u8>>, i64> {
    let id = resolve_path(linux_abi::fcntl::AT_FDCWD as i64, path)?;
    let vfs = VFS.lock();
    let vfs = vfs.as_ref().ok_or(ENOENT)?;
    let stat = vfs.stat(id).map_err(errno)?;
    if stat.st_mode & linux_abi::stat::S_IFMT != linux_abi::stat::S_IFREG
        || stat.st_mode & 0o111 == 0
    {
        return Err(EACCES);
    }
    let size = vfs.size(id).map_err(errno)?;
    if size > 64 << 20 {
        return Err(ENOMEM);
    }
    // The same program run again (a shell's commands) is not read again:
    // the bytes are kept while the file is unchanged.
    let version = (id, size, stat.st_mtime, stat.st_mtime_nsec);
    let mut cache = EXEC_CACHE.lock();
    if let Some(position) = cache.iter().position(|(key, _)| *key == version) {
        let entry = cache.remove(position);
        let bytes = entry.1.clone();
        cache.insert(0, entry);
        return Ok(bytes);
    }
    let mut bytes = alloc::vec![0u8; size as usize];
    let read = vfs
        .read(
            id,
            0,
            &mut bytes,
            &kernel_core::vfs::Caller { pid: current_pid() },
        )
        .map_err(errno)?;
    bytes.truncate(read);
    let bytes = Arc::new(bytes);
    cache.retain(|(key, _)| key.0 != id);
    cache.insert(0, (version, bytes.clone()));
    cache.truncate(EXEC_CACHE_ENTRIES);
    Ok(bytes)
}

/// A user-mode TrapFrame entering at `entry` with stack `rsp`.
pub(super) fn user_frame(entry: u64, rsp: u64) -> TrapFrame {
    TrapFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip: entry,
        cs: xen_abi::arch::FLAT_USER_CS64 as u64,
        // IF set: events are delivered while user code runs.
        rflags: 0x202,
        rsp,
        ss: xen_abi::arch::FLAT_USER_SS64 as u64,
    }
}

/// execve: replaces the current process's image; on success the frame
/// enters the new program.
pub(super) fn execve(frame: &mut TrapFrame) -> Result<(), i64> {
    let mut path = string_from_user(frame.rdi)?;
    let mut argv = strings_from_user(frame.rsi)?;
    let envp = strings_from_user(frame.rdx)?;
    if path.is_empty() {
        return Err(ENOENT);
    }
    let mut file = read_executable(&path)?;
    // `#!` scripts: run the interpreter with the script's path (Linux's
    // binfmt_script), up to four interpreters deep.
    for _ in 0..4 {
        let (interpreter, argument) = match kernel_core::elf::parse_shebang(&file) {
            None => break,
            Some(Err(_)) => return Err(ENOEXEC),
            Some(Ok(line)) => (line.interpreter.to_vec(), line.argument.map(<[u8]>::to_vec)),
        };
        let mut new_argv = alloc::vec![interpreter.clone()];
        new_argv.extend(argument);
        new_argv.push(path);
        new_argv.extend(argv.into_iter().skip(1));
        argv = new_argv;
        file = read_executable(&interpreter)?;
        path = interpreter;
    }
    if file.starts_with(b"#!") {
        return Err(40); // ELOOP
    }
    let path_text = String::from_utf8_lossy(&path).into_owned();
    let argv_refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    let image = match load_elf(file, &path_text, &argv_refs, &envp_refs) {
        Ok(image) => image,
        Err((code, message)) => {
            log::debug!("execve: {message}");
            return Err(if code == 0 { ENOEXEC } else { code });
        }
    };
    let mut closed_on_exec = Vec::new();
    let old = with_current(|process| {
        let old = process.tables.replace(image.tables);
        process.brk_start = image.brk_start;
        process.brk = image.brk_start;
        process.map = image.map;
        closed_on_exec = process.take_close_on_exec();
        process.fault_window = (0, 0);
        process.fs_base = 0;
        *process.fpu = FpuState::initial();
        process.signals.exec();
        process.cmdline = argv
            .iter()
            .flat_map(|arg| arg.iter().copied().chain([0]))
            .collect();
        process.name = path_text
            .rsplit('/')
            .next()
            .unwrap_or("")
            .chars()
            .take(15)
            .collect();
        old
    });
    {
        let processes = PROCESSES.lock();
        let tables = processes
            .get(&current_pid())
            .and_then(|p| p.tables.as_ref());
        let mut mmu = MMU.lock();
        // One batch: load the new tables, tear the old ones down.
        mmu.queue_address_space(tables).map_err(|_| ENOMEM)?;
        match old {
            Some(old) => {
                let _ = mmu.destroy_user_tables(old);
            }
            None => mmu.commit().map_err(|_| ENOMEM)?,
        }
    }
    let _ = load_fs_base(0);
    for file in closed_on_exec {
        file.close();
    }
    *frame = user_frame(image.entry, image.rsp);
    Ok(())
}
