//! Open flags, `fcntl` commands, `*at` flags, `lseek` whence, `access` modes.
//!
//! Values from `asm-generic/fcntl.h` (x86_64 uses the generic ones),
//! `linux/fcntl.h` (`AT_*`), `linux/fs.h` (`SEEK_*`) and `unistd.h`
//! (`F_OK`...). The VFS and the fd table interpret them; the syscall layer
//! passes them through unchanged from the registers.

/// Mask of the access mode bits of the open flags.
pub const O_ACCMODE: u32 = 0o3;
pub const O_RDONLY: u32 = 0o0;
pub const O_WRONLY: u32 = 0o1;
pub const O_RDWR: u32 = 0o2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DSYNC: u32 = 0o10000;
pub const FASYNC: u32 = 0o20000;
pub const O_DIRECT: u32 = 0o40000;
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_CLOEXEC: u32 = 0o2000000;
/// `__O_SYNC | O_DSYNC`.
pub const O_SYNC: u32 = 0o4010000;
pub const O_PATH: u32 = 0o10000000;
/// `__O_TMPFILE | O_DIRECTORY`.
pub const O_TMPFILE: u32 = 0o20200000;
pub const O_NDELAY: u32 = O_NONBLOCK;

/// The access mode an open asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMode {
    ReadOnly,
    WriteOnly,
    ReadWrite,
}

impl AccessMode {
    /// Decodes `flags & O_ACCMODE`; the value 3 is invalid for regular
    /// opens (Linux accepts it only as a special ioctl-only mode).
    pub const fn from_flags(flags: u32) -> Option<AccessMode> {
        match flags & O_ACCMODE {
            O_RDONLY => Some(AccessMode::ReadOnly),
            O_WRONLY => Some(AccessMode::WriteOnly),
            O_RDWR => Some(AccessMode::ReadWrite),
            _ => None,
        }
    }

    pub const fn can_read(self) -> bool {
        matches!(self, AccessMode::ReadOnly | AccessMode::ReadWrite)
    }

    pub const fn can_write(self) -> bool {
        matches!(self, AccessMode::WriteOnly | AccessMode::ReadWrite)
    }
}

pub const F_DUPFD: u32 = 0;
pub const F_GETFD: u32 = 1;
pub const F_SETFD: u32 = 2;
pub const F_GETFL: u32 = 3;
pub const F_SETFL: u32 = 4;
pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_SETOWN: u32 = 8;
pub const F_GETOWN: u32 = 9;
/// `F_LINUX_SPECIFIC_BASE + 6`.
pub const F_DUPFD_CLOEXEC: u32 = 1030;
/// `F_LINUX_SPECIFIC_BASE + 7`.
pub const F_GETPIPE_SZ: u32 = 1032;
/// The only file-descriptor flag (`F_GETFD`/`F_SETFD`).
pub const FD_CLOEXEC: u32 = 1;

/// Open-file status flags `F_SETFL` may change (`fs/fcntl.c`, `SETFL_MASK`).
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME | FASYNC;

/// The `dirfd` meaning "relative to the current directory".
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `unlinkat`: remove a directory instead.
pub const AT_REMOVEDIR: u32 = 0x200;
/// `faccessat`: check with the effective ids (same value as `AT_REMOVEDIR`).
pub const AT_EACCESS: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;

pub const SEEK_SET: u32 = 0;
pub const SEEK_CUR: u32 = 1;
pub const SEEK_END: u32 = 2;
pub const SEEK_DATA: u32 = 3;
pub const SEEK_HOLE: u32 = 4;

/// `access` modes (`unistd.h`).
pub const F_OK: u32 = 0;
pub const X_OK: u32 = 1;
pub const W_OK: u32 = 2;
pub const R_OK: u32 = 4;

/// `renameat2` flags (`linux/fs.h`).
pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_mode_decoding() {
        assert_eq!(
            AccessMode::from_flags(O_RDONLY | O_CLOEXEC),
            Some(AccessMode::ReadOnly)
        );
        assert_eq!(
            AccessMode::from_flags(O_WRONLY | O_CREAT),
            Some(AccessMode::WriteOnly)
        );
        assert_eq!(AccessMode::from_flags(O_RDWR), Some(AccessMode::ReadWrite));
        assert_eq!(AccessMode::from_flags(3), None);
        assert!(AccessMode::ReadWrite.can_read() && AccessMode::ReadWrite.can_write());
        assert!(!AccessMode::ReadOnly.can_write());
        assert!(!AccessMode::WriteOnly.can_read());
    }
}
