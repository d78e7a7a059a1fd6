//! Small formatting helpers that need no allocator.

use core::fmt;

/// A string in a fixed stack buffer; writes past the end fail with
/// `fmt::Error` and keep what fitted (always whole characters).
pub struct StackString<const N: usize> {
    buffer: [u8; N],
    len: usize,
}

impl<const N: usize> StackString<N> {
    /// An empty string.
    pub const fn new() -> Self {
        StackString {
            buffer: [0; N],
            len: 0,
        }
    }

    /// What was written so far.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this cannot fail.
        core::str::from_utf8(&self.buffer[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> Default for StackString<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for StackString<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = N - self.len;
        if text.len() <= room {
            self.buffer[self.len..self.len + text.len()].copy_from_slice(text.as_bytes());
            self.len += text.len();
            Ok(())
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.buffer[self.len..self.len + end].copy_from_slice(&text.as_bytes()[..end]);
            self.len += end;
            Err(fmt::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn stack_strings_keep_whole_characters_and_report_overflow() {
        let mut text = StackString::<5>::new();
        assert!(write!(text, "ab").is_ok());
        assert!(write!(text, "cé").is_ok());
        assert_eq!(text.as_str(), "abcé");
        assert!(text.write_str("é").is_err());
        assert_eq!(text.as_str(), "abcé");
    }
}
