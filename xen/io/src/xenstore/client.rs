//! A sans-io xenstore client: typed requests out, typed replies in.
//!
//! [`Client::submit`] turns a [`Request`] into wire bytes with a fresh
//! `req_id` and remembers what it asked; [`Client::handle`] takes a
//! [`Message`] the decoder produced and returns an [`Event`]: the typed
//! [`Reply`] (or [`XsError`]) for one request, or a watch firing. Several
//! requests may be in flight; xenstored may answer them in any order
//! ("must use req_id ... to match up replies to requests",
//! `docs/misc/xenstore.txt`). The client does no I/O and never waits: the
//! caller writes the bytes with `XenstoreRing::write_request`, notifies
//! the event channel, and feeds back what `XenstoreRing::read_replies`
//! decodes.
//!
//! Everything in a reply is checked before it becomes a typed value:
//! directory entries and paths must be UTF-8, permissions must be
//! `[wrbn]<domid>`, a transaction id must be a non-zero decimal `u32`, an
//! acknowledgement must be `OK`. A reply whose `req_id` is not in flight is
//! the peer's error ([`XsError::UnknownRequestId`]), returned, never a
//! panic.

use super::error::XsError;
use super::wire::{encode_request, request_payload_len, Message};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;
use xen_abi::xs_wire::{
    XsdSockmsgType, XENSTORE_ABS_PATH_MAX, XENSTORE_PAYLOAD_MAX, XENSTORE_REL_PATH_MAX,
};
use xen_abi::DomId;

/// A request identifier, chosen by [`Client::submit`] and echoed by
/// xenstored in the reply's `req_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReqId(pub u32);

impl fmt::Display for ReqId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "req_id {}", self.0)
    }
}

/// A transaction identifier, allocated by xenstored in reply to
/// `TRANSACTION_START` and sent in the `tx_id` header field of the
/// requests inside it; [`TxId::NONE`] (0) outside a transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxId(pub u32);

impl TxId {
    /// No transaction (`XBT_NIL`).
    pub const NONE: TxId = TxId(0);
}

impl fmt::Display for TxId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "tx_id {}", self.0)
    }
}

/// What a domain may do to a node (the letter of a permission string).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// `n`: no access.
    None,
    /// `r`: read only.
    Read,
    /// `w`: write only.
    Write,
    /// `b`: both read and write.
    Both,
}

impl Access {
    /// The permission letter.
    pub const fn letter(self) -> char {
        match self {
            Access::None => 'n',
            Access::Read => 'r',
            Access::Write => 'w',
            Access::Both => 'b',
        }
    }

    /// Whether this allows reading.
    pub const fn can_read(self) -> bool {
        matches!(self, Access::Read | Access::Both)
    }

    /// Whether this allows writing.
    pub const fn can_write(self) -> bool {
        matches!(self, Access::Write | Access::Both)
    }
}

/// One entry of a node's permission list: `<perm-as-string>` in
/// `docs/misc/xenstore.txt`, e.g. `"r1"` (domain 1 may read) or `"n0"`.
///
/// In a list, the first entry names the node's owner (who may always read
/// and write) and the access every domain not listed gets; the rest grant
/// access to particular domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission {
    /// The domain.
    pub domid: DomId,
    /// What it may do.
    pub access: Access,
}

impl Permission {
    /// Parses `[nrwb]<decimal domid 0..=65535>`; `None` for anything else.
    fn parse(text: &[u8]) -> Option<Permission> {
        let (&letter, digits) = text.split_first()?;
        let access = match letter {
            b'n' => Access::None,
            b'r' => Access::Read,
            b'w' => Access::Write,
            b'b' => Access::Both,
            _ => return None,
        };
        if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let domid = core::str::from_utf8(digits).ok()?.parse::<u16>().ok()?;
        Some(Permission {
            domid: DomId(domid),
            access,
        })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}{}", self.access.letter(), self.domid.0)
    }
}

impl FromStr for Permission {
    type Err = XsError;

    fn from_str(text: &str) -> Result<Self, XsError> {
        Permission::parse(text.as_bytes()).ok_or_else(|| XsError::InvalidArgument {
            what: "permission",
            detail: format!("expected [nrwb]<domid 0..=65535> but got {:?}", text),
        })
    }
}

/// A validated request, ready for [`Client::submit`].
///
/// Built with one constructor per operation; each checks its arguments
/// (paths per `docs/misc/xenstore.txt`: non-empty, `[A-Za-z0-9-/_@]`, no
/// `//` or trailing `/`, at most 3072 bytes absolute or 2048 relative) and
/// that the payload fits in 4096 bytes, so submitting cannot fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    msg_type: XsdSockmsgType,
    tx_id: TxId,
    parts: Vec<Vec<u8>>,
}

impl Request {
    fn new(msg_type: XsdSockmsgType, tx_id: TxId, parts: Vec<Vec<u8>>) -> Result<Request, XsError> {
        let views: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let len_bytes = request_payload_len(msg_type, &views);
        if len_bytes > XENSTORE_PAYLOAD_MAX {
            return Err(XsError::RequestTooLarge {
                len_bytes,
                max_bytes: XENSTORE_PAYLOAD_MAX,
            });
        }
        Ok(Request {
            msg_type,
            tx_id,
            parts,
        })
    }

    fn on_path(msg_type: XsdSockmsgType, path: &str) -> Result<Request, XsError> {
        check_path(path)?;
        Request::new(msg_type, TxId::NONE, alloc::vec![path.into()])
    }

    /// `READ path`: the node's value.
    pub fn read(path: &str) -> Result<Request, XsError> {
        Request::on_path(XsdSockmsgType::Read, path)
    }

    /// `WRITE path value`: sets the value, creating missing parents.
    pub fn write(path: &str, value: &[u8]) -> Result<Request, XsError> {
        check_path(path)?;
        Request::new(
            XsdSockmsgType::Write,
            TxId::NONE,
            alloc::vec![path.into(), value.into()],
        )
    }

    /// `MKDIR path`: makes sure the node exists.
    pub fn mkdir(path: &str) -> Result<Request, XsError> {
        Request::on_path(XsdSockmsgType::Mkdir, path)
    }

    /// `RM path`: removes the node and its children.
    pub fn rm(path: &str) -> Result<Request, XsError> {
        Request::on_path(XsdSockmsgType::Rm, path)
    }

    /// `DIRECTORY path`: the names of the node's children.
    pub fn directory(path: &str) -> Result<Request, XsError> {
        Request::on_path(XsdSockmsgType::Directory, path)
    }

    /// `GET_PERMS path`: the node's permission list.
    pub fn get_perms(path: &str) -> Result<Request, XsError> {
        Request::on_path(XsdSockmsgType::GetPerms, path)
    }

    /// `SET_PERMS path perm...`: replaces the permission list; the first
    /// entry is the owner and the default. At least one entry.
    pub fn set_perms(path: &str, permissions: &[Permission]) -> Result<Request, XsError> {
        check_path(path)?;
        if permissions.is_empty() {
            return Err(XsError::InvalidArgument {
                what: "permissions",
                detail: "expected at least one (the owner) but got none".into(),
            });
        }
        let mut parts: Vec<Vec<u8>> = alloc::vec![path.into()];
        parts.extend(
            permissions
                .iter()
                .map(|permission| format!("{permission}").into_bytes()),
        );
        Request::new(XsdSockmsgType::SetPerms, TxId::NONE, parts)
    }

    /// `WATCH path token`: report changes at or below `path` as
    /// [`Event::WatchEvent`]s carrying `token`. xenstored fires the watch
    /// once straight away, after the reply.
    pub fn watch(path: &str, token: &str) -> Result<Request, XsError> {
        check_path(path)?;
        check_token(token)?;
        Request::new(
            XsdSockmsgType::Watch,
            TxId::NONE,
            alloc::vec![path.into(), token.into()],
        )
    }

    /// `UNWATCH path token`: removes the watch with this path and token.
    pub fn unwatch(path: &str, token: &str) -> Result<Request, XsError> {
        check_path(path)?;
        check_token(token)?;
        Request::new(
            XsdSockmsgType::Unwatch,
            TxId::NONE,
            alloc::vec![path.into(), token.into()],
        )
    }

    /// `TRANSACTION_START`: the reply is [`Reply::TransactionStarted`].
    pub fn transaction_start() -> Request {
        Request {
            msg_type: XsdSockmsgType::TransactionStart,
            tx_id: TxId::NONE,
            parts: alloc::vec![Vec::new()],
        }
    }

    /// `TRANSACTION_END T` (commit) or `F` (discard). A commit that
    /// conflicted fails with [`XsError::Eagain`]: run the transaction again.
    pub fn transaction_end(tx: TxId, commit: bool) -> Result<Request, XsError> {
        if tx == TxId::NONE {
            return Err(XsError::InvalidArgument {
                what: "transaction",
                detail: "TRANSACTION_END needs the tx_id TRANSACTION_START returned, not 0".into(),
            });
        }
        let flag = if commit { b"T" } else { b"F" };
        Ok(Request {
            msg_type: XsdSockmsgType::TransactionEnd,
            tx_id: tx,
            parts: alloc::vec![flag.to_vec()],
        })
    }

    /// The same request inside transaction `tx`. Only the data operations
    /// (read, write, mkdir, rm, directory, get/set perms) can be: watches
    /// ignore `tx_id`, and a transaction cannot start inside another.
    pub fn in_transaction(mut self, tx: TxId) -> Result<Request, XsError> {
        use XsdSockmsgType::*;
        if !matches!(
            self.msg_type,
            Read | Write | Mkdir | Rm | Directory | GetPerms | SetPerms
        ) {
            return Err(XsError::InvalidArgument {
                what: "transaction",
                detail: format!("{} cannot be part of a transaction", self.msg_type),
            });
        }
        self.tx_id = tx;
        Ok(self)
    }

    /// The operation.
    pub fn msg_type(&self) -> XsdSockmsgType {
        self.msg_type
    }

    /// The transaction it belongs to.
    pub fn tx_id(&self) -> TxId {
        self.tx_id
    }
}

/// Checks a path against the rules of `docs/misc/xenstore.txt`.
fn check_path(path: &str) -> Result<(), XsError> {
    let refuse = |detail: String| {
        Err(XsError::InvalidArgument {
            what: "path",
            detail,
        })
    };
    if path.is_empty() {
        return refuse("the empty path is forbidden".into());
    }
    let absolute = path.starts_with('/');
    let max = if absolute {
        XENSTORE_ABS_PATH_MAX
    } else {
        XENSTORE_REL_PATH_MAX
    };
    if path.len() > max {
        return refuse(format!("expected <= {max} bytes but got {}", path.len()));
    }
    if let Some(bad) = path
        .bytes()
        .find(|byte| !(byte.is_ascii_alphanumeric() || b"-/_@".contains(byte)))
    {
        return refuse(format!(
            "expected only [A-Za-z0-9-/_@] but got byte {bad:#04x} in {:?}",
            truncated(path.as_bytes())
        ));
    }
    if path.contains("//") || (path.len() > 1 && path.ends_with('/')) {
        return refuse(format!(
            "doubled or trailing '/' in {:?}",
            truncated(path.as_bytes())
        ));
    }
    Ok(())
}

fn check_token(token: &str) -> Result<(), XsError> {
    if token.contains('\0') {
        return Err(XsError::InvalidArgument {
            what: "watch token",
            detail: "contains a NUL byte".into(),
        });
    }
    Ok(())
}

/// Up to 48 bytes of peer data, escaped, for an error message.
fn truncated(bytes: &[u8]) -> String {
    let mut text = String::new();
    for &byte in bytes.iter().take(48) {
        text.extend(core::ascii::escape_default(byte).map(char::from));
    }
    if bytes.len() > 48 {
        text.push_str("...");
    }
    text
}

/// A successful reply, typed by the request it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `OK`: write, mkdir, rm, set_perms, watch, unwatch, transaction_end.
    Ok,
    /// The value a `READ` returned (binary; no NUL is added or expected).
    Value(Vec<u8>),
    /// The child names a `DIRECTORY` returned, in xenstored's order.
    Directory(Vec<String>),
    /// The permission list `GET_PERMS` returned; the first is the owner.
    Permissions(Vec<Permission>),
    /// The new transaction's id.
    TransactionStarted(TxId),
}

/// What one incoming message means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The answer to request `id`: a typed reply, or the server's refusal,
    /// or a malformed reply ([`XsError::Malformed`], [`XsError::Unexpected`]).
    Reply {
        /// The request answered.
        id: ReqId,
        /// Its outcome.
        result: Result<Reply, XsError>,
    },
    /// An `XS_WATCH_EVENT`: the node at `path` changed, for the watch
    /// registered with `token`. Unsolicited; may be spurious.
    WatchEvent {
        /// The path that changed (relative if the watch's path was).
        path: String,
        /// The watch's token.
        token: String,
    },
}

/// The most attempts [`should_retry`] allows a transaction.
pub const MAX_TRANSACTION_ATTEMPTS: u32 = 16;

/// Whether to run a transaction again after attempt number `attempt`
/// (counting from 1) failed with `error`: only a conflict (`EAGAIN` from
/// `TRANSACTION_END`, "if there were any other intervening writes"), and
/// only up to [`MAX_TRANSACTION_ATTEMPTS`] attempts in all.
pub fn should_retry(error: &XsError, attempt: u32) -> bool {
    *error == XsError::Eagain && attempt < MAX_TRANSACTION_ATTEMPTS
}

/// The request/reply bookkeeping of one xenstore connection.
#[derive(Debug)]
pub struct Client {
    next_req_id: u32,
    /// Requests sent and not yet answered, by `req_id`, with their type.
    in_flight: BTreeMap<u32, XsdSockmsgType>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client with nothing in flight.
    pub fn new() -> Self {
        Client {
            next_req_id: 1,
            in_flight: BTreeMap::new(),
        }
    }

    /// Assigns `request` a `req_id` not in flight and returns it with the
    /// bytes to write to the ring (all of them, in order, possibly over
    /// several partial writes).
    pub fn submit(&mut self, request: Request) -> (ReqId, Vec<u8>) {
        // Skip ids still in flight after a wrap, and 0 (the req_id of watch
        // events), so every reply names exactly one request.
        while self.next_req_id == 0 || self.in_flight.contains_key(&self.next_req_id) {
            self.next_req_id = self.next_req_id.wrapping_add(1);
        }
        let req_id = self.next_req_id;
        self.next_req_id = self.next_req_id.wrapping_add(1);
        let parts: Vec<&[u8]> = request.parts.iter().map(Vec::as_slice).collect();
        let bytes = encode_request(request.msg_type, req_id, request.tx_id.0, &parts)
            .expect("Request's constructors checked the parts and the payload size");
        self.in_flight.insert(req_id, request.msg_type);
        (ReqId(req_id), bytes)
    }

    /// Interprets one message from xenstored.
    ///
    /// `Ok` carries a reply (successful or not) for a request in flight, or
    /// a watch event. `Err` means the peer broke the protocol: a reply for a
    /// `req_id` not in flight, or an unparsable watch event.
    pub fn handle(&mut self, message: Message) -> Result<Event, XsError> {
        if message.msg_type == XsdSockmsgType::WatchEvent {
            let (path, token) = parse_watch_event(&message.payload)?;
            return Ok(Event::WatchEvent { path, token });
        }
        let Some(request_type) = self.in_flight.remove(&message.req_id) else {
            return Err(XsError::UnknownRequestId {
                req_id: message.req_id,
                msg_type: message.msg_type,
            });
        };
        let result = if message.msg_type == XsdSockmsgType::Error {
            Err(parse_error(&message.payload))
        } else if message.msg_type != request_type {
            Err(XsError::Unexpected {
                expected: request_type,
                got: message.msg_type,
            })
        } else {
            parse_reply(request_type, message.payload)
        };
        Ok(Event::Reply {
            id: ReqId(message.req_id),
            result,
        })
    }

    /// Requests sent and not yet answered. xenstored limits how many a
    /// domain may have outstanding; keep this small.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether `id` is still waiting for its reply.
    pub fn is_in_flight(&self, id: ReqId) -> bool {
        self.in_flight.contains_key(&id.0)
    }

    /// Forgets every request in flight, for a fresh connection.
    pub fn reset(&mut self) {
        self.in_flight.clear();
    }
}

/// Drops one trailing NUL if present: single-string replies are sent
/// NUL-terminated by C xenstored and oxenstored, but the terminator carries
/// no information, so its absence is tolerated.
fn without_nul(payload: &[u8]) -> &[u8] {
    payload.strip_suffix(&[0]).unwrap_or(payload)
}

/// A single NUL-free UTF-8 string, its trailing NUL optional.
fn single_string<'a>(what: &'static str, payload: &'a [u8]) -> Result<&'a str, XsError> {
    let text = without_nul(payload);
    if text.contains(&0) {
        return Err(XsError::malformed(
            what,
            format!("expected one string but got {:?}", truncated(payload)),
        ));
    }
    core::str::from_utf8(text).map_err(|_| {
        XsError::malformed(
            what,
            format!("expected UTF-8 but got {:?}", truncated(payload)),
        )
    })
}

/// `<string>|*`: zero or more strings, each NUL-terminated.
fn string_list<'a>(what: &'static str, payload: &'a [u8]) -> Result<Vec<&'a [u8]>, XsError> {
    match payload.split_last() {
        None => Ok(Vec::new()),
        Some((&0, body)) => Ok(body.split(|&byte| byte == 0).collect()),
        Some(_) => Err(XsError::malformed(
            what,
            format!(
                "expected NUL-terminated strings but got {:?}",
                truncated(payload)
            ),
        )),
    }
}

fn parse_error(payload: &[u8]) -> XsError {
    match single_string("XS_ERROR payload", payload) {
        Ok("") => XsError::malformed(
            "XS_ERROR payload",
            "expected an errno name but got nothing".into(),
        ),
        Ok(name) => XsError::from_error_name(name),
        Err(error) => error,
    }
}

fn parse_watch_event(payload: &[u8]) -> Result<(String, String), XsError> {
    let what = "XS_WATCH_EVENT payload";
    let strings = string_list(what, payload)?;
    let [path, token] = strings.as_slice() else {
        return Err(XsError::malformed(
            what,
            format!("expected path|token| but got {} strings", strings.len()),
        ));
    };
    let text = |bytes: &[u8]| {
        core::str::from_utf8(bytes).map(String::from).map_err(|_| {
            XsError::malformed(
                what,
                format!("expected UTF-8 but got {:?}", truncated(bytes)),
            )
        })
    };
    Ok((text(path)?, text(token)?))
}

fn parse_reply(request_type: XsdSockmsgType, payload: Vec<u8>) -> Result<Reply, XsError> {
    match request_type {
        XsdSockmsgType::Read => Ok(Reply::Value(payload)),
        XsdSockmsgType::Directory => {
            let what = "XS_DIRECTORY reply";
            // oxenstored answers an empty directory with a lone NUL.
            if payload == [0] {
                return Ok(Reply::Directory(Vec::new()));
            }
            string_list(what, &payload)?
                .into_iter()
                .map(|name| match core::str::from_utf8(name) {
                    Ok(name) if !name.is_empty() && !name.contains('/') => Ok(String::from(name)),
                    _ => Err(XsError::malformed(
                        what,
                        format!("expected a child name but got {:?}", truncated(name)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Reply::Directory)
        }
        XsdSockmsgType::GetPerms => {
            let what = "XS_GET_PERMS reply";
            let permissions = string_list(what, &payload)?
                .into_iter()
                .map(|text| {
                    Permission::parse(text).ok_or_else(|| {
                        XsError::malformed(
                            what,
                            format!(
                                "expected [nrwb]<domid 0..=65535> but got {:?}",
                                truncated(text)
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if permissions.is_empty() {
                return Err(XsError::malformed(
                    what,
                    "expected at least the owner but got none".into(),
                ));
            }
            Ok(Reply::Permissions(permissions))
        }
        XsdSockmsgType::TransactionStart => {
            let what = "XS_TRANSACTION_START reply";
            let text = single_string(what, &payload)?;
            match text.parse::<u32>() {
                Ok(id) if id != 0 && text.bytes().all(|byte| byte.is_ascii_digit()) => {
                    Ok(Reply::TransactionStarted(TxId(id)))
                }
                _ => Err(XsError::malformed(
                    what,
                    format!(
                        "expected a decimal tx_id 1..={} but got {:?}",
                        u32::MAX,
                        truncated(&payload)
                    ),
                )),
            }
        }
        _ => match single_string("acknowledgement", &payload)? {
            "OK" => Ok(Reply::Ok),
            _ => Err(XsError::malformed(
                "acknowledgement",
                format!("expected \"OK\" but got {:?}", truncated(&payload)),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xenstore::wire::ReplyDecoder;
    use std::string::ToString;
    use std::vec;
    use xen_abi::xs_wire::XsdSockmsg;

    fn reply(msg_type: XsdSockmsgType, id: ReqId, payload: &[u8]) -> Message {
        Message {
            msg_type,
            req_id: id.0,
            tx_id: 0,
            payload: payload.to_vec(),
        }
    }

    fn decode(bytes: &[u8]) -> Message {
        let mut decoder = ReplyDecoder::new();
        assert_eq!(decoder.push(bytes), Ok(1));
        decoder.next_message().unwrap()
    }

    fn answer(
        client: &mut Client,
        request: Request,
        msg_type: XsdSockmsgType,
        payload: &[u8],
    ) -> Result<Reply, XsError> {
        let (id, _) = client.submit(request);
        match client.handle(reply(msg_type, id, payload)).unwrap() {
            Event::Reply { id: got, result } => {
                assert_eq!(got, id);
                result
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn permissions_parse_and_print() {
        for (text, domid, access) in [
            ("n0", 0, Access::None),
            ("r1", 1, Access::Read),
            ("w7", 7, Access::Write),
            ("b65535", 65535, Access::Both),
        ] {
            let permission: Permission = text.parse().unwrap();
            assert_eq!(
                permission,
                Permission {
                    domid: DomId(domid),
                    access
                }
            );
            assert_eq!(permission.to_string(), text);
        }
        for bad in [
            "", "n", "x1", "r-1", "r+1", "r65536", "r1a", "R1", "r 1", "r123456",
        ] {
            assert!(
                matches!(
                    bad.parse::<Permission>(),
                    Err(XsError::InvalidArgument {
                        what: "permission",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert!(Access::Both.can_read() && Access::Both.can_write());
        assert!(!Access::None.can_read() && !Access::Read.can_write());
    }

    #[test]
    fn request_bytes_follow_the_protocol() {
        let mut client = Client::new();
        let (id, bytes) = client.submit(Request::write("device/vbd/51712/state", b"4").unwrap());
        assert_eq!(id, ReqId(1));
        let message = decode(&bytes);
        assert_eq!(message.msg_type, XsdSockmsgType::Write);
        assert_eq!(message.payload, b"device/vbd/51712/state\x004");
        let (_, bytes) = client.submit(Request::watch("backend", "be").unwrap());
        assert_eq!(decode(&bytes).payload, b"backend\0be\0");
        let (_, bytes) = client.submit(Request::transaction_start());
        let message = decode(&bytes);
        assert_eq!((message.payload.as_slice(), message.tx_id), (&b"\0"[..], 0));
        let (_, bytes) = client.submit(Request::transaction_end(TxId(9), false).unwrap());
        let message = decode(&bytes);
        assert_eq!(
            (message.payload.as_slice(), message.tx_id),
            (&b"F\0"[..], 9)
        );
        let permissions = [
            Permission {
                domid: DomId(0),
                access: Access::None,
            },
            Permission {
                domid: DomId(3),
                access: Access::Both,
            },
        ];
        let (_, bytes) =
            client.submit(Request::set_perms("/local/domain/3/data", &permissions).unwrap());
        assert_eq!(decode(&bytes).payload, b"/local/domain/3/data\0n0\0b3\0");
        let (_, bytes) = client.submit(
            Request::read("name")
                .unwrap()
                .in_transaction(TxId(5))
                .unwrap(),
        );
        let message = decode(&bytes);
        assert_eq!(
            (message.payload.as_slice(), message.tx_id),
            (&b"name\0"[..], 5)
        );
        assert_eq!(client.in_flight(), 6);
    }

    #[test]
    fn bad_request_arguments_are_refused() {
        for path in ["", "a//b", "a/", "/a b", "a\0b", "dévice", "a/b\n"] {
            assert!(
                matches!(
                    Request::read(path),
                    Err(XsError::InvalidArgument { what: "path", .. })
                ),
                "{path:?}"
            );
        }
        assert!(Request::read("/").is_ok());
        assert!(Request::watch("@releaseDomain", "t").is_ok());
        assert!(Request::read(&"a".repeat(2048)).is_ok());
        assert!(Request::read(&"a".repeat(2049)).is_err());
        assert!(Request::read(&std::format!("/{}", "a".repeat(3071))).is_ok());
        assert!(Request::read(&std::format!("/{}", "a".repeat(3072))).is_err());
        assert!(matches!(
            Request::watch("a", "t\0"),
            Err(XsError::InvalidArgument {
                what: "watch token",
                ..
            })
        ));
        assert!(matches!(
            Request::write("a", &[0; 4095]),
            Err(XsError::RequestTooLarge {
                len_bytes: 4097,
                ..
            })
        ));
        assert!(Request::write("a", &[0; 4094]).is_ok());
        assert!(Request::set_perms("a", &[]).is_err());
        assert!(Request::transaction_end(TxId::NONE, true).is_err());
        assert!(Request::watch("a", "t")
            .unwrap()
            .in_transaction(TxId(1))
            .is_err());
        assert!(Request::transaction_start()
            .in_transaction(TxId(1))
            .is_err());
        let request = Request::mkdir("a")
            .unwrap()
            .in_transaction(TxId(4))
            .unwrap();
        assert_eq!(
            (request.msg_type(), request.tx_id()),
            (XsdSockmsgType::Mkdir, TxId(4))
        );
    }

    #[test]
    fn typed_replies() {
        let mut client = Client::new();
        assert_eq!(
            answer(
                &mut client,
                Request::read("name").unwrap(),
                XsdSockmsgType::Read,
                b"guest\0x"
            ),
            Ok(Reply::Value(b"guest\0x".to_vec()))
        );
        assert_eq!(
            answer(
                &mut client,
                Request::directory("device").unwrap(),
                XsdSockmsgType::Directory,
                b"vif\0vbd\0"
            ),
            Ok(Reply::Directory(vec!["vif".into(), "vbd".into()]))
        );
        for empty in [&b""[..], b"\0"] {
            assert_eq!(
                answer(
                    &mut client,
                    Request::directory("d").unwrap(),
                    XsdSockmsgType::Directory,
                    empty
                ),
                Ok(Reply::Directory(vec![]))
            );
        }
        assert_eq!(
            answer(
                &mut client,
                Request::get_perms("d").unwrap(),
                XsdSockmsgType::GetPerms,
                b"n0\0r5\0"
            ),
            Ok(Reply::Permissions(vec![
                Permission {
                    domid: DomId(0),
                    access: Access::None
                },
                Permission {
                    domid: DomId(5),
                    access: Access::Read
                },
            ]))
        );
        assert_eq!(
            answer(
                &mut client,
                Request::transaction_start(),
                XsdSockmsgType::TransactionStart,
                b"42\0"
            ),
            Ok(Reply::TransactionStarted(TxId(42)))
        );
        for ok in [&b"OK\0"[..], b"OK"] {
            assert_eq!(
                answer(
                    &mut client,
                    Request::mkdir("d").unwrap(),
                    XsdSockmsgType::Mkdir,
                    ok
                ),
                Ok(Reply::Ok)
            );
        }
        assert_eq!(client.in_flight(), 0);
    }

    #[test]
    fn malformed_replies_fail_their_request() {
        let mut client = Client::new();
        let cases: [(Request, XsdSockmsgType, &[u8], &str); 12] = [
            (
                Request::directory("d").unwrap(),
                XsdSockmsgType::Directory,
                b"vif",
                "XS_DIRECTORY reply",
            ),
            (
                Request::directory("d").unwrap(),
                XsdSockmsgType::Directory,
                b"a\0\0b\0",
                "XS_DIRECTORY reply",
            ),
            (
                Request::directory("d").unwrap(),
                XsdSockmsgType::Directory,
                b"a/b\0",
                "XS_DIRECTORY reply",
            ),
            (
                Request::directory("d").unwrap(),
                XsdSockmsgType::Directory,
                b"\xff\0",
                "XS_DIRECTORY reply",
            ),
            (
                Request::get_perms("d").unwrap(),
                XsdSockmsgType::GetPerms,
                b"",
                "XS_GET_PERMS reply",
            ),
            (
                Request::get_perms("d").unwrap(),
                XsdSockmsgType::GetPerms,
                b"q0\0",
                "XS_GET_PERMS reply",
            ),
            (
                Request::get_perms("d").unwrap(),
                XsdSockmsgType::GetPerms,
                b"r99999\0",
                "XS_GET_PERMS reply",
            ),
            (
                Request::transaction_start(),
                XsdSockmsgType::TransactionStart,
                b"0\0",
                "XS_TRANSACTION_START reply",
            ),
            (
                Request::transaction_start(),
                XsdSockmsgType::TransactionStart,
                b"+7\0",
                "XS_TRANSACTION_START reply",
            ),
            (
                Request::transaction_start(),
                XsdSockmsgType::TransactionStart,
                b"4294967296\0",
                "XS_TRANSACTION_START reply",
            ),
            (
                Request::rm("d").unwrap(),
                XsdSockmsgType::Rm,
                b"KO\0",
                "acknowledgement",
            ),
            (
                Request::rm("d").unwrap(),
                XsdSockmsgType::Rm,
                b"OK\0OK\0",
                "acknowledgement",
            ),
        ];
        for (request, msg_type, payload, expected_what) in cases {
            match answer(&mut client, request, msg_type, payload) {
                Err(XsError::Malformed { what, .. }) => {
                    assert_eq!(what, expected_what, "{payload:?}")
                }
                other => panic!("{payload:?}: {other:?}"),
            }
        }
        assert_eq!(client.in_flight(), 0);
    }

    #[test]
    fn error_replies_become_typed_errors() {
        let mut client = Client::new();
        assert_eq!(
            answer(
                &mut client,
                Request::read("nope").unwrap(),
                XsdSockmsgType::Error,
                b"ENOENT\0"
            ),
            Err(XsError::Enoent)
        );
        assert_eq!(
            answer(
                &mut client,
                Request::transaction_end(TxId(3), true).unwrap(),
                XsdSockmsgType::Error,
                b"EAGAIN"
            ),
            Err(XsError::Eagain)
        );
        assert_eq!(
            answer(
                &mut client,
                Request::write("a", b"b").unwrap(),
                XsdSockmsgType::Error,
                b"EQUOTA\0"
            ),
            Err(XsError::UnknownServerError {
                name: "EQUOTA".into()
            })
        );
        for bad in [&b""[..], b"\0", b"EN\0OENT\0", b"\xff\0"] {
            assert!(matches!(
                answer(
                    &mut client,
                    Request::read("a").unwrap(),
                    XsdSockmsgType::Error,
                    bad
                ),
                Err(XsError::Malformed {
                    what: "XS_ERROR payload",
                    ..
                })
            ));
        }
    }

    #[test]
    fn a_reply_of_the_wrong_type_is_unexpected() {
        let mut client = Client::new();
        assert_eq!(
            answer(
                &mut client,
                Request::read("a").unwrap(),
                XsdSockmsgType::Write,
                b"OK\0"
            ),
            Err(XsError::Unexpected {
                expected: XsdSockmsgType::Read,
                got: XsdSockmsgType::Write
            })
        );
        assert_eq!(client.in_flight(), 0);
    }

    #[test]
    fn out_of_order_replies_match_by_req_id() {
        let mut client = Client::new();
        let (read, _) = client.submit(Request::read("a").unwrap());
        let (list, _) = client.submit(Request::directory("b").unwrap());
        let (start, _) = client.submit(Request::transaction_start());
        assert_eq!(client.in_flight(), 3);
        let events = [
            client
                .handle(reply(XsdSockmsgType::TransactionStart, start, b"7\0"))
                .unwrap(),
            client
                .handle(reply(XsdSockmsgType::WatchEvent, ReqId(0), b"b/c\0tok\0"))
                .unwrap(),
            client
                .handle(reply(XsdSockmsgType::Read, read, b"A"))
                .unwrap(),
            client
                .handle(reply(XsdSockmsgType::Directory, list, b"c\0"))
                .unwrap(),
        ];
        assert_eq!(
            events,
            [
                Event::Reply {
                    id: start,
                    result: Ok(Reply::TransactionStarted(TxId(7)))
                },
                Event::WatchEvent {
                    path: "b/c".into(),
                    token: "tok".into()
                },
                Event::Reply {
                    id: read,
                    result: Ok(Reply::Value(b"A".to_vec()))
                },
                Event::Reply {
                    id: list,
                    result: Ok(Reply::Directory(vec!["c".into()]))
                },
            ]
        );
        assert_eq!(client.in_flight(), 0);
    }

    #[test]
    fn unknown_and_repeated_req_ids_are_peer_errors() {
        let mut client = Client::new();
        let (id, _) = client.submit(Request::read("a").unwrap());
        let error = client
            .handle(reply(XsdSockmsgType::Read, ReqId(99), b"x"))
            .unwrap_err();
        assert_eq!(
            error,
            XsError::UnknownRequestId {
                req_id: 99,
                msg_type: XsdSockmsgType::Read
            }
        );
        assert_eq!(
            error.to_string(),
            "xenstore peer sent XS_READ for req_id 99, which is not in flight"
        );
        // The real request is still waiting.
        assert!(client.is_in_flight(id));
        assert!(client.handle(reply(XsdSockmsgType::Read, id, b"x")).is_ok());
        // A second answer to the same request is not expected either.
        assert!(matches!(
            client.handle(reply(XsdSockmsgType::Read, id, b"x")),
            Err(XsError::UnknownRequestId { .. })
        ));
        assert!(matches!(
            client.handle(reply(XsdSockmsgType::Error, ReqId(0), b"EINVAL\0")),
            Err(XsError::UnknownRequestId { req_id: 0, .. })
        ));
    }

    #[test]
    fn malformed_watch_events_are_peer_errors() {
        let mut client = Client::new();
        for bad in [
            &b""[..],
            b"path\0",
            b"path\0tok",
            b"a\0b\0c\0",
            b"\xff\0t\0",
        ] {
            assert!(
                matches!(
                    client.handle(reply(XsdSockmsgType::WatchEvent, ReqId(0), bad)),
                    Err(XsError::Malformed {
                        what: "XS_WATCH_EVENT payload",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn req_ids_skip_zero_and_ids_in_flight_on_wrap() {
        let mut client = Client::new();
        client.next_req_id = u32::MAX;
        let (first, _) = client.submit(Request::read("a").unwrap());
        let (second, _) = client.submit(Request::read("a").unwrap());
        assert_eq!((first, second), (ReqId(u32::MAX), ReqId(1)));
        client.next_req_id = u32::MAX;
        let (third, _) = client.submit(Request::read("a").unwrap());
        assert_eq!(third, ReqId(2));
        client.reset();
        assert_eq!(client.in_flight(), 0);
    }

    #[test]
    fn retry_policy_retries_only_conflicts_and_only_so_often() {
        assert!(should_retry(&XsError::Eagain, 1));
        assert!(should_retry(&XsError::Eagain, MAX_TRANSACTION_ATTEMPTS - 1));
        assert!(!should_retry(&XsError::Eagain, MAX_TRANSACTION_ATTEMPTS));
        assert!(!should_retry(&XsError::Enoent, 1));
        assert!(!should_retry(&XsError::Ebusy, 1));
        assert!(!should_retry(&XsError::malformed("x", "y".into()), 1));
    }

    #[test]
    fn header_of_a_submitted_request() {
        let mut client = Client::new();
        let (id, bytes) = client.submit(Request::rm("a").unwrap());
        let header = XsdSockmsg::from_bytes(bytes[..16].try_into().unwrap());
        assert_eq!(header.req_id, id.0);
        assert_eq!(header.type_, XsdSockmsgType::Rm.as_u32());
        assert_eq!(header.len, 2);
    }
}
