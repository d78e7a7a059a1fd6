//! The `io/ring.h` request/response ring, either end, role as data.
//!
//! A split driver's ring is a page holding a 64-byte header
//! ([`SringHeader`]: `req_prod`, `req_event`, `rsp_prod`, `rsp_event`, then
//! padding) and a power-of-two array of slots, each one request or one
//! response (the protocol's union, `entry_bytes` long). The frontend puts
//! requests in and takes responses out; the backend takes requests and puts
//! responses in the same slots. Who writes what:
//!
//! | field | writer |
//! |---|---|
//! | `req_prod`, request slots, `rsp_event` | frontend |
//! | `rsp_prod`, response slots, `req_event` | backend |
//!
//! One core, [`SharedRing`], implements both ends; [`Role`] says which
//! fields are ours. [`FrontRing`] and [`BackRing`] are thin typed faces on it
//! (named from the frontend's side, as `io/ring.h` does). Each end keeps its
//! private indices (`req_prod_pvt`/`rsp_cons` or `rsp_prod_pvt`/`req_cons`)
//! to itself and only publishes them.
//!
//! The macros it implements, each cited where it is:
//! `SHARED_RING_INIT`, `FRONT_RING_ATTACH`/`BACK_RING_ATTACH`,
//! `RING_FREE_REQUESTS`, `RING_PUSH_{REQUESTS,RESPONSES}_AND_CHECK_NOTIFY`,
//! `RING_FINAL_CHECK_FOR_{REQUESTS,RESPONSES}`, `RING_COPY_{REQUEST,RESPONSE}`
//! (every entry is copied out before anything looks at it) and the
//! ill-behaved-peer checks `RING_REQUEST_PROD_OVERFLOW` and
//! `RING_RESPONSE_PROD_OVERFLOW`. The peer's producer index is loaded once
//! per [`SharedRing::poll`]; entries are only taken up to that validated
//! snapshot. The caller sends the event when a push says to notify.

use crate::shared::SharedPage;
use core::fmt;
use core::mem::offset_of;
use xen_abi::ring::{ring_size, SringHeader, SRING_HEADER_BYTES};

const REQ_PROD: usize = offset_of!(SringHeader, req_prod);
const REQ_EVENT: usize = offset_of!(SringHeader, req_event);
const RSP_PROD: usize = offset_of!(SringHeader, rsp_prod);
const RSP_EVENT: usize = offset_of!(SringHeader, rsp_event);
const PVT: usize = offset_of!(SringHeader, pvt);

/// Which end of the ring this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Produces requests, consumes responses.
    Front,
    /// Consumes requests, produces responses.
    Back,
}

impl Role {
    /// (our producer index, the peer's event threshold for it,
    ///  the peer's producer index, our event threshold for it)
    const fn fields(self) -> (usize, usize, usize, usize) {
        match self {
            Role::Front => (REQ_PROD, REQ_EVENT, RSP_PROD, RSP_EVENT),
            Role::Back => (RSP_PROD, RSP_EVENT, REQ_PROD, REQ_EVENT),
        }
    }
}

/// Why a ring operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SharedRingError {
    /// `RING_REQUEST_PROD_OVERFLOW`: the frontend claims more requests than
    /// there can be (`req_prod - rsp_prod_pvt > size`). Ill-behaved
    /// frontend: disconnect.
    RequestProdOverflow {
        /// `req_prod` as read.
        req_prod: u32,
        /// Our `rsp_prod_pvt`.
        rsp_prod_pvt: u32,
        /// Slots in the ring.
        size: u32,
    },
    /// `RING_RESPONSE_PROD_OVERFLOW`, tightened: the backend claims more
    /// responses than we have published requests outstanding (`rsp_prod -
    /// rsp_cons > req_prod - rsp_cons`). Ill-behaved backend: disconnect.
    ResponseProdOverflow {
        /// `rsp_prod` as read.
        rsp_prod: u32,
        /// Our `rsp_cons`.
        rsp_cons: u32,
        /// Requests we have produced that are not answered yet.
        outstanding: u32,
    },
    /// No slot to produce into: the frontend has `size` requests
    /// outstanding, or the backend has answered every request it took
    /// (caller: check [`SharedRing::free_slots`]).
    NoSlot,
    /// An entry longer than a slot (caller bug).
    EntryTooLarge {
        /// Bytes given.
        len_bytes: usize,
        /// Bytes per slot.
        entry_bytes: usize,
    },
    /// The ring bytes cannot hold one slot of this size (caller bug).
    BadGeometry {
        /// Bytes of ring memory.
        ring_bytes: usize,
        /// Bytes per slot.
        entry_bytes: usize,
    },
}

impl fmt::Display for SharedRingError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SharedRingError::RequestProdOverflow {
                req_prod,
                rsp_prod_pvt,
                size,
            } => write!(
                formatter,
                "ill-behaved frontend: req_prod {req_prod} - rsp_prod_pvt {rsp_prod_pvt} > {size}"
            ),
            SharedRingError::ResponseProdOverflow {
                rsp_prod,
                rsp_cons,
                outstanding,
            } => write!(
                formatter,
                "ill-behaved backend: rsp_prod {rsp_prod} - rsp_cons {rsp_cons} > {outstanding} \
                 requests outstanding"
            ),
            SharedRingError::NoSlot => write!(formatter, "no free ring slot"),
            SharedRingError::EntryTooLarge {
                len_bytes,
                entry_bytes,
            } => write!(
                formatter,
                "ring entry too large: expected <= {entry_bytes} bytes but got {len_bytes}"
            ),
            SharedRingError::BadGeometry {
                ring_bytes,
                entry_bytes,
            } => write!(
                formatter,
                "no {entry_bytes}-byte slot fits in a {ring_bytes}-byte ring"
            ),
        }
    }
}

impl core::error::Error for SharedRingError {}

/// One end of a shared ring.
#[derive(Debug)]
pub struct SharedRing<P> {
    page: P,
    role: Role,
    /// Slots: a power of two.
    size: u32,
    entry_bytes: usize,
    /// `req_prod_pvt` (front) or `rsp_prod_pvt` (back).
    prod_pvt: u32,
    /// What we last stored in our shared producer field.
    published: u32,
    /// `rsp_cons` (front) or `req_cons` (back).
    cons: u32,
    /// The peer's producer index at the last `poll`, validated.
    peer_prod: u32,
}

impl<P: SharedPage> SharedRing<P> {
    /// Attaches as `role` to a ring of `ring_bytes` bytes (usually 4096)
    /// with `entry_bytes`-byte slots, all indices starting at `start`
    /// (`FRONT_RING_ATTACH` / `BACK_RING_ATTACH`; 0 for a new ring). Does
    /// not touch the page.
    pub fn attach(
        page: P,
        role: Role,
        ring_bytes: usize,
        entry_bytes: usize,
        start: u32,
    ) -> Result<Self, SharedRingError> {
        let size = ring_size(ring_bytes, entry_bytes);
        if size == 0 {
            return Err(SharedRingError::BadGeometry {
                ring_bytes,
                entry_bytes,
            });
        }
        Ok(SharedRing {
            page,
            role,
            size: u32::try_from(size).unwrap_or(1 << 31),
            entry_bytes,
            prod_pvt: start,
            published: start,
            cons: start,
            peer_prod: start,
        })
    }

    /// `SHARED_RING_INIT` then `FRONT_RING_INIT`: the frontend's start on
    /// a page it has just allocated (before granting it to the backend).
    pub fn init_front(
        page: P,
        ring_bytes: usize,
        entry_bytes: usize,
    ) -> Result<Self, SharedRingError> {
        let ring = Self::attach(page, Role::Front, ring_bytes, entry_bytes, 0)?;
        let page = &ring.page;
        page.store_u32(REQ_PROD, 0);
        page.store_u32(RSP_PROD, 0);
        page.store_u32(REQ_EVENT, 1);
        page.store_u32(RSP_EVENT, 1);
        page.write_bytes(PVT, &[0; SRING_HEADER_BYTES - PVT]);
        Ok(ring)
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Slots in the ring (`RING_SIZE`).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// How many entries can be produced now: for the frontend
    /// `RING_FREE_REQUESTS` (`size - (req_prod_pvt - rsp_cons)`); for the
    /// backend, requests taken and not yet answered (`req_cons -
    /// rsp_prod_pvt`).
    pub fn free_slots(&self) -> u32 {
        match self.role {
            Role::Front => self.size - self.prod_pvt.wrapping_sub(self.cons),
            Role::Back => self.cons.wrapping_sub(self.prod_pvt),
        }
    }

    fn slot_offset(&self, index: u32) -> usize {
        SRING_HEADER_BYTES + (index & (self.size - 1)) as usize * self.entry_bytes
    }

    /// Writes `entry` into the next slot, privately (`RING_GET_REQUEST`
    /// then `req_prod_pvt++`); the peer sees it after [`Self::push`].
    pub fn produce(&mut self, entry: &[u8]) -> Result<(), SharedRingError> {
        if entry.len() > self.entry_bytes {
            return Err(SharedRingError::EntryTooLarge {
                len_bytes: entry.len(),
                entry_bytes: self.entry_bytes,
            });
        }
        if self.free_slots() == 0 {
            return Err(SharedRingError::NoSlot);
        }
        self.page
            .write_bytes(self.slot_offset(self.prod_pvt), entry);
        self.prod_pvt = self.prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// Publishes everything produced and says whether the peer must be
    /// notified: `RING_PUSH_{REQUESTS,RESPONSES}_AND_CHECK_NOTIFY`.
    pub fn push(&mut self) -> bool {
        let (prod_field, event_field, _, _) = self.role.fields();
        let old = self.published;
        let new = self.prod_pvt;
        // wmb(): "back sees requests /before/ updated producer index"
        // (io/ring.h, RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
        self.page.write_barrier();
        self.page.store_u32(prod_field, new);
        self.published = new;
        // mb(): "back sees new requests /before/ we check req_event": the
        // store above and the load below must not be reordered, or both
        // ends could sleep (store-then-load needs a full barrier).
        self.page.full_barrier();
        let event = self.page.load_u32(event_field);
        new.wrapping_sub(event) < new.wrapping_sub(old)
    }

    /// Loads the peer's producer index once, checks it, and returns how
    /// many entries are waiting (`RING_HAS_UNCONSUMED_*`). Entries are then
    /// taken with [`Self::take`] up to this snapshot.
    pub fn poll(&mut self) -> Result<u32, SharedRingError> {
        let (_, _, peer_prod_field, _) = self.role.fields();
        let prod = self.page.load_u32(peer_prod_field);
        match self.role {
            Role::Back => {
                // RING_REQUEST_PROD_OVERFLOW: "Ill-behaved frontend
                // determination: Can there be this many requests?"
                if prod.wrapping_sub(self.prod_pvt) > self.size {
                    return Err(SharedRingError::RequestProdOverflow {
                        req_prod: prod,
                        rsp_prod_pvt: self.prod_pvt,
                        size: self.size,
                    });
                }
                // With that bound, also prod - req_cons <= size -
                // (req_cons - rsp_prod_pvt): XEN_RING_NR_UNCONSUMED_REQUESTS's
                // min() holds. A prod behind req_cons shows up as a huge
                // difference above, except within the answered window:
                let taken = self.cons.wrapping_sub(self.prod_pvt);
                if prod.wrapping_sub(self.prod_pvt) < taken {
                    return Err(SharedRingError::RequestProdOverflow {
                        req_prod: prod,
                        rsp_prod_pvt: self.prod_pvt,
                        size: self.size,
                    });
                }
            }
            Role::Front => {
                // RING_RESPONSE_PROD_OVERFLOW ("Can there be this many
                // responses?"), bounded by the requests we have published,
                // which is at most the ring size.
                let outstanding = self.published.wrapping_sub(self.cons);
                if prod.wrapping_sub(self.cons) > outstanding {
                    return Err(SharedRingError::ResponseProdOverflow {
                        rsp_prod: prod,
                        rsp_cons: self.cons,
                        outstanding,
                    });
                }
            }
        }
        // rmb(): the entry loads in `take` must not be satisfied before
        // this load of the producer index ("Ensure we see queued responses
        // up to 'rp'", Mini-OS; Linux: virt_rmb() after reading rsp_prod).
        self.page.read_barrier();
        self.peer_prod = prod;
        Ok(prod.wrapping_sub(self.cons))
    }

    /// Copies the next entry (up to the last [`Self::poll`]) into `out`
    /// (`RING_COPY_REQUEST` / `RING_COPY_RESPONSE`: the copy is ours, the
    /// peer cannot change it after); returns `false` when there is none.
    pub fn take(&mut self, out: &mut [u8]) -> Result<bool, SharedRingError> {
        if out.len() > self.entry_bytes {
            return Err(SharedRingError::EntryTooLarge {
                len_bytes: out.len(),
                entry_bytes: self.entry_bytes,
            });
        }
        if self.cons == self.peer_prod {
            return Ok(false);
        }
        self.page.read_bytes(self.slot_offset(self.cons), out);
        self.cons = self.cons.wrapping_add(1);
        // For the frontend, the slot is free again: the request side sees
        // that through `rsp_cons` in `free_slots`, with no shared write.
        Ok(true)
    }

    /// Before sleeping: `RING_FINAL_CHECK_FOR_{REQUESTS,RESPONSES}`. If
    /// nothing is waiting, asks the peer for an event on the next entry
    /// (our event field = `cons + 1`) and looks once more; `true` means
    /// entries are waiting and the caller must not sleep.
    pub fn final_check(&mut self) -> Result<bool, SharedRingError> {
        if self.poll()? > 0 {
            return Ok(true);
        }
        let (_, _, _, our_event_field) = self.role.fields();
        self.page
            .store_u32(our_event_field, self.cons.wrapping_add(1));
        // mb(): the event threshold must be visible before we look at the
        // producer again, or the peer's push could miss it and we would
        // miss its entry (io/ring.h RING_FINAL_CHECK_FOR_*: xen_mb()).
        self.page.full_barrier();
        Ok(self.poll()? > 0)
    }

    /// The page.
    pub fn page(&self) -> &P {
        &self.page
    }
}

/// The frontend's end: requests out, responses in.
#[derive(Debug)]
pub struct FrontRing<P>(SharedRing<P>);

impl<P: SharedPage> FrontRing<P> {
    /// `SHARED_RING_INIT` + `FRONT_RING_INIT` on a fresh page.
    pub fn init(page: P, ring_bytes: usize, entry_bytes: usize) -> Result<Self, SharedRingError> {
        SharedRing::init_front(page, ring_bytes, entry_bytes).map(FrontRing)
    }

    /// `FRONT_RING_ATTACH` at index `start`, without touching the page.
    pub fn attach(
        page: P,
        ring_bytes: usize,
        entry_bytes: usize,
        start: u32,
    ) -> Result<Self, SharedRingError> {
        SharedRing::attach(page, Role::Front, ring_bytes, entry_bytes, start).map(FrontRing)
    }

    /// Queues a request (not visible until [`Self::push_requests`]).
    pub fn put_request(&mut self, request: &[u8]) -> Result<(), SharedRingError> {
        self.0.produce(request)
    }

    /// `RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`: `true` means notify.
    pub fn push_requests(&mut self) -> bool {
        self.0.push()
    }

    /// `RING_FREE_REQUESTS`.
    pub fn free_requests(&self) -> u32 {
        self.0.free_slots()
    }

    /// Responses waiting (loads `rsp_prod` once and checks it).
    pub fn poll_responses(&mut self) -> Result<u32, SharedRingError> {
        self.0.poll()
    }

    /// Copies the next polled response out.
    pub fn take_response(&mut self, out: &mut [u8]) -> Result<bool, SharedRingError> {
        self.0.take(out)
    }

    /// `RING_FINAL_CHECK_FOR_RESPONSES`.
    pub fn final_check_for_responses(&mut self) -> Result<bool, SharedRingError> {
        self.0.final_check()
    }

    /// The shared core.
    pub fn ring(&self) -> &SharedRing<P> {
        &self.0
    }
}

/// The backend's end: requests in, responses out.
#[derive(Debug)]
pub struct BackRing<P>(SharedRing<P>);

impl<P: SharedPage> BackRing<P> {
    /// `BACK_RING_ATTACH` at index `start` (0 for `BACK_RING_INIT`), without
    /// touching the page (the frontend initialised it).
    pub fn attach(
        page: P,
        ring_bytes: usize,
        entry_bytes: usize,
        start: u32,
    ) -> Result<Self, SharedRingError> {
        SharedRing::attach(page, Role::Back, ring_bytes, entry_bytes, start).map(BackRing)
    }

    /// Requests waiting (loads `req_prod` once and checks it against
    /// `RING_REQUEST_PROD_OVERFLOW`).
    pub fn poll_requests(&mut self) -> Result<u32, SharedRingError> {
        self.0.poll()
    }

    /// `RING_COPY_REQUEST` of the next polled request.
    pub fn take_request(&mut self, out: &mut [u8]) -> Result<bool, SharedRingError> {
        self.0.take(out)
    }

    /// Queues a response to the oldest unanswered request.
    pub fn put_response(&mut self, response: &[u8]) -> Result<(), SharedRingError> {
        self.0.produce(response)
    }

    /// `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`: `true` means notify.
    pub fn push_responses(&mut self) -> bool {
        self.0.push()
    }

    /// `RING_FINAL_CHECK_FOR_REQUESTS`.
    pub fn final_check_for_requests(&mut self) -> Result<bool, SharedRingError> {
        self.0.final_check()
    }

    /// The shared core.
    pub fn ring(&self) -> &SharedRing<P> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::test_page::{Access, MemoryPage, TracingPage};
    use std::collections::VecDeque;
    use std::string::ToString;

    /// blkif-like geometry: 112-byte slots, 32 of them.
    const ENTRY: usize = 112;

    fn pair(page: &MemoryPage, start: u32) -> (FrontRing<&MemoryPage>, BackRing<&MemoryPage>) {
        for field in [REQ_PROD, RSP_PROD] {
            page.store_u32(field, start);
        }
        for field in [REQ_EVENT, RSP_EVENT] {
            page.store_u32(field, start.wrapping_add(1));
        }
        (
            FrontRing::attach(page, 4096, ENTRY, start).unwrap(),
            BackRing::attach(page, 4096, ENTRY, start).unwrap(),
        )
    }

    fn entry(tag: u32) -> [u8; 8] {
        let mut bytes = [0; 8];
        bytes[..4].copy_from_slice(&tag.to_le_bytes());
        bytes[4..].copy_from_slice(&(!tag).to_le_bytes());
        bytes
    }

    #[test]
    fn init_matches_shared_ring_init() {
        let page = MemoryPage::new();
        page.write_bytes(0, &[0xff; 64]);
        let front = FrontRing::init(&page, 4096, ENTRY).unwrap();
        assert_eq!(front.ring().size(), 32);
        assert_eq!(front.free_requests(), 32);
        assert_eq!(
            [REQ_PROD, REQ_EVENT, RSP_PROD, RSP_EVENT].map(|field| page.load_u32(field)),
            [0, 1, 0, 1]
        );
        let mut rest = [0xff; 48];
        page.read_bytes(16, &mut rest);
        assert_eq!(rest, [0; 48]);
    }

    #[test]
    fn geometry_is_checked() {
        let page = MemoryPage::new();
        assert_eq!(
            FrontRing::attach(&page, 4096, 0, 0).unwrap_err(),
            SharedRingError::BadGeometry {
                ring_bytes: 4096,
                entry_bytes: 0
            }
        );
        assert!(BackRing::attach(&page, 4096, 4033, 0).is_err());
        assert_eq!(
            FrontRing::attach(&page, 4096, 12, 0).unwrap().ring().size(),
            256
        );
    }

    #[test]
    fn requests_and_responses_round_trip_across_u32_wrap() {
        for start in [0, u32::MAX - 40, u32::MAX] {
            let page = MemoryPage::new();
            let (mut front, mut back) = pair(&page, start);
            let mut next_tag = 0u32;
            let mut answered = 0u32;
            for round in 0..50 {
                for _ in 0..(round % 7 + 1).min(front.free_requests()) {
                    front.put_request(&entry(next_tag)).unwrap();
                    next_tag += 1;
                }
                front.push_requests();
                let waiting = back.poll_requests().unwrap();
                let mut out = [0; 8];
                for _ in 0..waiting {
                    assert!(back.take_request(&mut out).unwrap());
                    let tag = u32::from_le_bytes(out[..4].try_into().unwrap());
                    back.put_response(&entry(tag + 1_000_000)).unwrap();
                }
                assert!(!back.take_request(&mut out).unwrap());
                back.push_responses();
                front.poll_responses().unwrap();
                while front.take_response(&mut out).unwrap() {
                    assert_eq!(out, entry(answered + 1_000_000));
                    answered += 1;
                }
            }
            assert_eq!(answered, next_tag, "start {start}");
            assert!(next_tag > 64, "wrapped the 32-slot ring");
        }
    }

    #[test]
    fn the_front_cannot_overfill_and_the_back_cannot_answer_unasked() {
        let page = MemoryPage::new();
        let (mut front, mut back) = pair(&page, 0);
        for tag in 0..32 {
            front.put_request(&entry(tag)).unwrap();
        }
        assert_eq!(front.free_requests(), 0);
        assert_eq!(front.put_request(&entry(99)), Err(SharedRingError::NoSlot));
        assert_eq!(back.put_response(&entry(1)), Err(SharedRingError::NoSlot));
        assert_eq!(
            front.put_request(&[0; ENTRY + 1]),
            Err(SharedRingError::EntryTooLarge {
                len_bytes: 113,
                entry_bytes: 112
            })
        );
        assert!(matches!(
            back.take_request(&mut [0; ENTRY + 1]),
            Err(SharedRingError::EntryTooLarge { .. })
        ));
    }

    #[test]
    fn notification_follows_the_event_thresholds() {
        let page = MemoryPage::new();
        let mut front = FrontRing::init(&page, 4096, ENTRY).unwrap();
        let mut back = BackRing::attach(&page, 4096, ENTRY, 0).unwrap();
        // req_event starts at 1: the first request notifies.
        front.put_request(&entry(0)).unwrap();
        assert!(front.push_requests());
        // The backend has not re-armed: more requests do not notify.
        front.put_request(&entry(1)).unwrap();
        assert!(!front.push_requests());
        // Pushing nothing never notifies.
        assert!(!front.push_requests());
        // The backend drains, finds nothing more, and re-arms before sleeping.
        assert_eq!(back.poll_requests().unwrap(), 2);
        while back.take_request(&mut [0; 8]).unwrap() {}
        assert!(!back.final_check_for_requests().unwrap());
        assert_eq!(page.load_u32(REQ_EVENT), 3);
        front.put_request(&entry(2)).unwrap();
        assert!(front.push_requests());
        // A final check that finds work does not re-arm.
        assert!(back.final_check_for_requests().unwrap());
        assert_eq!(page.load_u32(REQ_EVENT), 3);
    }

    #[test]
    fn a_frontend_claiming_too_many_requests_is_caught() {
        let page = MemoryPage::new();
        let (_, mut back) = pair(&page, u32::MAX - 3);
        page.store_u32(REQ_PROD, (u32::MAX - 3).wrapping_add(33));
        let error = back.poll_requests().unwrap_err();
        assert_eq!(
            error,
            SharedRingError::RequestProdOverflow {
                req_prod: 29,
                rsp_prod_pvt: u32::MAX - 3,
                size: 32
            }
        );
        assert_eq!(
            error.to_string(),
            "ill-behaved frontend: req_prod 29 - rsp_prod_pvt 4294967292 > 32"
        );
        // Nothing can be taken after a failed poll.
        assert!(!back.take_request(&mut [0; 8]).unwrap());
        // Exactly a full ring is fine.
        page.store_u32(REQ_PROD, (u32::MAX - 3).wrapping_add(32));
        assert_eq!(back.poll_requests().unwrap(), 32);
    }

    #[test]
    fn a_frontend_moving_req_prod_backwards_is_caught() {
        let page = MemoryPage::new();
        let (_, mut back) = pair(&page, 100);
        page.store_u32(REQ_PROD, 105);
        assert_eq!(back.poll_requests().unwrap(), 5);
        let mut out = [0; 8];
        for _ in 0..5 {
            back.take_request(&mut out).unwrap();
        }
        // req_cons is 105, nothing answered yet; req_prod now claims 103.
        page.store_u32(REQ_PROD, 103);
        assert!(matches!(
            back.poll_requests(),
            Err(SharedRingError::RequestProdOverflow { req_prod: 103, .. })
        ));
    }

    #[test]
    fn a_backend_answering_unasked_requests_is_caught() {
        let page = MemoryPage::new();
        let (mut front, _) = pair(&page, u32::MAX);
        front.put_request(&entry(1)).unwrap();
        front.put_request(&entry(2)).unwrap();
        front.push_requests();
        page.store_u32(RSP_PROD, u32::MAX.wrapping_add(3));
        let error = front.poll_responses().unwrap_err();
        assert_eq!(
            error,
            SharedRingError::ResponseProdOverflow {
                rsp_prod: 2,
                rsp_cons: u32::MAX,
                outstanding: 2
            }
        );
        assert!(error.to_string().starts_with("ill-behaved backend"));
        page.store_u32(RSP_PROD, u32::MAX - 1);
        assert!(front.poll_responses().is_err(), "behind rsp_cons");
        page.store_u32(RSP_PROD, 1);
        assert_eq!(front.poll_responses().unwrap(), 2);
    }

    #[test]
    fn a_taken_request_is_a_private_copy() {
        let page = MemoryPage::new();
        let (mut front, mut back) = pair(&page, 0);
        front.put_request(&entry(7)).unwrap();
        front.push_requests();
        back.poll_requests().unwrap();
        let mut copy = [0; 8];
        back.take_request(&mut copy).unwrap();
        // The frontend rewrites the slot after the backend took it.
        page.write_bytes(SRING_HEADER_BYTES, &entry(666));
        assert_eq!(copy, entry(7));
    }

    #[test]
    fn barrier_order_of_push_poll_and_final_check() {
        let page = TracingPage::new(MemoryPage::new());
        let mut front = FrontRing::attach(&page, 4096, ENTRY, 0).unwrap();
        front.put_request(&entry(1)).unwrap();
        page.take();
        front.push_requests();
        assert_eq!(
            page.take(),
            [
                Access::WriteBarrier,
                Access::Store32(REQ_PROD, 1),
                Access::FullBarrier,
                Access::Load32(REQ_EVENT)
            ]
        );
        let mut back = BackRing::attach(&page, 4096, ENTRY, 0).unwrap();
        back.poll_requests().unwrap();
        back.take_request(&mut [0; 8]).unwrap();
        assert_eq!(
            page.take(),
            [
                Access::Load32(REQ_PROD),
                Access::ReadBarrier,
                Access::ReadBytes(SRING_HEADER_BYTES, 8)
            ]
        );
        back.final_check_for_requests().unwrap();
        assert_eq!(
            page.take(),
            [
                Access::Load32(REQ_PROD),
                Access::ReadBarrier,
                Access::Store32(REQ_EVENT, 2),
                Access::FullBarrier,
                Access::Load32(REQ_PROD),
                Access::ReadBarrier
            ]
        );
    }

    #[test]
    fn seeded_interleavings_deliver_in_order_without_lost_wakeups() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for start in [0, u32::MAX - 100] {
            let page = MemoryPage::new();
            let (mut front, mut back) = pair(&page, start);
            let (mut sent, mut delivered) = (0u32, 0u32);
            let mut backlog: VecDeque<u32> = VecDeque::new();
            let mut back_asleep = false;
            let mut front_asleep = false;
            for _ in 0..20_000 {
                match next(4) {
                    0 => {
                        for _ in 0..next(5).min(u64::from(front.free_requests())) {
                            front.put_request(&entry(sent)).unwrap();
                            sent += 1;
                        }
                        if front.push_requests() {
                            back_asleep = false;
                        }
                    }
                    1 if !back_asleep => {
                        back.poll_requests().unwrap();
                        let mut out = [0; 8];
                        while back.take_request(&mut out).unwrap() {
                            backlog.push_back(u32::from_le_bytes(out[..4].try_into().unwrap()));
                        }
                        if !back.final_check_for_requests().unwrap() {
                            back_asleep = true;
                        }
                    }
                    2 if !backlog.is_empty() => {
                        for _ in 0..=next(backlog.len() as u64) {
                            let Some(tag) = backlog.pop_front() else {
                                break;
                            };
                            back.put_response(&entry(tag)).unwrap();
                        }
                        if back.push_responses() {
                            front_asleep = false;
                        }
                    }
                    3 if !front_asleep => {
                        front.poll_responses().unwrap();
                        let mut out = [0; 8];
                        while front.take_response(&mut out).unwrap() {
                            assert_eq!(out, entry(delivered));
                            delivered += 1;
                        }
                        if !front.final_check_for_responses().unwrap() {
                            front_asleep = true;
                        }
                    }
                    _ => {}
                }
                // Nobody may be asleep with work published for them: that
                // would be a lost wake-up.
                if back_asleep {
                    assert_eq!(
                        page.load_u32(REQ_PROD),
                        back.0.cons,
                        "backend slept through requests"
                    );
                }
                if front_asleep {
                    assert_eq!(
                        page.load_u32(RSP_PROD),
                        front.0.cons,
                        "frontend slept through responses"
                    );
                }
            }
            assert!(delivered > 1000);
        }
    }
}
