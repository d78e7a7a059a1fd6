//! Error messages as coreutils prints them: `strerror`'s text.
//!
//! [`linux_abi::Errno`] is the error of every system call (the runtime
//! decodes `-errno` into it); its `Display` shows the C name too
//! (`ENOENT (No such file or directory)`), which is right for kernel logs.
//! Programs print what glibc's `strerror` would, so their messages match
//! their namesakes': `cat: x: No such file or directory`.

use core::fmt;

use linux_abi::Errno;

/// Displays an [`Errno`] as `strerror` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strerror(pub Errno);

/// The `strerror` text of `errno`, for messages.
pub fn strerror(errno: Errno) -> Strerror {
    Strerror(errno)
}

impl fmt::Display for Strerror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.description() {
            Some(text) => f.write_str(text),
            None => write!(f, "Unknown error {}", self.0.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn messages_are_strerror_texts() {
        assert_eq!(
            format!("{}", strerror(Errno::ENOENT)),
            "No such file or directory"
        );
        assert_eq!(format!("{}", strerror(Errno::EISDIR)), "Is a directory");
        let unnamed = Errno::new(4000).expect("in range");
        assert_eq!(format!("{}", strerror(unnamed)), "Unknown error 4000");
    }
}
