//! `wait4`/`waitid` options and the wait status word (`linux/wait.h`).
//!
//! The status word `wait4` stores is what glibc's `WIFEXITED`,
//! `WEXITSTATUS`, `WIFSIGNALED`, `WTERMSIG`, `WCOREDUMP`, `WIFSTOPPED`,
//! `WSTOPSIG` and `WIFCONTINUED` macros (`bits/waitstatus.h`) decode:
//!
//! | event               | status                          |
//! |---------------------|---------------------------------|
//! | exit(code)          | `(code & 0xff) << 8`            |
//! | killed by sig       | `sig` (`| 0x80` if core dumped) |
//! | stopped by sig      | `(sig << 8) | 0x7f`             |
//! | continued           | `0xffff`                        |

pub const WNOHANG: u32 = 0x0000_0001;
pub const WUNTRACED: u32 = 0x0000_0002;
pub const WSTOPPED: u32 = WUNTRACED;
pub const WEXITED: u32 = 0x0000_0004;
pub const WCONTINUED: u32 = 0x0000_0008;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const __WNOTHREAD: u32 = 0x2000_0000;
pub const __WALL: u32 = 0x4000_0000;
pub const __WCLONE: u32 = 0x8000_0000;

/// The options `wait4` accepts (`kernel/exit.c`); others are `EINVAL`.
pub const WAIT4_VALID_OPTIONS: u32 =
    WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE;

/// `waitid` id types.
pub const P_ALL: u32 = 0;
pub const P_PID: u32 = 1;
pub const P_PGID: u32 = 2;
pub const P_PIDFD: u32 = 3;

/// A state change `wait4` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// The child called `exit(code)`; only the low 8 bits survive.
    Exited(u8),
    /// The child was killed by a signal.
    Signaled { signal: u8, core_dumped: bool },
    /// The child was stopped by a signal (reported with `WUNTRACED`).
    Stopped(u8),
    /// The child was continued by `SIGCONT` (reported with `WCONTINUED`).
    Continued,
}

impl WaitStatus {
    /// From the argument of `exit`/`exit_group` (`int`, truncated).
    pub const fn exited(code: u64) -> WaitStatus {
        WaitStatus::Exited(code as u8)
    }

    /// The 32-bit status word stored at `wstatus`.
    pub const fn encode(self) -> u32 {
        match self {
            WaitStatus::Exited(code) => (code as u32) << 8,
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => (signal as u32 & 0x7f) | if core_dumped { 0x80 } else { 0 },
            WaitStatus::Stopped(signal) => ((signal as u32) << 8) | 0x7f,
            WaitStatus::Continued => 0xffff,
        }
    }

    /// Decodes a status word the way the glibc macros do.
    pub const fn decode(status: u32) -> Option<WaitStatus> {
        let status = status & 0xffff;
        if status == 0xffff {
            Some(WaitStatus::Continued)
        } else if status & 0x7f == 0 {
            Some(WaitStatus::Exited((status >> 8) as u8))
        } else if status & 0xff == 0x7f {
            Some(WaitStatus::Stopped((status >> 8) as u8))
        } else if status >> 8 == 0 {
            Some(WaitStatus::Signaled {
                signal: (status & 0x7f) as u8,
                core_dumped: status & 0x80 != 0,
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_glibc_macros() {
        assert_eq!(WaitStatus::exited(0).encode(), 0);
        assert_eq!(WaitStatus::exited(3).encode(), 0x300);
        assert_eq!(
            WaitStatus::exited(256 + 7).encode(),
            0x700,
            "exit code truncated to 8 bits"
        );
        assert_eq!(
            WaitStatus::Signaled {
                signal: 9,
                core_dumped: false
            }
            .encode(),
            9
        );
        assert_eq!(
            WaitStatus::Signaled {
                signal: 11,
                core_dumped: true
            }
            .encode(),
            0x8b
        );
        assert_eq!(WaitStatus::Stopped(19).encode(), 0x137f);
        assert_eq!(WaitStatus::Continued.encode(), 0xffff);
    }

    #[test]
    fn round_trips() {
        let cases = [
            WaitStatus::Exited(0),
            WaitStatus::Exited(255),
            WaitStatus::Signaled {
                signal: 15,
                core_dumped: false,
            },
            WaitStatus::Signaled {
                signal: 6,
                core_dumped: true,
            },
            WaitStatus::Stopped(20),
            WaitStatus::Continued,
        ];
        for case in cases {
            assert_eq!(WaitStatus::decode(case.encode()), Some(case));
        }
        assert_eq!(
            WaitStatus::decode(0x0105),
            None,
            "not a status the kernel makes"
        );
    }
}
