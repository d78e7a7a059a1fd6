//! The in-memory filesystem processes see, built from the initrd.
//!
//! A tmpfs-like tree: inodes live in a slab (`Vec` of slots) and are named
//! by [`InodeId`]s that carry the slot's generation, so an id kept after
//! its inode was freed (a deleted cwd, a stale handle) is detected instead
//! of silently naming the slot's next occupant. Directories are ordered
//! maps; regular files start as slices of the initrd archive (no copy)
//! and become owned vectors on their first write (copy on write);
//! symbolic links hold their target; device nodes are a [`Device`] the
//! kernel dispatches on; FIFOs are markers the kernel attaches a pipe to;
//! synthetic files (procfs) render their text on each read through the
//! [`Synthetic`] trait the kernel implements.
//!
//! Path resolution follows path_resolution(7): absolute paths start at the
//! caller's root, relative ones at its cwd (or a `dirfd`); `.` and `..`
//! (which stops at the root); symbolic links are followed in the middle of
//! a path always and at its end on request, at most 40 times (`ELOOP`); a
//! trailing slash demands a directory. Errors are Linux errno values.
//!
//! Decisions of the syscalls that are pure filesystem logic live here too:
//! [`Vfs::open`] (the `O_CREAT`/`O_EXCL`/`O_TRUNC`/`O_DIRECTORY`/
//! `O_NOFOLLOW` rules), `mkdir`, `unlink`, `rmdir`, `rename` (with its
//! directory-into-itself and replace rules), `link`, `symlink`, `mknod`,
//! `getdents64` serialisation with resumable offsets, `stat`, `getcwd`.
//! Permission bits are stored and reported but not enforced: every
//! process runs as root.
//!
//! An inode is freed when its last name is gone and no open file holds it:
//! the kernel brackets every open file with [`Vfs::acquire`] and
//! [`Vfs::release`], so an unlinked file stays readable while open.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use linux_abi::dirent::Dirent64;
use linux_abi::fcntl::{AccessMode, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_TRUNC};
use linux_abi::limits::{MAXSYMLINKS, NAME_MAX, PATH_MAX};
use linux_abi::stat::{encode_dev, FileType, Stat, S_IALLUGO};
use linux_abi::time::Timespec;
use linux_abi::Errno;

use crate::cpio::{self, CpioError};

/// Names an inode: slot index plus the slot's generation when the inode
/// was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InodeId {
    index: u32,
    generation: u32,
}

impl InodeId {
    /// The inode number reported by `stat` and `getdents64`.
    pub fn ino(self) -> u64 {
        u64::from(self.index) + 1
    }
}

/// A character device the kernel implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// `/dev/null` (1:3): reads end, writes vanish.
    Null,
    /// `/dev/zero` (1:5): reads zeros, writes vanish.
    Zero,
    /// `/dev/full` (1:7): reads zeros, writes fail with `ENOSPC`.
    Full,
    /// `/dev/random` (1:8) and `/dev/urandom` (1:9): the kernel's RNG.
    Random { minor: u32 },
    /// `/dev/tty` (5:0): the caller's controlling terminal.
    Tty,
    /// `/dev/console` (5:1): the Xen console.
    Console,
    /// Any other number: opening it is `ENXIO`.
    Other { major: u32, minor: u32 },
}

impl Device {
    /// The device with Linux's numbers (devices.txt).
    pub const fn from_numbers(major: u32, minor: u32) -> Device {
        match (major, minor) {
            (1, 3) => Device::Null,
            (1, 5) => Device::Zero,
            (1, 7) => Device::Full,
            (1, 8 | 9) => Device::Random { minor },
            (5, 0) => Device::Tty,
            (5, 1) => Device::Console,
            _ => Device::Other { major, minor },
        }
    }

    /// `(major, minor)`.
    pub const fn numbers(self) -> (u32, u32) {
        match self {
            Device::Null => (1, 3),
            Device::Zero => (1, 5),
            Device::Full => (1, 7),
            Device::Random { minor } => (1, minor),
            Device::Tty => (5, 0),
            Device::Console => (5, 1),
            Device::Other { major, minor } => (major, minor),
        }
    }

    /// A read the device answers without the kernel: `Some(bytes)` for
    /// null (0, end of file), zero and full (fill with zeros); `None`:
    /// the kernel's job (console, tty, random, other).
    pub fn read(self, out: &mut [u8]) -> Option<usize> {
        match self {
            Device::Null => Some(0),
            Device::Zero | Device::Full => {
                out.fill(0);
                Some(out.len())
            }
            _ => None,
        }
    }

    /// A write the device answers without the kernel (see [`read`]).
    ///
    /// [`read`]: Device::read
    pub fn write(self, len: usize) -> Option<Result<usize, Errno>> {
        match self {
            Device::Null | Device::Zero => Some(Ok(len)),
            Device::Full => Some(Err(Errno::ENOSPC)),
            _ => None,
        }
    }
}

/// Who is asking: synthetic files render per caller (`/proc/self`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub pid: u32,
}

/// Whether a synthetic node is read as a file or followed as a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntheticKind {
    File,
    Symlink,
}

/// A file whose contents the kernel computes when read: `/proc/uptime`,
/// `/proc/meminfo`, `/proc/<pid>/stat`, or a link like `/proc/self`.
/// Contents are rendered whole on each read (procfs files are small) and
/// the requested range is cut from the result.
pub trait Synthetic: Send + Sync {
    fn kind(&self) -> SyntheticKind;
    /// Appends the file's text (or the link's target) to `out`.
    fn render(&self, caller: &Caller, out: &mut Vec<u8>);
}

/// A synthetic file rendered by a closure.
pub struct SyntheticFn<F>(pub SyntheticKind, pub F);

impl<F: Fn(&Caller, &mut Vec<u8>) + Send + Sync> Synthetic for SyntheticFn<F> {
    fn kind(&self) -> SyntheticKind {
        self.0
    }
    fn render(&self, caller: &Caller, out: &mut Vec<u8>) {
        (self.1)(caller, out)
    }
}

/// `/proc/self`: a link to the caller's pid directory.
pub struct ProcSelf;

impl Synthetic for ProcSelf {
    fn kind(&self) -> SyntheticKind {
        SyntheticKind::Symlink
    }
    fn render(&self, caller: &Caller, out: &mut Vec<u8>) {
        let mut digits = [0u8; 10];
        let mut value = caller.pid;
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        out.extend_from_slice(&digits[start..]);
    }
}

/// What kind of node an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Directory,
    Regular,
    Symlink,
    Device(Device),
    Fifo,
    /// A synthetic file; a synthetic symlink reports as `Symlink`.
    Synthetic,
}

/// What to create with [`Vfs::mknod`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecialNode {
    Device(Device),
    Fifo,
}

/// The per-process view a path is resolved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// `/` for this process (its chroot).
    pub root: InodeId,
    /// Where relative paths start: the cwd, or a `dirfd`'s directory.
    pub cwd: InodeId,
    pub pid: u32,
}

/// Resource bounds; exceeding them is `EFBIG` or `ENOSPC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    /// Bytes of file data the filesystem may own (initrd slices are free).
    pub max_total_bytes: u64,
    pub max_inodes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 << 20,
            max_total_bytes: 512 << 20,
            max_inodes: 1 << 20,
        }
    }
}

/// Why the initrd could not become a filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The archive itself is malformed.
    Archive(CpioError),
    /// An entry could not be created (its header offset and the reason,
    /// e.g. `ENOTDIR` when a parent is a file).
    Entry { offset: usize, errno: Errno },
    /// An entry has a file type we do not keep (block device, socket).
    UnsupportedType { offset: usize, mode: u32 },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Archive(error) => write!(f, "{error}"),
            BuildError::Entry { offset, errno } => {
                write!(f, "cpio entry at offset {offset:#x}: {errno}")
            }
            BuildError::UnsupportedType { offset, mode } => write!(
                f,
                "cpio entry at offset {offset:#x}: unsupported file type in mode {mode:#o}"
            ),
        }
    }
}

impl core::error::Error for BuildError {}

/// The result of one `getdents64` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirents {
    /// Bytes written into the buffer; 0 at the end of the directory.
    pub bytes: usize,
    /// The directory offset to resume from (store it as the file offset).
    pub next_cookie: u64,
}

/// Where a path's last component goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentLookup {
    pub dir: InodeId,
    /// The last component; `.` for a path that names the root or a
    /// directory by itself, `..` if the path ends with it.
    pub name: Vec<u8>,
    /// The path ended with `/`.
    pub trailing_slash: bool,
}

const FIRST_COOKIE: u64 = 2;

struct Directory {
    parent: InodeId,
    entries: BTreeMap<Vec<u8>, (InodeId, u64)>,
    by_cookie: BTreeMap<u64, Vec<u8>>,
    next_cookie: u64,
}

impl Directory {
    fn new(parent: InodeId) -> Self {
        Directory {
            parent,
            entries: BTreeMap::new(),
            by_cookie: BTreeMap::new(),
            next_cookie: FIRST_COOKIE,
        }
    }

    fn get(&self, name: &[u8]) -> Option<InodeId> {
        self.entries.get(name).map(|&(id, _)| id)
    }

    fn insert(&mut self, name: Vec<u8>, id: InodeId) {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.by_cookie.insert(cookie, name.clone());
        self.entries.insert(name, (id, cookie));
    }

    fn remove(&mut self, name: &[u8]) -> Option<InodeId> {
        let (id, cookie) = self.entries.remove(name)?;
        self.by_cookie.remove(&cookie);
        Some(id)
    }
}

enum FileData<'data> {
    /// Still the initrd's bytes.
    Borrowed(&'data [u8]),
    Owned(Vec<u8>),
}

impl FileData<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            FileData::Borrowed(bytes) => bytes,
            FileData::Owned(bytes) => bytes,
        }
    }
}

enum Node<'data> {
    Directory(Directory),
    File(FileData<'data>),
    Symlink(Vec<u8>),
    Device(Device),
    Fifo,
    Synthetic(Box<dyn Synthetic>),
}

struct Inode<'data> {
    node: Node<'data>,
    /// Permission bits (`0o7777`); the type comes from `node`.
    permissions: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    open_count: u32,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
}

impl Inode<'_> {
    fn file_type(&self) -> FileType {
        match &self.node {
            Node::Directory(_) => FileType::Directory,
            Node::File(_) => FileType::Regular,
            Node::Symlink(_) => FileType::Symlink,
            Node::Device(_) => FileType::CharDevice,
            Node::Fifo => FileType::Fifo,
            Node::Synthetic(synthetic) => match synthetic.kind() {
                SyntheticKind::File => FileType::Regular,
                SyntheticKind::Symlink => FileType::Symlink,
            },
        }
    }

    fn kind(&self) -> NodeKind {
        match &self.node {
            Node::Directory(_) => NodeKind::Directory,
            Node::File(_) => NodeKind::Regular,
            Node::Symlink(_) => NodeKind::Symlink,
            Node::Device(device) => NodeKind::Device(*device),
            Node::Fifo => NodeKind::Fifo,
            Node::Synthetic(synthetic) => match synthetic.kind() {
                SyntheticKind::File => NodeKind::Synthetic,
                SyntheticKind::Symlink => NodeKind::Symlink,
            },
        }
    }

    fn owned_bytes(&self) -> u64 {
        match &self.node {
            Node::File(FileData::Owned(bytes)) => bytes.len() as u64,
            _ => 0,
        }
    }
}

struct Slot<'data> {
    generation: u32,
    inode: Option<Inode<'data>>,
}

/// The filesystem. `'data` is the lifetime of the initrd the unmodified
/// files still point into (`'static` in the kernel).
pub struct Vfs<'data> {
    slots: Vec<Slot<'data>>,
    free_slots: Vec<u32>,
    root: InodeId,
    limits: Limits,
    owned_bytes: u64,
    live_inodes: u32,
}

impl fmt::Debug for Vfs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vfs")
            .field("inodes", &self.live_inodes)
            .field("owned_bytes", &self.owned_bytes)
            .finish_non_exhaustive()
    }
}

/// Splits a path into its non-empty components.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&byte| byte == b'/')
        .filter(|part| !part.is_empty())
}

fn check_path(path: &[u8]) -> Result<(), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

fn check_new_name(name: &[u8]) -> Result<(), Errno> {
    match name {
        b"" => Err(Errno::ENOENT),
        b"." | b".." => Err(Errno::EEXIST),
        _ if name.len() > NAME_MAX => Err(Errno::ENAMETOOLONG),
        _ if name.contains(&b'/') || name.contains(&0) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

impl<'data> Vfs<'data> {
    /// An empty filesystem: a root directory (`0o755`, owned by root).
    pub fn new(limits: Limits, now: Timespec) -> Self {
        let mut vfs = Vfs {
            slots: Vec::new(),
            free_slots: Vec::new(),
            root: InodeId {
                index: 0,
                generation: 0,
            },
            limits,
            owned_bytes: 0,
            live_inodes: 0,
        };
        let placeholder = vfs.root;
        let root = vfs
            .allocate(Node::Directory(Directory::new(placeholder)), 0o755, now)
            .expect("an empty filesystem has room for its root");
        vfs.root = root;
        let inode = vfs.inode_mut(root).expect("just created");
        inode.nlink = 2;
        if let Node::Directory(directory) = &mut inode.node {
            directory.parent = root;
        }
        vfs
    }

    /// The filesystem described by a cpio archive (see [`cpio`]). Files
    /// keep pointing into `archive` until written.
    pub fn from_cpio(archive: &'data [u8], limits: Limits) -> Result<Self, BuildError> {
        let mut vfs = Vfs::new(limits, Timespec::default());
        let mut hard_links: BTreeMap<(u32, u32, u32), InodeId> = BTreeMap::new();
        for entry in cpio::entries(archive) {
            let entry = entry.map_err(BuildError::Archive)?;
            let entry_error = |errno| BuildError::Entry {
                offset: entry.offset,
                errno,
            };
            let time = Timespec {
                tv_sec: i64::from(entry.mtime),
                tv_nsec: 0,
            };
            let file_type = entry.file_type().ok_or(BuildError::UnsupportedType {
                offset: entry.offset,
                mode: entry.mode,
            })?;
            let permissions = entry.permissions();

            // The root itself ("." in the archive).
            if entry.path.is_empty() {
                if file_type != FileType::Directory {
                    return Err(entry_error(Errno::ENOTDIR));
                }
                let root = vfs.root;
                vfs.set_metadata(root, permissions, entry.uid, entry.gid, time);
                continue;
            }

            let (parent_path, name) = match entry.path.iter().rposition(|&byte| byte == b'/') {
                Some(slash) => (&entry.path[..slash], &entry.path[slash + 1..]),
                None => (&b""[..], &entry.path[..]),
            };
            let parent = vfs
                .make_directories(parent_path, time)
                .map_err(entry_error)?;

            let existing = vfs.directory(parent).map_err(entry_error)?.get(name);
            if let Some(existing) = existing {
                let existing_is_dir = vfs.kind(existing) == Ok(NodeKind::Directory);
                if existing_is_dir && file_type == FileType::Directory {
                    vfs.set_metadata(existing, permissions, entry.uid, entry.gid, time);
                    continue;
                }
                // A later entry replaces an earlier one (as Linux does).
                if existing_is_dir {
                    vfs.remove_directory_entry(parent, name, time)
                        .map_err(entry_error)?;
                } else {
                    vfs.remove_entry(parent, name, time).map_err(entry_error)?;
                }
            }

            let link_key = (entry.dev_major, entry.dev_minor, entry.ino);
            if entry.nlink > 1 && file_type != FileType::Directory {
                if let Some(&target) = hard_links.get(&link_key) {
                    if vfs.inode(target).is_ok() {
                        vfs.add_link(parent, name, target, time)
                            .map_err(entry_error)?;
                        if !entry.data.is_empty() {
                            if let Ok(inode) = vfs.inode_mut(target) {
                                if let Node::File(data) = &mut inode.node {
                                    *data = FileData::Borrowed(entry.data);
                                }
                            }
                        }
                        continue;
                    }
                }
            }

            let node = match file_type {
                FileType::Regular => Node::File(FileData::Borrowed(entry.data)),
                FileType::Directory => Node::Directory(Directory::new(parent)),
                FileType::Symlink => {
                    if entry.data.is_empty() || entry.data.len() >= PATH_MAX {
                        return Err(entry_error(Errno::ENOENT));
                    }
                    Node::Symlink(entry.data.to_vec())
                }
                FileType::CharDevice => {
                    Node::Device(Device::from_numbers(entry.rdev_major, entry.rdev_minor))
                }
                FileType::Fifo => Node::Fifo,
                FileType::BlockDevice | FileType::Socket => {
                    return Err(BuildError::UnsupportedType {
                        offset: entry.offset,
                        mode: entry.mode,
                    })
                }
            };
            let id = vfs
                .create_in(parent, name, node, permissions, time)
                .map_err(entry_error)?;
            vfs.set_metadata(id, permissions, entry.uid, entry.gid, time);
            if entry.nlink > 1 && file_type != FileType::Directory {
                hard_links.insert(link_key, id);
            }
        }
        Ok(vfs)
    }

    /// The filesystem's root directory.
    pub fn root(&self) -> InodeId {
        self.root
    }

    /// A context at the root, for the first process.
    pub fn root_context(&self, pid: u32) -> Context {
        Context {
            root: self.root,
            cwd: self.root,
            pid,
        }
    }

    /// Live inodes.
    pub fn inode_count(&self) -> u32 {
        self.live_inodes
    }

    /// Bytes of file data held in owned buffers.
    pub fn owned_bytes(&self) -> u64 {
        self.owned_bytes
    }

    fn inode(&self, id: InodeId) -> Result<&Inode<'data>, Errno> {
        self.slots
            .get(id.index as usize)
            .filter(|slot| slot.generation == id.generation)
            .and_then(|slot| slot.inode.as_ref())
            .ok_or(Errno::ENOENT)
    }

    fn inode_mut(&mut self, id: InodeId) -> Result<&mut Inode<'data>, Errno> {
        self.slots
            .get_mut(id.index as usize)
            .filter(|slot| slot.generation == id.generation)
            .and_then(|slot| slot.inode.as_mut())
            .ok_or(Errno::ENOENT)
    }

    fn directory(&self, id: InodeId) -> Result<&Directory, Errno> {
        match &self.inode(id)?.node {
            Node::Directory(directory) => Ok(directory),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn directory_mut(&mut self, id: InodeId) -> Result<&mut Directory, Errno> {
        match &mut self.inode_mut(id)?.node {
            Node::Directory(directory) => Ok(directory),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn set_metadata(&mut self, id: InodeId, permissions: u32, uid: u32, gid: u32, time: Timespec) {
        if let Ok(inode) = self.inode_mut(id) {
            inode.permissions = permissions & S_IALLUGO;
            inode.uid = uid;
            inode.gid = gid;
            inode.atime = time;
            inode.mtime = time;
            inode.ctime = time;
        }
    }

    fn allocate(
        &mut self,
        node: Node<'data>,
        permissions: u32,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        if self.live_inodes >= self.limits.max_inodes {
            return Err(Errno::ENOSPC);
        }
        let inode = Inode {
            node,
            permissions: permissions & S_IALLUGO,
            uid: 0,
            gid: 0,
            nlink: 0,
            open_count: 0,
            atime: now,
            mtime: now,
            ctime: now,
        };
        let index = match self.free_slots.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len()).map_err(|_| Errno::ENOSPC)?;
                self.slots.push(Slot {
                    generation: 0,
                    inode: None,
                });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.inode = Some(inode);
        self.live_inodes += 1;
        Ok(InodeId {
            index,
            generation: slot.generation,
        })
    }

    /// Frees the inode if nothing names or holds it any more.
    fn release_if_unused(&mut self, id: InodeId) {
        let Ok(inode) = self.inode(id) else {
            return;
        };
        if inode.nlink > 0 || inode.open_count > 0 {
            return;
        }
        self.owned_bytes -= inode.owned_bytes();
        let slot = &mut self.slots[id.index as usize];
        slot.inode = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free_slots.push(id.index);
        self.live_inodes -= 1;
    }

    /// Creates a node named `name` in `dir`.
    fn create_in(
        &mut self,
        dir: InodeId,
        name: &[u8],
        node: Node<'data>,
        permissions: u32,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        check_new_name(name)?;
        if self.directory(dir)?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let is_directory = matches!(node, Node::Directory(_));
        let id = self.allocate(node, permissions, now)?;
        let parent = self.inode_mut(dir).expect("checked above");
        parent.mtime = now;
        parent.ctime = now;
        if is_directory {
            parent.nlink += 1;
        }
        self.directory_mut(dir)
            .expect("checked above")
            .insert(name.to_vec(), id);
        let inode = self.inode_mut(id).expect("just created");
        inode.nlink = if is_directory { 2 } else { 1 };
        if let Node::Directory(directory) = &mut inode.node {
            directory.parent = dir;
        }
        Ok(id)
    }

    /// Adds another name for a non-directory.
    fn add_link(
        &mut self,
        dir: InodeId,
        name: &[u8],
        target: InodeId,
        now: Timespec,
    ) -> Result<(), Errno> {
        check_new_name(name)?;
        if self.directory(dir)?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let inode = self.inode_mut(target)?;
        if matches!(inode.node, Node::Directory(_)) {
            return Err(Errno::EPERM);
        }
        inode.nlink += 1;
        inode.ctime = now;
        self.directory_mut(dir)?.insert(name.to_vec(), target);
        let parent = self.inode_mut(dir)?;
        parent.mtime = now;
        parent.ctime = now;
        Ok(())
    }

    /// Removes a non-directory's name (`unlink`).
    fn remove_entry(&mut self, dir: InodeId, name: &[u8], now: Timespec) -> Result<(), Errno> {
        let id = self.directory(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if matches!(self.inode(id)?.node, Node::Directory(_)) {
            return Err(Errno::EISDIR);
        }
        self.directory_mut(dir)?.remove(name);
        let parent = self.inode_mut(dir)?;
        parent.mtime = now;
        parent.ctime = now;
        let inode = self.inode_mut(id)?;
        inode.nlink = inode.nlink.saturating_sub(1);
        inode.ctime = now;
        self.release_if_unused(id);
        Ok(())
    }

    /// Removes an empty directory's name (`rmdir`).
    fn remove_directory_entry(
        &mut self,
        dir: InodeId,
        name: &[u8],
        now: Timespec,
    ) -> Result<(), Errno> {
        let id = self.directory(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if !self.directory(id)?.entries.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.directory_mut(dir)?.remove(name);
        let parent = self.inode_mut(dir)?;
        parent.nlink -= 1;
        parent.mtime = now;
        parent.ctime = now;
        self.inode_mut(id)?.nlink = 0;
        self.release_if_unused(id);
        Ok(())
    }

    /// `mkdir -p` relative to the root, for the archive loader.
    fn make_directories(&mut self, path: &[u8], now: Timespec) -> Result<InodeId, Errno> {
        let mut current = self.root;
        for component in components(path) {
            current = match self.directory(current)?.get(component) {
                Some(id) => {
                    self.directory(id)?;
                    id
                }
                None => self.create_in(
                    current,
                    component,
                    Node::Directory(Directory::new(current)),
                    0o755,
                    now,
                )?,
            };
        }
        Ok(current)
    }

    /// The target of a symbolic link (rendered for synthetic ones), or
    /// `None` if `id` is not a link.
    fn link_target(&self, id: InodeId, pid: u32) -> Result<Option<Vec<u8>>, Errno> {
        match &self.inode(id)?.node {
            Node::Symlink(target) => Ok(Some(target.clone())),
            Node::Synthetic(synthetic) if synthetic.kind() == SyntheticKind::Symlink => {
                let mut target = Vec::new();
                synthetic.render(&Caller { pid }, &mut target);
                Ok(Some(target))
            }
            _ => Ok(None),
        }
    }

    /// Resolves `path`; `follow` says whether a symbolic link in the last
    /// position is followed (`stat` vs `lstat`, `O_NOFOLLOW`).
    pub fn resolve(&self, context: &Context, path: &[u8], follow: bool) -> Result<InodeId, Errno> {
        check_path(path)?;
        let must_be_directory = path.ends_with(b"/");
        let mut current = if path[0] == b'/' {
            context.root
        } else {
            context.cwd
        };
        self.directory(current)?;
        let mut pending: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            let directory = self.directory(current)?;
            match component.as_slice() {
                b"." => {}
                b".." => {
                    if current != context.root {
                        current = directory.parent;
                    }
                }
                name => {
                    if name.len() > NAME_MAX {
                        return Err(Errno::ENAMETOOLONG);
                    }
                    let child = directory.get(name).ok_or(Errno::ENOENT)?;
                    let last = pending.is_empty();
                    if !last || follow || must_be_directory {
                        if let Some(target) = self.link_target(child, context.pid)? {
                            hops += 1;
                            if hops > MAXSYMLINKS {
                                return Err(Errno::ELOOP);
                            }
                            if target.is_empty() {
                                return Err(Errno::ENOENT);
                            }
                            if target[0] == b'/' {
                                current = context.root;
                            }
                            pending.extend(components(&target).rev().map(<[u8]>::to_vec));
                            continue;
                        }
                    }
                    current = child;
                }
            }
        }
        if must_be_directory {
            self.directory(current)?;
        }
        Ok(current)
    }

    /// Resolves everything but the last component of `path`.
    pub fn resolve_parent(&self, context: &Context, path: &[u8]) -> Result<ParentLookup, Errno> {
        check_path(path)?;
        let trimmed_len = path
            .iter()
            .rposition(|&byte| byte != b'/')
            .map_or(0, |last| last + 1);
        let trailing_slash = trimmed_len < path.len();
        if trimmed_len == 0 {
            // "/" or "///": the root itself.
            return Ok(ParentLookup {
                dir: context.root,
                name: b".".to_vec(),
                trailing_slash,
            });
        }
        let trimmed = &path[..trimmed_len];
        let (dir, name) = match trimmed.iter().rposition(|&byte| byte == b'/') {
            Some(slash) => {
                let prefix = if slash == 0 {
                    &b"/"[..]
                } else {
                    &trimmed[..slash + 1]
                };
                (self.resolve(context, prefix, true)?, &trimmed[slash + 1..])
            }
            None => {
                self.directory(context.cwd)?;
                (context.cwd, trimmed)
            }
        };
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(ParentLookup {
            dir,
            name: name.to_vec(),
            trailing_slash,
        })
    }

    /// `open`/`openat`/`creat`: applies the flag rules and returns the
    /// inode; the kernel builds the open file (and applies `O_APPEND`,
    /// `O_NONBLOCK`, `O_CLOEXEC`). `permissions` is the creation mode
    /// after the umask.
    pub fn open(
        &mut self,
        context: &Context,
        path: &[u8],
        flags: u32,
        permissions: u32,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        let access = AccessMode::from_flags(flags).ok_or(Errno::EINVAL)?;
        let follow = flags & O_NOFOLLOW == 0;
        let id = if flags & O_CREAT != 0 {
            let parent = self.resolve_parent(context, path)?;
            let existing = match parent.name.as_slice() {
                b"." | b".." => return Err(Errno::EISDIR),
                name => self.directory(parent.dir)?.get(name),
            };
            match existing {
                Some(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
                Some(_) => {
                    let id = self.resolve(context, path, follow)?;
                    if self.kind(id)? == NodeKind::Directory {
                        // Linux: O_CREAT on an existing directory.
                        return Err(Errno::EISDIR);
                    }
                    id
                }
                None => {
                    if parent.trailing_slash {
                        return Err(Errno::EISDIR);
                    }
                    let id = self.create_in(
                        parent.dir,
                        &parent.name,
                        Node::File(FileData::Owned(Vec::new())),
                        permissions,
                        now,
                    )?;
                    return Ok(id);
                }
            }
        } else {
            self.resolve(context, path, follow)?
        };
        let kind = self.kind(id)?;
        if kind == NodeKind::Symlink && flags & O_PATH == 0 {
            // Only reachable with O_NOFOLLOW: the last component is a link.
            return Err(Errno::ELOOP);
        }
        if flags & O_DIRECTORY != 0 && kind != NodeKind::Directory {
            return Err(Errno::ENOTDIR);
        }
        if kind == NodeKind::Directory && (access.can_write() || flags & O_TRUNC != 0) {
            return Err(Errno::EISDIR);
        }
        if flags & O_TRUNC != 0 && access.can_write() && kind == NodeKind::Regular {
            self.truncate(id, 0, now)?;
        }
        Ok(id)
    }

    /// `mkdir`.
    pub fn mkdir(
        &mut self,
        context: &Context,
        path: &[u8],
        permissions: u32,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        let parent = self.resolve_parent(context, path)?;
        let node = Node::Directory(Directory::new(parent.dir));
        self.create_in(parent.dir, &parent.name, node, permissions, now)
    }

    /// `symlink(target, path)`.
    pub fn symlink(
        &mut self,
        context: &Context,
        target: &[u8],
        path: &[u8],
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        check_path(target)?;
        let parent = self.resolve_parent(context, path)?;
        if parent.trailing_slash {
            return Err(Errno::ENOENT);
        }
        self.create_in(
            parent.dir,
            &parent.name,
            Node::Symlink(target.to_vec()),
            0o777,
            now,
        )
    }

    /// `mknod` for character devices and FIFOs.
    pub fn mknod(
        &mut self,
        context: &Context,
        path: &[u8],
        node: SpecialNode,
        permissions: u32,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        let parent = self.resolve_parent(context, path)?;
        if parent.trailing_slash {
            return Err(Errno::ENOENT);
        }
        let node = match node {
            SpecialNode::Device(device) => Node::Device(device),
            SpecialNode::Fifo => Node::Fifo,
        };
        self.create_in(parent.dir, &parent.name, node, permissions, now)
    }

    /// Adds a synthetic file (procfs) named `name` in `dir`.
    pub fn add_synthetic(
        &mut self,
        dir: InodeId,
        name: &[u8],
        synthetic: Box<dyn Synthetic>,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        let permissions = match synthetic.kind() {
            SyntheticKind::File => 0o444,
            SyntheticKind::Symlink => 0o777,
        };
        self.create_in(dir, name, Node::Synthetic(synthetic), permissions, now)
    }

    /// Creates a directory named `name` in `dir` (e.g. `/proc/<pid>`).
    pub fn add_directory(
        &mut self,
        dir: InodeId,
        name: &[u8],
        permissions: u32,
        now: Timespec,
    ) -> Result<InodeId, Errno> {
        self.create_in(
            dir,
            name,
            Node::Directory(Directory::new(dir)),
            permissions,
            now,
        )
    }

    /// Removes `name` in `dir` and everything below it (`/proc/<pid>`
    /// when the process is reaped).
    pub fn remove_tree(&mut self, dir: InodeId, name: &[u8], now: Timespec) -> Result<(), Errno> {
        let id = self.directory(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if self.kind(id)? != NodeKind::Directory {
            return self.remove_entry(dir, name, now);
        }
        let children: Vec<Vec<u8>> = self.directory(id)?.entries.keys().cloned().collect();
        for child in children {
            self.remove_tree(id, &child, now)?;
        }
        self.remove_directory_entry(dir, name, now)
    }

    /// `link(old, new)`: another name for a non-directory (`EPERM` for
    /// directories).
    pub fn link(
        &mut self,
        context: &Context,
        old: &[u8],
        new: &[u8],
        follow: bool,
        now: Timespec,
    ) -> Result<(), Errno> {
        let target = self.resolve(context, old, follow)?;
        let parent = self.resolve_parent(context, new)?;
        if self.kind(target)? == NodeKind::Directory {
            return Err(Errno::EPERM);
        }
        if parent.trailing_slash {
            return Err(Errno::ENOENT);
        }
        self.add_link(parent.dir, &parent.name, target, now)
    }

    /// `unlink`.
    pub fn unlink(&mut self, context: &Context, path: &[u8], now: Timespec) -> Result<(), Errno> {
        let parent = self.resolve_parent(context, path)?;
        if matches!(parent.name.as_slice(), b"." | b"..") {
            return Err(Errno::EISDIR);
        }
        let id = self
            .directory(parent.dir)?
            .get(&parent.name)
            .ok_or(Errno::ENOENT)?;
        let kind = self.kind(id)?;
        if kind == NodeKind::Directory {
            return Err(Errno::EISDIR);
        }
        if parent.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        self.remove_entry(parent.dir, &parent.name, now)
    }

    /// `rmdir`.
    pub fn rmdir(&mut self, context: &Context, path: &[u8], now: Timespec) -> Result<(), Errno> {
        let parent = self.resolve_parent(context, path)?;
        match parent.name.as_slice() {
            b"." if path.iter().all(|&byte| byte == b'/') => return Err(Errno::EBUSY),
            b"." => return Err(Errno::EINVAL),
            b".." => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        let id = self
            .directory(parent.dir)?
            .get(&parent.name)
            .ok_or(Errno::ENOENT)?;
        if id == context.root || id == self.root {
            return Err(Errno::EBUSY);
        }
        self.directory(id)?;
        self.remove_directory_entry(parent.dir, &parent.name, now)
    }

    /// `rename(old, new)`.
    pub fn rename(
        &mut self,
        context: &Context,
        old: &[u8],
        new: &[u8],
        now: Timespec,
    ) -> Result<(), Errno> {
        let from = self.resolve_parent(context, old)?;
        let to = self.resolve_parent(context, new)?;
        for name in [&from.name, &to.name] {
            if matches!(name.as_slice(), b"." | b"..") {
                return Err(Errno::EBUSY);
            }
        }
        let source = self
            .directory(from.dir)?
            .get(&from.name)
            .ok_or(Errno::ENOENT)?;
        let source_is_dir = self.kind(source)? == NodeKind::Directory;
        if !source_is_dir && (from.trailing_slash || to.trailing_slash) {
            return Err(Errno::ENOTDIR);
        }
        let existing = self.directory(to.dir)?.get(&to.name);
        if existing == Some(source) {
            return Ok(());
        }
        if source_is_dir {
            // The destination directory must not be inside the source.
            let mut ancestor = to.dir;
            loop {
                if ancestor == source {
                    return Err(Errno::EINVAL);
                }
                let parent = self.directory(ancestor)?.parent;
                if parent == ancestor {
                    break;
                }
                ancestor = parent;
            }
        }
        check_new_name(&to.name)?;
        if let Some(target) = existing {
            let target_is_dir = self.kind(target)? == NodeKind::Directory;
            match (source_is_dir, target_is_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) => self.remove_directory_entry(to.dir, &to.name, now)?,
                (false, false) => self.remove_entry(to.dir, &to.name, now)?,
            }
        }
        self.directory_mut(from.dir)?.remove(&from.name);
        self.directory_mut(to.dir)?.insert(to.name.clone(), source);
        if source_is_dir && from.dir != to.dir {
            self.inode_mut(from.dir)?.nlink -= 1;
            self.inode_mut(to.dir)?.nlink += 1;
            self.directory_mut(source)?.parent = to.dir;
        }
        for dir in [from.dir, to.dir] {
            let inode = self.inode_mut(dir)?;
            inode.mtime = now;
            inode.ctime = now;
        }
        self.inode_mut(source)?.ctime = now;
        Ok(())
    }

    /// `readlink`: a link's target (`EINVAL` if `id` is not a link).
    pub fn readlink(&self, id: InodeId, caller: &Caller) -> Result<Vec<u8>, Errno> {
        self.link_target(id, caller.pid)?.ok_or(Errno::EINVAL)
    }

    pub fn kind(&self, id: InodeId) -> Result<NodeKind, Errno> {
        Ok(self.inode(id)?.kind())
    }

    /// The length of a regular file (`O_APPEND` writes at this offset).
    pub fn size(&self, id: InodeId) -> Result<u64, Errno> {
        match &self.inode(id)?.node {
            Node::File(data) => Ok(data.bytes().len() as u64),
            Node::Symlink(target) => Ok(target.len() as u64),
            _ => Ok(0),
        }
    }

    /// Reads from a regular or synthetic file at `offset`; 0 at or past
    /// the end. Directories are `EISDIR`; devices and FIFOs are the
    /// kernel's (`EINVAL` here).
    pub fn read(
        &self,
        id: InodeId,
        offset: u64,
        out: &mut [u8],
        caller: &Caller,
    ) -> Result<usize, Errno> {
        let copy = |bytes: &[u8], out: &mut [u8]| {
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let count = out.len().min(bytes.len() - start);
            out[..count].copy_from_slice(&bytes[start..start + count]);
            count
        };
        match &self.inode(id)?.node {
            Node::File(data) => Ok(copy(data.bytes(), out)),
            Node::Synthetic(synthetic) if synthetic.kind() == SyntheticKind::File => {
                let mut text = Vec::new();
                synthetic.render(caller, &mut text);
                Ok(copy(&text, out))
            }
            Node::Directory(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The length of a regular file; the error a data operation on
    /// anything else gets.
    fn file_len(&self, id: InodeId) -> Result<u64, Errno> {
        match &self.inode(id)?.node {
            Node::File(data) => Ok(data.bytes().len() as u64),
            Node::Directory(_) => Err(Errno::EISDIR),
            Node::Synthetic(_) => Err(Errno::EACCES),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Makes a file's data owned (copy on first write), lets `change`
    /// modify it to `new_size` bytes, and keeps the byte accounting.
    fn modify_file(
        &mut self,
        id: InodeId,
        new_size: u64,
        change: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), Errno> {
        self.file_len(id)?;
        if new_size > self.limits.max_file_bytes {
            return Err(Errno::EFBIG);
        }
        let before = self.inode(id)?.owned_bytes();
        if new_size > before && self.owned_bytes - before + new_size > self.limits.max_total_bytes {
            return Err(Errno::ENOSPC);
        }
        let inode = self.inode_mut(id)?;
        let Node::File(data) = &mut inode.node else {
            unreachable!("file_len accepted only files")
        };
        if let FileData::Borrowed(bytes) = *data {
            *data = FileData::Owned(bytes.to_vec());
        }
        let FileData::Owned(bytes) = data else {
            unreachable!("made owned above")
        };
        change(bytes);
        let after = bytes.len() as u64;
        self.owned_bytes = self.owned_bytes - before + after;
        Ok(())
    }

    /// Writes at `offset`, zero-filling a gap; a write that would cross
    /// the file size limit is cut short there (`EFBIG` if nothing fits).
    pub fn write(
        &mut self,
        id: InodeId,
        offset: u64,
        data: &[u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        let current = self.file_len(id)?;
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= self.limits.max_file_bytes {
            return Err(Errno::EFBIG);
        }
        let count = (data.len() as u64).min(self.limits.max_file_bytes - offset) as usize;
        let end = offset + count as u64;
        self.modify_file(id, current.max(end), |bytes| {
            let (start, end) = (offset as usize, end as usize);
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[start..end].copy_from_slice(&data[..count]);
        })?;
        let inode = self.inode_mut(id)?;
        inode.mtime = now;
        inode.ctime = now;
        Ok(count)
    }

    /// `truncate`/`ftruncate`/`O_TRUNC`.
    pub fn truncate(&mut self, id: InodeId, len: u64, now: Timespec) -> Result<(), Errno> {
        self.modify_file(id, len, |bytes| {
            bytes.resize(len as usize, 0);
            bytes.shrink_to_fit();
        })?;
        let inode = self.inode_mut(id)?;
        inode.mtime = now;
        inode.ctime = now;
        Ok(())
    }

    /// `stat` fields.
    pub fn stat(&self, id: InodeId) -> Result<Stat, Errno> {
        let inode = self.inode(id)?;
        let size = match &inode.node {
            Node::File(data) => data.bytes().len() as u64,
            Node::Symlink(target) => target.len() as u64,
            Node::Directory(_) => 4096,
            _ => 0,
        };
        let rdev = match inode.node {
            Node::Device(device) => {
                let (major, minor) = device.numbers();
                encode_dev(major, minor)
            }
            _ => 0,
        };
        let seconds = |time: Timespec| time.tv_sec as u64;
        let nanoseconds = |time: Timespec| time.tv_nsec as u64;
        Ok(Stat {
            st_dev: encode_dev(0, 1),
            st_ino: id.ino(),
            st_nlink: u64::from(inode.nlink),
            st_mode: inode.file_type().mode_bits() | inode.permissions,
            st_uid: inode.uid,
            st_gid: inode.gid,
            __pad0: 0,
            st_rdev: rdev,
            st_size: size as i64,
            st_blksize: 4096,
            st_blocks: size.div_ceil(512) as i64,
            st_atime: seconds(inode.atime),
            st_atime_nsec: nanoseconds(inode.atime),
            st_mtime: seconds(inode.mtime),
            st_mtime_nsec: nanoseconds(inode.mtime),
            st_ctime: seconds(inode.ctime),
            st_ctime_nsec: nanoseconds(inode.ctime),
            __unused: [0; 3],
        })
    }

    /// `chmod`: the permission bits.
    pub fn set_permissions(
        &mut self,
        id: InodeId,
        permissions: u32,
        now: Timespec,
    ) -> Result<(), Errno> {
        let inode = self.inode_mut(id)?;
        inode.permissions = permissions & S_IALLUGO;
        inode.ctime = now;
        Ok(())
    }

    /// `chown`: `None` leaves an id unchanged (C's -1).
    pub fn set_owner(
        &mut self,
        id: InodeId,
        uid: Option<u32>,
        gid: Option<u32>,
        now: Timespec,
    ) -> Result<(), Errno> {
        let inode = self.inode_mut(id)?;
        if let Some(uid) = uid {
            inode.uid = uid;
        }
        if let Some(gid) = gid {
            inode.gid = gid;
        }
        inode.ctime = now;
        Ok(())
    }

    /// `utimensat`: `None` leaves a time unchanged.
    pub fn set_times(
        &mut self,
        id: InodeId,
        atime: Option<Timespec>,
        mtime: Option<Timespec>,
        now: Timespec,
    ) -> Result<(), Errno> {
        let inode = self.inode_mut(id)?;
        if let Some(atime) = atime {
            inode.atime = atime;
        }
        if let Some(mtime) = mtime {
            inode.mtime = mtime;
        }
        inode.ctime = now;
        Ok(())
    }

    /// Serialises directory entries from `cookie` on into `out` as
    /// `linux_dirent64` records. Cookies 0 and 1 are `.` and `..`; entries
    /// keep their cookie while they exist, so a listing interleaved with
    /// creations and deletions never repeats or skips a surviving entry.
    /// `EINVAL` if not even one record fits.
    pub fn getdents64(&self, dir: InodeId, cookie: u64, out: &mut [u8]) -> Result<Dirents, Errno> {
        let directory = self.directory(dir)?;
        let mut written = 0;
        let mut next_cookie = cookie;
        let dot_entries = [(0u64, &b"."[..], dir), (1, &b".."[..], directory.parent)];
        let rest = directory
            .by_cookie
            .range(cookie.max(FIRST_COOKIE)..)
            .map(|(&cookie, name)| {
                let (id, _) = directory.entries[name];
                (cookie, name.as_slice(), id)
            });
        let all = dot_entries
            .into_iter()
            .filter(|&(entry_cookie, _, _)| entry_cookie >= cookie)
            .chain(rest);
        for (entry_cookie, name, id) in all {
            let d_type = self
                .inode(id)
                .map(|inode| inode.file_type().dirent_type())
                .unwrap_or(linux_abi::dirent::DT_UNKNOWN);
            let record = Dirent64 {
                d_ino: id.ino(),
                d_off: (entry_cookie + 1) as i64,
                d_type,
                d_name: name,
            };
            match record.encode(&mut out[written..]) {
                Some(len) => {
                    written += len;
                    next_cookie = entry_cookie + 1;
                }
                None if written == 0 => return Err(Errno::EINVAL),
                None => break,
            }
        }
        Ok(Dirents {
            bytes: written,
            next_cookie,
        })
    }

    /// The absolute path of directory `dir` as seen from `root`
    /// (`getcwd`); `ENOENT` if it was removed, and a path outside `root`
    /// is reported from the real root (as Linux prefixes
    /// "(unreachable)").
    pub fn path_of(&self, root: InodeId, dir: InodeId) -> Result<Vec<u8>, Errno> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut current = dir;
        while current != root {
            let parent = self.directory(current)?.parent;
            if parent == current {
                break;
            }
            let name = self
                .directory(parent)?
                .entries
                .iter()
                .find(|(_, &(id, _))| id == current)
                .map(|(name, _)| name.as_slice())
                .ok_or(Errno::ENOENT)?;
            names.push(name);
            current = parent;
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(path)
    }

    /// An open file now refers to `id`: it stays alive until released.
    pub fn acquire(&mut self, id: InodeId) -> Result<(), Errno> {
        let inode = self.inode_mut(id)?;
        inode.open_count += 1;
        Ok(())
    }

    /// An open file of `id` was closed; frees the inode if it has no name.
    pub fn release(&mut self, id: InodeId) -> Result<(), Errno> {
        let inode = self.inode_mut(id)?;
        inode.open_count = inode.open_count.saturating_sub(1);
        self.release_if_unused(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::ArchiveWriter;
    use linux_abi::dirent::{DT_DIR, DT_LNK, DT_REG};
    use linux_abi::fcntl::{O_RDONLY, O_RDWR, O_WRONLY};
    use linux_abi::stat::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG};
    use std::string::String;
    use std::vec;

    const T0: Timespec = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    const T1: Timespec = Timespec {
        tv_sec: 100,
        tv_nsec: 5,
    };

    fn initrd() -> Vec<u8> {
        ArchiveWriter::new()
            .directory(".", 0o755)
            .directory("bin", 0o755)
            .file("bin/busybox", 0o755, b"\x7fELF busybox")
            .symlink("bin/sh", "busybox")
            .symlink("bin/abs", "/bin/busybox")
            .directory("etc", 0o755)
            .file("etc/motd", 0o644, b"welcome\n")
            .symlink("etc/loop1", "loop2")
            .symlink("etc/loop2", "loop1")
            .symlink("etc/dangling", "/nowhere")
            .symlink("etc/up", "../bin")
            .char_device("dev/console", 0o600, 5, 1)
            .char_device("dev/null", 0o666, 1, 3)
            .finish()
    }

    fn open_root(archive: &[u8]) -> (Vfs<'_>, Context) {
        let vfs = Vfs::from_cpio(archive, Limits::default()).unwrap();
        let context = vfs.root_context(1);
        (vfs, context)
    }

    fn read_all(vfs: &Vfs<'_>, id: InodeId) -> Vec<u8> {
        let mut out = vec![0u8; 4096];
        let count = vfs.read(id, 0, &mut out, &Caller { pid: 1 }).unwrap();
        out.truncate(count);
        out
    }

    fn list(vfs: &Vfs<'_>, dir: InodeId) -> Vec<(String, u8)> {
        let mut out = vec![0u8; 4096];
        let dirents = vfs.getdents64(dir, 0, &mut out).unwrap();
        parse_dirents(&out[..dirents.bytes])
    }

    fn parse_dirents(mut bytes: &[u8]) -> Vec<(String, u8)> {
        let mut names = Vec::new();
        while !bytes.is_empty() {
            let reclen = u16::from_le_bytes([bytes[16], bytes[17]]) as usize;
            let name_end = bytes[19..reclen].iter().position(|&b| b == 0).unwrap() + 19;
            names.push((
                String::from_utf8(bytes[19..name_end].to_vec()).unwrap(),
                bytes[18],
            ));
            bytes = &bytes[reclen..];
        }
        names
    }

    #[test]
    fn builds_from_cpio_without_copying() {
        let archive = initrd();
        let (vfs, context) = open_root(&archive);
        let busybox = vfs.resolve(&context, b"/bin/busybox", true).unwrap();
        assert_eq!(read_all(&vfs, busybox), b"\x7fELF busybox");
        assert_eq!(
            vfs.owned_bytes(),
            0,
            "file data still points into the archive"
        );
        let stat = vfs.stat(busybox).unwrap();
        assert_eq!(stat.st_mode, S_IFREG | 0o755);
        assert_eq!(stat.st_size, 12);
        assert_eq!(stat.st_nlink, 1);
        assert_eq!(stat.st_ino, busybox.ino());
        let console = vfs.resolve(&context, b"/dev/console", true).unwrap();
        assert_eq!(vfs.kind(console), Ok(NodeKind::Device(Device::Console)));
        let stat = vfs.stat(console).unwrap();
        assert_eq!(stat.st_mode, S_IFCHR | 0o600);
        assert_eq!(stat.st_rdev, 0x501);
        let dev = vfs.resolve(&context, b"/dev", true).unwrap();
        assert_eq!(
            vfs.stat(dev).unwrap().st_mode,
            S_IFDIR | 0o755,
            "implicit parent"
        );
        assert_eq!(
            vfs.stat(vfs.root()).unwrap().st_nlink,
            5,
            "2 + bin, etc, dev"
        );
    }

    #[test]
    fn resolution_rules() {
        let archive = initrd();
        let (vfs, context) = open_root(&archive);
        let busybox = vfs.resolve(&context, b"/bin/busybox", true).unwrap();
        let sh = vfs.resolve(&context, b"/bin/sh", false).unwrap();
        assert_eq!(vfs.kind(sh), Ok(NodeKind::Symlink));
        assert_eq!(vfs.resolve(&context, b"/bin/sh", true), Ok(busybox));
        assert_eq!(vfs.resolve(&context, b"/bin/abs", true), Ok(busybox));
        assert_eq!(
            vfs.resolve(&context, b"//bin/./../bin/sh", true),
            Ok(busybox)
        );
        assert_eq!(
            vfs.resolve(&context, b"/../../bin/busybox", true),
            Ok(busybox),
            ".. stops at /"
        );
        assert_eq!(vfs.resolve(&context, b"/etc/up/busybox", true), Ok(busybox));
        assert_eq!(
            vfs.resolve(&context, b"/etc/up/", false)
                .map(|id| vfs.kind(id)),
            Ok(Ok(NodeKind::Directory)),
            "trailing slash follows"
        );
        let bin = vfs.resolve(&context, b"/bin", true).unwrap();
        let in_bin = Context {
            cwd: bin,
            ..context
        };
        assert_eq!(vfs.resolve(&in_bin, b"sh", true), Ok(busybox));
        assert_eq!(
            vfs.resolve(&in_bin, b"../etc/motd", true)
                .map(|id| read_all(&vfs, id)),
            Ok(b"welcome\n".to_vec())
        );
        assert_eq!(vfs.resolve(&context, b"", true), Err(Errno::ENOENT));
        assert_eq!(vfs.resolve(&context, b"/nope", true), Err(Errno::ENOENT));
        assert_eq!(
            vfs.resolve(&context, b"/etc/motd/x", true),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            vfs.resolve(&context, b"/etc/motd/", true),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            vfs.resolve(&context, b"/etc/motd/.", true),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            vfs.resolve(&context, b"/etc/loop1", true),
            Err(Errno::ELOOP)
        );
        assert!(
            vfs.resolve(&context, b"/etc/loop1", false).is_ok(),
            "not followed"
        );
        assert_eq!(
            vfs.resolve(&context, b"/etc/dangling", true),
            Err(Errno::ENOENT)
        );
        let long_name = vec![b'a'; 256];
        let mut path = b"/".to_vec();
        path.extend_from_slice(&long_name);
        assert_eq!(vfs.resolve(&context, &path, true), Err(Errno::ENAMETOOLONG));
        let long_path = vec![b'/'; PATH_MAX];
        assert_eq!(
            vfs.resolve(&context, &long_path, true),
            Err(Errno::ENAMETOOLONG)
        );
    }

    #[test]
    fn forty_hops_are_allowed_forty_one_are_not() {
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        vfs.open(&context, b"/target", O_CREAT | O_WRONLY, 0o644, T0)
            .unwrap();
        // link0 -> target, link<n> -> link<n-1>
        vfs.symlink(&context, b"target", b"/link0", T0).unwrap();
        for n in 1..=40 {
            let target = std::format!("link{}", n - 1);
            let name = std::format!("/link{n}");
            vfs.symlink(&context, target.as_bytes(), name.as_bytes(), T0)
                .unwrap();
        }
        assert!(vfs.resolve(&context, b"/link39", true).is_ok(), "40 hops");
        assert_eq!(
            vfs.resolve(&context, b"/link40", true),
            Err(Errno::ELOOP),
            "41 hops"
        );
    }

    #[test]
    fn chroot_context_confines_dotdot_and_absolute_links() {
        let archive = initrd();
        let (vfs, context) = open_root(&archive);
        let etc = vfs.resolve(&context, b"/etc", true).unwrap();
        let jailed = Context {
            root: etc,
            cwd: etc,
            pid: 1,
        };
        assert_eq!(
            vfs.resolve(&jailed, b"../../motd", true)
                .map(|id| read_all(&vfs, id)),
            Ok(b"welcome\n".to_vec())
        );
        assert_eq!(vfs.resolve(&jailed, b"/dangling", true), Err(Errno::ENOENT));
        assert_eq!(vfs.path_of(etc, etc), Ok(b"/".to_vec()));
    }

    #[test]
    fn open_flag_rules() {
        let archive = initrd();
        let (mut vfs, context) = open_root(&archive);
        let created = vfs
            .open(&context, b"/etc/new", O_CREAT | O_WRONLY, 0o600, T1)
            .unwrap();
        assert_eq!(vfs.stat(created).unwrap().st_mode, S_IFREG | 0o600);
        assert_eq!(vfs.stat(created).unwrap().st_mtime, 100);
        assert_eq!(
            vfs.open(
                &context,
                b"/etc/new",
                O_CREAT | O_EXCL | O_WRONLY,
                0o600,
                T1
            ),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            vfs.open(&context, b"/etc/new", O_CREAT | O_WRONLY, 0o600, T1),
            Ok(created)
        );
        assert_eq!(
            vfs.open(&context, b"/etc/new/", O_CREAT | O_WRONLY, 0o600, T1),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            vfs.open(&context, b"/etc/fresh/", O_CREAT | O_WRONLY, 0o600, T1),
            Err(Errno::EISDIR)
        );
        assert_eq!(
            vfs.open(&context, b"/nodir/x", O_CREAT | O_WRONLY, 0o600, T1),
            Err(Errno::ENOENT)
        );
        assert_eq!(
            vfs.open(&context, b"/etc", O_WRONLY, 0, T1),
            Err(Errno::EISDIR)
        );
        assert_eq!(
            vfs.open(&context, b"/etc", O_CREAT | O_RDONLY, 0, T1),
            Err(Errno::EISDIR)
        );
        assert!(vfs
            .open(&context, b"/etc", O_RDONLY | O_DIRECTORY, 0, T1)
            .is_ok());
        assert_eq!(
            vfs.open(&context, b"/etc/motd", O_RDONLY | O_DIRECTORY, 0, T1),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            vfs.open(&context, b"/bin/sh", O_RDONLY | O_NOFOLLOW, 0, T1),
            Err(Errno::ELOOP)
        );
        assert!(vfs
            .open(&context, b"/bin/sh", O_PATH | O_NOFOLLOW, 0, T1)
            .is_ok());
        assert_eq!(
            vfs.open(&context, b"/etc/motd", 3, 0, T1),
            Err(Errno::EINVAL),
            "bad access mode"
        );
        let motd = vfs
            .open(&context, b"/etc/motd", O_RDWR | O_TRUNC, 0, T1)
            .unwrap();
        assert_eq!(vfs.size(motd), Ok(0));
        assert_eq!(
            vfs.open(&context, b"/", O_CREAT | O_RDWR, 0, T1),
            Err(Errno::EISDIR)
        );
    }

    #[test]
    fn copy_on_write_and_limits() {
        let archive = initrd();
        let limits = Limits {
            max_file_bytes: 64,
            max_total_bytes: 100,
            max_inodes: 30,
        };
        let mut vfs = Vfs::from_cpio(&archive, limits).unwrap();
        let context = vfs.root_context(1);
        let motd = vfs.resolve(&context, b"/etc/motd", true).unwrap();
        assert_eq!(vfs.write(motd, 0, b"W", T1), Ok(1));
        assert_eq!(read_all(&vfs, motd), b"Welcome\n");
        assert_eq!(vfs.owned_bytes(), 8);
        assert_eq!(
            &archive[archive.windows(8).position(|w| w == b"welcome\n").unwrap()..][..8],
            b"welcome\n",
            "archive untouched"
        );
        assert_eq!(vfs.write(motd, 12, b"end", T1), Ok(3));
        assert_eq!(
            read_all(&vfs, motd),
            b"Welcome\n\0\0\0\0end",
            "gap zero-filled"
        );
        assert_eq!(
            vfs.write(motd, 60, b"123456789", T1),
            Ok(4),
            "cut at the file limit"
        );
        assert_eq!(vfs.write(motd, 64, b"x", T1), Err(Errno::EFBIG));
        assert_eq!(vfs.write(motd, u64::MAX, b"x", T1), Err(Errno::EFBIG));
        assert_eq!(vfs.truncate(motd, 65, T1), Err(Errno::EFBIG));
        let other = vfs
            .open(&context, b"/other", O_CREAT | O_WRONLY, 0o644, T1)
            .unwrap();
        assert_eq!(
            vfs.write(other, 0, &[1; 40], T1),
            Err(Errno::ENOSPC),
            "100 bytes in total"
        );
        vfs.truncate(motd, 0, T1).unwrap();
        assert_eq!(vfs.owned_bytes(), 0);
        assert_eq!(vfs.write(other, 0, &[1; 40], T1), Ok(40));
        let mut out = [0u8; 8];
        assert_eq!(
            vfs.read(other, 1 << 40, &mut out, &Caller { pid: 1 }),
            Ok(0),
            "past the end"
        );
        let etc = vfs.resolve(&context, b"/etc", true).unwrap();
        assert_eq!(vfs.write(etc, 0, b"x", T1), Err(Errno::EISDIR));
        assert_eq!(
            vfs.read(etc, 0, &mut out, &Caller { pid: 1 }),
            Err(Errno::EISDIR)
        );
    }

    #[test]
    fn inode_limit() {
        let mut vfs = Vfs::new(
            Limits {
                max_inodes: 3,
                ..Limits::default()
            },
            T0,
        );
        let context = vfs.root_context(1);
        vfs.mkdir(&context, b"/a", 0o755, T0).unwrap();
        vfs.mkdir(&context, b"/b", 0o755, T0).unwrap();
        assert_eq!(vfs.mkdir(&context, b"/c", 0o755, T0), Err(Errno::ENOSPC));
        vfs.rmdir(&context, b"/a", T0).unwrap();
        assert!(vfs.mkdir(&context, b"/c", 0o755, T0).is_ok(), "slot reused");
    }

    #[test]
    fn unlinked_open_files_live_until_released() {
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        let file = vfs
            .open(&context, b"/tmpfile", O_CREAT | O_RDWR, 0o600, T0)
            .unwrap();
        vfs.write(file, 0, b"data", T0).unwrap();
        vfs.acquire(file).unwrap();
        vfs.unlink(&context, b"/tmpfile", T0).unwrap();
        assert_eq!(read_all(&vfs, file), b"data", "still readable");
        assert_eq!(vfs.stat(file).unwrap().st_nlink, 0);
        assert_eq!(vfs.resolve(&context, b"/tmpfile", true), Err(Errno::ENOENT));
        vfs.release(file).unwrap();
        assert_eq!(vfs.stat(file), Err(Errno::ENOENT), "freed");
        assert_eq!(vfs.owned_bytes(), 0);
        // The slot is reused with a new generation: the stale id stays dead.
        let again = vfs
            .open(&context, b"/again", O_CREAT | O_RDWR, 0o600, T0)
            .unwrap();
        assert_eq!(again.ino(), file.ino(), "same slot");
        assert_ne!(again, file);
        assert_eq!(vfs.stat(file), Err(Errno::ENOENT));
        assert_eq!(vfs.release(file), Err(Errno::ENOENT));
    }

    #[test]
    fn directories_and_link_counts() {
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        let a = vfs.mkdir(&context, b"/a", 0o755, T1).unwrap();
        vfs.mkdir(&context, b"/a/b", 0o700, T1).unwrap();
        assert_eq!(vfs.stat(a).unwrap().st_nlink, 3);
        assert_eq!(vfs.stat(vfs.root()).unwrap().st_nlink, 3);
        assert_eq!(vfs.mkdir(&context, b"/a/b", 0o755, T1), Err(Errno::EEXIST));
        assert_eq!(vfs.mkdir(&context, b"/a/b/", 0o755, T1), Err(Errno::EEXIST));
        assert_eq!(
            vfs.mkdir(&context, b"/a/x/y", 0o755, T1),
            Err(Errno::ENOENT)
        );
        assert_eq!(vfs.mkdir(&context, b"/", 0o755, T1), Err(Errno::EEXIST));
        assert_eq!(vfs.rmdir(&context, b"/a", T1), Err(Errno::ENOTEMPTY));
        assert_eq!(vfs.rmdir(&context, b"/a/b/.", T1), Err(Errno::EINVAL));
        assert_eq!(vfs.rmdir(&context, b"/a/b/..", T1), Err(Errno::ENOTEMPTY));
        assert_eq!(vfs.rmdir(&context, b"/", T1), Err(Errno::EBUSY));
        assert_eq!(vfs.unlink(&context, b"/a/b", T1), Err(Errno::EISDIR));
        vfs.rmdir(&context, b"/a/b/", T1).unwrap();
        assert_eq!(vfs.stat(a).unwrap().st_nlink, 2);
        let file = vfs
            .open(&context, b"/a/f", O_CREAT | O_WRONLY, 0o644, T1)
            .unwrap();
        assert_eq!(vfs.rmdir(&context, b"/a/f", T1), Err(Errno::ENOTDIR));
        assert_eq!(vfs.unlink(&context, b"/a/f/", T1), Err(Errno::ENOTDIR));
        vfs.link(&context, b"/a/f", b"/g", true, T1).unwrap();
        assert_eq!(vfs.stat(file).unwrap().st_nlink, 2);
        assert_eq!(
            vfs.link(&context, b"/a", b"/h", true, T1),
            Err(Errno::EPERM)
        );
        assert_eq!(
            vfs.link(&context, b"/a/f", b"/g", true, T1),
            Err(Errno::EEXIST)
        );
        vfs.unlink(&context, b"/a/f", T1).unwrap();
        assert_eq!(vfs.stat(file).unwrap().st_nlink, 1, "still named /g");
        assert_eq!(vfs.unlink(&context, b"/a/f", T1), Err(Errno::ENOENT));
        vfs.unlink(&context, b"/g", T1).unwrap();
        assert_eq!(vfs.stat(file), Err(Errno::ENOENT));
        assert_eq!(vfs.inode_count(), 2, "root and /a");
    }

    #[test]
    fn rename_rules() {
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        let a = vfs.mkdir(&context, b"/a", 0o755, T0).unwrap();
        let b = vfs.mkdir(&context, b"/a/b", 0o755, T0).unwrap();
        let f = vfs
            .open(&context, b"/f", O_CREAT | O_WRONLY, 0o644, T0)
            .unwrap();
        vfs.open(&context, b"/g", O_CREAT | O_WRONLY, 0o644, T0)
            .unwrap();
        let empty = vfs.mkdir(&context, b"/empty", 0o755, T0).unwrap();
        assert_eq!(
            vfs.rename(&context, b"/a", b"/a/b/c", T1),
            Err(Errno::EINVAL),
            "into itself"
        );
        assert_eq!(vfs.rename(&context, b"/a", b"/a", T1), Ok(()));
        assert_eq!(vfs.rename(&context, b"/f", b"/a", T1), Err(Errno::EISDIR));
        assert_eq!(vfs.rename(&context, b"/a", b"/f", T1), Err(Errno::ENOTDIR));
        assert_eq!(
            vfs.rename(&context, b"/nope", b"/x", T1),
            Err(Errno::ENOENT)
        );
        assert_eq!(vfs.rename(&context, b"/f/", b"/x", T1), Err(Errno::ENOTDIR));
        assert_eq!(
            vfs.rename(&context, b"/a/b/..", b"/x", T1),
            Err(Errno::EBUSY)
        );
        vfs.rename(&context, b"/f", b"/g", T1).unwrap();
        assert_eq!(vfs.resolve(&context, b"/g", true), Ok(f), "replaced");
        assert_eq!(vfs.resolve(&context, b"/f", true), Err(Errno::ENOENT));
        vfs.open(&context, b"/a/b/x", O_CREAT | O_WRONLY, 0o644, T0)
            .unwrap();
        assert_eq!(
            vfs.rename(&context, b"/empty", b"/a/b", T1),
            Err(Errno::ENOTEMPTY)
        );
        vfs.rename(&context, b"/a/b", b"/empty", T1).unwrap();
        assert!(vfs.resolve(&context, b"/empty/x", true).is_ok());
        assert_eq!(
            vfs.stat(empty),
            Err(Errno::ENOENT),
            "replaced empty dir is freed"
        );
        assert_eq!(vfs.stat(a).unwrap().st_nlink, 2, "lost subdirectory b");
        assert_eq!(
            vfs.resolve(&context, b"/empty/..", true),
            Ok(vfs.root()),
            ".. updated"
        );
        assert_eq!(vfs.path_of(vfs.root(), b), Ok(b"/empty".to_vec()));
        assert_eq!(vfs.stat(vfs.root()).unwrap().st_nlink, 4, "2 + a + empty");
    }

    #[test]
    fn getdents_lists_and_resumes() {
        let archive = initrd();
        let (mut vfs, context) = open_root(&archive);
        let etc = vfs.resolve(&context, b"/etc", true).unwrap();
        let names = list(&vfs, etc);
        assert_eq!(names[0], (String::from("."), DT_DIR));
        assert_eq!(names[1], (String::from(".."), DT_DIR));
        assert!(names.contains(&(String::from("motd"), DT_REG)));
        assert!(names.contains(&(String::from("up"), DT_LNK)));
        assert_eq!(names.len(), 7);
        // A buffer for one record at a time.
        let mut small = [0u8; 32];
        let mut cookie = 0;
        let mut seen = Vec::new();
        loop {
            let dirents = vfs.getdents64(etc, cookie, &mut small).unwrap();
            if dirents.bytes == 0 {
                break;
            }
            seen.extend(parse_dirents(&small[..dirents.bytes]));
            cookie = dirents.next_cookie;
            if seen.len() == 3 {
                // Mutate the directory mid-listing.
                vfs.unlink(&context, b"/etc/loop2", T1).unwrap();
                vfs.open(&context, b"/etc/zz-new", O_CREAT | O_WRONLY, 0o644, T1)
                    .unwrap();
            }
        }
        let seen_names: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            seen_names.iter().filter(|&&n| n == "motd").count(),
            1,
            "no repeats"
        );
        assert!(
            seen_names.contains(&"zz-new"),
            "created during the listing: shown"
        );
        let mut tiny = [0u8; 16];
        assert_eq!(vfs.getdents64(etc, 0, &mut tiny), Err(Errno::EINVAL));
        let motd = vfs.resolve(&context, b"/etc/motd", true).unwrap();
        assert_eq!(vfs.getdents64(motd, 0, &mut small), Err(Errno::ENOTDIR));
    }

    #[test]
    fn procfs_hooks() {
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(42);
        let root = vfs.root();
        let proc = vfs.add_directory(root, b"proc", 0o555, T0).unwrap();
        vfs.add_synthetic(proc, b"self", Box::new(ProcSelf), T0)
            .unwrap();
        let uptime = SyntheticFn(SyntheticKind::File, |_: &Caller, out: &mut Vec<u8>| {
            out.extend_from_slice(b"12.34 5.67\n")
        });
        vfs.add_synthetic(proc, b"uptime", Box::new(uptime), T0)
            .unwrap();
        let pid_dir = vfs.add_directory(proc, b"42", 0o555, T0).unwrap();
        let stat = SyntheticFn(
            SyntheticKind::File,
            move |caller: &Caller, out: &mut Vec<u8>| {
                out.extend_from_slice(
                    std::format!("42 (sh) R asked-by-{}\n", caller.pid).as_bytes(),
                )
            },
        );
        vfs.add_synthetic(pid_dir, b"stat", Box::new(stat), T0)
            .unwrap();

        let file = vfs.resolve(&context, b"/proc/self/stat", true).unwrap();
        let mut out = [0u8; 64];
        let count = vfs.read(file, 0, &mut out, &Caller { pid: 42 }).unwrap();
        assert_eq!(&out[..count], b"42 (sh) R asked-by-42\n");
        let count = vfs.read(file, 3, &mut out, &Caller { pid: 42 }).unwrap();
        assert_eq!(
            &out[..count],
            b"(sh) R asked-by-42\n",
            "offsets cut the rendering"
        );
        let link = vfs.resolve(&context, b"/proc/self", false).unwrap();
        assert_eq!(vfs.readlink(link, &Caller { pid: 42 }), Ok(b"42".to_vec()));
        assert_eq!(vfs.stat(link).unwrap().st_mode, S_IFLNK | 0o777);
        let other = Context { pid: 7, ..context };
        assert_eq!(
            vfs.resolve(&other, b"/proc/self/stat", true),
            Err(Errno::ENOENT),
            "no /proc/7"
        );
        let uptime = vfs.resolve(&context, b"/proc/uptime", true).unwrap();
        assert_eq!(vfs.stat(uptime).unwrap().st_mode, S_IFREG | 0o444);
        assert_eq!(vfs.write(uptime, 0, b"x", T0), Err(Errno::EACCES));
        let names: Vec<String> = list(&vfs, proc).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [".", "..", "self", "uptime", "42"]);
        vfs.remove_tree(proc, b"42", T0).unwrap();
        assert_eq!(
            vfs.resolve(&context, b"/proc/self", true),
            Err(Errno::ENOENT)
        );
        assert_eq!(vfs.inode_count(), 4, "root, proc, self, uptime");
        let mut digits = Vec::new();
        ProcSelf.render(&Caller { pid: 0 }, &mut digits);
        assert_eq!(digits, b"0");
        digits.clear();
        ProcSelf.render(&Caller { pid: u32::MAX }, &mut digits);
        assert_eq!(digits, b"4294967295");
    }

    #[test]
    fn devices_answer_what_they_can() {
        let mut out = [7u8; 4];
        assert_eq!(Device::from_numbers(1, 3).read(&mut out), Some(0));
        assert_eq!(Device::from_numbers(1, 5).read(&mut out), Some(4));
        assert_eq!(out, [0; 4]);
        assert_eq!(Device::Null.write(10), Some(Ok(10)));
        assert_eq!(Device::Full.write(10), Some(Err(Errno::ENOSPC)));
        assert_eq!(Device::Console.read(&mut out), None, "the kernel's job");
        assert_eq!(Device::from_numbers(1, 9), Device::Random { minor: 9 });
        assert_eq!(
            Device::from_numbers(4, 64),
            Device::Other {
                major: 4,
                minor: 64
            }
        );
        for device in [
            Device::Null,
            Device::Zero,
            Device::Full,
            Device::Tty,
            Device::Console,
        ] {
            let (major, minor) = device.numbers();
            assert_eq!(Device::from_numbers(major, minor), device);
        }
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        let fifo = vfs
            .mknod(&context, b"/fifo", SpecialNode::Fifo, 0o644, T0)
            .unwrap();
        assert_eq!(vfs.kind(fifo), Ok(NodeKind::Fifo));
        assert_eq!(
            vfs.read(fifo, 0, &mut out, &Caller { pid: 1 }),
            Err(Errno::EINVAL)
        );
        let zero = vfs
            .mknod(
                &context,
                b"/zero",
                SpecialNode::Device(Device::Zero),
                0o666,
                T0,
            )
            .unwrap();
        assert_eq!(vfs.stat(zero).unwrap().st_rdev, 0x105);
    }

    #[test]
    fn metadata_updates() {
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        let file = vfs
            .open(&context, b"/f", O_CREAT | O_WRONLY, 0o644, T0)
            .unwrap();
        vfs.set_permissions(file, 0o104755, T1).unwrap();
        assert_eq!(
            vfs.stat(file).unwrap().st_mode,
            S_IFREG | 0o4755,
            "type bits ignored"
        );
        vfs.set_owner(file, Some(1000), None, T1).unwrap();
        let stat = vfs.stat(file).unwrap();
        assert_eq!((stat.st_uid, stat.st_gid), (1000, 0));
        assert_eq!((stat.st_ctime, stat.st_ctime_nsec), (100, 5));
        let later = Timespec {
            tv_sec: 200,
            tv_nsec: 0,
        };
        vfs.set_times(file, None, Some(later), T1).unwrap();
        assert_eq!(vfs.stat(file).unwrap().st_mtime, 200);
        assert_eq!(vfs.stat(file).unwrap().st_atime, 0);
    }

    #[test]
    fn getcwd_paths() {
        let archive = initrd();
        let (mut vfs, context) = open_root(&archive);
        let bin = vfs.resolve(&context, b"/bin", true).unwrap();
        assert_eq!(vfs.path_of(vfs.root(), bin), Ok(b"/bin".to_vec()));
        assert_eq!(vfs.path_of(vfs.root(), vfs.root()), Ok(b"/".to_vec()));
        let deep = vfs.mkdir(&context, b"/bin/x", 0o755, T0).unwrap();
        assert_eq!(vfs.path_of(vfs.root(), deep), Ok(b"/bin/x".to_vec()));
        vfs.rmdir(&context, b"/bin/x", T0).unwrap();
        assert_eq!(vfs.path_of(vfs.root(), deep), Err(Errno::ENOENT));
        let stale = Context {
            cwd: deep,
            ..context
        };
        assert_eq!(
            vfs.resolve(&stale, b"file", true),
            Err(Errno::ENOENT),
            "deleted cwd"
        );
        assert_eq!(
            vfs.resolve(&stale, b"/bin", true),
            Ok(bin),
            "absolute still works"
        );
    }

    #[test]
    fn archive_edge_cases() {
        // Hard links: data in the last entry, as newc stores it.
        let fields = |nlink| crate::cpio::EntryFields {
            ino: 77,
            mode: S_IFREG | 0o644,
            nlink,
            ..Default::default()
        };
        let archive = ArchiveWriter::new()
            .entry(b"a", fields(2), b"")
            .entry(b"b", fields(2), b"shared")
            .finish();
        let (vfs, context) = open_root(&archive);
        let a = vfs.resolve(&context, b"/a", true).unwrap();
        assert_eq!(vfs.resolve(&context, b"/b", true), Ok(a));
        assert_eq!(read_all(&vfs, a), b"shared");
        assert_eq!(vfs.stat(a).unwrap().st_nlink, 2);

        // A later entry replaces an earlier one; absolute and ../ names
        // stay inside the root.
        let archive = ArchiveWriter::new()
            .file("/etc/x", 0o644, b"old")
            .file("../../etc/x", 0o600, b"new")
            .finish();
        let (vfs, context) = open_root(&archive);
        let x = vfs.resolve(&context, b"/etc/x", true).unwrap();
        assert_eq!(read_all(&vfs, x), b"new");
        assert_eq!(vfs.stat(x).unwrap().st_mode, S_IFREG | 0o600);

        // A file where a directory is needed.
        let archive = ArchiveWriter::new()
            .file("f", 0o644, b"")
            .file("f/g", 0o644, b"")
            .finish();
        assert!(matches!(
            Vfs::from_cpio(&archive, Limits::default()),
            Err(BuildError::Entry {
                errno: Errno::ENOTDIR,
                ..
            })
        ));
        // Block devices are not kept.
        let block = crate::cpio::EntryFields {
            mode: 0o060644,
            ..Default::default()
        };
        let archive = ArchiveWriter::new().entry(b"sda", block, b"").finish();
        assert!(matches!(
            Vfs::from_cpio(&archive, Limits::default()),
            Err(BuildError::UnsupportedType { mode: 0o060644, .. })
        ));
        // A corrupt archive.
        let mut archive = initrd();
        archive[0] = b'X';
        let error = Vfs::from_cpio(&archive, Limits::default()).unwrap_err();
        assert!(matches!(error, BuildError::Archive(_)));
        assert!(std::format!("{error}").contains("bad magic"));
        // The root entry must be a directory.
        let archive = ArchiveWriter::new().file(".", 0o644, b"").finish();
        assert!(matches!(
            Vfs::from_cpio(&archive, Limits::default()),
            Err(BuildError::Entry {
                errno: Errno::ENOTDIR,
                ..
            })
        ));
    }

    #[test]
    fn seeded_operations_keep_the_tree_consistent() {
        let mut state = 0x7777_1234_abcd_0001u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut vfs = Vfs::new(Limits::default(), T0);
        let context = vfs.root_context(1);
        let names = [
            &b"a"[..],
            b"b",
            b"c",
            b"a/b",
            b"a/c",
            b"b/a",
            b"a/b/c",
            b"c/a/b",
            b"l",
        ];
        let path = |next: &mut dyn FnMut() -> u64| {
            let mut path = b"/".to_vec();
            path.extend_from_slice(names[(next() % names.len() as u64) as usize]);
            if next() % 8 == 0 {
                path.push(b'/');
            }
            path
        };
        for _ in 0..20_000 {
            let first = path(&mut next);
            let second = path(&mut next);
            let _ = match next() % 8 {
                0 => vfs.mkdir(&context, &first, 0o755, T0).map(drop),
                1 => vfs
                    .open(&context, &first, O_CREAT | O_WRONLY, 0o644, T0)
                    .map(drop),
                2 => vfs.unlink(&context, &first, T0),
                3 => vfs.rmdir(&context, &first, T0),
                4 => vfs.rename(&context, &first, &second, T0),
                5 => vfs.symlink(&context, &second, &first, T0).map(drop),
                6 => vfs.link(&context, &second, &first, false, T0),
                _ => vfs
                    .resolve(&context, &first, true)
                    .and_then(|id| vfs.write(id, next() % 100, b"xyz", T0))
                    .map(drop),
            };
        }
        // Every live directory's link count is 2 + its subdirectories, and
        // every name points to a live inode whose nlink counts its names.
        let mut name_counts: BTreeMap<InodeId, u32> = BTreeMap::new();
        let mut stack = vec![vfs.root()];
        let mut visited = 0;
        while let Some(dir) = stack.pop() {
            visited += 1;
            let directory = vfs.directory(dir).unwrap();
            let mut subdirectories = 0;
            for &(id, _) in directory.entries.values() {
                assert!(vfs.inode(id).is_ok(), "dangling entry");
                if vfs.kind(id) == Ok(NodeKind::Directory) {
                    subdirectories += 1;
                    assert_eq!(vfs.directory(id).unwrap().parent, dir);
                    stack.push(id);
                } else {
                    *name_counts.entry(id).or_insert(0) += 1;
                }
            }
            assert_eq!(vfs.stat(dir).unwrap().st_nlink, 2 + subdirectories);
        }
        for (id, count) in name_counts {
            assert_eq!(vfs.stat(id).unwrap().st_nlink, u64::from(count));
        }
        let files = vfs.inode_count() as usize - visited;
        assert!(files <= 64, "no leaked inodes: {files}");
    }
}
