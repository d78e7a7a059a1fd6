//! The buffer behind a pipe: a bounded byte ring with reader/writer counts.
//!
//! pipe(7) semantics, decided here and carried out by the kernel (which
//! blocks the caller, wakes waiters and sends `SIGPIPE`):
//!
//! * `read` returns available bytes (up to the request), `0` at end of file
//!   (empty and no writer left), or [`PipeError::WouldBlock`] when empty
//!   with a writer still open.
//! * `write` with no reader left fails with [`PipeError::BrokenPipe`]
//!   (`EPIPE`; the kernel also raises `SIGPIPE`). Otherwise it copies what
//!   fits: a write of at most `PIPE_BUF` (4096) bytes is atomic — all or
//!   nothing — while a larger one may be partial. Nothing fits:
//!   `WouldBlock`. A blocking writer loops until all is written.
//! * readiness for `poll`: the read end is readable with data, hung up with
//!   no writer; the write end is writable with room for `PIPE_BUF` bytes
//!   (or any room, for big buffers), in error with no reader.
//!
//! Capacity is 64 KiB by default, as on Linux, but the ring grows only as
//! data is written (4 KiB, then doubling): a thousand idle pipes cost
//! nothing, and a growth the kernel cannot afford is not fatal — the
//! writer waits for the reader, or gets [`PipeError::NoMemory`] when the
//! pipe holds nothing at all.

use alloc::vec::Vec;
use core::fmt;

use linux_abi::limits::PIPE_BUF;
use linux_abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use linux_abi::Errno;

/// Linux's default pipe capacity (16 pages).
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// Why a pipe operation did not transfer data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeError {
    /// Nothing to read yet, or no room to write: the caller blocks (or
    /// returns `EAGAIN` under `O_NONBLOCK`).
    WouldBlock,
    /// Writing with no reader left: `EPIPE` plus `SIGPIPE`.
    BrokenPipe,
    /// The (empty) pipe could not get memory for its buffer: `ENOMEM`.
    NoMemory,
}

impl PipeError {
    pub const fn errno(self) -> Errno {
        match self {
            PipeError::WouldBlock => Errno::EAGAIN,
            PipeError::BrokenPipe => Errno::EPIPE,
            PipeError::NoMemory => Errno::ENOMEM,
        }
    }
}

impl fmt::Display for PipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipeError::WouldBlock => f.write_str("pipe would block"),
            PipeError::BrokenPipe => f.write_str("pipe has no reader"),
            PipeError::NoMemory => f.write_str("no memory for the pipe's buffer"),
        }
    }
}

impl core::error::Error for PipeError {}

/// Which end of the pipe a caller holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Read,
    Write,
}

/// A pipe's buffer and the count of open ends.
#[derive(Debug)]
pub struct Pipe {
    /// The ring as allocated so far (grows up to `limit`).
    ring: Vec<u8>,
    /// The pipe's capacity (`F_GETPIPE_SZ`).
    limit: usize,
    /// Index of the oldest byte.
    head: usize,
    /// Bytes stored.
    len: usize,
    readers: u32,
    writers: u32,
}

impl Default for Pipe {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipe {
    /// A pipe with one reader and one writer, as `pipe2` creates it.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A pipe of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Pipe {
            ring: Vec::new(),
            limit: capacity.max(1),
            head: 0,
            len: 0,
            readers: 1,
            writers: 1,
        }
    }

    pub fn capacity(&self) -> usize {
        self.limit
    }

    /// Bytes of buffer allocated now.
    pub fn allocated(&self) -> usize {
        self.ring.len()
    }

    /// Grows the ring so `extra` more bytes fit, if memory allows; the
    /// data is moved to the start of the new ring.
    fn grow_for(&mut self, extra: usize) {
        let wanted = (self.len + extra).min(self.limit);
        if wanted <= self.ring.len() {
            return;
        }
        let size = wanted
            .max(self.ring.len() * 2)
            .max(4096)
            .next_power_of_two()
            .min(self.limit);
        let mut ring = Vec::new();
        if ring.try_reserve_exact(size).is_err() {
            return;
        }
        ring.resize(size, 0);
        let physical = self.ring.len();
        for (i, byte) in ring.iter_mut().take(self.len).enumerate() {
            *byte = self.ring[(self.head + i) % physical];
        }
        self.ring = ring;
        self.head = 0;
    }

    /// Bytes waiting to be read (`FIONREAD`).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    pub fn readers(&self) -> u32 {
        self.readers
    }

    pub fn writers(&self) -> u32 {
        self.writers
    }

    /// Another descriptor refers to `end` (dup, fork, open of a FIFO).
    pub fn open_end(&mut self, end: End) {
        match end {
            End::Read => self.readers += 1,
            End::Write => self.writers += 1,
        }
    }

    /// A descriptor for `end` was closed. Returns true when both ends are
    /// gone and the pipe can be freed. Closing an end that has no opener
    /// left is a kernel bug; it is ignored rather than wrapping.
    pub fn close_end(&mut self, end: End) -> bool {
        match end {
            End::Read => self.readers = self.readers.saturating_sub(1),
            End::Write => self.writers = self.writers.saturating_sub(1),
        }
        self.readers == 0 && self.writers == 0
    }

    /// Moves up to `out.len()` bytes out. `Ok(0)` means end of file (or an
    /// empty request).
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, PipeError> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.len == 0 {
            return if self.writers == 0 {
                Ok(0)
            } else {
                Err(PipeError::WouldBlock)
            };
        }
        let count = out.len().min(self.len);
        let physical = self.ring.len();
        let first = count.min(physical - self.head);
        out[..first].copy_from_slice(&self.ring[self.head..self.head + first]);
        out[first..count].copy_from_slice(&self.ring[..count - first]);
        self.head = (self.head + count) % physical;
        self.len -= count;
        if self.len == 0 {
            // Keep the data contiguous for the common write-then-read case.
            self.head = 0;
        }
        Ok(count)
    }

    /// Copies as much of `data` in as the rules allow; returns the count.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, PipeError> {
        if self.readers == 0 {
            return Err(PipeError::BrokenPipe);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let free = self.free();
        // Small writes are all or nothing (a write larger than the whole
        // pipe cannot be, and goes in parts).
        let atomic = data.len() <= PIPE_BUF && data.len() <= self.capacity();
        if free == 0 || (atomic && free < data.len()) {
            return Err(PipeError::WouldBlock);
        }
        self.grow_for(data.len().min(free));
        let room = self.ring.len() - self.len;
        if room == 0 || (atomic && room < data.len()) {
            // Memory is short: wait for the reader to make room, unless
            // there is nothing to wait for.
            return Err(if self.len == 0 {
                PipeError::NoMemory
            } else {
                PipeError::WouldBlock
            });
        }
        let count = data.len().min(room);
        let physical = self.ring.len();
        let tail = (self.head + self.len) % physical;
        let first = count.min(physical - tail);
        self.ring[tail..tail + first].copy_from_slice(&data[..first]);
        self.ring[..count - first].copy_from_slice(&data[first..count]);
        self.len += count;
        Ok(count)
    }

    /// `poll` readiness of `end` (`POLL*` bits; the caller filters them
    /// with the requested events).
    pub fn poll(&self, end: End) -> u16 {
        match end {
            End::Read => {
                let mut ready = 0;
                if self.len > 0 {
                    ready |= POLLIN | POLLRDNORM;
                }
                if self.writers == 0 {
                    ready |= POLLHUP;
                }
                ready
            }
            End::Write => {
                let mut ready = 0;
                if self.free() >= PIPE_BUF.min(self.capacity()) {
                    ready |= POLLOUT | POLLWRNORM;
                }
                if self.readers == 0 {
                    ready |= POLLERR;
                }
                ready
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::vec;

    #[test]
    fn the_ring_grows_with_the_data_and_keeps_its_order() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.allocated(), 0, "an idle pipe costs nothing");
        assert_eq!(pipe.write(b"abc"), Ok(3));
        assert_eq!(pipe.allocated(), 4096);
        let mut out = [0u8; 2];
        assert_eq!(pipe.read(&mut out), Ok(2));
        // Wrap around in the small ring, then grow: order is kept.
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        assert_eq!(pipe.write(&big[..4094]), Ok(4094));
        assert_eq!(pipe.write(&big[4094..]), Ok(10_000 - 4094));
        assert!(pipe.allocated() >= 10_001 && pipe.allocated() <= DEFAULT_CAPACITY);
        let mut all = vec![0u8; 20_000];
        let count = pipe.read(&mut all).unwrap();
        assert_eq!(count, 10_001);
        assert_eq!(all[0], b'c');
        assert_eq!(&all[1..count], &big[..]);
    }

    #[test]
    fn bytes_come_out_in_order() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.write(b"hello "), Ok(6));
        assert_eq!(pipe.write(b"world"), Ok(5));
        let mut out = [0u8; 8];
        assert_eq!(pipe.read(&mut out), Ok(8));
        assert_eq!(&out, b"hello wo");
        assert_eq!(pipe.read(&mut out), Ok(3));
        assert_eq!(&out[..3], b"rld");
        assert_eq!(pipe.read(&mut out), Err(PipeError::WouldBlock));
    }

    #[test]
    fn end_of_file_after_last_writer() {
        let mut pipe = Pipe::new();
        pipe.write(b"x").unwrap();
        assert!(!pipe.close_end(End::Write));
        let mut out = [0u8; 4];
        assert_eq!(pipe.read(&mut out), Ok(1), "data first");
        assert_eq!(pipe.read(&mut out), Ok(0), "then EOF");
        assert_eq!(pipe.poll(End::Read), POLLHUP);
        assert!(pipe.close_end(End::Read), "both ends gone");
    }

    #[test]
    fn broken_pipe_without_readers() {
        let mut pipe = Pipe::new();
        pipe.open_end(End::Read);
        pipe.close_end(End::Read);
        assert_eq!(pipe.write(b"still one"), Ok(9));
        pipe.close_end(End::Read);
        assert_eq!(pipe.write(b"x"), Err(PipeError::BrokenPipe));
        assert_eq!(pipe.write(b""), Err(PipeError::BrokenPipe));
        assert_eq!(PipeError::BrokenPipe.errno(), Errno::EPIPE);
        assert_ne!(pipe.poll(End::Write) & POLLERR, 0);
    }

    #[test]
    fn full_pipe_blocks_and_big_writes_are_partial() {
        let mut pipe = Pipe::new();
        let big = vec![7u8; 100_000];
        assert_eq!(pipe.write(&big), Ok(DEFAULT_CAPACITY), "partial");
        assert_eq!(pipe.write(b"x"), Err(PipeError::WouldBlock));
        assert_eq!(pipe.poll(End::Write), 0);
        let mut out = vec![0u8; 100];
        pipe.read(&mut out).unwrap();
        assert_eq!(pipe.write(&big), Ok(100));
    }

    #[test]
    fn small_writes_are_atomic() {
        let mut pipe = Pipe::with_capacity(8192);
        pipe.write(&[1u8; 5000]).unwrap();
        assert_eq!(pipe.free(), 3192);
        assert_eq!(
            pipe.write(&[2u8; 4000]),
            Err(PipeError::WouldBlock),
            "no torn 4000"
        );
        assert_eq!(pipe.write(&[2u8; 3000]), Ok(3000));
        assert_eq!(pipe.write(&[3u8; 5000]), Ok(192), "above PIPE_BUF: partial");
        assert_eq!(pipe.poll(End::Write), 0);
        assert_eq!(pipe.poll(End::Read), POLLIN | POLLRDNORM);
    }

    #[test]
    fn tiny_capacity_still_makes_progress() {
        let mut pipe = Pipe::with_capacity(3);
        assert_eq!(
            pipe.write(b"abcdef"),
            Ok(3),
            "larger than the pipe: partial"
        );
        let mut out = [0u8; 2];
        pipe.read(&mut out).unwrap();
        assert_eq!(
            pipe.write(b"xyz"),
            Err(PipeError::WouldBlock),
            "atomic and would fit later"
        );
        assert_eq!(pipe.write(b"xy"), Ok(2));
        assert_eq!(pipe.poll(End::Write), 0, "full");
        let mut rest = [0u8; 3];
        assert_eq!(pipe.read(&mut rest), Ok(3));
        assert_eq!(&rest, b"cxy");
        assert_ne!(
            pipe.poll(End::Write) & POLLOUT,
            0,
            "writable once the whole pipe is free"
        );
    }

    #[test]
    fn empty_requests() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.read(&mut []), Ok(0));
        assert_eq!(pipe.write(&[]), Ok(0));
        assert_eq!(pipe.poll(End::Write), POLLOUT | POLLWRNORM);
        assert_eq!(pipe.poll(End::Read), 0);
    }

    #[test]
    fn seeded_wraparound_matches_a_queue() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut pipe = Pipe::with_capacity(1000);
        let mut model: VecDeque<u8> = VecDeque::new();
        let mut counter = 0u8;
        for _ in 0..50_000 {
            if next() % 2 == 0 {
                let len = (next() % 1500) as usize;
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        counter = counter.wrapping_add(1);
                        counter
                    })
                    .collect();
                match pipe.write(&data) {
                    Ok(written) => model.extend(&data[..written]),
                    Err(PipeError::WouldBlock) => {}
                    Err(error) => panic!("{error}"),
                }
                // Keep the generated stream continuous for what was not written.
                counter = model.back().copied().unwrap_or(counter);
            } else {
                let mut out = vec![0u8; (next() % 1500) as usize + 1];
                match pipe.read(&mut out) {
                    Ok(read) => {
                        let expected: Vec<u8> = model.drain(..read).collect();
                        assert_eq!(&out[..read], &expected[..]);
                    }
                    Err(PipeError::WouldBlock) => assert!(model.is_empty()),
                    Err(error) => panic!("{error}"),
                }
            }
            assert_eq!(pipe.len(), model.len());
            assert!(pipe.len() <= pipe.capacity());
        }
    }
}
