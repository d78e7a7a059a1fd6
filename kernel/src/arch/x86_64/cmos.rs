//! Reading the CMOS real-time clock through ports 0x70/0x71.
//!
//! Only dom0 with I/O privilege can do this; Xen emulates the RTC ports for
//! the hardware domain. Decoding is in `kernel_core::rtc`.

use kernel_core::rtc::RtcRegisters;

use super::cpu::{inb, outb};

fn read_register(index: u8) -> u8 {
    // SAFETY: the caller of `read` holds I/O privilege as dom0; selecting a
    // register (bit 7 clear keeps NMIs enabled) and reading it has no other
    // effect.
    unsafe {
        outb(0x70, index & 0x7f);
        inb(0x71)
    }
}

fn snapshot() -> RtcRegisters {
    // Wait for "update in progress" (status A bit 7) to clear.
    for _ in 0..1_000_000 {
        if read_register(0x0a) & 0x80 == 0 {
            break;
        }
    }
    RtcRegisters {
        seconds: read_register(0x00),
        minutes: read_register(0x02),
        hours: read_register(0x04),
        day: read_register(0x07),
        month: read_register(0x08),
        year: read_register(0x09),
        status_b: read_register(0x0b),
    }
}

/// Reads the RTC until two consecutive snapshots agree (so an update in
/// the middle of reading cannot tear the value).
///
/// Callers must hold I/O privilege (`shutdown::has_io_privilege`).
pub fn read() -> RtcRegisters {
    let mut previous = snapshot();
    for _ in 0..8 {
        let next = snapshot();
        if next == previous {
            return next;
        }
        previous = next;
    }
    previous
}
