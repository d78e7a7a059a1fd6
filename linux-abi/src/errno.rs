//! Error numbers (`asm-generic/errno-base.h`, `asm-generic/errno.h`).
//!
//! A failed system call returns `-errno` in `rax`; values in
//! `-4095..=-1` are errors (`MAX_ERRNO` in `linux/err.h`). [`Errno`] is the
//! typed value every layer of our kernel uses for those failures, with the
//! C name and the `strerror` text for diagnostics. The kernel-internal
//! restart codes (`linux/errno.h`, 512..) are here too because the signal
//! delivery code decides on them; they never reach user space.

use core::fmt;

/// A Linux error number (positive, as in C's `errno`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(u16);

/// The result of a system call in the kernel: a value or an [`Errno`].
pub type SysResult<T> = Result<T, Errno>;

/// Largest error number a system call may return (`linux/err.h`).
pub const MAX_ERRNO: u16 = 4095;

macro_rules! errnos {
    ($( $name:ident = $value:literal, $text:literal; )*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno($value);
            )*

            /// Every named error, in ascending order (aliases excluded).
            pub const ALL: &'static [Errno] = &[$(Errno::$name),*];

            /// The C name (`"ENOENT"`), or `None` for an unnamed number.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($name)), )*
                    _ => None,
                }
            }

            /// The `strerror` text (`"No such file or directory"`).
            pub const fn description(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ENOSTR = 60, "Device not a stream";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    ENOLINK = 67, "Link has been severed";
    EPROTO = 71, "Protocol error";
    EBADMSG = 74, "Bad message";
    EOVERFLOW = 75, "Value too large for defined data type";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    ERESTART = 85, "Interrupted system call should be restarted";
    EUSERS = 87, "Too many users";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EPFNOSUPPORT = 96, "Protocol family not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ENETRESET = 102, "Network dropped connection on reset";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ESHUTDOWN = 108, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109, "Too many references: cannot splice";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ESTALE = 116, "Stale file handle";
    EDQUOT = 122, "Disk quota exceeded";
    ENOMEDIUM = 123, "No medium found";
    ECANCELED = 125, "Operation canceled";
    ENOKEY = 126, "Required key not available";
    EOWNERDEAD = 130, "Owner died";
    ENOTRECOVERABLE = 131, "State not recoverable";
    ERFKILL = 132, "Operation not possible due to RF-kill";
    EHWPOISON = 133, "Memory page has hardware error";
    ERESTARTSYS = 512, "Kernel only: restart the call if the handler has SA_RESTART";
    ERESTARTNOINTR = 513, "Kernel only: always restart the call";
    ERESTARTNOHAND = 514, "Kernel only: restart the call if no handler runs";
    ERESTART_RESTARTBLOCK = 516, "Kernel only: restart through restart_syscall";
}

impl Errno {
    /// Same value as [`Errno::EAGAIN`] on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// Same value as [`Errno::EDEADLK`] on Linux.
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// glibc's `ENOTSUP` is `EOPNOTSUPP` on Linux (the kernel's internal
    /// `ENOTSUPP`, 524, is a different thing and never reaches user space).
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// The error with number `code`, if it is in `1..=MAX_ERRNO`.
    pub const fn new(code: u16) -> Option<Errno> {
        if code >= 1 && code <= MAX_ERRNO {
            Some(Errno(code))
        } else {
            None
        }
    }

    /// The positive number, as C's `errno` holds it.
    pub const fn code(self) -> i32 {
        self.0 as i32
    }

    /// What the kernel puts in `rax`: `-errno` as a 64-bit register value.
    pub const fn to_syscall_return(self) -> u64 {
        (-(self.0 as i64)) as u64
    }

    /// Decodes a raw `rax` after a system call: `Some` for `-4095..=-1`.
    pub const fn from_syscall_return(rax: u64) -> Option<Errno> {
        let value = rax as i64;
        if value < 0 && value >= -(MAX_ERRNO as i64) {
            Some(Errno((-value) as u16))
        } else {
            None
        }
    }

    /// True for the kernel-internal restart codes (512..=516) that must be
    /// turned into `EINTR` or a restart before returning to user space.
    pub const fn is_kernel_internal(self) -> bool {
        self.0 >= 512 && self.0 <= 516
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(text)) => write!(f, "{name} ({text})"),
            _ => write!(f, "error {}", self.0),
        }
    }
}

impl core::error::Error for Errno {}

/// Converts a result into the `rax` value of a system call return.
pub fn to_syscall_return(result: SysResult<u64>) -> u64 {
    match result {
        Ok(value) => value,
        Err(errno) => errno.to_syscall_return(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn names_and_descriptions() {
        assert_eq!(Errno::ENOENT.name(), Some("ENOENT"));
        assert_eq!(Errno::ENOENT.code(), 2);
        assert_eq!(
            format!("{}", Errno::ENOENT),
            "ENOENT (No such file or directory)"
        );
        assert_eq!(format!("{:?}", Errno::ELOOP), "ELOOP");
        assert_eq!(format!("{:?}", Errno::new(4000).unwrap()), "Errno(4000)");
        assert_eq!(format!("{}", Errno::new(4000).unwrap()), "error 4000");
        assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    }

    #[test]
    fn syscall_return_round_trip() {
        assert_eq!(Errno::EBADF.to_syscall_return(), (-9i64) as u64);
        assert_eq!(
            Errno::from_syscall_return((-9i64) as u64),
            Some(Errno::EBADF)
        );
        assert_eq!(Errno::from_syscall_return(0), None);
        assert_eq!(
            Errno::from_syscall_return((-4096i64) as u64),
            None,
            "an address, not an error"
        );
        assert_eq!(
            Errno::from_syscall_return((-4095i64) as u64),
            Errno::new(4095)
        );
        assert_eq!(to_syscall_return(Ok(7)), 7);
        assert_eq!(to_syscall_return(Err(Errno::EINVAL)), (-22i64) as u64);
    }

    #[test]
    fn range_is_enforced() {
        assert_eq!(Errno::new(0), None);
        assert_eq!(Errno::new(4096), None);
        assert!(Errno::ERESTARTSYS.is_kernel_internal());
        assert!(!Errno::EINTR.is_kernel_internal());
    }

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in Errno::ALL.windows(2) {
            assert!(pair[0] < pair[1], "{:?} then {:?}", pair[0], pair[1]);
        }
    }
}
