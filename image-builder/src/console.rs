//! Turning the serial console's byte stream into timestamped lines.
//!
//! QEMU's COM1 carries everything: SeaBIOS and iPXE banners with terminal
//! escape sequences, Xen's `(XEN) ` lines ending in `\r\n`, and the kernel's
//! own lines. [`LineAssembler`] splits the stream at `\n` whatever the chunk
//! boundaries, decodes each line lossily (a console may carry any byte),
//! and [`clean`] removes terminal control sequences and stray control
//! characters, so that tests can match on plain text.

use std::time::SystemTime;

/// One console line as the host read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleLine {
    /// The host's clock when the line's final byte was read.
    pub at: SystemTime,
    /// The line's text without its line ending or control characters.
    pub text: String,
}

/// Splits a byte stream into lines across arbitrary chunk boundaries.
#[derive(Debug, Default)]
pub struct LineAssembler {
    pending: Vec<u8>,
}

impl LineAssembler {
    /// An assembler with no partial line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` and returns the lines they complete, cleaned.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                lines.push(clean(&self.pending));
                self.pending.clear();
            } else {
                self.pending.push(byte);
            }
        }
        lines
    }

    /// Whether a partial line is waiting for its end.
    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Ends the stream: returns the last partial line, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let line = clean(&self.pending);
        self.pending.clear();
        Some(line)
    }
}

/// Decodes one raw line: lossy UTF-8, no escape sequences, no controls.
///
/// Removes ANSI escape sequences (`ESC [ ... final`, `ESC x`), every other
/// control character except tab (notably the `\r` of `\r\n` and the `\r`
/// iPXE uses to overwrite its prompt), and trailing whitespace.
pub fn clean(raw: &[u8]) -> String {
    let decoded = String::from_utf8_lossy(raw);
    let mut text = String::with_capacity(decoded.len());
    let mut chars = decoded.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // A Control Sequence Introducer (`ESC [`) runs to a final byte
            // in '@'..='~'; any other escape is two characters (`ESC c`).
            if chars.next() == Some('[') {
                for next in chars.by_ref() {
                    if ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
        } else if c == '\t' || !c.is_control() {
            text.push(c);
        }
    }
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks_and_crlf_is_removed() {
        let mut assembler = LineAssembler::new();
        assert!(assembler.push(b"(XEN) Xen ver").is_empty());
        assert!(assembler.has_partial());
        assert_eq!(
            assembler.push(b"sion 4.17\r\nxenrs 0.1.0\r"),
            ["(XEN) Xen version 4.17"]
        );
        assert_eq!(assembler.push(b"\nshut"), ["xenrs 0.1.0"]);
        assert_eq!(assembler.finish().as_deref(), Some("shut"));
        assert_eq!(assembler.finish(), None);
    }

    #[test]
    fn empty_lines_are_kept() {
        let mut assembler = LineAssembler::new();
        assert_eq!(assembler.push(b"a\n\r\n\nb\n"), ["a", "", "", "b"]);
    }

    #[test]
    fn escape_sequences_and_garbage_are_cleaned() {
        assert_eq!(
            clean(b"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r"),
            "SeaBIOS (version 1.16.2)"
        );
        assert_eq!(
            clean(b"Press Ctrl-B to configure iPXE...\r        \r"),
            "Press Ctrl-B to configure iPXE..."
        );
        assert_eq!(
            clean(b"bad \xff\xfe bytes\x00\x07"),
            "bad \u{fffd}\u{fffd} bytes"
        );
        assert_eq!(clean(b"tab\tkept"), "tab\tkept");
        assert_eq!(clean(b"dangling escape \x1b"), "dangling escape");
        assert_eq!(clean(b"unterminated \x1b[12"), "unterminated");
    }
}
