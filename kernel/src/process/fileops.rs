//! The file system calls beyond open/read/write: positioned and vectored
//! I/O, sendfile, access checks, permissions, truncation and links.

use kernel_core::vfs::{Caller, InodeId};

use super::*;

const AT_FDCWD: i64 = linux_abi::fcntl::AT_FDCWD as i64;
const ESPIPE: i64 = 29;

/// The VFS node behind `fd` (ESPIPE for pipes and the console, as Linux
/// says for positioned I/O on them).
fn node_of(fd: u64) -> Result<Arc<Mutex<(InodeId, u64)>>, i64> {
    match with_current(|p| p.file(fd).cloned())? {
        File::Node(node) => Ok(node),
        _ => Err(ESPIPE),
    }
}

/// pread64: reads at `offset` without moving the file position.
pub(super) fn pread(fd: u64, address: u64, len: u64, offset: u64) -> Result<u64, i64> {
    if (offset as i64) < 0 {
        return Err(EINVAL);
    }
    let id = node_of(fd)?.lock().0;
    let mut buffer = alloc::vec![0u8; len.min(1 << 20) as usize];
    let count = VFS
        .lock()
        .as_ref()
        .ok_or(EBADF)?
        .read(id, offset, &mut buffer, &Caller { pid: current_pid() })
        .map_err(errno)?;
    copy_to_user(address, &buffer[..count]).map(|()| count as u64)
}

/// pwrite64: writes at `offset` without moving the file position.
pub(super) fn pwrite(fd: u64, address: u64, len: u64, offset: u64) -> Result<u64, i64> {
    if (offset as i64) < 0 {
        return Err(EINVAL);
    }
    let id = node_of(fd)?.lock().0;
    let bytes = copy_from_user(address, len.min(1 << 20))?;
    VFS.lock()
        .as_mut()
        .ok_or(EBADF)?
        .write(id, offset, &bytes, now())
        .map(|count| count as u64)
        .map_err(errno)
}

/// The (base, len) pairs of an iovec array.
fn iovec(address: u64, count: u64) -> Result<Vec<(u64, u64)>, i64> {
    if count > 1024 {
        return Err(EINVAL);
    }
    let bytes = copy_from_user(address, count * 16)?;
    Ok(bytes
        .chunks_exact(16)
        .map(|entry| {
            (
                u64::from_le_bytes(entry[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(entry[8..].try_into().expect("8 bytes")),
            )
        })
        .collect())
}

/// readv: fills the buffers in order; stops at the first short read.
pub(super) fn readv(fd: u64, address: u64, count: u64) -> Result<u64, i64> {
    let mut total = 0;
    for (base, len) in iovec(address, count)? {
        if len == 0 {
            continue;
        }
        let read = match read_file(fd, base, len) {
            Ok(read) => read,
            Err(_) if total > 0 => break,
            Err(error) => return Err(error),
        };
        total += read;
        if read < len {
            break;
        }
    }
    Ok(total)
}

/// writev: writes the buffers in order.
pub(super) fn writev(fd: u64, address: u64, count: u64) -> Result<u64, i64> {
    let mut total = 0;
    for (base, len) in iovec(address, count)? {
        let bytes = copy_from_user(base, len)?;
        total += write_file(fd, &bytes)?;
    }
    Ok(total)
}

/// sendfile(out, in, offset, count): copies from a file to any
/// descriptor, from `*offset` (updated) or the file position.
pub(super) fn sendfile(out: u64, input: u64, offset_address: u64, count: u64) -> Result<u64, i64> {
    let node = node_of(input).map_err(|_| EINVAL)?;
    let (id, position) = *node.lock();
    let offset = if offset_address != 0 {
        let bytes = copy_from_user(offset_address, 8)?;
        i64::from_le_bytes(bytes.try_into().map_err(|_| EFAULT)?)
    } else {
        position as i64
    };
    if offset < 0 {
        return Err(EINVAL);
    }
    let mut buffer = alloc::vec![0u8; count.min(1 << 20) as usize];
    let read = VFS
        .lock()
        .as_ref()
        .ok_or(EBADF)?
        .read(
            id,
            offset as u64,
            &mut buffer,
            &Caller { pid: current_pid() },
        )
        .map_err(errno)?;
    let written = if read > 0 {
        write_file(out, &buffer[..read])?
    } else {
        0
    };
    let end = offset as u64 + written;
    if offset_address != 0 {
        copy_to_user(offset_address, &end.to_le_bytes())?;
    } else {
        node.lock().1 = end;
    }
    Ok(written)
}

/// access / faccessat: the process runs as root, so only existence and,
/// for `X_OK`, an execute bit matter.
pub(super) fn access(dirfd: i64, path_address: u64, mode: u64) -> Result<u64, i64> {
    if mode & !7 != 0 {
        return Err(EINVAL);
    }
    let path = string_from_user(path_address)?;
    let id = resolve_path(dirfd, &path)?;
    let stat = VFS.lock().as_ref().ok_or(ENOENT)?.stat(id).map_err(errno)?;
    let is_directory = stat.st_mode & linux_abi::stat::S_IFMT == linux_abi::stat::S_IFDIR;
    if mode & 1 != 0 && !is_directory && stat.st_mode & 0o111 == 0 {
        return Err(EACCES);
    }
    Ok(0)
}

/// chmod / fchmod / fchmodat.
pub(super) fn chmod(target: Result<InodeId, i64>, mode: u64) -> Result<u64, i64> {
    let id = target?;
    VFS.lock()
        .as_mut()
        .ok_or(ENOENT)?
        .set_permissions(id, mode as u32 & 0o7777, now())
        .map(|()| 0)
        .map_err(errno)
}

/// The inode behind `fd` (for fchmod, ftruncate, fchdir).
pub(super) fn inode_of(fd: u64) -> Result<InodeId, i64> {
    match with_current(|p| p.file(fd).cloned())? {
        File::Node(node) => Ok(node.lock().0),
        _ => Err(EINVAL),
    }
}

/// truncate / ftruncate.
pub(super) fn truncate(target: Result<InodeId, i64>, len: u64) -> Result<u64, i64> {
    let id = target?;
    if (len as i64) < 0 {
        return Err(EINVAL);
    }
    VFS.lock()
        .as_mut()
        .ok_or(ENOENT)?
        .truncate(id, len, now())
        .map(|()| 0)
        .map_err(errno)
}

/// symlink / symlinkat.
pub(super) fn symlink(target: u64, dirfd: i64, path: u64) -> Result<u64, i64> {
    let target = string_from_user(target)?;
    let path = string_from_user(path)?;
    let context = path_context(dirfd, &path)?;
    VFS.lock()
        .as_mut()
        .ok_or(ENOENT)?
        .symlink(&context, &target, &path, now())
        .map(|_| 0)
        .map_err(errno)
}

/// link / linkat (same directory context for both names).
pub(super) fn link(old_dir: i64, old: u64, new_dir: i64, new: u64, flags: u64) -> Result<u64, i64> {
    const AT_SYMLINK_FOLLOW: u64 = 0x400;
    let (old, new) = (string_from_user(old)?, string_from_user(new)?);
    let context = path_context(old_dir, &old)?;
    if path_context(new_dir, &new)? != context {
        return Err(18); // EXDEV: one directory context at a time
    }
    VFS.lock()
        .as_mut()
        .ok_or(ENOENT)?
        .link(&context, &old, &new, flags & AT_SYMLINK_FOLLOW != 0, now())
        .map(|_| 0)
        .map_err(errno)
}

/// readlink / readlinkat.
pub(super) fn readlink(dirfd: i64, path: u64, buffer: u64, size: u64) -> Result<u64, i64> {
    if (size as i64) <= 0 {
        return Err(EINVAL);
    }
    let path = string_from_user(path)?;
    let context = path_context(dirfd, &path)?;
    let target = {
        let vfs = VFS.lock();
        let vfs = vfs.as_ref().ok_or(ENOENT)?;
        let id = vfs.resolve(&context, &path, false).map_err(errno)?;
        vfs.readlink(id, &Caller { pid: current_pid() })
            .map_err(errno)?
    };
    let len = target.len().min(size as usize);
    copy_to_user(buffer, &target[..len]).map(|()| len as u64)
}

/// The `AT_FDCWD` directory descriptor, for the old path-only calls.
pub(super) const CWD: i64 = AT_FDCWD;
