//! `struct pollfd` and the poll event bits (`asm-generic/poll.h`).

use crate::wire_struct;

pub const POLLIN: u16 = 0x0001;
pub const POLLPRI: u16 = 0x0002;
pub const POLLOUT: u16 = 0x0004;
pub const POLLERR: u16 = 0x0008;
pub const POLLHUP: u16 = 0x0010;
pub const POLLNVAL: u16 = 0x0020;
pub const POLLRDNORM: u16 = 0x0040;
pub const POLLRDBAND: u16 = 0x0080;
pub const POLLWRNORM: u16 = 0x0100;
pub const POLLWRBAND: u16 = 0x0200;
pub const POLLMSG: u16 = 0x0400;
pub const POLLRDHUP: u16 = 0x2000;

/// Events reported whether or not they were asked for (poll(2)).
pub const POLL_ALWAYS: u16 = POLLERR | POLLHUP | POLLNVAL;

wire_struct! {
    /// `struct pollfd`.
    pub struct Pollfd {
        pub fd: i32,
        /// Requested events.
        pub events: i16,
        /// Returned events, written by the kernel.
        pub revents: i16,
    }
}

impl Pollfd {
    /// `revents` for a file whose readiness is `ready`: the requested
    /// events plus the ones always reported.
    pub const fn filter(requested: u16, ready: u16) -> u16 {
        ready & (requested | POLL_ALWAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_filter() {
        assert_eq!(core::mem::size_of::<Pollfd>(), 8);
        assert_eq!(Pollfd::filter(POLLIN, POLLIN | POLLOUT), POLLIN);
        assert_eq!(Pollfd::filter(POLLOUT, POLLHUP | POLLIN), POLLHUP);
        assert_eq!(Pollfd::filter(0, POLLERR), POLLERR);
    }
}
