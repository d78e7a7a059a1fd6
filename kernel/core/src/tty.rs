//! The console's line discipline: what a terminal does between the
//! keyboard and `read(0)`.
//!
//! Bytes typed on the console arrive through [`LineDiscipline::input`],
//! which applies the termios flags the program set (`TCSETS`) and says
//! what to echo and which signal to raise, the way Linux's `n_tty` does
//! for the common flags:
//!
//! * `ICRNL` turns CR into NL on input; `ONLCR` turns NL into CR NL on
//!   output ([`output`]).
//! * `ISIG`: `VINTR` (^C) raises SIGINT, `VQUIT` (^\) SIGQUIT, `VSUSP` (^Z)
//!   SIGTSTP, for the foreground process group; pending input is flushed
//!   (unless `NOFLSH`).
//! * `ICANON`: input is edited a line at a time (`VERASE`, `VKILL`,
//!   `VWERASE`) and only complete lines are readable; `VEOF` (^D) ends a
//!   line without a newline, and at the start of a line makes `read`
//!   return 0 (end of file). Without `ICANON` every byte is readable at
//!   once (`VMIN`/`VTIME` are treated as 1/0).
//! * `ECHO`, `ECHOE` (erase as backspace-space-backspace), `ECHOCTL`
//!   (control characters echoed as `^X`), `ECHONL`.
//!
//! Bounded: at most [`MAX_INPUT`] bytes wait to be read; more are dropped
//! (and the terminal beeps, as Linux's `IMAXBEL` does), so a flood on the
//! console cannot exhaust kernel memory.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use linux_abi::signal::Signal;
use linux_abi::termios::{
    Termios, Winsize, ECHO, ECHOCTL, ECHOE, ECHONL, ICANON, ICRNL, IGNCR, INLCR, ISIG, NOFLSH,
    ONLCR, OPOST, VEOF, VERASE, VINTR, VKILL, VQUIT, VSUSP, VWERASE,
};

/// Bytes of input held for readers, at most (Linux's `N_TTY_BUF_SIZE`).
pub const MAX_INPUT: usize = 4096;

/// What one input byte caused, besides what is buffered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputEffect {
    /// Bytes to write back to the console (the echo).
    pub echo: Vec<u8>,
    /// A signal for the foreground process group.
    pub signal: Option<Signal>,
}

/// The terminal state: settings, the line being edited, readable input.
#[derive(Clone, Debug)]
pub struct LineDiscipline {
    termios: Termios,
    winsize: Winsize,
    /// The line being typed (canonical mode), not yet readable.
    editing: Vec<u8>,
    /// Input ready for `read`.
    ready: VecDeque<u8>,
    /// End-of-file marks: positions in `ready` where a `read` must stop
    /// (a ^D). A ^D on an empty line makes that `read` return 0.
    eof_marks: VecDeque<usize>,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        Self::new()
    }
}

impl LineDiscipline {
    /// A terminal in Linux's default state (`tty_std_termios`), 80x25.
    pub fn new() -> Self {
        LineDiscipline {
            termios: Termios::standard(),
            winsize: Winsize {
                ws_row: 25,
                ws_col: 80,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
            editing: Vec::new(),
            ready: VecDeque::new(),
            eof_marks: VecDeque::new(),
        }
    }

    pub fn termios(&self) -> Termios {
        self.termios
    }

    /// `TCSETS`: new settings. Leaving canonical mode makes the line
    /// being edited readable at once, as Linux does.
    pub fn set_termios(&mut self, termios: Termios) {
        let was_canonical = self.canonical();
        self.termios = termios;
        if was_canonical && !self.canonical() {
            let line = core::mem::take(&mut self.editing);
            self.ready.extend(line);
        }
    }

    pub fn winsize(&self) -> Winsize {
        self.winsize
    }

    pub fn set_winsize(&mut self, winsize: Winsize) {
        self.winsize = winsize;
    }

    fn canonical(&self) -> bool {
        self.termios.c_lflag & ICANON != 0
    }

    fn lflag(&self, flag: u32) -> bool {
        self.termios.c_lflag & flag != 0
    }

    /// Bytes a `read` would return now (an end-of-file mark counts as
    /// readable: the `read` returns 0).
    pub fn readable(&self) -> bool {
        !self.ready.is_empty() || !self.eof_marks.is_empty()
    }

    /// Bytes ready for `read` (FIONREAD).
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Feeds one byte typed on the console.
    pub fn input(&mut self, byte: u8) -> InputEffect {
        let mut effect = InputEffect::default();
        let iflag = self.termios.c_iflag;
        let byte = match byte {
            b'\r' if iflag & IGNCR != 0 => return effect,
            b'\r' if iflag & ICRNL != 0 => b'\n',
            b'\n' if iflag & INLCR != 0 => b'\r',
            other => other,
        };
        let cc = self.termios.c_cc;
        if self.lflag(ISIG) && byte != 0 {
            let signal = if byte == cc[VINTR] {
                Some(Signal::SIGINT)
            } else if byte == cc[VQUIT] {
                Some(Signal::SIGQUIT)
            } else if byte == cc[VSUSP] {
                Some(Signal::SIGTSTP)
            } else {
                None
            };
            if let Some(signal) = signal {
                if !self.lflag(NOFLSH) {
                    self.flush_input();
                }
                if self.lflag(ECHO) {
                    self.echo_char(byte, &mut effect.echo);
                    // Linux's echo of ^C ends with a newline only via the
                    // shell's prompt; keep the terminal's output as is.
                }
                effect.signal = Some(signal);
                return effect;
            }
        }
        if !self.canonical() {
            if self.ready.len() < MAX_INPUT {
                self.ready.push_back(byte);
                if self.lflag(ECHO) {
                    self.echo_char(byte, &mut effect.echo);
                }
            } else {
                effect.echo.push(0x07);
            }
            return effect;
        }
        if byte != 0 && byte == cc[VERASE] || byte == 0x08 && cc[VERASE] == 0x7f {
            if let Some(erased) = self.editing.pop() {
                if self.lflag(ECHO) && self.lflag(ECHOE) {
                    let width = if erased < 0x20 && self.lflag(ECHOCTL) && erased != b'\t' {
                        2
                    } else {
                        1
                    };
                    for _ in 0..width {
                        effect.echo.extend_from_slice(b"\x08 \x08");
                    }
                }
            }
            return effect;
        }
        if byte != 0 && byte == cc[VWERASE] {
            while self.editing.last() == Some(&b' ') {
                self.erase_one(&mut effect.echo);
            }
            while self.editing.last().is_some_and(|&b| b != b' ') {
                self.erase_one(&mut effect.echo);
            }
            return effect;
        }
        if byte != 0 && byte == cc[VKILL] {
            while !self.editing.is_empty() {
                self.erase_one(&mut effect.echo);
            }
            return effect;
        }
        if byte != 0 && byte == cc[VEOF] {
            let line = core::mem::take(&mut self.editing);
            self.ready.extend(line);
            self.eof_marks.push_back(self.ready.len());
            return effect;
        }
        // The last byte of room is kept for the newline that ends a line.
        let room = MAX_INPUT.saturating_sub(self.ready.len() + self.editing.len());
        if byte == b'\n' {
            self.editing.push(b'\n');
            let line = core::mem::take(&mut self.editing);
            self.ready.extend(line);
            if self.lflag(ECHO) || self.lflag(ECHONL) {
                effect.echo.push(b'\n');
            }
        } else if room > 1 {
            self.editing.push(byte);
            if self.lflag(ECHO) {
                self.echo_char(byte, &mut effect.echo);
            }
        } else {
            effect.echo.push(0x07);
        }
        effect
    }

    fn erase_one(&mut self, echo: &mut Vec<u8>) {
        if self.editing.pop().is_some() && self.lflag(ECHO) && self.lflag(ECHOE) {
            echo.extend_from_slice(b"\x08 \x08");
        }
    }

    fn echo_char(&self, byte: u8, echo: &mut Vec<u8>) {
        if byte < 0x20 && byte != b'\n' && byte != b'\t' && self.lflag(ECHOCTL) {
            echo.push(b'^');
            echo.push(byte + 0x40);
        } else {
            echo.push(byte);
        }
    }

    /// Discards everything typed and not yet read (a signal key, TCFLSH).
    pub fn flush_input(&mut self) {
        self.editing.clear();
        self.ready.clear();
        self.eof_marks.clear();
    }

    /// `read`: copies ready input into `out`. `None` means nothing is
    /// ready (the reader blocks); `Some(0)` is end of file (^D on an empty
    /// line). A canonical read returns at most one line.
    pub fn read(&mut self, out: &mut [u8]) -> Option<usize> {
        if let Some(&mark) = self.eof_marks.front() {
            if mark == 0 {
                self.eof_marks.pop_front();
                return Some(0);
            }
        }
        if self.ready.is_empty() || out.is_empty() {
            return if out.is_empty() { Some(0) } else { None };
        }
        let limit = self.eof_marks.front().copied().unwrap_or(usize::MAX);
        let mut count = 0;
        while count < out.len() && count < limit {
            let Some(byte) = self.ready.pop_front() else {
                break;
            };
            out[count] = byte;
            count += 1;
            if byte == b'\n' && self.canonical() {
                break;
            }
        }
        for mark in self.eof_marks.iter_mut() {
            *mark -= count;
        }
        if count > 0 && count == limit && out[count - 1] != b'\n' {
            // The ^D ended this (newline-less) line: this read used it up.
            // After a complete line it stays, as end of file.
            self.eof_marks.pop_front();
        }
        Some(count)
    }
}

/// Output processing (`OPOST` + `ONLCR`): NL becomes CR NL.
pub fn output(termios: &Termios, bytes: &[u8]) -> Vec<u8> {
    if termios.c_oflag & OPOST == 0 || termios.c_oflag & ONLCR == 0 {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for &byte in bytes {
        if byte == b'\n' {
            out.push(b'\r');
        }
        out.push(byte);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(tty: &mut LineDiscipline, bytes: &[u8]) -> (Vec<u8>, Vec<Signal>) {
        let mut echo = Vec::new();
        let mut signals = Vec::new();
        for &byte in bytes {
            let effect = tty.input(byte);
            echo.extend(effect.echo);
            signals.extend(effect.signal);
        }
        (echo, signals)
    }

    fn read_all(tty: &mut LineDiscipline) -> Option<Vec<u8>> {
        let mut buffer = [0u8; 256];
        tty.read(&mut buffer).map(|n| buffer[..n].to_vec())
    }

    #[test]
    fn canonical_mode_releases_whole_lines_with_echo() {
        let mut tty = LineDiscipline::new();
        let (echo, _) = feed(&mut tty, b"ls -l");
        assert_eq!(echo, b"ls -l");
        assert!(!tty.readable(), "no line yet");
        assert_eq!(read_all(&mut tty), None);
        let (echo, _) = feed(&mut tty, b"\r");
        assert_eq!(echo, b"\n", "CR is turned into NL and echoed");
        assert_eq!(read_all(&mut tty).unwrap(), b"ls -l\n");
    }

    #[test]
    fn a_canonical_read_returns_one_line_at_a_time() {
        let mut tty = LineDiscipline::new();
        feed(&mut tty, b"one\ntwo\n");
        assert_eq!(read_all(&mut tty).unwrap(), b"one\n");
        assert_eq!(read_all(&mut tty).unwrap(), b"two\n");
        let mut small = [0u8; 2];
        feed(&mut tty, b"abc\n");
        assert_eq!(tty.read(&mut small), Some(2));
        assert_eq!(read_all(&mut tty).unwrap(), b"c\n");
    }

    #[test]
    fn erase_kill_and_word_erase_edit_the_line() {
        let mut tty = LineDiscipline::new();
        let (echo, _) = feed(&mut tty, b"abx\x7f");
        assert_eq!(echo, b"abx\x08 \x08");
        feed(&mut tty, b"c d\x17"); // ^W erases "d"
        feed(&mut tty, b"e\n");
        assert_eq!(read_all(&mut tty).unwrap(), b"abc e\n");
        feed(&mut tty, b"junk\x15ok\n"); // ^U kills the line
        assert_eq!(read_all(&mut tty).unwrap(), b"ok\n");
        let (echo, _) = feed(&mut tty, b"\x7f\x7f");
        assert!(echo.is_empty(), "nothing to erase, nothing echoed");
    }

    #[test]
    fn control_c_raises_sigint_and_flushes_the_line() {
        let mut tty = LineDiscipline::new();
        let (echo, signals) = feed(&mut tty, b"sleep 100\x03");
        assert_eq!(signals, [Signal::SIGINT]);
        assert!(echo.ends_with(b"^C"));
        feed(&mut tty, b"\n");
        assert_eq!(read_all(&mut tty).unwrap(), b"\n", "the typed line is gone");
        assert_eq!(feed(&mut tty, b"\x1c").1, [Signal::SIGQUIT]);
        assert_eq!(feed(&mut tty, b"\x1a").1, [Signal::SIGTSTP]);
    }

    #[test]
    fn without_isig_control_c_is_data() {
        let mut tty = LineDiscipline::new();
        let mut termios = tty.termios();
        termios.c_lflag &= !(ISIG | ICANON);
        tty.set_termios(termios);
        let (_, signals) = feed(&mut tty, b"\x03");
        assert!(signals.is_empty());
        assert_eq!(read_all(&mut tty).unwrap(), b"\x03");
    }

    #[test]
    fn control_d_at_line_start_is_end_of_file_and_mid_line_ends_the_line() {
        let mut tty = LineDiscipline::new();
        feed(&mut tty, b"\x04");
        assert!(tty.readable());
        assert_eq!(read_all(&mut tty).unwrap(), b"", "EOF");
        assert!(!tty.readable());
        feed(&mut tty, b"abc\x04");
        assert_eq!(read_all(&mut tty).unwrap(), b"abc", "no newline added");
        assert_eq!(read_all(&mut tty), None, "the ^D was used by that read");
        feed(&mut tty, b"x\n\x04");
        assert_eq!(read_all(&mut tty).unwrap(), b"x\n");
        assert_eq!(read_all(&mut tty).unwrap(), b"");
    }

    #[test]
    fn raw_mode_delivers_bytes_at_once_and_honours_echo() {
        let mut tty = LineDiscipline::new();
        let mut termios = tty.termios();
        termios.c_lflag &= !(ICANON | ECHO);
        tty.set_termios(termios);
        let (echo, _) = feed(&mut tty, b"q");
        assert!(echo.is_empty());
        assert_eq!(read_all(&mut tty).unwrap(), b"q");
    }

    #[test]
    fn leaving_canonical_mode_releases_the_partial_line() {
        let mut tty = LineDiscipline::new();
        feed(&mut tty, b"par");
        let mut termios = tty.termios();
        termios.c_lflag &= !ICANON;
        tty.set_termios(termios);
        assert_eq!(read_all(&mut tty).unwrap(), b"par");
    }

    #[test]
    fn input_is_bounded() {
        let mut tty = LineDiscipline::new();
        for _ in 0..MAX_INPUT * 2 {
            tty.input(b'a');
        }
        tty.input(b'\n');
        let mut buffer = alloc::vec![0u8; MAX_INPUT * 2];
        let count = tty.read(&mut buffer).unwrap();
        assert_eq!(count, MAX_INPUT - tty.ready_len());
        assert!(count <= MAX_INPUT);
        assert_eq!(buffer[count - 1], b'\n', "the line still ends");
    }

    #[test]
    fn output_turns_newlines_into_crlf_unless_disabled() {
        let mut termios = Termios::standard();
        assert_eq!(output(&termios, b"a\nb\n"), b"a\r\nb\r\n");
        termios.c_oflag &= !OPOST;
        assert_eq!(output(&termios, b"a\n"), b"a\n");
    }
}
