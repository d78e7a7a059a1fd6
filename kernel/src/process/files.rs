//! Open files: the console, devices, VFS nodes and pipes.

use super::*;

/// An open file description, shared by dup and fork.
#[derive(Clone)]
pub(super) enum File {
    Console,
    /// /dev/null, /dev/zero and the like, answered by the VFS's Device.
    Device(kernel_core::vfs::Device),
    Node(Arc<Mutex<(InodeId, u64)>>),
    PipeRead(Arc<Mutex<Pipe>>),
    PipeWrite(Arc<Mutex<Pipe>>),
}

impl File {
    /// Another descriptor for the same open file (dup, fork).
    pub(super) fn duplicate(&self) -> File {
        match self {
            File::PipeRead(pipe) => pipe.lock().open_end(End::Read),
            File::PipeWrite(pipe) => pipe.lock().open_end(End::Write),
            _ => {}
        }
        self.clone()
    }

    pub(super) fn close(self) {
        match self {
            File::PipeRead(pipe) => {
                pipe.lock().close_end(End::Read);
                wake_pipe_waiters(&pipe);
            }
            File::PipeWrite(pipe) => {
                pipe.lock().close_end(End::Write);
                wake_pipe_waiters(&pipe);
            }
            _ => {}
        }
    }
}

pub(super) fn write_console(bytes: &[u8]) {
    crate::kprint!("{}", String::from_utf8_lossy(bytes));
    OUTPUT.lock().extend_from_slice(bytes);
}

pub(super) fn errno(error: linux_abi::errno::Errno) -> i64 {
    error.code() as i64
}

pub(super) fn now() -> linux_abi::time::Timespec {
    let wall = crate::time::wallclock();
    linux_abi::time::Timespec {
        tv_sec: wall.secs as i64,
        tv_nsec: wall.nanos as i64,
    }
}

/// The context a path given with `dirfd` is resolved in: the process's
/// root, and as the start of relative paths its working directory
/// (`AT_FDCWD`) or the directory `dirfd` names.
pub(super) fn path_context(dirfd: i64, path: &[u8]) -> Result<kernel_core::vfs::Context, i64> {
    let (pid, cwd) = with_current(|p| (p.pid, p.cwd));
    let vfs = VFS.lock();
    let vfs = vfs.as_ref().ok_or(ENOENT)?;
    let mut context = vfs.root_context(pid);
    if let Some(cwd) = cwd {
        context.cwd = cwd;
    }
    if dirfd != linux_abi::fcntl::AT_FDCWD as i64 && !path.starts_with(b"/") {
        let File::Node(node) = with_current(|p| p.file(dirfd as i32 as i64 as u64).cloned())?
        else {
            return Err(ENOTDIR);
        };
        let id = node.lock().0;
        if vfs.kind(id).map_err(errno)? != kernel_core::vfs::NodeKind::Directory {
            return Err(ENOTDIR);
        }
        context.cwd = id;
    }
    Ok(context)
}

/// openat: resolves the path and applies `open`'s flag rules.
pub(super) fn open_path(dirfd: i64, path_address: u64, flags: u32, mode: u32) -> Result<u64, i64> {
    let path = string_from_user(path_address)?;
    let context = path_context(dirfd, &path)?;
    let id = {
        let mut vfs = VFS.lock();
        let vfs = vfs.as_mut().ok_or(ENOENT)?;
        let umask = with_current(|p| p.umask);
        vfs.open(&context, &path, flags, mode & 0o7777 & !umask, now())
            .map_err(errno)?
    };
    let kind = VFS.lock().as_ref().ok_or(ENOENT)?.kind(id).map_err(errno)?;
    let file = match kind {
        kernel_core::vfs::NodeKind::Device(
            kernel_core::vfs::Device::Console | kernel_core::vfs::Device::Tty,
        ) => File::Console,
        kernel_core::vfs::NodeKind::Device(device) => File::Device(device),
        _ => File::Node(Arc::new(Mutex::new((id, 0)))),
    };
    let close_on_exec = flags & linux_abi::fcntl::O_CLOEXEC != 0;
    with_current(|process| process.install(file, 0, close_on_exec))
}

pub(super) fn stat_path(
    dirfd: i64,
    path_address: u64,
    flags: u64,
) -> Result<linux_abi::stat::Stat, i64> {
    let path = string_from_user(path_address)?;
    let node = if path.is_empty() && flags & linux_abi::fcntl::AT_EMPTY_PATH as u64 != 0 {
        match with_current(|process| process.file(dirfd as i32 as i64 as u64).cloned())? {
            File::Node(node) => Some(node.lock().0),
            File::Console => return Ok(console_stat()),
            _ => None,
        }
    } else {
        None
    };
    let context = path_context(dirfd, &path)?;
    let vfs = VFS.lock();
    let vfs = vfs.as_ref().ok_or(ENOENT)?;
    let id = match node {
        Some(id) => id,
        None => {
            let follow = flags & linux_abi::fcntl::AT_SYMLINK_NOFOLLOW as u64 == 0;
            vfs.resolve(&context, &path, follow).map_err(errno)?
        }
    };
    vfs.stat(id).map_err(errno)
}

/// chdir / fchdir: the new working directory must be a directory.
pub(super) fn change_directory(target: Result<kernel_core::vfs::InodeId, i64>) -> Result<u64, i64> {
    let id = target?;
    let is_directory = VFS.lock().as_ref().ok_or(ENOENT)?.kind(id).map_err(errno)?
        == kernel_core::vfs::NodeKind::Directory;
    if !is_directory {
        return Err(ENOTDIR);
    }
    with_current(|p| p.cwd = Some(id));
    Ok(0)
}

/// Resolves `path` for the current process (following symlinks).
pub(super) fn resolve_path(dirfd: i64, path: &[u8]) -> Result<kernel_core::vfs::InodeId, i64> {
    let context = path_context(dirfd, path)?;
    let vfs = VFS.lock();
    vfs.as_ref()
        .ok_or(ENOENT)?
        .resolve(&context, path, true)
        .map_err(errno)
}

/// getcwd: the working directory's path from the root.
pub(super) fn current_directory() -> Result<Vec<u8>, i64> {
    let cwd = with_current(|p| p.cwd);
    let vfs = VFS.lock();
    let vfs = vfs.as_ref().ok_or(ENOENT)?;
    let root = vfs.root();
    let mut path = vfs.path_of(root, cwd.unwrap_or(root)).map_err(errno)?;
    if path.is_empty() {
        path.push(b'/');
    }
    Ok(path)
}

pub(super) fn console_stat() -> linux_abi::stat::Stat {
    let mut stat = linux_abi::stat::Stat::default();
    stat.st_mode = linux_abi::stat::S_IFCHR | 0o620;
    stat.st_rdev = linux_abi::stat::encode_dev(5, 1);
    stat
}

pub(super) fn read_file(fd: u64, address: u64, len: u64) -> Result<u64, i64> {
    let file = with_current(|process| process.file(fd).cloned())?;
    // The whole buffer must be user memory, even if less is read.
    if address.checked_add(len).is_none_or(|end| end > USER_END) {
        return Err(EFAULT);
    }
    let len = len.min(1 << 20) as usize;
    match file {
        File::Console => {
            let bytes = super::terminal::read(len)?;
            copy_to_user(address, &bytes).map(|()| bytes.len() as u64)
        }
        File::Device(device) => {
            let mut buffer = alloc::vec![0u8; len];
            let count = device.read(&mut buffer).ok_or(EINVAL)?;
            copy_to_user(address, &buffer[..count]).map(|()| count as u64)
        }
        File::PipeWrite(_) => Err(EBADF),
        File::PipeRead(pipe) => loop {
            let mut buffer = alloc::vec![0u8; len];
            let result = pipe.lock().read(&mut buffer);
            match result {
                Ok(count) => {
                    copy_to_user(address, &buffer[..count])?;
                    wake_pipe_waiters(&pipe);
                    return Ok(count as u64);
                }
                Err(PipeError::WouldBlock) => {
                    sleep_interruptibly(Wait::Pipe(Arc::as_ptr(&pipe) as usize))?
                }
                Err(PipeError::BrokenPipe | PipeError::NoMemory) => return Ok(0),
            }
        },
        File::Node(node) => {
            let (id, offset) = *node.lock();
            let mut buffer = alloc::vec![0u8; len];
            let count = {
                let vfs = VFS.lock();
                let vfs = vfs.as_ref().ok_or(EBADF)?;
                vfs.read(
                    id,
                    offset,
                    &mut buffer,
                    &kernel_core::vfs::Caller { pid: current_pid() },
                )
                .map_err(errno)?
            };
            copy_to_user(address, &buffer[..count])?;
            node.lock().1 = offset + count as u64;
            Ok(count as u64)
        }
    }
}

pub(super) fn write_file(fd: u64, bytes: &[u8]) -> Result<u64, i64> {
    let file = with_current(|process| process.file(fd).cloned())?;
    match file {
        File::Console => {
            write_console(bytes);
            Ok(bytes.len() as u64)
        }
        File::Device(device) => match device.write(bytes.len()) {
            Some(result) => result.map(|count| count as u64).map_err(errno),
            None => Err(EINVAL),
        },
        File::PipeRead(_) => Err(EBADF),
        File::PipeWrite(pipe) => {
            let mut written = 0;
            while written < bytes.len() {
                let result = pipe.lock().write(&bytes[written..]);
                match result {
                    Ok(count) => {
                        written += count;
                        wake_pipe_waiters(&pipe);
                    }
                    Err(PipeError::WouldBlock) => {
                        match sleep_interruptibly(Wait::Pipe(Arc::as_ptr(&pipe) as usize)) {
                            Ok(()) => {}
                            // Interrupted after a partial write: report it.
                            Err(_) if written > 0 => break,
                            Err(error) => return Err(error),
                        }
                    }
                    Err(PipeError::BrokenPipe | PipeError::NoMemory) if written > 0 => break,
                    Err(PipeError::NoMemory) => return Err(ENOMEM),
                    Err(PipeError::BrokenPipe) => {
                        let _ = post(current_pid(), 13); // SIGPIPE
                        return Err(EPIPE);
                    }
                }
            }
            Ok(written as u64)
        }
        File::Node(node) => {
            let (id, offset) = *node.lock();
            let count = {
                let mut vfs = VFS.lock();
                let vfs = vfs.as_mut().ok_or(EBADF)?;
                vfs.write(id, offset, bytes, now()).map_err(errno)?
            };
            node.lock().1 = offset + count as u64;
            Ok(count as u64)
        }
    }
}

pub(super) fn close_fd(fd: u64) -> Result<u64, i64> {
    let file = with_current(|process| {
        let file = process
            .files
            .get_mut(usize::try_from(fd).map_err(|_| EBADF)?)
            .and_then(Option::take)
            .ok_or(EBADF)?;
        process.set_close_on_exec(fd, false);
        Ok::<_, i64>(file)
    })?;
    file.close();
    Ok(0)
}

/// dup, dup2/dup3 (`new`), F_DUPFD (`lowest`); the new descriptor gets
/// FD_CLOEXEC as `close_on_exec` says (never inherited from `old`).
pub(super) fn dup_to(
    old: u64,
    new: Option<u64>,
    lowest: u64,
    close_on_exec: bool,
) -> Result<u64, i64> {
    let file = with_current(|process| process.file(old).map(File::duplicate))?;
    match new {
        Some(new) if new == old => {
            file.close();
            Ok(new)
        }
        Some(new) => {
            if new >= 1024 {
                file.close();
                return Err(EBADF);
            }
            let replaced = with_current(|process| {
                if process.files.len() <= new as usize {
                    process.files.resize(new as usize + 1, None);
                }
                process.set_close_on_exec(new, close_on_exec);
                process.files[new as usize].replace(file)
            });
            if let Some(replaced) = replaced {
                replaced.close();
            }
            Ok(new)
        }
        None => with_current(|process| process.install(file, lowest as usize, close_on_exec)),
    }
}

/// poll(2) readiness of an open file (`POLLIN`, `POLLOUT`, `POLLHUP` ...).
pub(super) fn poll_file(file: &File) -> u16 {
    use linux_abi::poll::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
    match file {
        File::Console => {
            let input = if super::terminal::readable() {
                POLLIN | POLLRDNORM
            } else {
                0
            };
            input | POLLOUT | POLLWRNORM
        }
        File::Device(_) | File::Node(_) => POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
        File::PipeRead(pipe) => pipe.lock().poll(End::Read),
        File::PipeWrite(pipe) => pipe.lock().poll(End::Write),
    }
}
