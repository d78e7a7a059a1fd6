//! Console output: formatted text to Xen's console, and the `log` backend.
//!
//! As dom0 the console is Xen's own (`console_io` hypercall, CONSOLEIO_write);
//! the serial line shows it unprefixed. Output is gathered per call into a
//! small buffer so one line costs one hypercall, not one per fragment.

use core::fmt::{self, Write};

use spin::Mutex;

use crate::xen::hypercall;

const BUFFER_BYTES: usize = 512;

struct ConsoleBuffer {
    bytes: [u8; BUFFER_BYTES],
    len: usize,
}

impl ConsoleBuffer {
    fn flush(&mut self) {
        let mut written = 0;
        while written < self.len {
            match hypercall::console_write(&self.bytes[written..self.len]) {
                Ok(0) | Err(_) => break,
                Ok(count) => written += count as usize,
            }
        }
        self.len = 0;
    }
}

impl Write for ConsoleBuffer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            if self.len == BUFFER_BYTES {
                self.flush();
            }
            self.bytes[self.len] = byte;
            self.len += 1;
        }
        Ok(())
    }
}

static CONSOLE: Mutex<ConsoleBuffer> = Mutex::new(ConsoleBuffer {
    bytes: [0; BUFFER_BYTES],
    len: 0,
});

/// Prints formatted text. Used through [`kprint!`] and [`kprintln!`].
pub fn print(args: fmt::Arguments<'_>) {
    let mut console = CONSOLE.lock();
    let _ = console.write_fmt(args);
    console.flush();
}

/// Prints even if the console lock is held, for the crash path: the
/// kernel runs on one VCPU, so a held lock means we crashed inside
/// `print` and nobody else will touch the buffer again.
pub fn print_emergency(args: fmt::Arguments<'_>) {
    if CONSOLE.is_locked() {
        // SAFETY: one VCPU and events masked in the kernel: the holder is
        // the code we interrupted by crashing, which never resumes.
        unsafe { CONSOLE.force_unlock() };
    }
    print(args);
}

/// Prints to the console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::xen::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => { $crate::xen::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// The `log` crate backend: `<level>: <module>: <message>`.
struct ConsoleLogger;

impl log::Log for ConsoleLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            let module = record
                .target()
                .strip_prefix("kernel::")
                .unwrap_or(record.target());
            print(format_args!("{level}: {module}: {}\n", record.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: ConsoleLogger = ConsoleLogger;

/// Installs the console as the `log` backend.
pub fn init_logging(level: kernel_core::cmdline::LogLevel) {
    use kernel_core::cmdline::LogLevel;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(match level {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    });
}
