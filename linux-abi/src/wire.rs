//! Safe byte images of ABI structs: how values cross the user boundary.
//!
//! User memory is hostile and untyped, so the kernel never reinterprets it
//! as a Rust struct. Instead every ABI type implements [`Wire`]: it writes
//! itself field by field, little-endian, at the field's `offset_of!`, with
//! every padding byte zero (no kernel data leaks through padding), and reads
//! itself back the same way. Any byte pattern decodes to some value: the
//! ABI structs hold only integers, so there is nothing to validate at this
//! level; the syscall that receives the value checks its meaning.
//!
//! [`wire_struct!`](crate::wire_struct) declares a `#[repr(C)]` struct and
//! its `Wire` implementation in one place, plus `to_bytes`/`from_bytes`
//! over an array of exactly the struct's size.

/// The buffer given to [`Wire::encode`] or [`Wire::decode`] is shorter than
/// the value's image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// Bytes the image needs.
    pub needed: usize,
    /// Bytes the buffer has.
    pub actual: usize,
}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "buffer of {} bytes is too small for an image of {} bytes",
            self.actual, self.needed
        )
    }
}

impl core::error::Error for BufferTooSmall {}

/// A value with a fixed-size little-endian byte image (x86_64 layout).
pub trait Wire: Sized {
    /// Bytes in the image: `size_of::<Self>()` for the ABI structs.
    const SIZE: usize;

    /// Writes the image into `out[..SIZE]`; padding bytes are left as they
    /// are (callers start from zeroed buffers). `out` must be at least
    /// `SIZE` long; use [`Wire::encode`] for a checked version.
    fn put(&self, out: &mut [u8]);

    /// Reads a value from `bytes[..SIZE]`, which must be at least `SIZE`
    /// long; use [`Wire::decode`] for a checked version.
    fn get(bytes: &[u8]) -> Self;

    /// Writes the image, padding zeroed, into the start of `out`; returns
    /// the bytes written.
    fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let actual = out.len();
        let image = out.get_mut(..Self::SIZE).ok_or(BufferTooSmall {
            needed: Self::SIZE,
            actual,
        })?;
        image.fill(0);
        self.put(image);
        Ok(Self::SIZE)
    }

    /// Reads a value from the start of `bytes`.
    fn decode(bytes: &[u8]) -> Result<Self, BufferTooSmall> {
        let image = bytes.get(..Self::SIZE).ok_or(BufferTooSmall {
            needed: Self::SIZE,
            actual: bytes.len(),
        })?;
        Ok(Self::get(image))
    }
}

macro_rules! wire_integers {
    ($($ty:ty),*) => {$(
        impl Wire for $ty {
            const SIZE: usize = core::mem::size_of::<$ty>();
            fn put(&self, out: &mut [u8]) {
                out[..Self::SIZE].copy_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut image = [0u8; core::mem::size_of::<$ty>()];
                image.copy_from_slice(&bytes[..Self::SIZE]);
                <$ty>::from_le_bytes(image)
            }
        }
    )*};
}

wire_integers!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<T: Wire, const N: usize> Wire for [T; N] {
    const SIZE: usize = T::SIZE * N;
    fn put(&self, out: &mut [u8]) {
        for (index, element) in self.iter().enumerate() {
            element.put(&mut out[index * T::SIZE..]);
        }
    }
    fn get(bytes: &[u8]) -> Self {
        core::array::from_fn(|index| T::get(&bytes[index * T::SIZE..]))
    }
}

/// Declares a `#[repr(C)]` ABI struct with its [`Wire`] implementation,
/// `Default` (the all-zero image), and `to_bytes`/`from_bytes` over
/// `[u8; size_of::<Self>()]`. Field types must implement `Wire`.
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty ),*
        }

        impl $crate::wire::Wire for $name {
            const SIZE: usize = core::mem::size_of::<$name>();
            fn put(&self, out: &mut [u8]) {
                $( $crate::wire::Wire::put(
                    &self.$field,
                    &mut out[core::mem::offset_of!($name, $field)..],
                ); )*
            }
            fn get(bytes: &[u8]) -> Self {
                $name {
                    $( $field: $crate::wire::Wire::get(
                        &bytes[core::mem::offset_of!($name, $field)..],
                    ), )*
                }
            }
        }

        impl Default for $name {
            /// The all-zero image.
            fn default() -> Self {
                <$name as $crate::wire::Wire>::get(&[0u8; core::mem::size_of::<$name>()])
            }
        }

        impl $name {
            /// The byte image, padding zeroed.
            pub fn to_bytes(self) -> [u8; core::mem::size_of::<$name>()] {
                let mut image = [0u8; core::mem::size_of::<$name>()];
                $crate::wire::Wire::put(&self, &mut image);
                image
            }

            /// Reads a value from its byte image.
            pub fn from_bytes(image: &[u8; core::mem::size_of::<$name>()]) -> Self {
                <$name as $crate::wire::Wire>::get(image)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    wire_struct! {
        /// A struct with interior and trailing padding.
        pub struct Padded {
            pub a: u8,
            pub b: u64,
            pub c: u16,
        }
    }

    #[test]
    fn integers_are_little_endian() {
        let mut out = [0u8; 8];
        0x0102_0304_0506_0708u64.put(&mut out);
        assert_eq!(out, [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(i32::get(&[0xff, 0xff, 0xff, 0xff]), -1);
    }

    #[test]
    fn padding_is_zero_and_round_trips() {
        let value = Padded {
            a: 0xaa,
            b: u64::MAX,
            c: 0x1234,
        };
        let image = value.to_bytes();
        assert_eq!(image.len(), 24);
        assert_eq!(image[0], 0xaa);
        assert_eq!(&image[1..8], &[0; 7], "padding after a");
        assert_eq!(&image[8..16], &[0xff; 8]);
        assert_eq!(&image[16..18], &[0x34, 0x12]);
        assert_eq!(&image[18..], &[0; 6], "trailing padding");
        assert_eq!(Padded::from_bytes(&image), value);
    }

    #[test]
    fn encode_overwrites_stale_bytes_and_checks_length() {
        let mut out = [0x55u8; 30];
        assert_eq!(Padded::default().encode(&mut out), Ok(24));
        assert_eq!(&out[..24], &[0; 24]);
        assert_eq!(&out[24..], &[0x55; 6], "bytes past the image untouched");
        let mut short = [0u8; 23];
        assert_eq!(
            Padded::default().encode(&mut short),
            Err(BufferTooSmall {
                needed: 24,
                actual: 23
            })
        );
        assert_eq!(
            Padded::decode(&short),
            Err(BufferTooSmall {
                needed: 24,
                actual: 23
            })
        );
    }

    #[test]
    fn arrays_encode_element_by_element() {
        let value: [u16; 3] = [1, 0x203, 0xffff];
        let mut out = [0u8; 6];
        value.put(&mut out);
        assert_eq!(out, [1, 0, 3, 2, 0xff, 0xff]);
        assert_eq!(<[u16; 3]>::get(&out), value);
    }
}
