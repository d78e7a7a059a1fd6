//! The xenstore client: blocking requests over the start_info ring.
//!
//! The protocol itself (wire format, request ids, reply parsing, ring
//! indices) is `xen_io::xenstore`, pure and host-tested. This module owns
//! the real ring page and event channel and turns the sans-io client into
//! blocking calls: write the request (waiting for room if the ring is
//! full), notify xenstored, then sleep on the event channel until the reply
//! with our request id arrives. Watch events that arrive meanwhile are
//! queued for [`take_watch_event`]. Every wait has a deadline, so a dead or
//! absent xenstored gives an error, not a hang.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use spin::Mutex;
use xen_abi::EventChannelPort;
use xen_io::xenstore::{Client, Event, ReplyDecoder, ReqId, Request, XenstoreRing, XsError};
pub use xen_io::xenstore::{Reply, TxId};

use crate::xen::hypercall;
use crate::xen::shared_page::MappedPage;
use crate::{events, time};

/// How long one request may wait for xenstored.
const REPLY_TIMEOUT_NS: u64 = 5_000_000_000;

/// Why a xenstore operation failed, and whose fault it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The server refused, or the protocol broke (see `XsError::blame`).
    Xs(XsError),
    /// No reply within the deadline: xenstored is absent or stuck.
    Timeout { operation: &'static str },
    /// There is no xenstore connection (dom0 without xenstored, or not set up).
    NotConnected,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Xs(error) => write!(f, "{error}"),
            StoreError::Timeout { operation } => {
                write!(
                    f,
                    "xenstore {operation}: no reply within {} s",
                    REPLY_TIMEOUT_NS / 1_000_000_000
                )
            }
            StoreError::NotConnected => f.write_str("xenstore is not connected"),
        }
    }
}

impl From<XsError> for StoreError {
    fn from(error: XsError) -> Self {
        StoreError::Xs(error)
    }
}

/// A watch firing: `path` changed, for the watch with `token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    pub path: String,
    pub token: String,
}

struct Connection {
    ring: XenstoreRing<MappedPage>,
    decoder: ReplyDecoder,
    client: Client,
    port: EventChannelPort,
    replies: BTreeMap<u32, Result<Reply, XsError>>,
    watch_events: VecDeque<WatchEvent>,
    /// Protocol violations by xenstored, reported and survived.
    peer_errors: u64,
}

static STORE: Mutex<Option<Connection>> = Mutex::new(None);

/// Connects to xenstored through the ring page at `page` (mapped for the
/// kernel's life) and event channel `port`.
pub fn connect(page: MappedPage, port: EventChannelPort) -> Result<(), events::EventError> {
    events::bind(port)?;
    *STORE.lock() = Some(Connection {
        ring: XenstoreRing::new(page),
        decoder: ReplyDecoder::new(),
        client: Client::new(),
        port,
        replies: BTreeMap::new(),
        watch_events: VecDeque::new(),
        peer_errors: 0,
    });
    Ok(())
}

impl Connection {
    /// Moves everything xenstored has answered into `replies` and
    /// `watch_events`. Malformed input is counted and logged, never trusted.
    fn pump(&mut self) -> Result<(), XsError> {
        events::take_fired(self.port);
        let read = self.ring.read_replies(&mut self.decoder);
        while let Some(message) = self.decoder.next_message() {
            match self.client.handle(message) {
                Ok(Event::Reply { id, result }) => {
                    self.replies.insert(id.0, result);
                }
                Ok(Event::WatchEvent { path, token }) => {
                    self.watch_events.push_back(WatchEvent { path, token });
                }
                Err(error) => {
                    self.peer_errors += 1;
                    log::warn!("xenstore: ignoring bad message from xenstored: {error}");
                }
            }
        }
        match read {
            Ok(_) => Ok(()),
            Err(error) => {
                self.peer_errors += 1;
                Err(error)
            }
        }
    }

    fn send(&mut self, bytes: &[u8], deadline: u64) -> Result<(), StoreError> {
        let mut sent = 0;
        while sent < bytes.len() {
            let written = self
                .ring
                .write_request(&bytes[sent..])
                .map_err(|e| StoreError::Xs(XsError::Ring(e)))?;
            sent += written;
            let _ = hypercall::notify(self.port);
            if sent < bytes.len() {
                // Ring full: wait for xenstored to consume.
                if time::system_time_ns() >= deadline {
                    return Err(StoreError::Timeout { operation: "write" });
                }
                wait(self.port, deadline);
            }
        }
        Ok(())
    }
}

/// Sleeps until `port` fires or `deadline` passes.
fn wait(port: EventChannelPort, deadline: u64) {
    let timer = time::add_timer(deadline, time::TimerAction::Wake);
    while !events::take_fired(port) && time::system_time_ns() < deadline {
        events::block();
        time::poll();
    }
    if let Some(timer) = timer {
        time::cancel_timer(timer);
    }
}

/// Sends `request` and waits for its reply.
pub fn call(request: Request, operation: &'static str) -> Result<Reply, StoreError> {
    let mut guard = STORE.lock();
    let connection = guard.as_mut().ok_or(StoreError::NotConnected)?;
    let deadline = time::system_time_ns() + REPLY_TIMEOUT_NS;
    let (id, bytes): (ReqId, Vec<u8>) = connection.client.submit(request);
    connection.send(&bytes, deadline)?;
    loop {
        if let Err(error) = connection.pump() {
            log::warn!("xenstore: ring error: {error}");
            return Err(StoreError::Xs(error));
        }
        if let Some(result) = connection.replies.remove(&id.0) {
            return result.map_err(StoreError::Xs);
        }
        if time::system_time_ns() >= deadline {
            return Err(StoreError::Timeout { operation });
        }
        wait(connection.port, deadline);
    }
}

/// Reads `path` as text (lossy: xenstore values are bytes).
pub fn read(path: &str) -> Result<String, StoreError> {
    match call(Request::read(path)?, "read")? {
        Reply::Value(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        _ => Err(StoreError::Xs(XsError::Malformed {
            what: "read reply",
            detail: "not a value".into(),
        })),
    }
}

/// Writes `value` at `path`.
pub fn write(path: &str, value: &str) -> Result<(), StoreError> {
    call(Request::write(path, value.as_bytes())?, "write").map(drop)
}

/// Removes `path` and everything below it.
pub fn remove(path: &str) -> Result<(), StoreError> {
    call(Request::rm(path)?, "rm").map(drop)
}

/// Lists the children of `path`.
pub fn directory(path: &str) -> Result<Vec<String>, StoreError> {
    match call(Request::directory(path)?, "directory")? {
        Reply::Directory(names) => Ok(names),
        _ => Err(StoreError::Xs(XsError::Malformed {
            what: "directory reply",
            detail: "not a list".into(),
        })),
    }
}

/// Registers a watch on `path`; events arrive with `token`.
pub fn watch(path: &str, token: &str) -> Result<(), StoreError> {
    call(Request::watch(path, token)?, "watch").map(drop)
}

/// Removes the watch on `path` with `token`.
pub fn unwatch(path: &str, token: &str) -> Result<(), StoreError> {
    call(Request::unwatch(path, token)?, "unwatch").map(drop)
}

/// Runs `body` in a transaction, retrying while xenstored reports a
/// conflict (EAGAIN at commit).
pub fn transaction<T>(
    mut body: impl FnMut(TxId) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 1;
    loop {
        let tx = match call(Request::transaction_start(), "transaction_start")? {
            Reply::TransactionStarted(tx) => tx,
            _ => {
                return Err(StoreError::Xs(XsError::Malformed {
                    what: "transaction_start reply",
                    detail: "no transaction id".into(),
                }))
            }
        };
        let value = match body(tx) {
            Ok(value) => value,
            Err(error) => {
                let _ = call(Request::transaction_end(tx, false)?, "transaction_end");
                return Err(error);
            }
        };
        match call(Request::transaction_end(tx, true)?, "transaction_end") {
            Ok(_) => return Ok(value),
            Err(StoreError::Xs(error)) if xen_io::xenstore::should_retry(&error, attempt) => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Writes `value` at `path` inside transaction `tx`.
pub fn write_in(tx: TxId, path: &str, value: &str) -> Result<(), StoreError> {
    call(
        Request::write(path, value.as_bytes())?.in_transaction(tx)?,
        "write",
    )
    .map(drop)
}

/// Reads `path` inside transaction `tx`.
pub fn read_in(tx: TxId, path: &str) -> Result<String, StoreError> {
    match call(Request::read(path)?.in_transaction(tx)?, "read")? {
        Reply::Value(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        _ => Err(StoreError::Xs(XsError::Malformed {
            what: "read reply",
            detail: "not a value".into(),
        })),
    }
}

/// The next queued watch event, after collecting what has arrived.
pub fn take_watch_event() -> Option<WatchEvent> {
    let mut guard = STORE.lock();
    let connection = guard.as_mut()?;
    if let Err(error) = connection.pump() {
        log::warn!("xenstore: ring error: {error}");
    }
    connection.watch_events.pop_front()
}

/// Protocol violations by xenstored survived so far.
pub fn peer_errors() -> u64 {
    STORE.lock().as_ref().map_or(0, |c| c.peer_errors)
}
