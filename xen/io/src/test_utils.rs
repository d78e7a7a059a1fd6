//! Peers that play the other end of each protocol, for host tests.
//!
//! - [`ConsolePeer`] is xenconsoled on a console page: it drains `out` and
//!   feeds `in`.
//! - [`XenstorePeer`] is a small xenstored on a xenstore page: it serves a
//!   tree with permissions, watches and transactions (a commit after any
//!   other write fails with `EAGAIN`, as in C xenstored), and can inject
//!   forged replies or raw bytes for adversarial tests.
//!
//! Both use the same ring halves as the guest ([`crate::byte_ring`]) with
//! the roles swapped. They are plain code with no hypercall, exported under
//! the `test-utils` feature so the kernel's and the drivers' tests can use
//! them; a test that wants a hostile peer writes the page directly.

use crate::byte_ring::{Consumer, Producer, RingError};
use crate::console::{IN_RING, OUT_RING};
use crate::shared::SharedPage;
use crate::xenstore::{
    encode_message, Access, Message, Permission, ReplyDecoder, XsError, REQ_RING, RSP_RING,
};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use xen_abi::xs_wire::{XsdSockmsgType, XENSTORE_RING_SIZE};
use xen_abi::DomId;

/// xenconsoled: the backend's end of a console page.
#[derive(Debug)]
pub struct ConsolePeer<P> {
    page: P,
    output: Consumer,
    input: Producer,
}

impl<P: SharedPage> ConsolePeer<P> {
    /// Attaches to the page as the backend.
    pub fn new(page: P) -> Self {
        let output = Consumer::attach(&page, OUT_RING);
        let input = Producer::attach(&page, IN_RING);
        ConsolePeer {
            page,
            output,
            input,
        }
    }

    /// Everything the guest has written to `out` so far.
    pub fn drain_output(&mut self) -> Result<Vec<u8>, RingError> {
        let mut drained = Vec::new();
        let mut buffer = [0; 512];
        loop {
            let count = self.output.read(&self.page, &mut buffer)?;
            if count == 0 {
                return Ok(drained);
            }
            drained.extend_from_slice(&buffer[..count]);
        }
    }

    /// Puts as much of `bytes` as fits into `in`; returns the count.
    pub fn feed_input(&mut self, bytes: &[u8]) -> Result<usize, RingError> {
        self.input.write(&self.page, bytes)
    }
}

/// One node of the simulated store.
#[derive(Clone, Debug)]
struct Node {
    value: Vec<u8>,
    permissions: Vec<Permission>,
}

type Tree = BTreeMap<String, Node>;

/// An open transaction: a private copy of the tree, taken at `generation`.
#[derive(Debug)]
struct Transaction {
    tree: Tree,
    generation: u64,
    changed: Vec<String>,
}

/// A small xenstored serving one guest domain over a xenstore page.
#[derive(Debug)]
pub struct XenstorePeer<P> {
    page: P,
    requests: Consumer,
    replies: Producer,
    decoder: ReplyDecoder,
    outgoing: VecDeque<u8>,
    guest: DomId,
    tree: Tree,
    /// Bumped by every change to `tree`; a transaction whose start
    /// generation differs at commit gets `EAGAIN`.
    generation: u64,
    transactions: BTreeMap<u32, Transaction>,
    next_tx: u32,
    /// `(path as given, token)`.
    watches: Vec<(String, String)>,
    /// A watch just added, to fire once after its reply.
    pending_first_fire: Option<(String, String)>,
}

impl<P: SharedPage> XenstorePeer<P> {
    /// Attaches to the page as xenstored for domain `guest`, with a tree
    /// holding `/`, `/local`, `/local/domain` (owned by dom0, readable by
    /// all) and the guest's home `/local/domain/<guest>` (owned by it).
    pub fn new(page: P, guest: DomId) -> Self {
        let requests = Consumer::attach(&page, REQ_RING);
        let replies = Producer::attach(&page, RSP_RING);
        let mut peer = XenstorePeer {
            page,
            requests,
            replies,
            decoder: ReplyDecoder::new(),
            outgoing: VecDeque::new(),
            guest,
            tree: Tree::new(),
            generation: 0,
            transactions: BTreeMap::new(),
            next_tx: 1,
            watches: Vec::new(),
            pending_first_fire: None,
        };
        for path in ["/", "/local", "/local/domain"] {
            peer.tree.insert(
                path.into(),
                Node {
                    value: Vec::new(),
                    permissions: alloc::vec![Permission {
                        domid: DomId(0),
                        access: Access::Read
                    }],
                },
            );
        }
        let home = peer.home();
        peer.seed(&home, b"", &format!("n{}", guest.0));
        peer
    }

    fn home(&self) -> String {
        format!("/local/domain/{}", self.guest.0)
    }

    /// Creates or overwrites `path` (absolute) with `value` and the
    /// space-separated permission list `permissions` (e.g. `"b4 r0"`), as
    /// another domain would: it counts as a change, so watches fire and
    /// open transactions will conflict. Missing parents are created owned
    /// by dom0.
    pub fn seed(&mut self, path: &str, value: &[u8], permissions: &str) {
        let permissions: Vec<Permission> = permissions
            .split_whitespace()
            .map(|text| text.parse().expect("test permissions are well formed"))
            .collect();
        let mut at = String::new();
        for element in path.split('/').filter(|element| !element.is_empty()) {
            at.push('/');
            at.push_str(element);
            self.tree.entry(at.clone()).or_insert_with(|| Node {
                value: Vec::new(),
                permissions: alloc::vec![Permission {
                    domid: DomId(0),
                    access: Access::Read
                }],
            });
        }
        self.tree.insert(
            path.into(),
            Node {
                value: value.into(),
                permissions,
            },
        );
        self.generation += 1;
        self.fire(path, false);
    }

    /// The value at `path` (absolute), outside any transaction.
    pub fn value(&self, path: &str) -> Option<&[u8]> {
        self.tree.get(path).map(|node| node.value.as_slice())
    }

    /// Queues `message` as if it were a reply, whatever its `req_id`.
    pub fn inject_reply(&mut self, message: Message) {
        self.outgoing.extend(
            message
                .encode()
                .expect("injected messages fit the payload limit"),
        );
    }

    /// Queues raw bytes on the reply stream.
    pub fn inject_bytes(&mut self, bytes: &[u8]) {
        self.outgoing.extend(bytes);
    }

    /// Serves what the guest has sent: reads the request ring once, answers
    /// every whole request, and writes as much queued output as fits.
    /// Returns the number of requests answered.
    pub fn step(&mut self) -> Result<usize, XsError> {
        let mut buffer = [0; XENSTORE_RING_SIZE];
        let count = self.requests.read(&self.page, &mut buffer)?;
        self.decoder.push(&buffer[..count])?;
        let mut answered = 0;
        while let Some(request) = self.decoder.next_message() {
            self.serve(request);
            answered += 1;
        }
        while !self.outgoing.is_empty() {
            let (front, _) = self.outgoing.as_slices();
            let written = self.replies.write(&self.page, front)?;
            if written == 0 {
                break;
            }
            self.outgoing.drain(..written);
        }
        Ok(answered)
    }

    fn send(&mut self, msg_type: XsdSockmsgType, req_id: u32, tx_id: u32, payload: &[u8]) {
        let bytes = encode_message(msg_type, req_id, tx_id, payload)
            .expect("replies fit the payload limit");
        self.outgoing.extend(bytes);
    }

    fn serve(&mut self, request: Message) {
        let (req_id, tx_id) = (request.req_id, request.tx_id);
        match self.execute(&request) {
            Ok(payload) => self.send(request.msg_type, req_id, tx_id, &payload),
            Err(error) => {
                let name = error.error_name().unwrap_or("EINVAL");
                let mut payload = name.as_bytes().to_vec();
                payload.push(0);
                self.send(XsdSockmsgType::Error, req_id, tx_id, &payload);
            }
        }
        // WATCH "is triggered once straight away", after its reply.
        if request.msg_type == XsdSockmsgType::Watch {
            if let Some((path, token)) = self.pending_first_fire.take() {
                self.send_event(&path, &token);
            }
        }
    }
}

/// Splits a request payload into its NUL-terminated strings.
fn strings(payload: &[u8]) -> Result<Vec<&str>, XsError> {
    let Some((&0, body)) = payload.split_last() else {
        return Err(XsError::Einval);
    };
    body.split(|&byte| byte == 0)
        .map(|part| core::str::from_utf8(part).map_err(|_| XsError::Einval))
        .collect()
}

fn ok() -> Result<Vec<u8>, XsError> {
    Ok(b"OK\0".to_vec())
}

fn is_child(path: &str, parent: &str) -> bool {
    path == parent
        || parent == "/"
        || (path.starts_with(parent) && path.as_bytes().get(parent.len()) == Some(&b'/'))
}

fn parent_of(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) if path.len() > 1 => Some("/"),
        Some(0) | None => None,
        Some(index) => Some(&path[..index]),
    }
}

impl<P: SharedPage> XenstorePeer<P> {
    fn absolute(&self, path: &str) -> String {
        if path.starts_with('/') || path.starts_with('@') {
            path.into()
        } else {
            format!("{}/{path}", self.home())
        }
    }

    fn access(&self, node: &Node) -> Access {
        if self.guest == DomId(0)
            || node.permissions.first().map(|owner| owner.domid) == Some(self.guest)
        {
            return Access::Both;
        }
        node.permissions[1..]
            .iter()
            .find(|permission| permission.domid == self.guest)
            .or(node.permissions.first())
            .map_or(Access::None, |permission| permission.access)
    }

    /// The tree a request works on: the transaction's copy, or the live one.
    fn tree_for(&mut self, tx_id: u32) -> Result<&mut Tree, XsError> {
        if tx_id == 0 {
            return Ok(&mut self.tree);
        }
        self.transactions
            .get_mut(&tx_id)
            .map(|transaction| &mut transaction.tree)
            .ok_or(XsError::Enoent)
    }

    fn readable(&mut self, tx_id: u32, path: &str) -> Result<Node, XsError> {
        let node = self
            .tree_for(tx_id)?
            .get(path)
            .cloned()
            .ok_or(XsError::Enoent)?;
        if !self.access(&node).can_read() {
            return Err(XsError::Eacces);
        }
        Ok(node)
    }

    /// Checks write access to `path`, or to its nearest existing ancestor
    /// if it does not exist; returns the permissions a new node inherits.
    fn writable(&mut self, tx_id: u32, path: &str) -> Result<Vec<Permission>, XsError> {
        let tree = self.tree_for(tx_id)?;
        let mut at = path;
        let node = loop {
            if let Some(node) = tree.get(at) {
                break node.clone();
            }
            at = parent_of(at).ok_or(XsError::Enoent)?;
        };
        if !self.access(&node).can_write() {
            return Err(XsError::Eacces);
        }
        let mut permissions = node.permissions;
        permissions[0].domid = self.guest;
        Ok(permissions)
    }

    /// Records a change: fires watches now, or at commit in a transaction.
    fn changed(&mut self, tx_id: u32, path: &str, removal: bool) {
        if tx_id == 0 {
            self.generation += 1;
            self.fire(path, removal);
        } else if let Some(transaction) = self.transactions.get_mut(&tx_id) {
            transaction.changed.push(path.into());
        }
    }

    fn fire(&mut self, path: &str, removal: bool) {
        let mut events = Vec::new();
        for (watched, token) in &self.watches {
            let absolute = self.absolute(watched);
            if is_child(path, &absolute) {
                let relative = !watched.starts_with('/') && !watched.starts_with('@');
                let home = format!("{}/", self.home());
                let reported = match path.strip_prefix(&home) {
                    Some(rest) if relative => rest.to_string(),
                    _ => path.to_string(),
                };
                events.push((reported, token.clone()));
            } else if removal && is_child(&absolute, path) {
                events.push((watched.clone(), token.clone()));
            }
        }
        for (path, token) in events {
            self.send_event(&path, &token);
        }
    }

    fn send_event(&mut self, path: &str, token: &str) {
        let payload = format!("{path}\0{token}\0");
        self.send(XsdSockmsgType::WatchEvent, 0, 0, payload.as_bytes());
    }

    fn create(&mut self, tx_id: u32, path: &str, value: Option<&[u8]>) -> Result<(), XsError> {
        let permissions = self.writable(tx_id, path)?;
        let tree = self.tree_for(tx_id)?;
        let mut missing = Vec::new();
        let mut at = path;
        while !tree.contains_key(at) {
            missing.push(String::from(at));
            match parent_of(at) {
                Some(parent) => at = parent,
                None => break,
            }
        }
        for created in missing {
            tree.insert(
                created,
                Node {
                    value: Vec::new(),
                    permissions: permissions.clone(),
                },
            );
        }
        if let Some(value) = value {
            tree.get_mut(path).expect("just created").value = value.into();
        }
        Ok(())
    }

    fn execute(&mut self, request: &Message) -> Result<Vec<u8>, XsError> {
        use XsdSockmsgType::*;
        let tx_id = request.tx_id;
        match request.msg_type {
            Read | Directory | GetPerms | Mkdir | Rm => {
                let [path] = strings(&request.payload)?[..] else {
                    return Err(XsError::Einval);
                };
                let path = self.absolute(path);
                match request.msg_type {
                    Read => Ok(self.readable(tx_id, &path)?.value),
                    Directory => {
                        self.readable(tx_id, &path)?;
                        let prefix = if path == "/" {
                            String::from("/")
                        } else {
                            format!("{path}/")
                        };
                        let mut payload = Vec::new();
                        for child in self.tree_for(tx_id)?.keys() {
                            if let Some(name) = child.strip_prefix(&prefix) {
                                if !name.is_empty() && !name.contains('/') {
                                    payload.extend_from_slice(name.as_bytes());
                                    payload.push(0);
                                }
                            }
                        }
                        Ok(payload)
                    }
                    GetPerms => {
                        let node = self.readable(tx_id, &path)?;
                        let mut payload = Vec::new();
                        for permission in node.permissions {
                            payload.extend_from_slice(permission.to_string().as_bytes());
                            payload.push(0);
                        }
                        Ok(payload)
                    }
                    Mkdir => {
                        if !self.tree_for(tx_id)?.contains_key(&path) {
                            self.create(tx_id, &path, None)?;
                            self.changed(tx_id, &path, false);
                        }
                        ok()
                    }
                    _ => {
                        let tree = self.tree_for(tx_id)?;
                        if !tree.contains_key(&path) {
                            let parent = parent_of(&path).ok_or(XsError::Einval)?;
                            return if tree.contains_key(parent) {
                                ok()
                            } else {
                                Err(XsError::Enoent)
                            };
                        }
                        if path == "/" {
                            return Err(XsError::Einval);
                        }
                        self.writable(tx_id, &path)?;
                        self.tree_for(tx_id)?.retain(|key, _| !is_child(key, &path));
                        self.changed(tx_id, &path, true);
                        ok()
                    }
                }
            }
            Write => {
                let split = request
                    .payload
                    .iter()
                    .position(|&byte| byte == 0)
                    .ok_or(XsError::Einval)?;
                let path =
                    core::str::from_utf8(&request.payload[..split]).map_err(|_| XsError::Einval)?;
                let path = self.absolute(path);
                self.create(tx_id, &path, Some(&request.payload[split + 1..]))?;
                self.changed(tx_id, &path, false);
                ok()
            }
            SetPerms => {
                let parts = strings(&request.payload)?;
                let Some((path, permissions)) = parts.split_first() else {
                    return Err(XsError::Einval);
                };
                let permissions = permissions
                    .iter()
                    .map(|text| text.parse::<Permission>().map_err(|_| XsError::Einval))
                    .collect::<Result<Vec<_>, _>>()?;
                if permissions.is_empty() {
                    return Err(XsError::Einval);
                }
                let path = self.absolute(path);
                self.readable(tx_id, &path)?;
                self.writable(tx_id, &path)?;
                self.tree_for(tx_id)?
                    .get_mut(&path)
                    .expect("checked above")
                    .permissions = permissions;
                self.changed(tx_id, &path, false);
                ok()
            }
            Watch | Unwatch => {
                let parts = strings(&request.payload)?;
                let [path, token, ..] = parts[..] else {
                    return Err(XsError::Einval);
                };
                let watch = (String::from(path), String::from(token));
                let existing = self.watches.iter().position(|known| *known == watch);
                match (request.msg_type, existing) {
                    (Watch, Some(_)) => Err(XsError::Eexist),
                    (Watch, None) => {
                        self.watches.push(watch.clone());
                        self.pending_first_fire = Some(watch);
                        ok()
                    }
                    (_, Some(index)) => {
                        self.watches.remove(index);
                        ok()
                    }
                    (_, None) => Err(XsError::Enoent),
                }
            }
            TransactionStart => {
                if tx_id != 0 {
                    return Err(XsError::Einval);
                }
                let id = self.next_tx;
                self.next_tx = self.next_tx.wrapping_add(1).max(1);
                self.transactions.insert(
                    id,
                    Transaction {
                        tree: self.tree.clone(),
                        generation: self.generation,
                        changed: Vec::new(),
                    },
                );
                Ok(format!("{id}\0").into_bytes())
            }
            TransactionEnd => {
                let commit = match strings(&request.payload)?[..] {
                    ["T"] => true,
                    ["F"] => false,
                    _ => return Err(XsError::Einval),
                };
                let transaction = self.transactions.remove(&tx_id).ok_or(XsError::Enoent)?;
                if commit {
                    if transaction.generation != self.generation {
                        return Err(XsError::Eagain);
                    }
                    self.tree = transaction.tree;
                    self.generation += 1;
                    for path in transaction.changed {
                        self.fire(&path, false);
                    }
                }
                ok()
            }
            _ => Err(XsError::Enosys),
        }
    }
}
