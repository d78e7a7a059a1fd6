//! A strict reader for cpio "newc" archives: the initial ramdisk's format.
//!
//! The initrd the toolstack hands us is a cpio archive in the "new ASCII"
//! format (magic `070701`, or `070702` with a checksum of regular files),
//! as written by `cpio -H newc` and read by Linux's `init/initramfs.c`. It
//! is also what GNU cpio writes, hard links included (checked by hand
//! against GNU cpio 2.13 archives holding busybox). Each entry is a
//! 110-byte header of thirteen 8-digit hex fields, the NUL-terminated name
//! padded to a multiple of 4, then the data padded to a multiple of 4
//! (cpio(5), "New ASCII Format"). The entry named `TRAILER!!!` ends an
//! archive; as in Linux, zero padding and further archives may follow.
//!
//! The archive comes from outside the kernel, so it is treated as hostile:
//! every field is checked, every length bounded against the bytes that
//! remain, and any violation becomes a [`CpioError`] naming the field and
//! the offset of the offending header. The reader never panics. Names are
//! normalised into paths relative to the archive root: leading `/`, `.`
//! and empty components are dropped and `..` cannot climb above the root,
//! so no entry can escape it.
//!
//! Used by `vfs::Vfs::from_cpio`; [`ArchiveWriter`] builds archives for
//! tests.

use alloc::vec::Vec;
use core::fmt;

use linux_abi::limits::PATH_MAX;
use linux_abi::stat::{FileType, S_IFMT};

/// Size of a newc header.
pub const HEADER_LEN: usize = 110;
/// The name of the entry that ends an archive.
pub const TRAILER: &[u8] = b"TRAILER!!!";
const MAGIC_NEWC: &[u8; 6] = b"070701";
const MAGIC_CRC: &[u8; 6] = b"070702";

/// The header fields after the magic, in order.
const FIELDS: [&str; 13] = [
    "c_ino",
    "c_mode",
    "c_uid",
    "c_gid",
    "c_nlink",
    "c_mtime",
    "c_filesize",
    "c_devmajor",
    "c_devminor",
    "c_rdevmajor",
    "c_rdevminor",
    "c_namesize",
    "c_check",
];

/// What is wrong with an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioErrorKind {
    /// The header does not start with `070701` or `070702`.
    BadMagic([u8; 6]),
    /// A header field is not 8 hex digits.
    NotHex { field: &'static str },
    /// The archive ends inside `what` (header, name or data).
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// `c_namesize` is 0 or larger than `PATH_MAX`.
    BadNameSize(u32),
    /// The name's last byte is not NUL, or it holds a NUL before the end.
    BadNameTerminator,
    /// A `070702` regular file whose data does not sum to `c_check`.
    BadChecksum { expected: u32, computed: u32 },
    /// The data ended without a `TRAILER!!!` entry.
    MissingTrailer,
}

/// An archive error: what, and the offset of the entry's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpioError {
    pub offset: usize,
    pub kind: CpioErrorKind,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpio entry at offset {:#x}: ", self.offset)?;
        match self.kind {
            CpioErrorKind::BadMagic(found) => write!(
                f,
                "bad magic: expected \"070701\" or \"070702\" but got {:?}",
                found.escape_ascii()
            ),
            CpioErrorKind::NotHex { field } => write!(f, "{field} is not 8 hex digits"),
            CpioErrorKind::Truncated {
                what,
                needed,
                available,
            } => write!(f, "{what} needs {needed} bytes but only {available} remain"),
            CpioErrorKind::BadNameSize(size) => write!(
                f,
                "c_namesize is corrupt: expected 1 <= c_namesize <= {PATH_MAX} but got {size}"
            ),
            CpioErrorKind::BadNameTerminator => f.write_str("name is not a NUL-terminated string"),
            CpioErrorKind::BadChecksum { expected, computed } => write!(
                f,
                "data checksum is {computed:#010x} but c_check says {expected:#010x}"
            ),
            CpioErrorKind::MissingTrailer => f.write_str("archive ends without TRAILER!!!"),
        }
    }
}

impl core::error::Error for CpioError {}

/// One archive member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Offset of the entry's header in the archive.
    pub offset: usize,
    /// The name as stored, without its NUL.
    pub raw_name: &'a [u8],
    /// The normalised path relative to the root, components joined by
    /// `/`, no leading or trailing slash; empty for the root itself.
    pub path: Vec<u8>,
    pub ino: u32,
    /// File type and permission bits (`S_IF*` | `0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    /// Seconds since the epoch.
    pub mtime: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// File contents, or a symlink's target.
    pub data: &'a [u8],
}

impl<'a> Entry<'a> {
    /// The file type from `mode`; `None` for an invalid type.
    pub fn file_type(&self) -> Option<FileType> {
        FileType::from_mode(self.mode)
    }

    /// The target if this entry is a symbolic link.
    pub fn symlink_target(&self) -> Option<&'a [u8]> {
        (self.file_type() == Some(FileType::Symlink)).then_some(self.data)
    }

    /// Permission bits (`mode & 0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & !S_IFMT
    }
}

/// Normalises an archive name into a root-relative path (see the module
/// documentation); never yields `..`, `.`, or empty components.
pub fn normalize(name: &[u8]) -> Vec<u8> {
    let mut components: Vec<&[u8]> = Vec::new();
    for component in name.split(|&byte| byte == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                components.pop();
            }
            other => components.push(other),
        }
    }
    components.join(&b'/')
}

/// Iterates over the entries of an archive; stops after the first error.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    archive: &'a [u8],
    offset: usize,
    finished: bool,
}

/// Reads the entries of `archive`.
pub fn entries(archive: &[u8]) -> Reader<'_> {
    Reader {
        archive,
        offset: 0,
        finished: false,
    }
}

fn parse_hex(digits: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &digit in digits {
        let nibble = char::from(digit).to_digit(16)?;
        value = (value << 4) | nibble;
    }
    Some(value)
}

fn align4(offset: usize) -> Option<usize> {
    offset.checked_add(3).map(|end| end & !3)
}

impl<'a> Reader<'a> {
    fn error(
        &mut self,
        offset: usize,
        kind: CpioErrorKind,
    ) -> Option<Result<Entry<'a>, CpioError>> {
        self.finished = true;
        Some(Err(CpioError { offset, kind }))
    }

    /// Skips the zero padding between concatenated archives; true if more
    /// data follows.
    fn skip_padding(&mut self) -> bool {
        while self.archive.get(self.offset) == Some(&0) {
            self.offset += 1;
        }
        self.offset < self.archive.len()
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            let start = self.offset;
            let available = self.archive.len().saturating_sub(start);
            if available == 0 {
                return self.error(start, CpioErrorKind::MissingTrailer);
            }
            let Some(header) = self.archive.get(start..start + HEADER_LEN) else {
                return self.error(
                    start,
                    CpioErrorKind::Truncated {
                        what: "header",
                        needed: HEADER_LEN,
                        available,
                    },
                );
            };
            let magic: [u8; 6] = header[..6].try_into().expect("6 bytes");
            if &magic != MAGIC_NEWC && &magic != MAGIC_CRC {
                return self.error(start, CpioErrorKind::BadMagic(magic));
            }
            let mut values = [0u32; 13];
            for (index, field) in FIELDS.iter().enumerate() {
                let digits = &header[6 + index * 8..6 + index * 8 + 8];
                match parse_hex(digits) {
                    Some(value) => values[index] = value,
                    None => return self.error(start, CpioErrorKind::NotHex { field }),
                }
            }
            let [ino, mode, uid, gid, nlink, mtime, file_size, dev_major, dev_minor, rdev_major, rdev_minor, name_size, check] =
                values;

            if name_size == 0 || name_size as usize > PATH_MAX {
                return self.error(start, CpioErrorKind::BadNameSize(name_size));
            }
            let name_start = start + HEADER_LEN;
            let name_end = name_start + name_size as usize;
            let Some(name_with_nul) = self.archive.get(name_start..name_end) else {
                return self.error(
                    start,
                    CpioErrorKind::Truncated {
                        what: "name",
                        needed: name_size as usize,
                        available: self.archive.len() - name_start,
                    },
                );
            };
            let (raw_name, nul) = name_with_nul.split_at(name_with_nul.len() - 1);
            if nul != [0] || raw_name.contains(&0) {
                return self.error(start, CpioErrorKind::BadNameTerminator);
            }

            if raw_name == TRAILER {
                // The padding after the trailer may be cut off at the end.
                self.offset = align4(name_end)
                    .unwrap_or(usize::MAX)
                    .min(self.archive.len());
                if self.skip_padding() {
                    continue;
                }
                self.finished = true;
                return None;
            }

            let data_start = align4(name_end).expect("name_end is far below usize::MAX");
            let data_end = data_start.checked_add(file_size as usize);
            let Some(data) = data_end.and_then(|end| self.archive.get(data_start..end)) else {
                return self.error(
                    start,
                    CpioErrorKind::Truncated {
                        what: "data (c_filesize)",
                        needed: file_size as usize,
                        available: self.archive.len().saturating_sub(data_start),
                    },
                );
            };
            // GNU cpio sums only regular files; other types carry 0.
            if &magic == MAGIC_CRC && FileType::from_mode(mode) == Some(FileType::Regular) {
                let computed = data
                    .iter()
                    .fold(0u32, |sum, &byte| sum.wrapping_add(u32::from(byte)));
                if computed != check {
                    return self.error(
                        start,
                        CpioErrorKind::BadChecksum {
                            expected: check,
                            computed,
                        },
                    );
                }
            }
            // The last entry's padding may be cut off; the next read then
            // reports the missing trailer at the end of the data.
            self.offset = align4(data_start + data.len())
                .expect("in bounds of a slice")
                .min(self.archive.len());

            return Some(Ok(Entry {
                offset: start,
                raw_name,
                path: normalize(raw_name),
                ino,
                mode,
                uid,
                gid,
                nlink,
                mtime,
                dev_major,
                dev_minor,
                rdev_major,
                rdev_minor,
                data,
            }));
        }
    }
}

impl core::iter::FusedIterator for Reader<'_> {}

/// Builds newc archives (for tests and host tools).
#[derive(Clone, Debug, Default)]
pub struct ArchiveWriter {
    bytes: Vec<u8>,
    next_ino: u32,
}

/// The fields of one entry for [`ArchiveWriter::entry`].
#[derive(Clone, Copy, Debug, Default)]
pub struct EntryFields {
    /// 0: the writer assigns a fresh inode number.
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
}

impl ArchiveWriter {
    pub fn new() -> Self {
        ArchiveWriter {
            bytes: Vec::new(),
            next_ino: 1,
        }
    }

    fn pad(&mut self) {
        while self.bytes.len() % 4 != 0 {
            self.bytes.push(0);
        }
    }

    fn push_hex(&mut self, value: u32) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for shift in (0..8).rev() {
            self.bytes
                .push(DIGITS[((value >> (shift * 4)) & 0xf) as usize]);
        }
    }

    /// Appends an entry with explicit fields.
    pub fn entry(&mut self, name: &[u8], fields: EntryFields, data: &[u8]) -> &mut Self {
        let ino = if fields.ino == 0 {
            self.next_ino += 1;
            self.next_ino
        } else {
            fields.ino
        };
        self.bytes.extend_from_slice(MAGIC_NEWC);
        let name_size = u32::try_from(name.len() + 1).expect("test names are short");
        let file_size = u32::try_from(data.len()).expect("test data is small");
        for value in [
            ino,
            fields.mode,
            fields.uid,
            fields.gid,
            fields.nlink.max(1),
            fields.mtime,
            file_size,
            0,
            0,
            fields.rdev_major,
            fields.rdev_minor,
            name_size,
            0,
        ] {
            self.push_hex(value);
        }
        self.bytes.extend_from_slice(name);
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn file(&mut self, name: &str, permissions: u32, data: &[u8]) -> &mut Self {
        let fields = EntryFields {
            mode: linux_abi::stat::S_IFREG | permissions,
            ..EntryFields::default()
        };
        self.entry(name.as_bytes(), fields, data)
    }

    pub fn directory(&mut self, name: &str, permissions: u32) -> &mut Self {
        let fields = EntryFields {
            mode: linux_abi::stat::S_IFDIR | permissions,
            nlink: 2,
            ..EntryFields::default()
        };
        self.entry(name.as_bytes(), fields, &[])
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        let fields = EntryFields {
            mode: linux_abi::stat::S_IFLNK | 0o777,
            ..EntryFields::default()
        };
        self.entry(name.as_bytes(), fields, target.as_bytes())
    }

    pub fn char_device(
        &mut self,
        name: &str,
        permissions: u32,
        major: u32,
        minor: u32,
    ) -> &mut Self {
        let fields = EntryFields {
            mode: linux_abi::stat::S_IFCHR | permissions,
            rdev_major: major,
            rdev_minor: minor,
            ..EntryFields::default()
        };
        self.entry(name.as_bytes(), fields, &[])
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(&mut self) -> Vec<u8> {
        self.entry(TRAILER, EntryFields::default(), &[]);
        core::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_abi::stat::{S_IFDIR, S_IFREG};
    use std::format;
    use std::string::String;

    fn sample() -> Vec<u8> {
        ArchiveWriter::new()
            .directory(".", 0o755)
            .directory("bin", 0o755)
            .file("bin/busybox", 0o755, b"\x7fELF pretend")
            .symlink("bin/sh", "busybox")
            .file("etc/motd", 0o644, b"hello\n")
            .char_device("dev/console", 0o600, 5, 1)
            .finish()
    }

    fn collect(archive: &[u8]) -> Result<Vec<Entry<'_>>, CpioError> {
        entries(archive).collect()
    }

    #[test]
    fn reads_a_valid_archive() {
        let archive = sample();
        let entries = collect(&archive).unwrap();
        let paths: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8(e.path.clone()).unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "",
                "bin",
                "bin/busybox",
                "bin/sh",
                "etc/motd",
                "dev/console"
            ]
        );
        assert_eq!(entries[0].mode, S_IFDIR | 0o755);
        assert_eq!(entries[2].data, b"\x7fELF pretend");
        assert_eq!(entries[2].file_type(), Some(FileType::Regular));
        assert_eq!(entries[3].symlink_target(), Some(&b"busybox"[..]));
        assert_eq!(entries[2].symlink_target(), None);
        assert_eq!(entries[4].mode, S_IFREG | 0o644);
        assert_eq!(entries[4].permissions(), 0o644);
        assert_eq!((entries[5].rdev_major, entries[5].rdev_minor), (5, 1));
        assert_eq!(entries[0].offset, 0);
        assert_eq!(entries[1].offset % 4, 0);
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalize(b"/etc/passwd"), b"etc/passwd");
        assert_eq!(normalize(b"./a//b/./c/"), b"a/b/c");
        assert_eq!(normalize(b"../../etc/shadow"), b"etc/shadow");
        assert_eq!(normalize(b"a/b/../../../x"), b"x");
        assert_eq!(normalize(b"."), b"");
        assert_eq!(normalize(b"/"), b"");
        assert_eq!(normalize(b"a/.../b"), b"a/.../b", "only `..` is special");
    }

    #[test]
    fn headers_accept_upper_case_hex() {
        let mut archive = ArchiveWriter::new().file("x", 0o644, b"abc").finish();
        // c_mode lives at 6 + 8: rewrite "000081a4" as "000081A4".
        archive[6 + 8..6 + 16].copy_from_slice(b"000081A4");
        assert_eq!(collect(&archive).unwrap()[0].mode, 0o100644);
    }

    #[test]
    fn bad_magic_names_the_offset() {
        let mut archive = sample();
        archive[0] = b'1';
        let error = collect(&archive).unwrap_err();
        assert_eq!(
            error,
            CpioError {
                offset: 0,
                kind: CpioErrorKind::BadMagic(*b"170701")
            }
        );
        assert!(format!("{error}").contains("bad magic"));
        let second = collect(&archive[..0]).unwrap_err();
        assert_eq!(second.kind, CpioErrorKind::MissingTrailer);
    }

    #[test]
    fn non_hex_fields_are_named() {
        let mut archive = sample();
        archive[6 + 6 * 8 + 3] = b'g'; // c_filesize
        let error = collect(&archive).unwrap_err();
        assert_eq!(
            error.kind,
            CpioErrorKind::NotHex {
                field: "c_filesize"
            }
        );
        assert_eq!(
            format!("{error}"),
            "cpio entry at offset 0x0: c_filesize is not 8 hex digits"
        );
        let mut archive = sample();
        archive[6 + 11 * 8] = b' '; // c_namesize
        assert_eq!(
            collect(&archive).unwrap_err().kind,
            CpioErrorKind::NotHex {
                field: "c_namesize"
            }
        );
    }

    #[test]
    fn truncation_anywhere_is_an_error() {
        let archive = sample();
        // The trailer's name ends 1..=4 bytes before the end (its padding).
        let trailer_name_end = archive.len() - 4 + (HEADER_LEN + TRAILER.len() + 1) % 4;
        for cut in 0..archive.len() {
            let result = collect(&archive[..cut]);
            if cut < trailer_name_end {
                assert!(result.is_err(), "cut at {cut} accepted");
            } else {
                assert!(result.is_ok(), "cut in the final padding at {cut} rejected");
            }
        }
        assert!(collect(&archive).is_ok());
    }

    #[test]
    fn data_past_the_end() {
        let mut archive = ArchiveWriter::new().file("x", 0o644, b"abc").finish();
        archive[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"ffffffff");
        let error = collect(&archive).unwrap_err();
        assert!(matches!(
            error.kind,
            CpioErrorKind::Truncated {
                what: "data (c_filesize)",
                needed: 0xffff_ffff,
                ..
            }
        ));
    }

    #[test]
    fn name_size_and_terminator() {
        let mut archive = ArchiveWriter::new().file("abc", 0o644, b"").finish();
        archive[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00000000");
        assert_eq!(
            collect(&archive).unwrap_err().kind,
            CpioErrorKind::BadNameSize(0)
        );
        archive[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00001001");
        assert_eq!(
            collect(&archive).unwrap_err().kind,
            CpioErrorKind::BadNameSize(4097)
        );
        // Claim 3 bytes: "abc" without its NUL.
        archive[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00000003");
        assert_eq!(
            collect(&archive).unwrap_err().kind,
            CpioErrorKind::BadNameTerminator
        );
        let mut embedded = ArchiveWriter::new().file("abc", 0o644, b"").finish();
        embedded[HEADER_LEN + 1] = 0;
        assert_eq!(
            collect(&embedded).unwrap_err().kind,
            CpioErrorKind::BadNameTerminator
        );
    }

    #[test]
    fn missing_trailer() {
        let mut writer = ArchiveWriter::new();
        writer.file("x", 0o644, b"data");
        let archive = writer.bytes.clone();
        let mut reader = entries(&archive);
        assert!(reader.next().unwrap().is_ok());
        let error = reader.next().unwrap().unwrap_err();
        assert_eq!(error.kind, CpioErrorKind::MissingTrailer);
        assert_eq!(reader.next(), None, "fused after an error");
    }

    #[test]
    fn concatenated_archives_and_padding() {
        let mut archive = ArchiveWriter::new().file("a", 0o644, b"1").finish();
        archive.extend_from_slice(&[0; 512]);
        archive.extend(ArchiveWriter::new().file("b", 0o644, b"2").finish());
        archive.extend_from_slice(&[0; 3]);
        let names: Vec<Vec<u8>> = collect(&archive)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(names, [b"a".to_vec(), b"b".to_vec()]);
        let mut junk = ArchiveWriter::new().file("a", 0o644, b"1").finish();
        junk.extend_from_slice(b"junk");
        assert!(matches!(
            collect(&junk).unwrap_err().kind,
            CpioErrorKind::Truncated { .. }
        ));
    }

    #[test]
    fn crc_format_checks_the_sum() {
        let mut archive = ArchiveWriter::new()
            .file("x", 0o644, b"\x01\x02\x03")
            .finish();
        archive[..6].copy_from_slice(MAGIC_CRC);
        let error = collect(&archive).unwrap_err();
        assert_eq!(
            error.kind,
            CpioErrorKind::BadChecksum {
                expected: 0,
                computed: 6
            }
        );
        archive[6 + 12 * 8..6 + 13 * 8].copy_from_slice(b"00000006");
        assert_eq!(collect(&archive).unwrap()[0].data, b"\x01\x02\x03");
        // GNU cpio writes c_check 0 for everything but regular files.
        let mut link = ArchiveWriter::new().symlink("sh", "busybox").finish();
        link[..6].copy_from_slice(MAGIC_CRC);
        assert_eq!(
            collect(&link).unwrap()[0].symlink_target(),
            Some(&b"busybox"[..])
        );
    }

    #[test]
    fn seeded_mutations_never_panic() {
        let original = sample();
        let mut state = 0x0123_4567_89ab_cdefu64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let hex = b"0123456789abcdefABCDEFxyz \0";
        let (mut accepted, mut rejected) = (0, 0);
        for _ in 0..20_000 {
            let mut archive = original.clone();
            for _ in 0..1 + next() % 4 {
                let position = (next() as usize) % archive.len().max(1);
                match next() % 6 {
                    0 => archive[position] = next() as u8,
                    1 => archive[position] = hex[(next() as usize) % hex.len()],
                    2 => archive.truncate(position),
                    3 => archive.insert(position, next() as u8),
                    4 => {
                        if position < archive.len() {
                            archive.remove(position);
                        }
                    }
                    _ => {
                        // Rewrite a whole header field with random hex.
                        let field = position / 8 * 8 + 6;
                        for offset in field..(field + 8).min(archive.len()) {
                            archive[offset] = b"0123456789abcdef"[(next() % 16) as usize];
                        }
                    }
                }
                if archive.is_empty() {
                    break;
                }
            }
            match collect(&archive) {
                Ok(found) => {
                    accepted += 1;
                    for entry in found {
                        let base = archive.as_ptr() as usize;
                        let data = entry.data.as_ptr() as usize;
                        assert!(data >= base && data + entry.data.len() <= base + archive.len());
                        assert!(!entry.path.starts_with(b"/"));
                        for component in entry.path.split(|&b| b == b'/') {
                            assert!(entry.path.is_empty() || !component.is_empty());
                            assert_ne!(component, b"..");
                            assert_ne!(component, b".");
                        }
                    }
                }
                Err(error) => {
                    rejected += 1;
                    assert!(error.offset <= archive.len());
                    let _ = format!("{error}");
                }
            }
        }
        assert!(
            accepted > 100 && rejected > 100,
            "accepted {accepted}, rejected {rejected}"
        );
    }
}
