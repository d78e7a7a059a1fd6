//! Console output: formatted text to Xen's console, and the `log` backend.
//!
//! As dom0 the console is Xen's own (`console_io` hypercall, CONSOLEIO_write);
//! the serial line shows it unprefixed. As a domU it is the PV console ring
//! from start_info (`io/console.h`), drained by xenconsoled into `xl
//! console` and its log; until that ring is attached (and on the crash
//! path) output goes to `console_io`, which lands in Xen's log. Output is
//! gathered per call into a small buffer so one line costs one hypercall
//! or one notification, not one per fragment.
//!
//! Flow control: when the ring is full the kernel notifies xenconsoled and
//! sleeps on the console event channel until it has consumed something;
//! nothing is dropped unless the consumer makes no progress for
//! [`STALL_TIMEOUT_NS`], and then the loss is counted.

use core::fmt::{self, Write};

use spin::Mutex;

use xen_abi::EventChannelPort;
use xen_io::console::ConsoleRing;

use crate::xen::hypercall;
use crate::xen::shared_page::MappedPage;

const BUFFER_BYTES: usize = 512;

/// How long a full ring may make no progress before output is dropped.
pub const STALL_TIMEOUT_NS: u64 = 10_000_000_000;

/// The domU console ring and its event channel, once attached.
struct RingSink {
    ring: ConsoleRing<MappedPage>,
    port: EventChannelPort,
    dropped_bytes: u64,
}

static RING: Mutex<Option<RingSink>> = Mutex::new(None);

/// Sends console output to the PV console ring from now on.
pub fn attach_ring(
    page: MappedPage,
    port: EventChannelPort,
) -> Result<(), crate::events::EventError> {
    crate::events::bind(port)?;
    *RING.lock() = Some(RingSink {
        ring: ConsoleRing::new(page),
        port,
        dropped_bytes: 0,
    });
    Ok(())
}

/// True once output goes to the PV console ring.
pub fn ring_attached() -> bool {
    RING.lock().is_some()
}

/// Reads console input (keyboard bytes from `xl console`), if any.
pub fn read_input(out: &mut [u8]) -> usize {
    let mut guard = RING.lock();
    let Some(sink) = guard.as_mut() else {
        return 0;
    };
    match sink.ring.read(out) {
        Ok(count) => {
            if count > 0 {
                let _ = hypercall::notify(sink.port);
            }
            count
        }
        Err(error) => {
            log::warn!("console: input ring: {error}");
            0
        }
    }
}

/// Bytes dropped because the console consumer stalled.
pub fn dropped_bytes() -> u64 {
    RING.lock().as_ref().map_or(0, |sink| sink.dropped_bytes)
}

/// Writes all of `bytes` to the ring, waiting for room. Returns false if
/// there is no usable ring (the caller falls back to console_io).
/// Writes `bytes` to the PV console ring with each LF sent as CR LF: the
/// ring reaches `xl console` raw, and a terminal needs the CR that a
/// Linux guest's tty adds (ONLCR). Translated through a small stack buffer
/// (the console path must not allocate).
fn write_ring(bytes: &[u8], may_block: bool) -> bool {
    let mut chunk = [0u8; 256];
    let mut len = 0;
    for &byte in bytes {
        if len + 2 > chunk.len() {
            if !write_ring_raw(&chunk[..len], may_block) {
                return false;
            }
            len = 0;
        }
        if byte == b'\n' {
            chunk[len] = b'\r';
            len += 1;
        }
        chunk[len] = byte;
        len += 1;
    }
    len == 0 || write_ring_raw(&chunk[..len], may_block)
}

fn write_ring_raw(bytes: &[u8], may_block: bool) -> bool {
    let Some(mut guard) = RING.try_lock() else {
        return false;
    };
    let Some(sink) = guard.as_mut() else {
        return false;
    };
    let mut written = 0;
    let mut stalled_since = None;
    while written < bytes.len() {
        match sink.ring.write(&bytes[written..]) {
            Ok(0) => {
                let _ = hypercall::notify(sink.port);
                let now = crate::time::system_time_ns();
                let since = *stalled_since.get_or_insert(now);
                if !may_block || now.saturating_sub(since) > STALL_TIMEOUT_NS {
                    sink.dropped_bytes += (bytes.len() - written) as u64;
                    return true;
                }
                let deadline = now + 10_000_000;
                let timer = crate::time::add_timer(deadline, crate::time::TimerAction::Wake);
                while !crate::events::take_fired(sink.port)
                    && crate::time::system_time_ns() < deadline
                {
                    crate::events::block();
                }
                if let Some(timer) = timer {
                    crate::time::cancel_timer(timer);
                }
            }
            Ok(count) => {
                written += count;
                stalled_since = None;
            }
            Err(error) => {
                // Corrupt indices from the peer: stop trusting the ring.
                // (No log! here: we are inside the console lock.)
                let _ = error;
                *guard = None;
                let _ = hypercall::console_write(
                    b"console: ring indices corrupt; ring detached, using the hypervisor log\n",
                );
                return false;
            }
        }
    }
    let _ = hypercall::notify(sink.port);
    true
}

struct ConsoleBuffer {
    bytes: [u8; BUFFER_BYTES],
    len: usize,
}

impl ConsoleBuffer {
    fn flush(&mut self) {
        if write_ring(&self.bytes[..self.len], true) {
            self.len = 0;
            return;
        }
        self.flush_hypervisor();
    }

    fn flush_hypervisor(&mut self) {
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
    let mut console = CONSOLE.lock();
    let _ = console.write_fmt(args);
    // Both sinks, without blocking: the crash report must get out even if
    // the ring's consumer is gone, and Xen's log keeps it after we die.
    let _ = write_ring(&console.bytes[..console.len], false);
    console.flush_hypervisor();
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
