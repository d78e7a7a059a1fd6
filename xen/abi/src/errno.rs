//! Error numbers hypercalls return, negated: `errno.h`.
//!
//! A failing hypercall returns `-E*`, with the values below (the header:
//! "Values originating from x86 Linux"). The header lists them as
//! `XEN_ERRNO(name, value)`; the default include makes them the C enum
//! constants `XEN_EPERM`, `XEN_ENOENT`, ... Here they keep the bare names.
//! [`name`] turns a code back into its name for log lines.
//!
//! `EINTR` and `ERESTART` are in the header only `#ifdef __XEN__`
//! ("Internal only, should never be exposed to the guest"); they are here so
//! a stray one can still be named. [`EALREADY`] and [`EINPROGRESS`] are not
//! in the installed 4.17 header at all: they carry the x86 Linux values the
//! header says its numbers come from, for code that needs those names.

/// `EPERM` (1): Operation not permitted.
pub const EPERM: i32 = 1;
/// `ENOENT` (2): No such file or directory.
pub const ENOENT: i32 = 2;
/// `ESRCH` (3): No such process.
pub const ESRCH: i32 = 3;
/// `EINTR` (4): Interrupted system call. Xen-internal (`#ifdef __XEN__`).
pub const EINTR: i32 = 4;
/// `EIO` (5): I/O error.
pub const EIO: i32 = 5;
/// `ENXIO` (6): No such device or address.
pub const ENXIO: i32 = 6;
/// `E2BIG` (7): Arg list too long.
pub const E2BIG: i32 = 7;
/// `ENOEXEC` (8): Exec format error.
pub const ENOEXEC: i32 = 8;
/// `EBADF` (9): Bad file number.
pub const EBADF: i32 = 9;
/// `ECHILD` (10): No child processes.
pub const ECHILD: i32 = 10;
/// `EAGAIN` (11): Try again.
pub const EAGAIN: i32 = 11;
/// `EWOULDBLOCK` (11): Operation would block. Aliases EAGAIN.
pub const EWOULDBLOCK: i32 = 11;
/// `ENOMEM` (12): Out of memory.
pub const ENOMEM: i32 = 12;
/// `EACCES` (13): Permission denied.
pub const EACCES: i32 = 13;
/// `EFAULT` (14): Bad address.
pub const EFAULT: i32 = 14;
/// `EBUSY` (16): Device or resource busy.
pub const EBUSY: i32 = 16;
/// `EEXIST` (17): File exists.
pub const EEXIST: i32 = 17;
/// `EXDEV` (18): Cross-device link.
pub const EXDEV: i32 = 18;
/// `ENODEV` (19): No such device.
pub const ENODEV: i32 = 19;
/// `ENOTDIR` (20): Not a directory.
pub const ENOTDIR: i32 = 20;
/// `EISDIR` (21): Is a directory.
pub const EISDIR: i32 = 21;
/// `EINVAL` (22): Invalid argument.
pub const EINVAL: i32 = 22;
/// `ENFILE` (23): File table overflow.
pub const ENFILE: i32 = 23;
/// `EMFILE` (24): Too many open files.
pub const EMFILE: i32 = 24;
/// `ENOSPC` (28): No space left on device.
pub const ENOSPC: i32 = 28;
/// `EROFS` (30): Read-only file system.
pub const EROFS: i32 = 30;
/// `EMLINK` (31): Too many links.
pub const EMLINK: i32 = 31;
/// `EDOM` (33): Math argument out of domain of func.
pub const EDOM: i32 = 33;
/// `ERANGE` (34): Math result not representable.
pub const ERANGE: i32 = 34;
/// `EDEADLK` (35): Resource deadlock would occur.
pub const EDEADLK: i32 = 35;
/// `EDEADLOCK` (35): Resource deadlock would occur. Aliases EDEADLK.
pub const EDEADLOCK: i32 = 35;
/// `ENAMETOOLONG` (36): File name too long.
pub const ENAMETOOLONG: i32 = 36;
/// `ENOLCK` (37): No record locks available.
pub const ENOLCK: i32 = 37;
/// `ENOSYS` (38): Function not implemented.
pub const ENOSYS: i32 = 38;
/// `ENOTEMPTY` (39): Directory not empty.
pub const ENOTEMPTY: i32 = 39;
/// `ENODATA` (61): No data available.
pub const ENODATA: i32 = 61;
/// `ETIME` (62): Timer expired.
pub const ETIME: i32 = 62;
/// `EBADMSG` (74): Not a data message.
pub const EBADMSG: i32 = 74;
/// `EOVERFLOW` (75): Value too large for defined data type.
pub const EOVERFLOW: i32 = 75;
/// `EILSEQ` (84): Illegal byte sequence.
pub const EILSEQ: i32 = 84;
/// `ERESTART` (85): Interrupted system call should be restarted.
/// Xen-internal (`#ifdef __XEN__`).
pub const ERESTART: i32 = 85;
/// `ENOTSOCK` (88): Socket operation on non-socket.
pub const ENOTSOCK: i32 = 88;
/// `EMSGSIZE` (90): Message too large.
pub const EMSGSIZE: i32 = 90;
/// `EOPNOTSUPP` (95): Operation not supported on transport endpoint.
pub const EOPNOTSUPP: i32 = 95;
/// `EADDRINUSE` (98): Address already in use.
pub const EADDRINUSE: i32 = 98;
/// `EADDRNOTAVAIL` (99): Cannot assign requested address.
pub const EADDRNOTAVAIL: i32 = 99;
/// `ENOBUFS` (105): No buffer space available.
pub const ENOBUFS: i32 = 105;
/// `EISCONN` (106): Transport endpoint is already connected.
pub const EISCONN: i32 = 106;
/// `ENOTCONN` (107): Transport endpoint is not connected.
pub const ENOTCONN: i32 = 107;
/// `ETIMEDOUT` (110): Connection timed out.
pub const ETIMEDOUT: i32 = 110;
/// `ECONNREFUSED` (111): Connection refused.
pub const ECONNREFUSED: i32 = 111;
/// `EALREADY` (114): operation already in progress. Not in the installed
/// 4.17 `errno.h`; the x86 Linux value.
pub const EALREADY: i32 = 114;
/// `EINPROGRESS` (115): operation now in progress. Not in the installed
/// 4.17 `errno.h`; the x86 Linux value.
pub const EINPROGRESS: i32 = 115;

/// Every error number with its name, in `errno.h` order; the aliases
/// `EWOULDBLOCK` (= `EAGAIN`) and `EDEADLOCK` (= `EDEADLK`) are left out so
/// each value has one name.
pub const ERRNO_NAMES: [(i32, &str); 51] = [
    (EPERM, "EPERM"),
    (ENOENT, "ENOENT"),
    (ESRCH, "ESRCH"),
    (EINTR, "EINTR"),
    (EIO, "EIO"),
    (ENXIO, "ENXIO"),
    (E2BIG, "E2BIG"),
    (ENOEXEC, "ENOEXEC"),
    (EBADF, "EBADF"),
    (ECHILD, "ECHILD"),
    (EAGAIN, "EAGAIN"),
    (ENOMEM, "ENOMEM"),
    (EACCES, "EACCES"),
    (EFAULT, "EFAULT"),
    (EBUSY, "EBUSY"),
    (EEXIST, "EEXIST"),
    (EXDEV, "EXDEV"),
    (ENODEV, "ENODEV"),
    (ENOTDIR, "ENOTDIR"),
    (EISDIR, "EISDIR"),
    (EINVAL, "EINVAL"),
    (ENFILE, "ENFILE"),
    (EMFILE, "EMFILE"),
    (ENOSPC, "ENOSPC"),
    (EROFS, "EROFS"),
    (EMLINK, "EMLINK"),
    (EDOM, "EDOM"),
    (ERANGE, "ERANGE"),
    (EDEADLK, "EDEADLK"),
    (ENAMETOOLONG, "ENAMETOOLONG"),
    (ENOLCK, "ENOLCK"),
    (ENOSYS, "ENOSYS"),
    (ENOTEMPTY, "ENOTEMPTY"),
    (ENODATA, "ENODATA"),
    (ETIME, "ETIME"),
    (EBADMSG, "EBADMSG"),
    (EOVERFLOW, "EOVERFLOW"),
    (EILSEQ, "EILSEQ"),
    (ERESTART, "ERESTART"),
    (ENOTSOCK, "ENOTSOCK"),
    (EMSGSIZE, "EMSGSIZE"),
    (EOPNOTSUPP, "EOPNOTSUPP"),
    (EADDRINUSE, "EADDRINUSE"),
    (EADDRNOTAVAIL, "EADDRNOTAVAIL"),
    (ENOBUFS, "ENOBUFS"),
    (EISCONN, "EISCONN"),
    (ENOTCONN, "ENOTCONN"),
    (ETIMEDOUT, "ETIMEDOUT"),
    (ECONNREFUSED, "ECONNREFUSED"),
    (EALREADY, "EALREADY"),
    (EINPROGRESS, "EINPROGRESS"),
];

/// The name of error number `code` ("ENOENT" for 2), or `None` if
/// `errno.h` has no such value. A negative code, as hypercalls return it, is
/// negated first.
pub fn name(code: i32) -> Option<&'static str> {
    let positive = code.checked_abs()?;
    ERRNO_NAMES
        .iter()
        .find(|(value, _)| *value == positive)
        .map(|(_, name)| *name)
}

/// The error number called `name` (`"EAGAIN"` gives 11), including the
/// aliases `EWOULDBLOCK` and `EDEADLOCK`.
pub fn from_name(name: &str) -> Option<i32> {
    match name {
        "EWOULDBLOCK" => Some(EWOULDBLOCK),
        "EDEADLOCK" => Some(EDEADLOCK),
        _ => ERRNO_NAMES
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(value, _)| *value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (value, text) in ERRNO_NAMES {
            assert_eq!(name(value), Some(text));
            assert_eq!(from_name(text), Some(value));
        }
    }

    #[test]
    fn negative_codes_and_aliases() {
        assert_eq!(name(-ENOENT), Some("ENOENT"));
        assert_eq!(name(EWOULDBLOCK), Some("EAGAIN"));
        assert_eq!(name(EDEADLOCK), Some("EDEADLK"));
        assert_eq!(from_name("EWOULDBLOCK"), Some(11));
        assert_eq!(name(0), None);
        assert_eq!(name(15), None);
        assert_eq!(name(i32::MIN), None);
        assert_eq!(from_name("ENOPE"), None);
    }

    #[test]
    fn each_value_has_one_name() {
        for (index, (value, _)) in ERRNO_NAMES.iter().enumerate() {
            assert!(ERRNO_NAMES[index + 1..]
                .iter()
                .all(|(other, _)| other != value));
        }
    }
}
