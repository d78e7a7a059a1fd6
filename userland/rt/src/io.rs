//! Files and formatted output: [`File`], [`read_dir`], `print!` & co.
//!
//! Output is unbuffered between macro calls: each `println!` formats into
//! a 1 KiB stack buffer and writes it with as few `write`s as possible (one
//! for a short line), so lines from several processes sharing a pipe or
//! the console do not interleave mid-line, and nothing is lost at exit.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use linux_abi::stat::{FileType, Stat};
use linux_abi::Errno;
use userland_core::abi::{DirentIter, OpenFlags};

use crate::sys::{self, Fd};

/// A `fmt::Write` that collects output in a stack buffer and writes it to
/// a descriptor when full and when flushed.
pub struct FdWriter {
    fd: Fd,
    buffer: [u8; 1024],
    len: usize,
    /// The first write error, if any (later output is dropped).
    pub error: Option<Errno>,
}

impl FdWriter {
    /// A writer to `fd`.
    pub fn new(fd: Fd) -> Self {
        FdWriter {
            fd,
            buffer: [0; 1024],
            len: 0,
            error: None,
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> Result<(), Errno> {
        if self.error.is_none() && self.len > 0 {
            if let Err(error) = sys::write_all(self.fd, &self.buffer[..self.len]) {
                self.error = Some(error);
            }
        }
        self.len = 0;
        self.error.map_or(Ok(()), Err)
    }

    /// Adds raw bytes.
    pub fn write_bytes(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.len == self.buffer.len() {
                let _ = self.flush();
            }
            let room = self.buffer.len() - self.len;
            let take = room.min(bytes.len());
            self.buffer[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
        }
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.write_bytes(text.as_bytes());
        Ok(())
    }
}

/// Used by `print!` and `eprint!`.
#[doc(hidden)]
pub fn _print(fd: Fd, args: fmt::Arguments<'_>, newline: bool) {
    let mut writer = FdWriter::new(fd);
    let _ = fmt::Write::write_fmt(&mut writer, args);
    if newline {
        writer.write_bytes(b"\n");
    }
    // Like Rust's std, output errors of print! (a closed pipe) are not
    // reported; a broken pipe normally ends the process with SIGPIPE.
    let _ = writer.flush();
}

/// Prints to standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::Fd::STDOUT, format_args!($($arg)*), false)
    };
}

/// Prints a line to standard output.
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print($crate::Fd::STDOUT, format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_print($crate::Fd::STDOUT, format_args!($($arg)*), true)
    };
}

/// Prints to standard error.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::Fd::STDERR, format_args!($($arg)*), false)
    };
}

/// Prints a line to standard error.
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::io::_print($crate::Fd::STDERR, format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_print($crate::Fd::STDERR, format_args!($($arg)*), true)
    };
}

/// An open file, closed on drop.
#[derive(Debug)]
pub struct File {
    fd: Fd,
}

impl File {
    /// Opens `path` for reading.
    pub fn open(path: impl AsRef<[u8]>) -> Result<File, Errno> {
        Self::open_with(path, OpenFlags::READ_ONLY, 0)
    }

    /// Opens `path` with `flags`, creating it with `mode` if asked.
    pub fn open_with(path: impl AsRef<[u8]>, flags: OpenFlags, mode: u32) -> Result<File, Errno> {
        sys::open(path, flags, mode).map(|fd| File { fd })
    }

    /// The descriptor (still owned by the file).
    pub fn fd(&self) -> Fd {
        self.fd
    }

    /// Gives up ownership: the descriptor stays open.
    pub fn into_fd(self) -> Fd {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }

    /// Reads into `buffer`; 0 at the end.
    pub fn read(&mut self, buffer: &mut [u8]) -> Result<usize, Errno> {
        sys::read(self.fd, buffer)
    }

    /// Appends everything up to the end to `out`; returns the bytes read.
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize, Errno> {
        read_fd_to_end(self.fd, out)
    }

    /// `fstat`.
    pub fn stat(&self) -> Result<Stat, Errno> {
        sys::fstat(self.fd)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // An error on close of a file we only read changes nothing.
        let _ = sys::close(self.fd);
    }
}

/// Appends what `fd` yields up to its end to `out`; returns the count.
pub fn read_fd_to_end(fd: Fd, out: &mut Vec<u8>) -> Result<usize, Errno> {
    let start = out.len();
    let mut chunk = [0u8; 4096];
    loop {
        match sys::read(fd, &mut chunk) {
            Ok(0) => return Ok(out.len() - start),
            Ok(count) => out.extend_from_slice(&chunk[..count]),
            Err(Errno::EINTR) => {}
            Err(error) => return Err(error),
        }
    }
}

/// The whole contents of the file at `path`.
pub fn read_file(path: impl AsRef<[u8]>) -> Result<Vec<u8>, Errno> {
    let mut contents = Vec::new();
    File::open(path)?.read_to_end(&mut contents)?;
    Ok(contents)
}

/// The file at `path` as text (invalid UTF-8 replaced).
pub fn read_file_string(path: impl AsRef<[u8]>) -> Result<String, Errno> {
    let bytes = read_file(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}

/// One entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: Vec<u8>,
    /// `None` if the kernel did not say (`DT_UNKNOWN`).
    pub file_type: Option<FileType>,
    pub inode: u64,
}

/// Every entry of the directory at `path` (including `.` and `..`), in
/// the kernel's order.
pub fn read_dir(path: impl AsRef<[u8]>) -> Result<Vec<DirEntry>, Errno> {
    let directory = File::open_with(path, OpenFlags::READ_ONLY | OpenFlags::DIRECTORY, 0)?;
    let mut entries = Vec::new();
    let mut buffer = alloc::vec![0u8; 8192];
    loop {
        let filled = sys::getdents64(directory.fd(), &mut buffer)?;
        if filled == 0 {
            return Ok(entries);
        }
        for entry in DirentIter::new(&buffer[..filled]) {
            // A corrupt record from the kernel is an I/O error to us.
            let entry = entry.map_err(|_| Errno::EIO)?;
            entries.push(DirEntry {
                name: entry.name.to_vec(),
                file_type: entry.file_type,
                inode: entry.inode,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn files_read_whole_and_directories_list() {
        let dir = std::env::temp_dir().join(std::format!("userland-rt-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        std::fs::write(dir.join("big"), &big).unwrap();
        std::fs::write(dir.join("text"), b"a\xffb").unwrap();
        let path = |name: &str| std::string::String::from(dir.join(name).to_str().unwrap());
        assert_eq!(read_file(path("big")).unwrap(), big);
        assert_eq!(read_file_string(path("text")).unwrap(), "a\u{fffd}b");
        assert_eq!(read_file(path("missing")), Err(Errno::ENOENT));
        let mut names: Vec<Vec<u8>> = read_dir(path(""))
            .unwrap()
            .into_iter()
            .map(|entry| entry.name)
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                b".".to_vec(),
                b"..".to_vec(),
                b"big".to_vec(),
                b"text".to_vec()
            ]
        );
        assert_eq!(read_dir(path("big")), Err(Errno::ENOTDIR));
        let file = File::open(path("big")).unwrap();
        assert_eq!(file.stat().unwrap().st_size, 10_000);
        let fd = file.into_fd();
        sys::close(fd).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writers_flush_in_buffer_sized_pieces() {
        let (reader, writer_fd) = sys::pipe2(OpenFlags::default()).unwrap();
        let mut writer = FdWriter::new(writer_fd);
        for _ in 0..300 {
            write!(writer, "0123456789").unwrap();
        }
        writer.flush().unwrap();
        sys::close(writer_fd).unwrap();
        let mut out = Vec::new();
        assert_eq!(read_fd_to_end(reader, &mut out), Ok(3000));
        assert!(out.chunks(10).all(|chunk| chunk == b"0123456789"));
        sys::close(reader).unwrap();
    }
}
