//! Terminal settings: the kernel's `struct termios`, `termios2`, `winsize`.
//!
//! `TCGETS`/`TCSETS*` copy the *kernel's* `struct termios` (36 bytes,
//! `NCCS` = 19, `asm-generic/termbits.h`), not glibc's 60-byte userspace
//! struct: glibc's `tcgetattr` converts between the two. Writing 60 bytes
//! for `TCGETS` would overrun the caller's buffer. `TCGETS2` uses
//! `struct termios2` (44 bytes, with explicit speeds). Flag values from
//! `asm-generic/termbits.h` and `termbits-common.h`; the defaults are
//! Linux's `tty_std_termios` (`drivers/tty/tty_io.c`).

use crate::wire_struct;

/// Control characters in the kernel's termios.
pub const NCCS: usize = 19;

// c_iflag
pub const IGNBRK: u32 = 0o1;
pub const BRKINT: u32 = 0o2;
pub const IGNPAR: u32 = 0o4;
pub const PARMRK: u32 = 0o10;
pub const INPCK: u32 = 0o20;
pub const ISTRIP: u32 = 0o40;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const IUCLC: u32 = 0o1000;
pub const IXON: u32 = 0o2000;
pub const IXANY: u32 = 0o4000;
pub const IXOFF: u32 = 0o10000;
pub const IMAXBEL: u32 = 0o20000;
pub const IUTF8: u32 = 0o40000;

// c_oflag
pub const OPOST: u32 = 0o1;
pub const OLCUC: u32 = 0o2;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;
pub const ONOCR: u32 = 0o20;
pub const ONLRET: u32 = 0o40;

// c_cflag
pub const CBAUD: u32 = 0o10017;
pub const B0: u32 = 0o0;
pub const B9600: u32 = 0o15;
pub const B38400: u32 = 0o17;
pub const B115200: u32 = 0o10002;
pub const CSIZE: u32 = 0o60;
pub const CS8: u32 = 0o60;
pub const CSTOPB: u32 = 0o100;
pub const CREAD: u32 = 0o200;
pub const PARENB: u32 = 0o400;
pub const PARODD: u32 = 0o1000;
pub const HUPCL: u32 = 0o2000;
pub const CLOCAL: u32 = 0o4000;

// c_lflag
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const TOSTOP: u32 = 0o400;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOPRT: u32 = 0o2000;
pub const ECHOKE: u32 = 0o4000;
pub const FLUSHO: u32 = 0o10000;
pub const PENDIN: u32 = 0o40000;
pub const IEXTEN: u32 = 0o100000;

// c_cc indices
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSWTC: usize = 7;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VDISCARD: usize = 13;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

/// Linux's `INIT_C_CC`: ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1, ^Q ^S ^Z, ^R ^O
/// ^W ^V.
pub const INIT_C_CC: [u8; NCCS] = [
    0o003, 0o034, 0o177, 0o025, 0o004, 0, 1, 0, 0o021, 0o023, 0o032, 0, 0o022, 0o017, 0o027, 0o026,
    0, 0, 0,
];

wire_struct! {
    /// The kernel's `struct termios` (36 bytes), for `TCGETS`/`TCSETS*`.
    pub struct Termios {
        pub c_iflag: u32,
        pub c_oflag: u32,
        pub c_cflag: u32,
        pub c_lflag: u32,
        pub c_line: u8,
        pub c_cc: [u8; 19],
    }
}

wire_struct! {
    /// `struct termios2` (44 bytes), for `TCGETS2`/`TCSETS2`.
    pub struct Termios2 {
        pub c_iflag: u32,
        pub c_oflag: u32,
        pub c_cflag: u32,
        pub c_lflag: u32,
        pub c_line: u8,
        pub c_cc: [u8; 19],
        pub c_ispeed: u32,
        pub c_ospeed: u32,
    }
}

wire_struct! {
    /// `struct winsize` for `TIOCGWINSZ`/`TIOCSWINSZ`.
    pub struct Winsize {
        pub ws_row: u16,
        pub ws_col: u16,
        pub ws_xpixel: u16,
        pub ws_ypixel: u16,
    }
}

impl Termios {
    /// Linux's `tty_std_termios`: canonical mode with echo, signals,
    /// CR→NL on input and NL→CRNL on output, 38400 baud 8N1.
    pub const fn standard() -> Termios {
        Termios {
            c_iflag: ICRNL | IXON,
            c_oflag: OPOST | ONLCR,
            c_cflag: B38400 | CS8 | CREAD | HUPCL,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_line: 0,
            c_cc: INIT_C_CC,
        }
    }

    /// With explicit speeds, for `TCGETS2`.
    pub const fn to_termios2(self, speed: u32) -> Termios2 {
        Termios2 {
            c_iflag: self.c_iflag,
            c_oflag: self.c_oflag,
            c_cflag: self.c_cflag,
            c_lflag: self.c_lflag,
            c_line: self.c_line,
            c_cc: self.c_cc,
            c_ispeed: speed,
            c_ospeed: speed,
        }
    }
}

impl Termios2 {
    pub const fn to_termios(self) -> Termios {
        Termios {
            c_iflag: self.c_iflag,
            c_oflag: self.c_oflag,
            c_cflag: self.c_cflag,
            c_lflag: self.c_lflag,
            c_line: self.c_line,
            c_cc: self.c_cc,
        }
    }
}

impl Termios2 {
    /// `sizeof(struct termios2)`, for ioctl numbers.
    pub const SIZE_BYTES: usize = core::mem::size_of::<Termios2>();
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts() {
        assert_eq!(size_of::<Termios>(), 36);
        assert_eq!(offset_of!(Termios, c_cc), 17);
        assert_eq!(size_of::<Termios2>(), 44);
        assert_eq!(offset_of!(Termios2, c_ispeed), 36);
        assert_eq!(size_of::<Winsize>(), 8);
    }

    #[test]
    fn standard_settings() {
        let standard = Termios::standard();
        assert_eq!(standard.c_cc[VINTR], 3, "^C");
        assert_eq!(standard.c_cc[VEOF], 4, "^D");
        assert_eq!(standard.c_cc[VMIN], 1);
        assert_ne!(standard.c_lflag & ICANON, 0);
        assert_eq!(standard.to_termios2(38400).to_termios(), standard);
    }
}
