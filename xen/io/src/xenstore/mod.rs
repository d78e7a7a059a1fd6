//! Xenstore from a guest: the ring, the wire codec and a sans-io client.
//!
//! Three layers, each usable and tested on its own:
//!
//! - [`XenstoreRing`] moves bytes over the shared page
//!   (`struct xenstore_domain_interface`, `io/xs_wire.h`), checking the
//!   indices xenstored writes.
//! - [`encode_request`] and [`ReplyDecoder`] are the message codec
//!   (`struct xsd_sockmsg` plus payload, `docs/misc/xenstore.txt`).
//! - [`Client`] numbers requests, matches replies by `req_id` and parses
//!   each into a typed [`Reply`], or an [`XsError`] that says whom to blame.
//!
//! A kernel drives them in a loop it owns:
//!
//! ```text
//! let (id, bytes) = client.submit(Request::read("domid")?);
//! write bytes with ring.write_request (partial writes: notify + wait on 0)
//! notify store port
//! loop {
//!     wait for store port
//!     ring.read_replies(&mut decoder)?;            // notify if it freed space
//!     while let Some(message) = decoder.next_message() {
//!         match client.handle(message)? { Event::Reply { id, result } => ...,
//!                                         Event::WatchEvent { path, token } => ... }
//!     }
//! }
//! ```
//!
//! An `Err` from `read_replies` or `handle` means the peer broke the
//! protocol: log it, and stop using the connection. `Err` inside
//! `Event::Reply` is that one request's outcome. Transactions that end in
//! `EAGAIN` are run again while [`should_retry`] says so.

mod client;
mod error;
mod ring;
mod wire;

pub use client::{
    should_retry, Access, Client, Event, Permission, Reply, ReqId, Request, TxId,
    MAX_TRANSACTION_ATTEMPTS,
};
pub use error::{Blame, XsError};
pub use ring::{XenstoreRing, REQ_RING, RSP_RING};
pub use wire::{encode_message, encode_request, Message, ReplyDecoder};

#[cfg(test)]
mod end_to_end {
    //! The whole client against `test_utils::XenstorePeer` over one page.

    use super::*;
    use crate::shared::test_page::MemoryPage;
    use crate::test_utils::XenstorePeer;
    use std::collections::VecDeque;
    use std::string::String;
    use std::vec::Vec;
    use xen_abi::DomId;

    /// The guest's side: ring, decoder, client, and the bytes not yet
    /// written.
    struct Guest<'a> {
        ring: XenstoreRing<&'a MemoryPage>,
        decoder: ReplyDecoder,
        client: Client,
        outgoing: VecDeque<u8>,
        watch_events: Vec<(String, String)>,
    }

    impl<'a> Guest<'a> {
        fn new(page: &'a MemoryPage) -> Self {
            Guest {
                ring: XenstoreRing::new(page),
                decoder: ReplyDecoder::new(),
                client: Client::new(),
                outgoing: VecDeque::new(),
                watch_events: Vec::new(),
            }
        }

        fn submit(&mut self, request: Request) -> ReqId {
            let (id, bytes) = self.client.submit(request);
            self.outgoing.extend(bytes);
            id
        }

        /// Runs both ends until every request in flight is answered.
        fn settle(
            &mut self,
            peer: &mut XenstorePeer<&MemoryPage>,
        ) -> Vec<(ReqId, Result<Reply, XsError>)> {
            let mut replies = Vec::new();
            for _ in 0..10_000 {
                let (front, _) = self.outgoing.as_slices();
                let written = self.ring.write_request(front).unwrap();
                self.outgoing.drain(..written);
                peer.step().unwrap();
                self.ring.read_replies(&mut self.decoder).unwrap();
                while let Some(message) = self.decoder.next_message() {
                    match self.client.handle(message).unwrap() {
                        Event::Reply { id, result } => replies.push((id, result)),
                        Event::WatchEvent { path, token } => self.watch_events.push((path, token)),
                    }
                }
                if self.client.in_flight() == 0 && self.outgoing.is_empty() {
                    // Deliver anything still queued (watch events).
                    peer.step().unwrap();
                    self.ring.read_replies(&mut self.decoder).unwrap();
                    while let Some(message) = self.decoder.next_message() {
                        if let Event::WatchEvent { path, token } =
                            self.client.handle(message).unwrap()
                        {
                            self.watch_events.push((path, token));
                        }
                    }
                    return replies;
                }
            }
            panic!("the exchange did not settle");
        }

        fn call(
            &mut self,
            peer: &mut XenstorePeer<&MemoryPage>,
            request: Request,
        ) -> Result<Reply, XsError> {
            let id = self.submit(request);
            let mut replies = self.settle(peer);
            assert_eq!(replies.len(), 1);
            let (got, result) = replies.pop().unwrap();
            assert_eq!(got, id);
            result
        }
    }

    fn start_near_wrap(page: &MemoryPage) {
        use crate::shared::SharedPage;
        for layout in [REQ_RING, RSP_RING] {
            page.store_u32(layout.prod_offset, u32::MAX - 300);
            page.store_u32(layout.cons_offset, u32::MAX - 300);
        }
    }

    #[test]
    fn read_write_directory_rm() {
        let page = MemoryPage::new();
        let mut peer = XenstorePeer::new(&page, DomId(3));
        let mut guest = Guest::new(&page);
        assert_eq!(
            guest.call(&mut peer, Request::write("data/a", b"1").unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(
            guest.call(&mut peer, Request::write("data/b", b"2").unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(
            guest.call(&mut peer, Request::read("/local/domain/3/data/a").unwrap()),
            Ok(Reply::Value(b"1".to_vec()))
        );
        assert_eq!(
            guest.call(&mut peer, Request::directory("data").unwrap()),
            Ok(Reply::Directory(std::vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            guest.call(&mut peer, Request::rm("data/a").unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(
            guest.call(&mut peer, Request::read("data/a").unwrap()),
            Err(XsError::Enoent)
        );
        assert_eq!(
            guest.call(&mut peer, Request::mkdir("data/c/d").unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(
            guest.call(&mut peer, Request::read("data/c").unwrap()),
            Ok(Reply::Value(Vec::new()))
        );
        assert_eq!(
            guest.call(&mut peer, Request::rm("nope/deeper").unwrap()),
            Err(XsError::Enoent)
        );
    }

    #[test]
    fn permissions_round_trip_and_are_enforced() {
        let page = MemoryPage::new();
        let mut peer = XenstorePeer::new(&page, DomId(3));
        peer.seed("/local/domain/0/secret", b"s", "n0");
        let mut guest = Guest::new(&page);
        assert_eq!(
            guest.call(&mut peer, Request::read("/local/domain/0/secret").unwrap()),
            Err(XsError::Eacces)
        );
        guest
            .call(&mut peer, Request::write("mine", b"x").unwrap())
            .unwrap();
        let permissions: Vec<Permission> = ["b3", "r0", "n5"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        assert_eq!(
            guest.call(&mut peer, Request::set_perms("mine", &permissions).unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(
            guest.call(&mut peer, Request::get_perms("mine").unwrap()),
            Ok(Reply::Permissions(permissions))
        );
    }

    #[test]
    fn many_requests_in_flight_with_large_values_wrap_the_rings() {
        let page = MemoryPage::new();
        start_near_wrap(&page);
        let mut peer = XenstorePeer::new(&page, DomId(1));
        let mut guest = Guest::new(&page);
        let mut expected = Vec::new();
        for index in 0..12u8 {
            let value: Vec<u8> = (0..3000u32).map(|byte| (byte as u8) ^ index).collect();
            let path = std::format!("big/{index}");
            guest.submit(Request::write(&path, &value).unwrap());
            expected.push((guest.submit(Request::read(&path).unwrap()), value));
        }
        assert_eq!(guest.client.in_flight(), 24);
        let replies = guest.settle(&mut peer);
        assert_eq!(replies.len(), 24);
        for (id, value) in expected {
            let (_, result) = replies.iter().find(|(got, _)| *got == id).unwrap();
            assert_eq!(result, &Ok(Reply::Value(value)));
        }
        // 24 messages of ~3 KiB each way went through 1 KiB rings that
        // started 300 bytes before u32::MAX.
        use crate::shared::SharedPage;
        assert!(page.load_u32(REQ_RING.prod_offset) < 1 << 20);
    }

    #[test]
    fn watches_fire_on_registration_and_on_change() {
        let page = MemoryPage::new();
        let mut peer = XenstorePeer::new(&page, DomId(2));
        let mut guest = Guest::new(&page);
        assert_eq!(
            guest.call(&mut peer, Request::watch("device", "dev").unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(guest.watch_events, [("device".into(), "dev".into())]);
        guest
            .call(
                &mut peer,
                Request::write("device/vif/0/state", b"1").unwrap(),
            )
            .unwrap();
        guest
            .call(&mut peer, Request::write("elsewhere", b"1").unwrap())
            .unwrap();
        assert_eq!(guest.watch_events.len(), 2);
        assert_eq!(
            guest.watch_events[1],
            ("device/vif/0/state".into(), "dev".into())
        );
        assert_eq!(
            guest.call(&mut peer, Request::unwatch("device", "dev").unwrap()),
            Ok(Reply::Ok)
        );
        guest
            .call(&mut peer, Request::write("device/x", b"1").unwrap())
            .unwrap();
        assert_eq!(guest.watch_events.len(), 2);
        assert_eq!(
            guest.call(&mut peer, Request::unwatch("device", "dev").unwrap()),
            Err(XsError::Enoent)
        );
    }

    #[test]
    fn transactions_commit_abort_and_conflict() {
        let page = MemoryPage::new();
        let mut peer = XenstorePeer::new(&page, DomId(4));
        let mut guest = Guest::new(&page);

        let Ok(Reply::TransactionStarted(tx)) = guest.call(&mut peer, Request::transaction_start())
        else {
            panic!("no transaction");
        };
        let write = Request::write("t/a", b"in-tx")
            .unwrap()
            .in_transaction(tx)
            .unwrap();
        guest.call(&mut peer, write).unwrap();
        // Invisible outside the transaction until the commit.
        assert_eq!(
            guest.call(&mut peer, Request::read("t/a").unwrap()),
            Err(XsError::Enoent)
        );
        assert_eq!(
            guest.call(&mut peer, Request::transaction_end(tx, true).unwrap()),
            Ok(Reply::Ok)
        );
        assert_eq!(
            guest.call(&mut peer, Request::read("t/a").unwrap()),
            Ok(Reply::Value(b"in-tx".to_vec()))
        );

        // Aborted: nothing happens.
        let Ok(Reply::TransactionStarted(tx)) = guest.call(&mut peer, Request::transaction_start())
        else {
            panic!("no transaction");
        };
        guest
            .call(
                &mut peer,
                Request::rm("t/a").unwrap().in_transaction(tx).unwrap(),
            )
            .unwrap();
        assert_eq!(
            guest.call(&mut peer, Request::transaction_end(tx, false).unwrap()),
            Ok(Reply::Ok)
        );
        assert!(guest.call(&mut peer, Request::read("t/a").unwrap()).is_ok());

        // Conflict: a write outside the transaction makes the commit fail
        // with EAGAIN; the retry loop runs it again and succeeds.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Ok(Reply::TransactionStarted(tx)) =
                guest.call(&mut peer, Request::transaction_start())
            else {
                panic!("no transaction");
            };
            let request = Request::write("t/counter", &[b'0' + attempt as u8]).unwrap();
            guest
                .call(&mut peer, request.in_transaction(tx).unwrap())
                .unwrap();
            if attempt < 3 {
                // Someone else writes meanwhile.
                peer.seed("/local/domain/4/t/other", b"x", "b4");
            }
            match guest.call(&mut peer, Request::transaction_end(tx, true).unwrap()) {
                Ok(Reply::Ok) => break,
                Err(error) if should_retry(&error, attempt) => continue,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(attempt, 3);
        assert_eq!(
            guest.call(&mut peer, Request::read("t/counter").unwrap()),
            Ok(Reply::Value(b"3".to_vec()))
        );
        assert_eq!(
            guest.call(
                &mut peer,
                Request::transaction_end(TxId(999), true).unwrap()
            ),
            Err(XsError::Enoent)
        );
    }

    #[test]
    fn a_server_answering_unknown_ids_is_caught() {
        let page = MemoryPage::new();
        let mut peer = XenstorePeer::new(&page, DomId(1));
        let mut guest = Guest::new(&page);
        peer.inject_reply(super::Message {
            msg_type: xen_abi::xs_wire::XsdSockmsgType::Read,
            req_id: 77,
            tx_id: 0,
            payload: b"forged".to_vec(),
        });
        peer.step().unwrap();
        guest.ring.read_replies(&mut guest.decoder).unwrap();
        let message = guest.decoder.next_message().unwrap();
        assert_eq!(
            guest.client.handle(message),
            Err(XsError::UnknownRequestId {
                req_id: 77,
                msg_type: xen_abi::xs_wire::XsdSockmsgType::Read
            })
        );
    }

    #[test]
    fn garbage_from_the_server_stops_the_stream() {
        let page = MemoryPage::new();
        let mut peer = XenstorePeer::new(&page, DomId(1));
        let mut guest = Guest::new(&page);
        peer.inject_bytes(&[0xff; 16]);
        peer.step().unwrap();
        assert!(matches!(
            guest.ring.read_replies(&mut guest.decoder),
            Err(XsError::Malformed {
                what: "message type",
                ..
            })
        ));
    }
}
