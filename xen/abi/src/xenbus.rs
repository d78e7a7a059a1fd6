//! Split-driver connection states: `io/xenbus.h`.
//!
//! Each end of a split device publishes its [`XenbusState`] in xenstore (the
//! `state` node of its device directory, as decimal text) and watches the
//! other end's; the handshake walks both through Initialising, InitWait /
//! Initialised and Connected, and teardown through Closing and Closed. The
//! state machine itself lives in the protocol crate; this module is just the
//! enumeration.

use core::fmt;

/// The state of one end of a xenbus connection: `enum xenbus_state`
/// (`XenbusState`), `io/xenbus.h`. Written by each end into its own
/// `state` node; the other end's value is an allegation to validate with
/// `try_from`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum XenbusState {
    /// `XenbusStateUnknown`.
    Unknown = 0,
    /// `XenbusStateInitialising`.
    Initialising = 1,
    /// `XenbusStateInitWait`: "Finished early initialisation but waiting for
    /// information from the peer or hotplug scripts".
    InitWait = 2,
    /// `XenbusStateInitialised`: "Waiting for a connection from the peer".
    Initialised = 3,
    /// `XenbusStateConnected`.
    Connected = 4,
    /// `XenbusStateClosing`: "The device is being closed due to an error or
    /// an unplug event".
    Closing = 5,
    /// `XenbusStateClosed`.
    Closed = 6,
    /// `XenbusStateReconfiguring`.
    Reconfiguring = 7,
    /// `XenbusStateReconfigured`.
    Reconfigured = 8,
}

impl XenbusState {
    /// Every state, in numeric order.
    pub const ALL: [XenbusState; 9] = [
        Self::Unknown,
        Self::Initialising,
        Self::InitWait,
        Self::Initialised,
        Self::Connected,
        Self::Closing,
        Self::Closed,
        Self::Reconfiguring,
        Self::Reconfigured,
    ];

    /// The numeric value, as written (in decimal) to xenstore.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }

    /// The C name, e.g. `"XenbusStateConnected"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unknown => "XenbusStateUnknown",
            Self::Initialising => "XenbusStateInitialising",
            Self::InitWait => "XenbusStateInitWait",
            Self::Initialised => "XenbusStateInitialised",
            Self::Connected => "XenbusStateConnected",
            Self::Closing => "XenbusStateClosing",
            Self::Closed => "XenbusStateClosed",
            Self::Reconfiguring => "XenbusStateReconfiguring",
            Self::Reconfigured => "XenbusStateReconfigured",
        }
    }
}

impl fmt::Display for XenbusState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A value that is not a valid `enum xenbus_state`; holds the value read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownXenbusState(pub u32);

impl fmt::Display for UnknownXenbusState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "xenbus state is invalid: expected 0..=8 but got {}",
            self.0
        )
    }
}

impl core::error::Error for UnknownXenbusState {}

impl TryFrom<u32> for XenbusState {
    type Error = UnknownXenbusState;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|state| state.as_u32() == value)
            .ok_or(UnknownXenbusState(value))
    }
}

impl From<XenbusState> for u32 {
    fn from(state: XenbusState) -> u32 {
        state.as_u32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_bad_values_are_named() {
        for state in XenbusState::ALL {
            assert_eq!(XenbusState::try_from(state.as_u32()), Ok(state));
        }
        assert_eq!(XenbusState::try_from(9), Err(UnknownXenbusState(9)));
        let text = std::format!("{}", UnknownXenbusState(42));
        assert!(text.ends_with("but got 42"), "{text}");
        assert_eq!(XenbusState::Connected.name(), "XenbusStateConnected");
    }
}
