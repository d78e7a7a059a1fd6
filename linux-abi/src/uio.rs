//! `struct iovec` for `readv`/`writev` (`linux/uio.h`).

use crate::wire_struct;

/// Most iovecs one call may pass (`UIO_MAXIOV`); more is `EINVAL`.
pub const UIO_MAXIOV: usize = 1024;

wire_struct! {
    /// One user buffer: an *allegation* of `iov_len` bytes at `iov_base`,
    /// checked by the kernel when it copies.
    pub struct Iovec {
        pub iov_base: u64,
        pub iov_len: u64,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn layout() {
        assert_eq!(core::mem::size_of::<super::Iovec>(), 16);
    }
}
