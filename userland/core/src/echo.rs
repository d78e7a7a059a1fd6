//! `echo` as coreutils does it: `-n`, `-e`, `-E`, and `-e`'s escapes.
//!
//! Used by the `echo` program and by the shell's `echo` builtin, so both
//! print the same bytes. Like coreutils, an argument is an option only if
//! it is `-` followed by nothing but the letters `n`, `e`, `E`; escapes are
//! off unless `-e` is given.

use alloc::vec::Vec;

/// The bytes `echo args...` prints.
pub fn echo<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut newline = true;
    let mut escapes = false;
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.peek() {
        let is_option = arg.len() > 1
            && arg[0] == b'-'
            && arg[1..].iter().all(|b| matches!(b, b'n' | b'e' | b'E'));
        if !is_option {
            break;
        }
        for letter in &arg[1..] {
            match letter {
                b'n' => newline = false,
                b'e' => escapes = true,
                _ => escapes = false,
            }
        }
        args.next();
    }
    let mut first = true;
    for arg in args {
        if !first {
            out.push(b' ');
        }
        first = false;
        if escapes {
            if !unescape(arg, &mut out) {
                return out;
            }
        } else {
            out.extend_from_slice(arg);
        }
    }
    if newline {
        out.push(b'\n');
    }
    out
}

/// Appends `arg` with `-e` escapes resolved; false after `\c` (stop all
/// output, including the newline).
fn unescape(arg: &[u8], out: &mut Vec<u8>) -> bool {
    let mut index = 0;
    while index < arg.len() {
        let byte = arg[index];
        index += 1;
        if byte != b'\\' || index == arg.len() {
            out.push(byte);
            continue;
        }
        let escape = arg[index];
        index += 1;
        let simple = match escape {
            b'\\' => Some(b'\\'),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'e' => Some(0x1b),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(value) = simple {
            out.push(value);
            continue;
        }
        match escape {
            b'c' => return false,
            b'0' => {
                // \0NNN: up to three octal digits after the 0.
                let mut value: u32 = 0;
                let mut digits = 0;
                while digits < 3 && index < arg.len() && (b'0'..=b'7').contains(&arg[index]) {
                    value = value * 8 + u32::from(arg[index] - b'0');
                    index += 1;
                    digits += 1;
                }
                out.push(value as u8);
            }
            b'x' => {
                let mut value: u32 = 0;
                let mut digits = 0;
                while digits < 2 && index < arg.len() && arg[index].is_ascii_hexdigit() {
                    value = value * 16 + (arg[index] as char).to_digit(16).unwrap_or(0);
                    index += 1;
                    digits += 1;
                }
                if digits == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(value as u8);
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Vec<u8> {
        echo(args.iter().map(|arg| arg.as_bytes()))
    }

    #[test]
    fn plain_arguments_are_joined_by_spaces() {
        assert_eq!(run(&[]), b"\n");
        assert_eq!(run(&["a", "b  c"]), b"a b  c\n");
        assert_eq!(run(&["-n", "x"]), b"x");
        assert_eq!(run(&["-", "x"]), b"- x\n");
        assert_eq!(run(&["-nx", "y"]), b"-nx y\n");
        assert_eq!(run(&["x", "-n"]), b"x -n\n");
        assert_eq!(run(&["a\\tb"]), b"a\\tb\n");
    }

    #[test]
    fn escapes_only_with_e() {
        assert_eq!(run(&["-e", "a\\tb\\n"]), b"a\tb\n\n");
        assert_eq!(run(&["-ne", "\\x41\\0101\\\\"]), b"AA\\");
        assert_eq!(run(&["-e", "a\\cb", "c"]), b"a");
        assert_eq!(run(&["-eE", "a\\tb"]), b"a\\tb\n");
        assert_eq!(run(&["-e", "\\q\\x\\"]), b"\\q\\x\\\n");
    }
}
