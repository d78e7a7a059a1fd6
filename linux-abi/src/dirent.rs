//! `linux_dirent64` records as `getdents64` writes them (`linux/dirent.h`
//! in the kernel tree; glibc's `struct dirent64` has the same layout).
//!
//! A record is an 19-byte header (`d_ino` u64, `d_off` i64, `d_reclen`
//! u16, `d_type` u8), the NUL-terminated name, and padding so that
//! `d_reclen` is a multiple of 8. `d_off` is the opaque cookie from which
//! the next `getdents64` (after `lseek` to it) resumes.

pub const DT_UNKNOWN: u8 = 0;
pub const DT_FIFO: u8 = 1;
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_BLK: u8 = 6;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;
pub const DT_SOCK: u8 = 12;
pub const DT_WHT: u8 = 14;

/// Offset of `d_name` in a record.
pub const DIRENT64_NAME_OFFSET: usize = 19;

/// The bytes a record for a name of `name_len` bytes takes.
pub const fn dirent64_record_len(name_len: usize) -> usize {
    (DIRENT64_NAME_OFFSET + name_len + 1).next_multiple_of(8)
}

/// One entry to serialise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirent64<'a> {
    pub d_ino: u64,
    /// Cookie of the entry *after* this one.
    pub d_off: i64,
    pub d_type: u8,
    pub d_name: &'a [u8],
}

impl Dirent64<'_> {
    /// Writes the record at the start of `out`, padding zeroed; returns
    /// its length, or `None` if it does not fit (`out` is then untouched).
    pub fn encode(&self, out: &mut [u8]) -> Option<usize> {
        let len = dirent64_record_len(self.d_name.len());
        let reclen = u16::try_from(len).ok()?;
        let record = out.get_mut(..len)?;
        record.fill(0);
        record[0..8].copy_from_slice(&self.d_ino.to_le_bytes());
        record[8..16].copy_from_slice(&self.d_off.to_le_bytes());
        record[16..18].copy_from_slice(&reclen.to_le_bytes());
        record[18] = self.d_type;
        record[DIRENT64_NAME_OFFSET..DIRENT64_NAME_OFFSET + self.d_name.len()]
            .copy_from_slice(self.d_name);
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lengths_are_aligned() {
        assert_eq!(dirent64_record_len(1), 24);
        assert_eq!(dirent64_record_len(4), 24);
        assert_eq!(dirent64_record_len(5), 32, "19 + 5 + NUL = 25 -> 32");
        assert_eq!(dirent64_record_len(255), 280);
    }

    #[test]
    fn encodes_a_record() {
        let mut out = [0xaau8; 40];
        let entry = Dirent64 {
            d_ino: 7,
            d_off: 3,
            d_type: DT_REG,
            d_name: b"hello",
        };
        assert_eq!(entry.encode(&mut out), Some(32));
        assert_eq!(&out[0..8], &7u64.to_le_bytes());
        assert_eq!(&out[8..16], &3i64.to_le_bytes());
        assert_eq!(&out[16..18], &32u16.to_le_bytes());
        assert_eq!(out[18], DT_REG);
        assert_eq!(&out[19..24], b"hello");
        assert_eq!(&out[24..32], &[0; 8], "NUL and padding");
        assert_eq!(&out[32..], &[0xaa; 8], "untouched");
        let mut short = [0u8; 31];
        assert_eq!(entry.encode(&mut short), None);
        assert_eq!(short, [0; 31]);
    }
}
