//! `struct new_utsname` for `uname` (`linux/utsname.h`): six 65-byte fields.

use crate::wire_struct;

/// Bytes per field, including the terminating NUL.
pub const UTSNAME_FIELD_LEN: usize = 65;

wire_struct! {
    /// What `uname` returns; each field is NUL-terminated.
    pub struct Utsname {
        pub sysname: [u8; 65],
        pub nodename: [u8; 65],
        pub release: [u8; 65],
        pub version: [u8; 65],
        pub machine: [u8; 65],
        pub domainname: [u8; 65],
    }
}

/// Copies `text` into a field, truncated to 64 bytes, NUL-padded.
pub fn field(text: &str) -> [u8; UTSNAME_FIELD_LEN] {
    let mut out = [0u8; UTSNAME_FIELD_LEN];
    let len = text.len().min(UTSNAME_FIELD_LEN - 1);
    out[..len].copy_from_slice(&text.as_bytes()[..len]);
    out
}

impl Utsname {
    pub fn new(
        sysname: &str,
        nodename: &str,
        release: &str,
        version: &str,
        machine: &str,
        domainname: &str,
    ) -> Utsname {
        Utsname {
            sysname: field(sysname),
            nodename: field(nodename),
            release: field(release),
            version: field(version),
            machine: field(machine),
            domainname: field(domainname),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_nul_terminated_and_truncated() {
        let name = Utsname::new("Linux", "xenrs", "6.1.0", "#1", "x86_64", "(none)");
        assert_eq!(core::mem::size_of::<Utsname>(), 390);
        assert_eq!(&name.sysname[..6], b"Linux\0");
        let image = name.to_bytes();
        assert_eq!(&image[65 * 4..65 * 4 + 7], b"x86_64\0");
        let long = field(&"a".repeat(100));
        assert_eq!(long[63], b'a');
        assert_eq!(long[64], 0, "always terminated");
    }
}
