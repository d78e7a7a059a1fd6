//! The xenstore wire protocol: `io/xs_wire.h`.
//!
//! Every xenstore message is a 16-byte [`XsdSockmsg`] header followed by
//! `len` bytes of payload (usually NUL-terminated strings). A guest
//! exchanges messages with xenstored through the
//! [`XenstoreDomainInterface`] page (`start_info.store_mfn`, event channel
//! `start_info.store_evtchn`), whose two byte rings carry requests and
//! responses. Errors come back as an `XS_ERROR` reply whose payload is an
//! errno name such as `"ENOENT"`; [`XSD_ERRORS`] is the table of those.

use core::fmt;

// --- io/xs_wire.h: enum xsd_sockmsg_type ------------------------------------------

/// `XS_CONTROL`.
pub const XS_CONTROL: u32 = 0;
/// `XS_DEBUG`: the old name of `XS_CONTROL`.
pub const XS_DEBUG: u32 = XS_CONTROL;
/// `XS_DIRECTORY`.
pub const XS_DIRECTORY: u32 = 1;
/// `XS_READ`.
pub const XS_READ: u32 = 2;
/// `XS_GET_PERMS`.
pub const XS_GET_PERMS: u32 = 3;
/// `XS_WATCH`.
pub const XS_WATCH: u32 = 4;
/// `XS_UNWATCH`.
pub const XS_UNWATCH: u32 = 5;
/// `XS_TRANSACTION_START`.
pub const XS_TRANSACTION_START: u32 = 6;
/// `XS_TRANSACTION_END`.
pub const XS_TRANSACTION_END: u32 = 7;
/// `XS_INTRODUCE`.
pub const XS_INTRODUCE: u32 = 8;
/// `XS_RELEASE`.
pub const XS_RELEASE: u32 = 9;
/// `XS_GET_DOMAIN_PATH`.
pub const XS_GET_DOMAIN_PATH: u32 = 10;
/// `XS_WRITE`.
pub const XS_WRITE: u32 = 11;
/// `XS_MKDIR`.
pub const XS_MKDIR: u32 = 12;
/// `XS_RM`.
pub const XS_RM: u32 = 13;
/// `XS_SET_PERMS`.
pub const XS_SET_PERMS: u32 = 14;
/// `XS_WATCH_EVENT`: sent unsolicited by xenstored when a watch fires.
pub const XS_WATCH_EVENT: u32 = 15;
/// `XS_ERROR`: a failed request; the payload names the errno.
pub const XS_ERROR: u32 = 16;
/// `XS_IS_DOMAIN_INTRODUCED`.
pub const XS_IS_DOMAIN_INTRODUCED: u32 = 17;
/// `XS_RESUME`.
pub const XS_RESUME: u32 = 18;
/// `XS_SET_TARGET`.
pub const XS_SET_TARGET: u32 = 19;
/// `XS_RESET_WATCHES` (`XS_SET_TARGET + 2`: 20 was `XS_RESTRICT`, removed).
pub const XS_RESET_WATCHES: u32 = 21;
/// `XS_DIRECTORY_PART`.
pub const XS_DIRECTORY_PART: u32 = 22;
/// `XS_TYPE_COUNT`: number of valid types (one past the last).
pub const XS_TYPE_COUNT: u32 = 23;
/// `XS_INVALID`: "Guaranteed to remain an invalid type".
pub const XS_INVALID: u32 = 0xffff;

/// A message type: `enum xsd_sockmsg_type`, `io/xs_wire.h`, restricted to
/// the valid values. Convert a received `type` with `try_from`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XsdSockmsgType {
    /// `XS_CONTROL` (also `XS_DEBUG`).
    Control = XS_CONTROL,
    /// `XS_DIRECTORY`.
    Directory = XS_DIRECTORY,
    /// `XS_READ`.
    Read = XS_READ,
    /// `XS_GET_PERMS`.
    GetPerms = XS_GET_PERMS,
    /// `XS_WATCH`.
    Watch = XS_WATCH,
    /// `XS_UNWATCH`.
    Unwatch = XS_UNWATCH,
    /// `XS_TRANSACTION_START`.
    TransactionStart = XS_TRANSACTION_START,
    /// `XS_TRANSACTION_END`.
    TransactionEnd = XS_TRANSACTION_END,
    /// `XS_INTRODUCE`.
    Introduce = XS_INTRODUCE,
    /// `XS_RELEASE`.
    Release = XS_RELEASE,
    /// `XS_GET_DOMAIN_PATH`.
    GetDomainPath = XS_GET_DOMAIN_PATH,
    /// `XS_WRITE`.
    Write = XS_WRITE,
    /// `XS_MKDIR`.
    Mkdir = XS_MKDIR,
    /// `XS_RM`.
    Rm = XS_RM,
    /// `XS_SET_PERMS`.
    SetPerms = XS_SET_PERMS,
    /// `XS_WATCH_EVENT`.
    WatchEvent = XS_WATCH_EVENT,
    /// `XS_ERROR`.
    Error = XS_ERROR,
    /// `XS_IS_DOMAIN_INTRODUCED`.
    IsDomainIntroduced = XS_IS_DOMAIN_INTRODUCED,
    /// `XS_RESUME`.
    Resume = XS_RESUME,
    /// `XS_SET_TARGET`.
    SetTarget = XS_SET_TARGET,
    /// `XS_RESET_WATCHES`.
    ResetWatches = XS_RESET_WATCHES,
    /// `XS_DIRECTORY_PART`.
    DirectoryPart = XS_DIRECTORY_PART,
}

impl XsdSockmsgType {
    /// Every valid type, in numeric order.
    pub const ALL: [XsdSockmsgType; 22] = [
        Self::Control,
        Self::Directory,
        Self::Read,
        Self::GetPerms,
        Self::Watch,
        Self::Unwatch,
        Self::TransactionStart,
        Self::TransactionEnd,
        Self::Introduce,
        Self::Release,
        Self::GetDomainPath,
        Self::Write,
        Self::Mkdir,
        Self::Rm,
        Self::SetPerms,
        Self::WatchEvent,
        Self::Error,
        Self::IsDomainIntroduced,
        Self::Resume,
        Self::SetTarget,
        Self::ResetWatches,
        Self::DirectoryPart,
    ];

    /// The wire value.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }

    /// The C name, e.g. `"XS_READ"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Control => "XS_CONTROL",
            Self::Directory => "XS_DIRECTORY",
            Self::Read => "XS_READ",
            Self::GetPerms => "XS_GET_PERMS",
            Self::Watch => "XS_WATCH",
            Self::Unwatch => "XS_UNWATCH",
            Self::TransactionStart => "XS_TRANSACTION_START",
            Self::TransactionEnd => "XS_TRANSACTION_END",
            Self::Introduce => "XS_INTRODUCE",
            Self::Release => "XS_RELEASE",
            Self::GetDomainPath => "XS_GET_DOMAIN_PATH",
            Self::Write => "XS_WRITE",
            Self::Mkdir => "XS_MKDIR",
            Self::Rm => "XS_RM",
            Self::SetPerms => "XS_SET_PERMS",
            Self::WatchEvent => "XS_WATCH_EVENT",
            Self::Error => "XS_ERROR",
            Self::IsDomainIntroduced => "XS_IS_DOMAIN_INTRODUCED",
            Self::Resume => "XS_RESUME",
            Self::SetTarget => "XS_SET_TARGET",
            Self::ResetWatches => "XS_RESET_WATCHES",
            Self::DirectoryPart => "XS_DIRECTORY_PART",
        }
    }
}

impl fmt::Display for XsdSockmsgType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A message `type` that is not a valid `enum xsd_sockmsg_type` value; holds
/// the value received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownXsdSockmsgType(pub u32);

impl fmt::Display for UnknownXsdSockmsgType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "xenstore message type is invalid: expected 0..={XS_SET_TARGET} or \
             {XS_RESET_WATCHES}..={XS_DIRECTORY_PART} but got {}",
            self.0
        )
    }
}

impl core::error::Error for UnknownXsdSockmsgType {}

impl TryFrom<u32> for XsdSockmsgType {
    type Error = UnknownXsdSockmsgType;

    fn try_from(value: u32) -> Result<Self, UnknownXsdSockmsgType> {
        Self::ALL
            .iter()
            .copied()
            .find(|known| known.as_u32() == value)
            .ok_or(UnknownXsdSockmsgType(value))
    }
}

impl From<XsdSockmsgType> for u32 {
    fn from(value: XsdSockmsgType) -> u32 {
        value.as_u32()
    }
}

// --- io/xs_wire.h: write modes and errors ---------------------------------------------

/// `XS_WRITE_NONE`.
pub const XS_WRITE_NONE: &str = "NONE";
/// `XS_WRITE_CREATE`.
pub const XS_WRITE_CREATE: &str = "CREATE";
/// `XS_WRITE_CREATE_EXCL`.
pub const XS_WRITE_CREATE_EXCL: &str = "CREATE|EXCL";

/// One row of the error table: `struct xsd_errors`, `io/xs_wire.h`.
///
/// Not `#[repr(C)]`: the C row holds a `const char *`, and the table is
/// never shared in memory, only used to translate `XS_ERROR` payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XsError {
    /// The errno value (same numbers as [`crate::errno`]).
    pub errnum: i32,
    /// Its name, as sent in an `XS_ERROR` payload.
    pub errstring: &'static str,
}

const fn xs_error(errnum: i32, errstring: &'static str) -> XsError {
    XsError { errnum, errstring }
}

/// The `xsd_errors[]` table, `io/xs_wire.h`, in header order ("New errors
/// should be added at the end of the array").
pub const XSD_ERRORS: [XsError; 16] = {
    use crate::errno::*;
    [
        xs_error(EINVAL, "EINVAL"),
        xs_error(EACCES, "EACCES"),
        xs_error(EEXIST, "EEXIST"),
        xs_error(EISDIR, "EISDIR"),
        xs_error(ENOENT, "ENOENT"),
        xs_error(ENOMEM, "ENOMEM"),
        xs_error(ENOSPC, "ENOSPC"),
        xs_error(EIO, "EIO"),
        xs_error(ENOTEMPTY, "ENOTEMPTY"),
        xs_error(ENOSYS, "ENOSYS"),
        xs_error(EROFS, "EROFS"),
        xs_error(EBUSY, "EBUSY"),
        xs_error(EAGAIN, "EAGAIN"),
        xs_error(EISCONN, "EISCONN"),
        xs_error(E2BIG, "E2BIG"),
        xs_error(EPERM, "EPERM"),
    ]
};

/// The errno an `XS_ERROR` payload names (`"ENOENT"` gives 2), or `None` if
/// the name is not in [`XSD_ERRORS`].
pub fn errno_from_name(name: &str) -> Option<i32> {
    XSD_ERRORS
        .iter()
        .find(|entry| entry.errstring == name)
        .map(|entry| entry.errnum)
}

/// The name to send in an `XS_ERROR` reply for `errnum`, or `None` if the
/// table has none (C xenstored then sends `"EINVAL"`, the first entry).
pub fn name_from_errno(errnum: i32) -> Option<&'static str> {
    XSD_ERRORS
        .iter()
        .find(|entry| entry.errnum == errnum)
        .map(|entry| entry.errstring)
}

// --- io/xs_wire.h: struct xsd_sockmsg ---------------------------------------------------

/// A message header: `struct xsd_sockmsg`, `io/xs_wire.h`. Written by the
/// sender (the guest for requests, xenstored for replies and watch events),
/// followed on the wire by `len` payload bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XsdSockmsg {
    /// `XS_*` message type (C field `type`, a Rust keyword).
    pub type_: u32,
    /// Request identifier, echoed in the daemon's response.
    pub req_id: u32,
    /// Transaction id (0 if not in a transaction).
    pub tx_id: u32,
    /// Length of the payload that follows; at most
    /// [`XENSTORE_PAYLOAD_MAX`] from a well-behaved peer.
    pub len: u32,
}

impl XsdSockmsg {
    /// Bytes in the header on the wire.
    pub const BYTES: usize = 16;

    /// The header as it goes on the wire (x86: little-endian fields in
    /// declaration order).
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut bytes = [0; Self::BYTES];
        let fields = [self.type_, self.req_id, self.tx_id, self.len];
        for (chunk, field) in bytes.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        bytes
    }

    /// Decodes a header received from the wire. No field is validated: the
    /// type and length are the peer's allegations.
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> Self {
        let field = |index: usize| {
            let mut word = [0; 4];
            word.copy_from_slice(&bytes[index * 4..index * 4 + 4]);
            u32::from_le_bytes(word)
        };
        XsdSockmsg {
            type_: field(0),
            req_id: field(1),
            tx_id: field(2),
            len: field(3),
        }
    }
}

// --- io/xs_wire.h: enum xs_watch_type ----------------------------------------------------

/// `XS_WATCH_PATH`: index of the path in an `XS_WATCH_EVENT` payload.
pub const XS_WATCH_PATH: usize = 0;
/// `XS_WATCH_TOKEN`: index of the token in an `XS_WATCH_EVENT` payload.
pub const XS_WATCH_TOKEN: usize = 1;

// --- io/xs_wire.h: the shared ring page ----------------------------------------------------

/// `XENSTORE_RING_SIZE`: bytes in each ring of the interface page.
pub const XENSTORE_RING_SIZE: usize = 1024;
/// `XENSTORE_RING_IDX`: a free-running ring index.
pub type XenstoreRingIdx = u32;

/// `MASK_XENSTORE_IDX(idx)`: the byte offset of free-running index `idx`.
pub const fn mask_xenstore_idx(idx: XenstoreRingIdx) -> usize {
    idx as usize & (XENSTORE_RING_SIZE - 1)
}

/// `XENSTORE_PAYLOAD_MAX`: largest payload ("Violating this is very bad").
pub const XENSTORE_PAYLOAD_MAX: usize = 4096;
/// `XENSTORE_ABS_PATH_MAX`: longest absolute path.
pub const XENSTORE_ABS_PATH_MAX: usize = 3072;
/// `XENSTORE_REL_PATH_MAX`: longest relative path.
pub const XENSTORE_REL_PATH_MAX: usize = 2048;

/// `XENSTORE_SERVER_FEATURE_RECONNECTION`: the server supports the
/// `connection` field.
pub const XENSTORE_SERVER_FEATURE_RECONNECTION: u32 = 1;
/// `XENSTORE_SERVER_FEATURE_ERROR`: the server supports the `error` field.
pub const XENSTORE_SERVER_FEATURE_ERROR: u32 = 2;

/// `XENSTORE_CONNECTED`: the steady state.
pub const XENSTORE_CONNECTED: u32 = 0;
/// `XENSTORE_RECONNECT`: a reconnection is in progress.
pub const XENSTORE_RECONNECT: u32 = 1;

/// `XENSTORE_ERROR_NONE`.
pub const XENSTORE_ERROR_NONE: u32 = 0;
/// `XENSTORE_ERROR_COMM`: communication problem.
pub const XENSTORE_ERROR_COMM: u32 = 1;
/// `XENSTORE_ERROR_RINGIDX`: invalid ring index.
pub const XENSTORE_ERROR_RINGIDX: u32 = 2;
/// `XENSTORE_ERROR_PROTO`: protocol violation (payload too long).
pub const XENSTORE_ERROR_PROTO: u32 = 3;

/// The xenstore page: `struct xenstore_domain_interface`, `io/xs_wire.h`.
///
/// Writers: the guest writes `req` and `req_prod`, and `rsp_cons`;
/// xenstored writes `rsp` and `rsp_prod`, and `req_cons`. xenstored also
/// writes `server_features` and `error`; the guest sets `connection` to
/// `XENSTORE_RECONNECT` to ask for a reset and xenstored sets it back to
/// `XENSTORE_CONNECTED`. Indices from xenstored are allegations.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenstoreDomainInterface {
    /// Requests to xenstored (guest).
    pub req: [u8; XENSTORE_RING_SIZE],
    /// Replies and watch events (xenstored).
    pub rsp: [u8; XENSTORE_RING_SIZE],
    /// Requests consumed (xenstored).
    pub req_cons: XenstoreRingIdx,
    /// Requests produced (guest).
    pub req_prod: XenstoreRingIdx,
    /// Responses consumed (guest).
    pub rsp_cons: XenstoreRingIdx,
    /// Responses produced (xenstored).
    pub rsp_prod: XenstoreRingIdx,
    /// `XENSTORE_SERVER_FEATURE_*` bitmap (xenstored).
    pub server_features: u32,
    /// `XENSTORE_CONNECTED` or `XENSTORE_RECONNECT`.
    pub connection: u32,
    /// `XENSTORE_ERROR_*` (xenstored).
    pub error: u32,
}

impl Default for XenstoreDomainInterface {
    fn default() -> Self {
        XenstoreDomainInterface {
            req: [0; XENSTORE_RING_SIZE],
            rsp: [0; XENSTORE_RING_SIZE],
            req_cons: 0,
            req_prod: 0,
            rsp_cons: 0,
            rsp_prod: 0,
            server_features: 0,
            connection: XENSTORE_CONNECTED,
            error: XENSTORE_ERROR_NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_round_trips() {
        for kind in XsdSockmsgType::ALL {
            assert_eq!(XsdSockmsgType::try_from(kind.as_u32()), Ok(kind));
        }
        assert_eq!(XsdSockmsgType::try_from(XS_READ), Ok(XsdSockmsgType::Read));
        assert_eq!(XsdSockmsgType::Read.name(), "XS_READ");
    }

    #[test]
    fn bad_message_types_are_rejected_with_their_value() {
        // 20 was XS_RESTRICT, removed.
        assert_eq!(XsdSockmsgType::try_from(20), Err(UnknownXsdSockmsgType(20)));
        assert_eq!(
            XsdSockmsgType::try_from(XS_TYPE_COUNT),
            Err(UnknownXsdSockmsgType(23))
        );
        assert_eq!(
            XsdSockmsgType::try_from(XS_INVALID),
            Err(UnknownXsdSockmsgType(0xffff))
        );
        let text = std::format!("{}", UnknownXsdSockmsgType(20));
        assert!(text.ends_with("but got 20"), "{text}");
    }

    #[test]
    fn error_names() {
        assert_eq!(errno_from_name("ENOENT"), Some(2));
        assert_eq!(errno_from_name("EAGAIN"), Some(11));
        assert_eq!(errno_from_name("ENOPE"), None);
        assert_eq!(name_from_errno(crate::errno::EACCES), Some("EACCES"));
        assert_eq!(name_from_errno(crate::errno::ETIME), None);
        for entry in XSD_ERRORS {
            assert_eq!(crate::errno::name(entry.errnum), Some(entry.errstring));
        }
    }

    #[test]
    fn header_wire_round_trip() {
        let header = XsdSockmsg {
            type_: XS_WRITE,
            req_id: 7,
            tx_id: 0x0102_0304,
            len: 12,
        };
        let bytes = header.to_bytes();
        assert_eq!(&bytes[..4], &[11, 0, 0, 0]);
        assert_eq!(&bytes[8..12], &[4, 3, 2, 1]);
        assert_eq!(XsdSockmsg::from_bytes(&bytes), header);
    }

    #[test]
    fn ring_index_mask() {
        assert_eq!(mask_xenstore_idx(1023), 1023);
        assert_eq!(mask_xenstore_idx(1024), 0);
        assert_eq!(mask_xenstore_idx(u32::MAX), 1023);
    }
}
