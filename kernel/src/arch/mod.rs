//! Architecture-specific code; x86_64 is the only architecture.

pub mod x86_64;
