//! A writer for `newc` cpio archives, the format Linux unpacks as initramfs.
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex
//! fields: inode, mode, uid, gid, nlink, mtime, size, device and rdev
//! numbers, name size, checksum), the NUL-terminated name padded to 4
//! bytes, and the data padded to 4 bytes; a `TRAILER!!!` entry ends the
//! archive (`Documentation/driver-api/early-userspace/buffer-format.rst`).
//! Linux unpacks several archives laid end to end, later entries
//! overwriting earlier ones, which is how a per-test overlay is added to a
//! cached base image without rewriting it.
//!
//! Every file is written with `nlink = 1` and its own inode number (hard
//! links become copies), modification time 0, and parents before children
//! (Linux's unpacker does not create missing parent directories, so
//! [`CpioWriter`] adds them).

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The file type bits of `st_mode`.
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// The name of the entry that ends an archive.
const TRAILER: &str = "TRAILER!!!";

/// Writes a `newc` archive entry by entry.
pub struct CpioWriter<W: Write> {
    out: W,
    next_inode: u32,
    written: u64,
    directories: BTreeSet<String>,
}

impl<W: Write> CpioWriter<W> {
    /// Starts an archive on `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        CpioWriter {
            out,
            next_inode: 1,
            written: 0,
            directories: BTreeSet::new(),
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Adds a directory with permission bits `mode` (and its parents).
    pub fn directory(&mut self, path: &str, mode: u32) -> io::Result<()> {
        let name = entry_name(path)?;
        if self.directories.contains(&name) {
            return Ok(());
        }
        self.parents(&name)?;
        self.header(&name, S_IFDIR | (mode & 0o7777), 0, 0, 0, (0, 0))?;
        self.directories.insert(name);
        Ok(())
    }

    /// Adds a regular file holding `data`.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.file_from_reader(path, mode, data.len() as u64, data)
    }

    /// Adds a regular file of `size` bytes read from `reader`.
    pub fn file_from_reader(
        &mut self,
        path: &str,
        mode: u32,
        size: u64,
        reader: impl Read,
    ) -> io::Result<()> {
        let name = entry_name(path)?;
        self.parents(&name)?;
        self.regular(&name, S_IFREG | (mode & 0o7777), 0, 0, size, reader)
    }

    /// Adds a symbolic link to `target`.
    pub fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        let name = entry_name(path)?;
        self.parents(&name)?;
        self.regular(
            &name,
            S_IFLNK | 0o777,
            0,
            0,
            target.len() as u64,
            target.as_bytes(),
        )
    }

    /// Adds a character device node.
    pub fn char_device(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> io::Result<()> {
        let name = entry_name(path)?;
        self.parents(&name)?;
        self.header(&name, S_IFCHR | (mode & 0o7777), 0, 0, 0, (major, minor))
    }

    /// Adds everything below the host directory `root` under `prefix`
    /// (`""` for the archive's root), in name order, keeping modes and
    /// owners. `skip` gets each path relative to `root` (`usr/share/doc`)
    /// and leaves it (and, for a directory, its contents) out when it
    /// returns true.
    pub fn tree(
        &mut self,
        root: &Path,
        prefix: &str,
        skip: &dyn Fn(&str) -> bool,
    ) -> io::Result<()> {
        self.tree_below(root, "", prefix, skip)
    }

    fn tree_below(
        &mut self,
        dir: &Path,
        relative: &str,
        prefix: &str,
        skip: &dyn Fn(&str) -> bool,
    ) -> io::Result<()> {
        let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let file_name = entry.file_name();
            let file_name = file_name.to_str().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: name is not UTF-8", entry.path().display()),
                )
            })?;
            let relative = if relative.is_empty() {
                file_name.to_owned()
            } else {
                format!("{relative}/{file_name}")
            };
            if skip(&relative) {
                continue;
            }
            let name = if prefix.trim_matches('/').is_empty() {
                relative.clone()
            } else {
                format!("{}/{relative}", prefix.trim_matches('/'))
            };
            let path = entry.path();
            let metadata = fs::symlink_metadata(&path)?;
            let file_type = metadata.file_type();
            let (uid, gid) = (metadata.uid(), metadata.gid());
            if file_type.is_dir() {
                let name = entry_name(&name)?;
                self.parents(&name)?;
                if !self.directories.contains(&name) {
                    self.header(
                        &name,
                        S_IFDIR | (metadata.mode() & 0o7777),
                        uid,
                        gid,
                        0,
                        (0, 0),
                    )?;
                    self.directories.insert(name);
                }
                self.tree_below(&path, &relative, prefix, skip)?;
            } else if file_type.is_symlink() {
                let target = fs::read_link(&path)?;
                let target = target.to_str().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: link target is not UTF-8", path.display()),
                    )
                })?;
                let name = entry_name(&name)?;
                self.parents(&name)?;
                self.regular(
                    &name,
                    S_IFLNK | 0o777,
                    uid,
                    gid,
                    target.len() as u64,
                    target.as_bytes(),
                )?;
            } else if file_type.is_file() {
                let name = entry_name(&name)?;
                self.parents(&name)?;
                let file = fs::File::open(&path)?;
                self.regular(&name, metadata.mode(), uid, gid, metadata.len(), file)?;
            } else if file_type.is_char_device()
                || file_type.is_block_device()
                || file_type.is_fifo()
            {
                let name = entry_name(&name)?;
                self.parents(&name)?;
                let device = metadata.rdev();
                let major = ((device >> 8) & 0xfff) | ((device >> 32) & !0xfff);
                let minor = (device & 0xff) | ((device >> 12) & !0xff);
                let rdev = (
                    u32::try_from(major).unwrap_or(0),
                    u32::try_from(minor).unwrap_or(0),
                );
                self.header(&name, metadata.mode(), uid, gid, 0, rdev)?;
            }
            // Sockets cannot be archived meaningfully: left out.
        }
        Ok(())
    }

    /// Ends the archive with its trailer, padded to a 512-byte block, and
    /// returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_entry_header(TRAILER, 0, 0, 0, 0, 0, (0, 0), 1)?;
        let padding = (512 - self.written % 512) % 512;
        self.put(&vec![0; padding as usize])?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Adds the missing parent directories of `name` (mode 0755).
    fn parents(&mut self, name: &str) -> io::Result<()> {
        let mut end = 0;
        while let Some(offset) = name[end..].find('/') {
            end += offset;
            let parent = &name[..end];
            if !self.directories.contains(parent) {
                self.header(parent, S_IFDIR | 0o755, 0, 0, 0, (0, 0))?;
                self.directories.insert(parent.to_owned());
            }
            end += 1;
        }
        Ok(())
    }

    /// An entry without data.
    fn header(
        &mut self,
        name: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        size: u64,
        rdev: (u32, u32),
    ) -> io::Result<()> {
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        let inode = self.next_inode;
        self.next_inode += 1;
        self.write_entry_header(name, inode, mode, uid, gid, size, rdev, nlink)
    }

    /// An entry with `size` bytes of data from `reader`.
    fn regular(
        &mut self,
        name: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        size: u64,
        reader: impl Read,
    ) -> io::Result<()> {
        self.header(name, mode, uid, gid, size, (0, 0))?;
        let copied = io::copy(&mut reader.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{name}: expected {size} bytes, read {copied}"),
            ));
        }
        self.written += size;
        self.pad()
    }

    #[allow(clippy::too_many_arguments)]
    fn write_entry_header(
        &mut self,
        name: &str,
        inode: u32,
        mode: u32,
        uid: u32,
        gid: u32,
        size: u64,
        (rdev_major, rdev_minor): (u32, u32),
        nlink: u32,
    ) -> io::Result<()> {
        let size = u32::try_from(size).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}: newc cpio cannot hold files of 4 GiB or more"),
            )
        })?;
        let name_size = name.len() + 1;
        let header = format!(
            "070701{inode:08X}{mode:08X}{uid:08X}{gid:08X}{nlink:08X}{mtime:08X}{size:08X}\
             {major:08X}{minor:08X}{rdev_major:08X}{rdev_minor:08X}{name_size:08X}{check:08X}",
            mtime = 0,
            major = 0,
            minor = 0,
            check = 0,
        );
        self.put(header.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Pads the output to a multiple of 4 bytes.
    fn pad(&mut self) -> io::Result<()> {
        let padding = (4 - self.written % 4) % 4;
        self.put(&[0; 3][..padding as usize])
    }
}

/// An archive path: relative, `/`-separated, no empty, `.` or `..` parts.
fn entry_name(path: &str) -> io::Result<String> {
    let trimmed = path.trim_matches('/');
    let bad = trimmed.is_empty()
        || trimmed
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        || trimmed.contains('\0');
    if bad {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{path:?} is not a usable archive path"),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed entry: name, mode, rdev, data.
    type Entry = (String, u32, (u32, u32), Vec<u8>);

    /// A minimal newc reader, strict about alignment and the trailer.
    fn parse(mut bytes: &[u8]) -> Vec<Entry> {
        let total = bytes.len();
        let mut entries = Vec::new();
        loop {
            let offset = total - bytes.len();
            assert_eq!(offset % 4, 0, "entry at unaligned offset {offset}");
            assert_eq!(&bytes[..6], b"070701", "bad magic at {offset}");
            let field = |index: usize| {
                let text = std::str::from_utf8(&bytes[6 + 8 * index..14 + 8 * index]).unwrap();
                u32::from_str_radix(text, 16).unwrap()
            };
            let (mode, size, name_size) = (field(1), field(6) as usize, field(11) as usize);
            let rdev = (field(9), field(10));
            let name = std::str::from_utf8(&bytes[110..110 + name_size - 1])
                .unwrap()
                .to_owned();
            assert_eq!(bytes[110 + name_size - 1], 0);
            let data_start = (110 + name_size).div_ceil(4) * 4;
            let data = bytes[data_start..data_start + size].to_vec();
            bytes = &bytes[(data_start + size).div_ceil(4) * 4..];
            if name == TRAILER {
                assert!(bytes.iter().all(|&byte| byte == 0));
                assert_eq!(total % 512, 0);
                return entries;
            }
            entries.push((name, mode, rdev, data));
        }
    }

    #[test]
    fn entries_round_trip_with_parents_first() {
        let mut writer = CpioWriter::new(Vec::new());
        writer
            .file("/test/sub/run.sh", 0o755, b"echo hi\n")
            .unwrap();
        writer.symlink("bin/sh", "busybox").unwrap();
        writer.directory("test", 0o700).unwrap();
        writer.char_device("dev/console", 0o600, 5, 1).unwrap();
        writer.file("empty", 0o644, b"").unwrap();
        let bytes = writer.finish().unwrap();
        let entries = parse(&bytes);
        let names: Vec<&str> = entries.iter().map(|entry| entry.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "test",
                "test/sub",
                "test/sub/run.sh",
                "bin",
                "bin/sh",
                "dev",
                "dev/console",
                "empty"
            ]
        );
        assert_eq!(entries[2].1, 0o100_755);
        assert_eq!(entries[2].3, b"echo hi\n");
        assert_eq!(entries[4].1, 0o120_777);
        assert_eq!(entries[4].3, b"busybox");
        assert_eq!(entries[6].1, 0o020_600);
        assert_eq!(entries[6].2, (5, 1));
        assert_eq!(entries[7].3, b"");
    }

    #[test]
    fn bad_paths_are_rejected() {
        let mut writer = CpioWriter::new(Vec::new());
        for bad in ["", "/", "a/../b", "a//b", "./a"] {
            assert!(writer.file(bad, 0o644, b"").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_host_tree_is_archived_in_order_with_skips() {
        let root = std::env::temp_dir().join(format!("xenrs-cpio-test-{}", std::process::id()));
        let _ignored = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("usr/share/doc/x")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("etc/b"), "bee").unwrap();
        fs::write(root.join("etc/a"), "a").unwrap();
        fs::write(root.join("usr/share/doc/x/README"), "skip me").unwrap();
        std::os::unix::fs::symlink("etc/a", root.join("link")).unwrap();
        let mut writer = CpioWriter::new(Vec::new());
        writer
            .tree(&root, "", &|path: &str| path == "usr/share/doc")
            .unwrap();
        writer.file("etc/c", 0o600, b"c").unwrap();
        let bytes = writer.finish().unwrap();
        fs::remove_dir_all(&root).unwrap();
        let entries = parse(&bytes);
        let names: Vec<&str> = entries.iter().map(|entry| entry.0.as_str()).collect();
        assert_eq!(
            names,
            ["etc", "etc/a", "etc/b", "link", "usr", "usr/share", "etc/c"]
        );
        assert_eq!(entries[2].3, b"bee");
        assert_eq!(entries[3].3, b"etc/a");
    }
}
