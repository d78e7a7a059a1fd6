//! `ioctl` request numbers the kernel answers (`asm-generic/ioctls.h`,
//! `asm-generic/ioctl.h`).
//!
//! A request that is not a terminal request on a terminal is `ENOTTY`;
//! that is also what libc's `isatty` relies on for non-terminals.

/// `_IOC(dir, type, nr, size)` of `asm-generic/ioctl.h`.
pub const fn ioc(direction: u32, kind: u8, number: u8, size: usize) -> u32 {
    (direction << 30) | ((size as u32) << 16) | ((kind as u32) << 8) | number as u32
}
pub const IOC_NONE: u32 = 0;
pub const IOC_WRITE: u32 = 1;
pub const IOC_READ: u32 = 2;

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TCSBRK: u32 = 0x5409;
pub const TCXONC: u32 = 0x540A;
pub const TCFLSH: u32 = 0x540B;
pub const TIOCEXCL: u32 = 0x540C;
pub const TIOCNXCL: u32 = 0x540D;
pub const TIOCSCTTY: u32 = 0x540E;
pub const TIOCGPGRP: u32 = 0x540F;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCOUTQ: u32 = 0x5411;
pub const TIOCSTI: u32 = 0x5412;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541B;
pub const TIOCINQ: u32 = FIONREAD;
pub const TIOCCONS: u32 = 0x541D;
pub const FIONBIO: u32 = 0x5421;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;
pub const TCGETS2: u32 = ioc(IOC_READ, b'T', 0x2A, crate::termios::Termios2::SIZE_BYTES);
pub const TCSETS2: u32 = ioc(IOC_WRITE, b'T', 0x2B, crate::termios::Termios2::SIZE_BYTES);
pub const TCSETSW2: u32 = ioc(IOC_WRITE, b'T', 0x2C, crate::termios::Termios2::SIZE_BYTES);
pub const TCSETSF2: u32 = ioc(IOC_WRITE, b'T', 0x2D, crate::termios::Termios2::SIZE_BYTES);
pub const FIONCLEX: u32 = 0x5450;
pub const FIOCLEX: u32 = 0x5451;
pub const FIOASYNC: u32 = 0x5452;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_requests() {
        assert_eq!(TCGETS2, 0x802C_542A);
        assert_eq!(TCSETS2, 0x402C_542B);
    }
}
