//! The xenstore layer's one error type, and who is to blame for each.

use crate::byte_ring::RingError;
use alloc::string::String;
use core::fmt;
use xen_abi::errno;
use xen_abi::xs_wire::{self, XsdSockmsgType};

/// Who caused an [`XsError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// xenstored refused the request (an `XS_ERROR` reply): a normal
    /// outcome the caller handles, such as `ENOENT` or `EAGAIN`.
    Server,
    /// The peer broke the protocol (garbage, impossible indices, a reply
    /// nobody asked for). The connection cannot be trusted any more.
    Peer,
    /// The caller asked for something the protocol cannot express.
    Caller,
}

/// Everything that can go wrong talking to xenstore.
///
/// The first variants are the names xenstored sends in an `XS_ERROR`
/// reply, one per row of `xsd_errors[]` in `io/xs_wire.h`
/// ([`xs_wire::XSD_ERRORS`]), named after the errno in CamelCase. (Not to be
/// confused with [`xs_wire::XsError`], the C table's row type.)
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum XsError {
    /// `EINVAL`: invalid argument (a malformed path or request).
    Einval,
    /// `EACCES`: the node's permissions do not allow this.
    Eacces,
    /// `EEXIST`: already exists (a watch with this path and token).
    Eexist,
    /// `EISDIR`: is a directory.
    Eisdir,
    /// `ENOENT`: no such node, or no such transaction.
    Enoent,
    /// `ENOMEM`: xenstored is out of memory.
    Enomem,
    /// `ENOSPC`: out of space (node or transaction quota).
    Enospc,
    /// `EIO`: input/output error inside xenstored.
    Eio,
    /// `ENOTEMPTY`: directory not empty.
    Enotempty,
    /// `ENOSYS`: the operation is not implemented.
    Enosys,
    /// `EROFS`: read-only (for example, xenstored is shutting down).
    Erofs,
    /// `EBUSY`: busy (a transaction is already open on a socket
    /// connection).
    Ebusy,
    /// `EAGAIN`: the transaction conflicted with another write; start it
    /// again (see [`super::should_retry`]).
    Eagain,
    /// `EISCONN`: already connected (domain already introduced).
    Eisconn,
    /// `E2BIG`: argument too long (quota on node size or count).
    E2big,
    /// `EPERM`: operation not permitted (privileged requests).
    Eperm,
    /// An `XS_ERROR` reply naming an errno outside `xsd_errors[]` (other
    /// xenstored implementations, e.g. oxenstored's `EQUOTA`). The server
    /// refused; the name is kept for the log.
    UnknownServerError {
        /// The name as sent, at most 32 bytes of it.
        name: String,
    },
    /// The peer sent something that is not valid protocol.
    Malformed {
        /// The field or construct at fault, e.g. `"payload length"`.
        what: &'static str,
        /// The bound that was expected and the value that came.
        detail: String,
    },
    /// A reply of the wrong type for its request.
    Unexpected {
        /// The request's type (or `XS_ERROR`).
        expected: XsdSockmsgType,
        /// The type that came back.
        got: XsdSockmsgType,
    },
    /// A reply whose `req_id` matches no request in flight.
    UnknownRequestId {
        /// The `req_id` received.
        req_id: u32,
        /// The reply's type.
        msg_type: XsdSockmsgType,
    },
    /// The shared ring's indices are impossible.
    Ring(RingError),
    /// A request's payload would exceed `XENSTORE_PAYLOAD_MAX`; xenstored
    /// would drop the whole connection, so it is never sent.
    RequestTooLarge {
        /// Payload bytes the request needs.
        len_bytes: usize,
        /// `XENSTORE_PAYLOAD_MAX`.
        max_bytes: usize,
    },
    /// A request argument the protocol cannot carry (a path with a NUL or
    /// a forbidden character, an empty path, ...).
    InvalidArgument {
        /// The argument, e.g. `"path"`.
        what: &'static str,
        /// Why it was refused.
        detail: String,
    },
}

/// The server error variants, in the order of `xsd_errors[]`.
const SERVER_ERRORS: [(i32, XsError); 16] = [
    (errno::EINVAL, XsError::Einval),
    (errno::EACCES, XsError::Eacces),
    (errno::EEXIST, XsError::Eexist),
    (errno::EISDIR, XsError::Eisdir),
    (errno::ENOENT, XsError::Enoent),
    (errno::ENOMEM, XsError::Enomem),
    (errno::ENOSPC, XsError::Enospc),
    (errno::EIO, XsError::Eio),
    (errno::ENOTEMPTY, XsError::Enotempty),
    (errno::ENOSYS, XsError::Enosys),
    (errno::EROFS, XsError::Erofs),
    (errno::EBUSY, XsError::Ebusy),
    (errno::EAGAIN, XsError::Eagain),
    (errno::EISCONN, XsError::Eisconn),
    (errno::E2BIG, XsError::E2big),
    (errno::EPERM, XsError::Eperm),
];

impl XsError {
    /// The error for an `XS_ERROR` payload's name, e.g. `"ENOENT"`,
    /// translated through `xsd_errors[]`. A name outside the table gives
    /// [`XsError::UnknownServerError`].
    pub fn from_error_name(name: &str) -> XsError {
        xs_wire::errno_from_name(name)
            .and_then(XsError::from_errno)
            .unwrap_or_else(|| XsError::UnknownServerError {
                name: name.chars().take(32).collect(),
            })
    }

    /// The server error for `errnum`, if `xsd_errors[]` has it.
    pub fn from_errno(errnum: i32) -> Option<XsError> {
        SERVER_ERRORS
            .iter()
            .find(|(number, _)| *number == errnum)
            .map(|(_, error)| error.clone())
    }

    /// The errno of a server error (`Eagain` gives 11).
    pub fn errno(&self) -> Option<i32> {
        SERVER_ERRORS
            .iter()
            .find(|(_, error)| error == self)
            .map(|(number, _)| *number)
    }

    /// The name sent on the wire for a server error (`"EAGAIN"`).
    pub fn error_name(&self) -> Option<&'static str> {
        self.errno().and_then(xs_wire::name_from_errno)
    }

    /// Who caused this error.
    pub fn blame(&self) -> Blame {
        match self {
            XsError::Malformed { .. }
            | XsError::Unexpected { .. }
            | XsError::UnknownRequestId { .. }
            | XsError::Ring(_) => Blame::Peer,
            XsError::RequestTooLarge { .. } | XsError::InvalidArgument { .. } => Blame::Caller,
            _ => Blame::Server,
        }
    }

    pub(crate) fn malformed(what: &'static str, detail: String) -> XsError {
        XsError::Malformed { what, detail }
    }
}

impl From<RingError> for XsError {
    fn from(error: RingError) -> Self {
        XsError::Ring(error)
    }
}

impl fmt::Display for XsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.error_name() {
            return write!(formatter, "xenstored refused the request: {name}");
        }
        match self {
            XsError::UnknownServerError { name } => write!(
                formatter,
                "xenstored refused the request with an error outside xsd_errors: {name:?}"
            ),
            XsError::Malformed { what, detail } => {
                write!(formatter, "xenstore peer sent a malformed {what}: {detail}")
            }
            XsError::Unexpected { expected, got } => {
                write!(formatter, "xenstore peer answered {expected} with {got}")
            }
            XsError::UnknownRequestId { req_id, msg_type } => write!(
                formatter,
                "xenstore peer sent {msg_type} for req_id {req_id}, which is not in flight"
            ),
            XsError::Ring(error) => write!(formatter, "{error}"),
            XsError::RequestTooLarge {
                len_bytes,
                max_bytes,
            } => write!(
                formatter,
                "xenstore request payload too large: expected <= {max_bytes} bytes but \
                 needs {len_bytes}"
            ),
            XsError::InvalidArgument { what, detail } => {
                write!(formatter, "xenstore request {what} invalid: {detail}")
            }
            // Every server error has a name (checked by a test).
            _ => write!(formatter, "xenstored refused the request"),
        }
    }
}

impl core::error::Error for XsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            XsError::Ring(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn every_table_name_maps_to_its_variant_and_back() {
        for entry in xs_wire::XSD_ERRORS {
            let error = XsError::from_error_name(entry.errstring);
            assert_eq!(error.errno(), Some(entry.errnum), "{}", entry.errstring);
            assert_eq!(error.error_name(), Some(entry.errstring));
            assert_eq!(error.blame(), Blame::Server);
            assert_eq!(
                error.to_string(),
                std::format!("xenstored refused the request: {}", entry.errstring)
            );
        }
        assert_eq!(XsError::from_error_name("ENOENT"), XsError::Enoent);
        assert_eq!(XsError::from_error_name("EAGAIN"), XsError::Eagain);
        assert_eq!(XsError::Eagain.errno(), Some(11));
    }

    #[test]
    fn unknown_names_are_kept_but_bounded() {
        let error = XsError::from_error_name("EQUOTA");
        assert_eq!(
            error,
            XsError::UnknownServerError {
                name: "EQUOTA".into()
            }
        );
        assert_eq!(error.blame(), Blame::Server);
        assert_eq!(error.errno(), None);
        let long = "E".repeat(100);
        match XsError::from_error_name(&long) {
            XsError::UnknownServerError { name } => assert_eq!(name.len(), 32),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn blame_and_messages() {
        let malformed =
            XsError::malformed("payload length", "expected <= 4096 but got 5000".into());
        assert_eq!(malformed.blame(), Blame::Peer);
        assert_eq!(
            malformed.to_string(),
            "xenstore peer sent a malformed payload length: expected <= 4096 but got 5000"
        );
        let unexpected = XsError::Unexpected {
            expected: XsdSockmsgType::Read,
            got: XsdSockmsgType::Write,
        };
        assert_eq!(
            unexpected.to_string(),
            "xenstore peer answered XS_READ with XS_WRITE"
        );
        let too_large = XsError::RequestTooLarge {
            len_bytes: 5000,
            max_bytes: 4096,
        };
        assert_eq!(too_large.blame(), Blame::Caller);
        assert!(too_large
            .to_string()
            .contains("expected <= 4096 bytes but needs 5000"));
        let ring: XsError = RingError::Corrupt {
            interface: "xenstore",
            ring: "rsp",
            producer: 9999,
            consumer: 0,
            size: 1024,
        }
        .into();
        assert_eq!(ring.blame(), Blame::Peer);
        assert!(core::error::Error::source(&ring).is_some());
        assert_eq!(
            ring.to_string(),
            "xenstore rsp ring indices corrupt: rsp_prod 9999 - rsp_cons 0 > 1024"
        );
    }
}
