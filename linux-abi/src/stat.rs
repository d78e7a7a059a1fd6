//! `struct stat` (x86_64, 144 bytes) and the file-type bits of `st_mode`.
//!
//! Layout from `asm/stat.h` (the 64-bit `struct stat` that `stat`, `fstat`,
//! `lstat` and `newfstatat` fill), mode bits from `linux/stat.h`.

use crate::wire_struct;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISVTX: u32 = 0o1000;
/// Permission bits (`rwxrwxrwx`).
pub const S_IRWXUGO: u32 = 0o777;
/// Permission bits plus set-id and sticky.
pub const S_IALLUGO: u32 = 0o7777;

/// The file type encoded in `st_mode & S_IFMT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Socket,
    Symlink,
    Regular,
    BlockDevice,
    Directory,
    CharDevice,
    Fifo,
}

impl FileType {
    /// Decodes the type bits of a mode; `None` for an invalid type.
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        match mode & S_IFMT {
            S_IFSOCK => Some(FileType::Socket),
            S_IFLNK => Some(FileType::Symlink),
            S_IFREG => Some(FileType::Regular),
            S_IFBLK => Some(FileType::BlockDevice),
            S_IFDIR => Some(FileType::Directory),
            S_IFCHR => Some(FileType::CharDevice),
            S_IFIFO => Some(FileType::Fifo),
            _ => None,
        }
    }

    /// The `S_IF*` bits.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Socket => S_IFSOCK,
            FileType::Symlink => S_IFLNK,
            FileType::Regular => S_IFREG,
            FileType::BlockDevice => S_IFBLK,
            FileType::Directory => S_IFDIR,
            FileType::CharDevice => S_IFCHR,
            FileType::Fifo => S_IFIFO,
        }
    }

    /// The `d_type` of a directory entry (`DT_*`).
    pub const fn dirent_type(self) -> u8 {
        use crate::dirent::*;
        match self {
            FileType::Socket => DT_SOCK,
            FileType::Symlink => DT_LNK,
            FileType::Regular => DT_REG,
            FileType::BlockDevice => DT_BLK,
            FileType::Directory => DT_DIR,
            FileType::CharDevice => DT_CHR,
            FileType::Fifo => DT_FIFO,
        }
    }
}

/// Packs a device number the way `new_encode_dev` does (`linux/kdev_t.h`):
/// the format of `st_rdev` and `st_dev`.
pub const fn encode_dev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// The inverse of [`encode_dev`]: `(major, minor)`.
pub const fn decode_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

wire_struct! {
    /// `struct stat` for x86_64.
    pub struct Stat {
        pub st_dev: u64,
        pub st_ino: u64,
        pub st_nlink: u64,
        pub st_mode: u32,
        pub st_uid: u32,
        pub st_gid: u32,
        pub __pad0: u32,
        pub st_rdev: u64,
        pub st_size: i64,
        pub st_blksize: i64,
        /// In 512-byte units.
        pub st_blocks: i64,
        pub st_atime: u64,
        pub st_atime_nsec: u64,
        pub st_mtime: u64,
        pub st_mtime_nsec: u64,
        pub st_ctime: u64,
        pub st_ctime_nsec: u64,
        pub __unused: [i64; 3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layout() {
        assert_eq!(size_of::<Stat>(), 144);
        assert_eq!(offset_of!(Stat, st_nlink), 16);
        assert_eq!(offset_of!(Stat, st_mode), 24);
        assert_eq!(offset_of!(Stat, st_rdev), 40);
        assert_eq!(offset_of!(Stat, st_size), 48);
        assert_eq!(offset_of!(Stat, st_atime), 72);
        assert_eq!(offset_of!(Stat, st_mtime), 88);
        assert_eq!(offset_of!(Stat, st_ctime), 104);
    }

    #[test]
    fn file_types() {
        assert_eq!(
            FileType::from_mode(S_IFDIR | 0o755),
            Some(FileType::Directory)
        );
        assert_eq!(FileType::from_mode(0o644), None);
        assert_eq!(FileType::from_mode(0o170000), None);
        for kind in [
            FileType::Regular,
            FileType::Symlink,
            FileType::CharDevice,
            FileType::Fifo,
        ] {
            assert_eq!(FileType::from_mode(kind.mode_bits()), Some(kind));
        }
        assert_eq!(FileType::Directory.dirent_type(), 4);
    }

    #[test]
    fn device_numbers() {
        assert_eq!(encode_dev(1, 3), 0x103, "/dev/null");
        assert_eq!(encode_dev(5, 1), 0x501, "/dev/console");
        assert_eq!(decode_dev(encode_dev(259, 70000)), (259, 70000));
        assert_eq!(decode_dev(encode_dev(4095, 255)), (4095, 255));
    }
}
