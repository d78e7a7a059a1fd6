//! A process's file descriptor table: lowest free number, dup, close-on-exec.
//!
//! Not wired into the kernel yet: `kernel/src/process` keeps descriptors
//! in a `Vec` with a close-on-exec bitmap, because its pipe ends count
//! references on explicit duplicate/close rather than on `Clone`.
//!
//! POSIX requires `open`, `pipe`, `dup` and friends to return the lowest
//! descriptor not in use, and shells depend on it (`exec 3<file` idioms,
//! redirections done by closing 1 and opening). The table maps numbers to
//! an open-file handle `H` chosen by the kernel (typically a
//! reference-counted open file description) plus the per-descriptor
//! `FD_CLOEXEC` flag, which — unlike the status flags — belongs to the
//! descriptor, not to the shared open file.
//!
//! Semantics follow dup(2), fcntl(2) and close(2): `dup2(fd, fd)` is a
//! no-op that still checks `fd`, `dup3(fd, fd, _)` is `EINVAL`, the copy
//! never inherits close-on-exec unless asked, `F_DUPFD` with a lower bound
//! at or above the limit is `EINVAL`, and a target at or above the limit
//! is `EBADF`. Handles leave the table by value (from `close`, `dup2`'s
//! replaced descriptor, `exec_sweep`, `close_all`) so the kernel can
//! release what they hold. `fork` clones the table (`H: Clone`).

use alloc::vec::Vec;
use core::fmt;

use linux_abi::fcntl::O_CLOEXEC;
use linux_abi::limits::INR_OPEN_CUR;
use linux_abi::Errno;

/// A file descriptor number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(pub u32);

impl Fd {
    /// Decodes a descriptor argument: the kernel takes `unsigned int fd`,
    /// so only the low 32 bits of the register count (a C `-1` becomes
    /// `0xffff_ffff`, which no table holds: `EBADF`).
    pub const fn from_syscall_arg(register: u64) -> Fd {
        Fd(register as u32)
    }

    /// The value returned to user space.
    pub const fn to_syscall_return(self) -> u64 {
        self.0 as u64
    }

    fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fd {}", self.0)
    }
}

/// The default soft limit on open descriptors (`RLIMIT_NOFILE`).
pub const DEFAULT_LIMIT: usize = INR_OPEN_CUR;

/// An insertion was refused; the handle comes back so the caller can
/// release it.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused<H> {
    /// `EMFILE` (table full) or `EINVAL` (bad lower bound).
    pub errno: Errno,
    pub handle: H,
}

/// What `dup2`/`dup3` did.
#[derive(Debug, PartialEq, Eq)]
pub struct Duplicated<H> {
    /// The new descriptor (the requested number).
    pub fd: Fd,
    /// The handle that descriptor held before, now closed by the call.
    pub replaced: Option<H>,
}

#[derive(Clone, Debug)]
struct Slot<H> {
    handle: H,
    close_on_exec: bool,
}

/// Descriptor table over open-file handles of type `H`.
#[derive(Clone, Debug)]
pub struct FdTable<H> {
    slots: Vec<Option<Slot<H>>>,
    limit: usize,
    open: usize,
}

impl<H> Default for FdTable<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> FdTable<H> {
    /// An empty table with the default limit (1024).
    pub const fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// An empty table holding at most `limit` descriptors (`0..limit`).
    pub const fn with_limit(limit: usize) -> Self {
        FdTable {
            slots: Vec::new(),
            limit,
            open: 0,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit (`setrlimit(RLIMIT_NOFILE)`). Descriptors already
    /// open above a lowered limit stay valid, as in Linux; only new ones
    /// are constrained.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Open descriptors.
    pub fn len(&self) -> usize {
        self.open
    }

    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    fn slot(&self, fd: Fd) -> Result<&Slot<H>, Errno> {
        self.slots
            .get(fd.index())
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    fn slot_mut(&mut self, fd: Fd) -> Result<&mut Slot<H>, Errno> {
        self.slots
            .get_mut(fd.index())
            .and_then(Option::as_mut)
            .ok_or(Errno::EBADF)
    }

    /// The handle behind `fd`, or `EBADF`.
    pub fn get(&self, fd: Fd) -> Result<&H, Errno> {
        self.slot(fd).map(|slot| &slot.handle)
    }

    pub fn get_mut(&mut self, fd: Fd) -> Result<&mut H, Errno> {
        self.slot_mut(fd).map(|slot| &mut slot.handle)
    }

    /// The lowest free descriptor at or above `min` (`EMFILE` if none
    /// below the limit; `EINVAL` if `min` itself is at or above it, the
    /// `F_DUPFD` rule).
    pub fn lowest_free(&self, min: u32) -> Result<Fd, Errno> {
        let min = min as usize;
        if min >= self.limit {
            return Err(Errno::EINVAL);
        }
        let free = (min..self.limit)
            .find(|&index| self.slots.get(index).is_none_or(Option::is_none))
            .ok_or(Errno::EMFILE)?;
        Ok(Fd(free as u32))
    }

    /// Puts `handle` at `fd`, returning whatever was there. `fd` must be
    /// below the limit (`EBADF` otherwise, the `dup2` rule).
    fn install(&mut self, fd: Fd, handle: H, close_on_exec: bool) -> Result<Option<H>, Errno> {
        if fd.index() >= self.limit {
            return Err(Errno::EBADF);
        }
        if self.slots.len() <= fd.index() {
            self.slots.resize_with(fd.index() + 1, || None);
        }
        let old = self.slots[fd.index()].replace(Slot {
            handle,
            close_on_exec,
        });
        if old.is_none() {
            self.open += 1;
        }
        Ok(old.map(|slot| slot.handle))
    }

    /// Installs `handle` at the lowest free descriptor (`open`, `pipe`).
    pub fn insert(&mut self, handle: H, close_on_exec: bool) -> Result<Fd, Refused<H>> {
        self.insert_from(0, handle, close_on_exec)
    }

    /// Installs `handle` at the lowest free descriptor `>= min`.
    pub fn insert_from(
        &mut self,
        min: u32,
        handle: H,
        close_on_exec: bool,
    ) -> Result<Fd, Refused<H>> {
        match self.lowest_free(min) {
            Ok(fd) => {
                let old = self
                    .install(fd, handle, close_on_exec)
                    .unwrap_or_else(|_| unreachable!("lowest_free is below the limit"));
                debug_assert!(old.is_none(), "lowest_free found an empty slot");
                Ok(fd)
            }
            Err(errno) => Err(Refused { errno, handle }),
        }
    }

    /// Removes `fd`, returning its handle (`close`).
    pub fn close(&mut self, fd: Fd) -> Result<H, Errno> {
        let slot = self
            .slots
            .get_mut(fd.index())
            .and_then(Option::take)
            .ok_or(Errno::EBADF)?;
        self.open -= 1;
        self.trim();
        Ok(slot.handle)
    }

    /// Drops trailing empty slots so the vector stays as short as the
    /// highest open descriptor.
    fn trim(&mut self) {
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
    }

    pub fn close_on_exec(&self, fd: Fd) -> Result<bool, Errno> {
        self.slot(fd).map(|slot| slot.close_on_exec)
    }

    /// `F_SETFD` / `FIOCLEX` / `FIONCLEX`.
    pub fn set_close_on_exec(&mut self, fd: Fd, close_on_exec: bool) -> Result<(), Errno> {
        self.slot_mut(fd)
            .map(|slot| slot.close_on_exec = close_on_exec)
    }

    /// At `execve`: closes every close-on-exec descriptor and returns
    /// their handles, in ascending descriptor order.
    pub fn exec_sweep(&mut self) -> Vec<H> {
        let mut closed = Vec::new();
        for slot in self.slots.iter_mut() {
            if slot.as_ref().is_some_and(|slot| slot.close_on_exec) {
                closed.push(slot.take().expect("checked above").handle);
            }
        }
        self.open -= closed.len();
        self.trim();
        closed
    }

    /// At exit: closes everything, in ascending descriptor order.
    pub fn close_all(&mut self) -> Vec<H> {
        let closed: Vec<H> = self
            .slots
            .drain(..)
            .flatten()
            .map(|slot| slot.handle)
            .collect();
        self.open = 0;
        closed
    }

    /// Open descriptors in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (Fd, &H)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| slot.as_ref().map(|slot| (Fd(index as u32), &slot.handle)))
    }
}

impl<H: Clone> FdTable<H> {
    /// `dup(fd)`: a copy at the lowest free descriptor, without
    /// close-on-exec.
    pub fn dup(&mut self, fd: Fd) -> Result<Fd, Errno> {
        self.dup_from(fd, 0, false)
    }

    /// `fcntl(fd, F_DUPFD[_CLOEXEC], min)`.
    pub fn dup_from(&mut self, fd: Fd, min: u32, close_on_exec: bool) -> Result<Fd, Errno> {
        let handle = self.get(fd)?.clone();
        self.insert_from(min, handle, close_on_exec)
            .map_err(|refused| refused.errno)
    }

    /// `dup2(old, new)`: `new` becomes a copy of `old` (closing what `new`
    /// held); `dup2(fd, fd)` checks `fd` and changes nothing.
    pub fn dup2(&mut self, old: Fd, new: Fd) -> Result<Duplicated<H>, Errno> {
        let handle = self.get(old)?.clone();
        if old == new {
            return Ok(Duplicated {
                fd: new,
                replaced: None,
            });
        }
        let replaced = self.install(new, handle, false)?;
        Ok(Duplicated { fd: new, replaced })
    }

    /// `dup3(old, new, flags)`: like `dup2`, but `old == new` is `EINVAL`
    /// and `flags` may only hold `O_CLOEXEC`.
    pub fn dup3(&mut self, old: Fd, new: Fd, flags: u32) -> Result<Duplicated<H>, Errno> {
        if flags & !O_CLOEXEC != 0 || old == new {
            return Err(Errno::EINVAL);
        }
        let handle = self.get(old)?.clone();
        let replaced = self.install(new, handle, flags & O_CLOEXEC != 0)?;
        Ok(Duplicated { fd: new, replaced })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn table_with(handles: &[&'static str]) -> FdTable<&'static str> {
        let mut table = FdTable::new();
        for &handle in handles {
            table.insert(handle, false).unwrap();
        }
        table
    }

    #[test]
    fn lowest_free_number_is_reused() {
        let mut table = table_with(&["stdin", "stdout", "stderr"]);
        assert_eq!(table.insert("file", false), Ok(Fd(3)));
        assert_eq!(table.close(Fd(1)), Ok("stdout"));
        assert_eq!(
            table.insert("redirect", false),
            Ok(Fd(1)),
            "the shell's `>` idiom"
        );
        assert_eq!(table.len(), 4);
        assert_eq!(table.get(Fd(1)), Ok(&"redirect"));
    }

    #[test]
    fn bad_descriptors() {
        let mut table = table_with(&["a"]);
        assert_eq!(table.get(Fd(1)), Err(Errno::EBADF));
        assert_eq!(table.get(Fd(u32::MAX)), Err(Errno::EBADF));
        assert_eq!(table.close(Fd(7)), Err(Errno::EBADF));
        assert_eq!(table.close(Fd(0)), Ok("a"));
        assert_eq!(table.close(Fd(0)), Err(Errno::EBADF), "double close");
        assert_eq!(table.dup(Fd(0)), Err(Errno::EBADF));
        assert_eq!(table.set_close_on_exec(Fd(0), true), Err(Errno::EBADF));
        assert_eq!(Fd::from_syscall_arg(u64::MAX), Fd(u32::MAX), "C -1");
        assert_eq!(
            Fd::from_syscall_arg(0xdead_0000_0003),
            Fd(3),
            "upper half ignored"
        );
    }

    #[test]
    fn limit_gives_emfile() {
        let mut table = FdTable::with_limit(3);
        for expected in 0..3 {
            assert_eq!(table.insert(expected, false), Ok(Fd(expected)));
        }
        assert_eq!(
            table.insert(9, false),
            Err(Refused {
                errno: Errno::EMFILE,
                handle: 9
            })
        );
        assert_eq!(table.dup(Fd(0)), Err(Errno::EMFILE));
        let mut default: FdTable<()> = FdTable::new();
        for _ in 0..1024 {
            default.insert((), false).unwrap();
        }
        assert_eq!(default.insert((), false).unwrap_err().errno, Errno::EMFILE);
        assert_eq!(default.len(), 1024);
    }

    #[test]
    fn dup_clears_close_on_exec() {
        let mut table = FdTable::new();
        table.insert("pipe", true).unwrap();
        assert_eq!(table.dup(Fd(0)), Ok(Fd(1)));
        assert_eq!(table.close_on_exec(Fd(0)), Ok(true));
        assert_eq!(table.close_on_exec(Fd(1)), Ok(false));
    }

    #[test]
    fn f_dupfd_lower_bound() {
        let mut table = table_with(&["a", "b"]);
        assert_eq!(table.dup_from(Fd(0), 10, true), Ok(Fd(10)));
        assert_eq!(table.close_on_exec(Fd(10)), Ok(true));
        assert_eq!(table.dup_from(Fd(0), 10, false), Ok(Fd(11)));
        assert_eq!(table.dup_from(Fd(0), 1024, false), Err(Errno::EINVAL));
        assert_eq!(table.dup_from(Fd(0), 0, false), Ok(Fd(2)));
    }

    #[test]
    fn dup2_semantics() {
        let mut table = table_with(&["a", "b"]);
        table.set_close_on_exec(Fd(1), true).unwrap();
        assert_eq!(
            table.dup2(Fd(0), Fd(1)),
            Ok(Duplicated {
                fd: Fd(1),
                replaced: Some("b")
            })
        );
        assert_eq!(table.get(Fd(1)), Ok(&"a"));
        assert_eq!(
            table.close_on_exec(Fd(1)),
            Ok(false),
            "dup2 clears the flag"
        );
        assert_eq!(
            table.dup2(Fd(0), Fd(0)),
            Ok(Duplicated {
                fd: Fd(0),
                replaced: None
            })
        );
        assert_eq!(
            table.dup2(Fd(5), Fd(5)),
            Err(Errno::EBADF),
            "same fd still checked"
        );
        assert_eq!(
            table.dup2(Fd(0), Fd(100)),
            Ok(Duplicated {
                fd: Fd(100),
                replaced: None
            })
        );
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.dup2(Fd(0), Fd(1024)),
            Err(Errno::EBADF),
            "target beyond limit"
        );
        assert_eq!(table.dup2(Fd(9), Fd(1)), Err(Errno::EBADF));
        assert_eq!(
            table.get(Fd(1)),
            Ok(&"a"),
            "failed dup2 leaves the target alone"
        );
    }

    #[test]
    fn dup3_semantics() {
        let mut table = table_with(&["a", "b"]);
        assert_eq!(table.dup3(Fd(0), Fd(0), 0), Err(Errno::EINVAL));
        assert_eq!(
            table.dup3(Fd(0), Fd(1), 1),
            Err(Errno::EINVAL),
            "unknown flag"
        );
        assert_eq!(
            table.dup3(Fd(0), Fd(4), O_CLOEXEC),
            Ok(Duplicated {
                fd: Fd(4),
                replaced: None
            })
        );
        assert_eq!(table.close_on_exec(Fd(4)), Ok(true));
        assert_eq!(table.dup3(Fd(3), Fd(1), 0), Err(Errno::EBADF));
    }

    #[test]
    fn exec_sweep_closes_only_cloexec() {
        let mut table = FdTable::new();
        table.insert("keep0", false).unwrap();
        table.insert("drop1", true).unwrap();
        table.insert("keep2", false).unwrap();
        table.insert("drop3", true).unwrap();
        assert_eq!(table.exec_sweep(), vec!["drop1", "drop3"]);
        assert_eq!(table.len(), 2);
        assert_eq!(table.insert("new", false), Ok(Fd(1)));
        assert_eq!(table.close_all(), vec!["keep0", "new", "keep2"]);
        assert!(table.is_empty());
        assert_eq!(table.insert("again", false), Ok(Fd(0)));
    }

    #[test]
    fn fork_copies_the_table() {
        let mut parent = table_with(&["a", "b"]);
        parent.set_close_on_exec(Fd(1), true).unwrap();
        let mut child = parent.clone();
        child.close(Fd(0)).unwrap();
        assert_eq!(parent.get(Fd(0)), Ok(&"a"), "independent tables");
        assert_eq!(child.close_on_exec(Fd(1)), Ok(true), "flags are copied");
        let listed: Vec<(Fd, &&str)> = parent.iter().collect();
        assert_eq!(listed, vec![(Fd(0), &"a"), (Fd(1), &"b")]);
    }

    #[test]
    fn lowered_limit_keeps_open_descriptors() {
        let mut table = table_with(&["a", "b", "c"]);
        table.set_limit(1);
        assert_eq!(table.get(Fd(2)), Ok(&"c"));
        assert_eq!(table.insert("d", false).unwrap_err().errno, Errno::EMFILE);
        assert_eq!(table.dup2(Fd(0), Fd(2)), Err(Errno::EBADF));
    }

    #[test]
    fn seeded_random_operations_keep_invariants() {
        // A model: the lowest free number is always what insert returns and
        // len() counts the open descriptors.
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut table = FdTable::with_limit(64);
        let mut model = [false; 64];
        for _ in 0..20_000 {
            let fd = Fd((next() % 70) as u32);
            match next() % 4 {
                0 => {
                    let expected = model.iter().position(|open| !open);
                    match table.insert(0u8, next() % 2 == 0) {
                        Ok(got) => {
                            assert_eq!(Some(got.0 as usize), expected);
                            model[got.0 as usize] = true;
                        }
                        Err(refused) => {
                            assert_eq!(expected, None);
                            assert_eq!(refused.errno, Errno::EMFILE);
                        }
                    }
                }
                1 => {
                    let open = model.get(fd.0 as usize).copied().unwrap_or(false);
                    assert_eq!(table.close(fd).is_ok(), open);
                    if open {
                        model[fd.0 as usize] = false;
                    }
                }
                2 => {
                    let target = Fd((next() % 70) as u32);
                    let old_open = model.get(fd.0 as usize).copied().unwrap_or(false);
                    let result = table.dup2(fd, target);
                    if old_open && (target.0 as usize) < 64 {
                        assert!(result.is_ok());
                        model[target.0 as usize] = true;
                    } else {
                        assert_eq!(result.unwrap_err(), Errno::EBADF);
                    }
                }
                _ => {
                    table.exec_sweep();
                    for (index, open) in model.iter_mut().enumerate() {
                        if *open && table.get(Fd(index as u32)).is_err() {
                            *open = false;
                        }
                    }
                }
            }
            assert_eq!(table.len(), model.iter().filter(|open| **open).count());
        }
    }
}
