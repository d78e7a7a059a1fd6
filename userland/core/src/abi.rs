//! What userland adds to `linux-abi`: typed open flags, decoding of the
//! kernel's `getdents64` answers, and the shell's view of wait statuses.
//!
//! The numbers, flags and `#[repr(C)]` structs themselves come from the
//! workspace's `linux-abi` crate (checked against the C headers there), the
//! same definitions our kernel uses, so both sides of the system-call
//! boundary agree by construction. What the kernel writes into our buffers
//! is checked here, not trusted: a corrupt `getdents64` record is an error,
//! never a panic or an out-of-bounds read.

use core::fmt;

use linux_abi::dirent::{
    DIRENT64_NAME_OFFSET, DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK,
};
use linux_abi::fcntl::{
    O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NONBLOCK, O_RDONLY, O_RDWR,
    O_TRUNC, O_WRONLY,
};
use linux_abi::stat::FileType;
use linux_abi::wait::WaitStatus;

/// Flags of `openat` (`O_*` of `linux_abi::fcntl`), a bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    pub const READ_ONLY: OpenFlags = OpenFlags(O_RDONLY);
    pub const WRITE_ONLY: OpenFlags = OpenFlags(O_WRONLY);
    pub const READ_WRITE: OpenFlags = OpenFlags(O_RDWR);
    pub const CREATE: OpenFlags = OpenFlags(O_CREAT);
    pub const EXCLUSIVE: OpenFlags = OpenFlags(O_EXCL);
    pub const NO_CONTROLLING_TTY: OpenFlags = OpenFlags(O_NOCTTY);
    pub const TRUNCATE: OpenFlags = OpenFlags(O_TRUNC);
    pub const APPEND: OpenFlags = OpenFlags(O_APPEND);
    pub const NONBLOCK: OpenFlags = OpenFlags(O_NONBLOCK);
    pub const DIRECTORY: OpenFlags = OpenFlags(O_DIRECTORY);
    pub const CLOSE_ON_EXEC: OpenFlags = OpenFlags(O_CLOEXEC);
}

impl core::ops::BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | other.0)
    }
}

/// The file type of a `d_type` (`None` for `DT_UNKNOWN` and anything
/// else the kernel may say).
pub fn file_type_of_dirent(d_type: u8) -> Option<FileType> {
    match d_type {
        DT_FIFO => Some(FileType::Fifo),
        DT_CHR => Some(FileType::CharDevice),
        DT_DIR => Some(FileType::Directory),
        DT_BLK => Some(FileType::BlockDevice),
        DT_REG => Some(FileType::Regular),
        DT_LNK => Some(FileType::Symlink),
        DT_SOCK => Some(FileType::Socket),
        _ => None,
    }
}

/// The bytes of a NUL-terminated fixed-size field, without the NUL.
pub fn until_nul(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// The shell's `$?` for a wait status: the exit code, or 128 + signal.
pub fn shell_status(status: WaitStatus) -> i32 {
    match status {
        WaitStatus::Exited(code) => i32::from(code),
        WaitStatus::Signaled { signal, .. } | WaitStatus::Stopped(signal) => {
            128 + i32::from(signal)
        }
        WaitStatus::Continued => 0,
    }
}

/// One entry of a `getdents64` buffer (`struct linux_dirent64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryEntry<'a> {
    pub inode: u64,
    /// `None` when the kernel says `DT_UNKNOWN`.
    pub file_type: Option<FileType>,
    pub name: &'a [u8],
}

/// What is wrong with a `getdents64` buffer the kernel filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirentError {
    /// Where in the buffer the bad record starts.
    pub offset: usize,
    /// Its `d_reclen`, which must exceed the 19-byte header and fit.
    pub record_len: usize,
}

impl fmt::Display for DirentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "getdents64 record at offset {} is corrupt: d_reclen {} does not fit",
            self.offset, self.record_len
        )
    }
}

impl core::error::Error for DirentError {}

/// Iterates over the records `getdents64` wrote into a buffer.
///
/// A record length that is too short or runs past the end yields one
/// error and ends the iteration.
pub struct DirentIter<'a> {
    buffer: &'a [u8],
    offset: usize,
}

impl<'a> DirentIter<'a> {
    /// The records in `filled`, the part of the buffer the kernel wrote.
    pub fn new(filled: &'a [u8]) -> Self {
        DirentIter {
            buffer: filled,
            offset: 0,
        }
    }
}

impl<'a> Iterator for DirentIter<'a> {
    type Item = Result<DirectoryEntry<'a>, DirentError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buffer.get(self.offset..)?;
        if rest.is_empty() {
            return None;
        }
        let record_len = match rest.get(16..18) {
            Some(bytes) => usize::from(u16::from_le_bytes([bytes[0], bytes[1]])),
            None => 0,
        };
        if record_len <= DIRENT64_NAME_OFFSET || record_len > rest.len() {
            let error = DirentError {
                offset: self.offset,
                record_len,
            };
            self.offset = self.buffer.len();
            return Some(Err(error));
        }
        let record = &rest[..record_len];
        let mut inode = [0u8; 8];
        inode.copy_from_slice(&record[..8]);
        let entry = DirectoryEntry {
            inode: u64::from_le_bytes(inode),
            file_type: file_type_of_dirent(record[18]),
            name: until_nul(&record[DIRENT64_NAME_OFFSET..]),
        };
        self.offset += record_len;
        Some(Ok(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_abi::dirent::Dirent64;
    use std::vec::Vec;

    fn record(inode: u64, d_type: u8, name: &str) -> Vec<u8> {
        let mut bytes = std::vec![0u8; 300];
        let entry = Dirent64 {
            d_ino: inode,
            d_off: 0,
            d_type,
            d_name: name.as_bytes(),
        };
        let len = entry.encode(&mut bytes).unwrap();
        bytes.truncate(len);
        bytes
    }

    #[test]
    fn dirents_the_kernel_encodes_decode_back() {
        let mut buffer = record(5, DT_DIR, ".");
        buffer.extend(record(9, DT_REG, "a-longer-file-name"));
        buffer.extend(record(11, 0, "unknown"));
        let entries: Vec<_> = DirentIter::new(&buffer).map(Result::unwrap).collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].name, b".");
        assert_eq!(entries[0].file_type, Some(FileType::Directory));
        assert_eq!(entries[1].inode, 9);
        assert_eq!(entries[1].name, b"a-longer-file-name");
        assert_eq!(entries[2].file_type, None);
    }

    #[test]
    fn corrupt_record_lengths_are_reported_once() {
        let mut bad = record(1, DT_REG, "x");
        bad[16] = 200;
        let results: Vec<_> = DirentIter::new(&bad).collect();
        assert_eq!(
            results,
            [Err(DirentError {
                offset: 0,
                record_len: 200
            })]
        );
        let mut zero = record(1, DT_REG, "x");
        zero[16] = 0;
        assert_eq!(DirentIter::new(&zero).count(), 1);
        assert_eq!(DirentIter::new(&[1, 2, 3]).count(), 1);
    }

    #[test]
    fn wait_statuses_become_shell_statuses() {
        assert_eq!(shell_status(WaitStatus::Exited(3)), 3);
        assert_eq!(
            shell_status(WaitStatus::Signaled {
                signal: 2,
                core_dumped: false
            }),
            130
        );
        assert_eq!(shell_status(WaitStatus::Stopped(19)), 147);
    }

    #[test]
    fn open_flags_combine_and_names_end_at_nul() {
        let flags = OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        assert_eq!(flags.0, 0o1101);
        assert_eq!(until_nul(b"Linux\0\0\0"), b"Linux");
        assert_eq!(until_nul(b"full"), b"full");
        assert_eq!(file_type_of_dirent(DT_LNK), Some(FileType::Symlink));
    }
}
