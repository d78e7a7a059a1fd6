//! Booting Xen and the kernel in QEMU and watching the console.
//!
//! [`boot`] starts QEMU with stdin closed and the serial console on a pipe,
//! reads the console in a thread (each line stamped with the host's clock
//! when it was read), and stops at the first of: QEMU exiting, a final Xen
//! marker (dom0 crashed, dom0 halted, Xen panicked: Xen would only wait or
//! spin afterwards), the overall deadline, or a silent console. QEMU never
//! outlives the run: it is killed on every path out of [`boot`], including
//! panics (a drop guard), and, where util-linux's `setpriv` exists, is
//! started with a parent-death signal so it dies even if the runner is
//! killed outright.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::console::{ConsoleLine, LineAssembler};
use crate::error::Error;
use crate::host::{ensure_host_packages, xen_hypervisor};
use crate::outcome::{classify, is_final_marker, Outcome, StopReason};
use crate::qemu::{kernel_cmdline_for, shell_quote, BootConfig, QEMU};

/// Where util-linux's `setpriv` lives on Debian.
const SETPRIV: &str = "/usr/bin/setpriv";

/// How long to wait for QEMU's last output and exit once it is ending.
const DRAIN_PATIENCE: Duration = Duration::from_secs(5);

/// A finished boot: its whole console log and how it ended.
#[derive(Clone)]
pub struct BootRun {
    /// Every console line, in order, with the host time it was read.
    pub lines: Vec<ConsoleLine>,
    /// How the run ended.
    pub outcome: Outcome,
    /// Why the runner stopped watching.
    pub stop: StopReason,
    /// QEMU's exit code if it exited by itself (`None` if we killed it).
    pub qemu_status: Option<i32>,
    /// Wall time from QEMU's start to its end.
    pub elapsed: Duration,
    /// The host's clock when QEMU was started.
    pub started_at: SystemTime,
    /// The command line the kernel was given (with `hostclock=` if the
    /// configuration asked for it).
    pub kernel_cmdline: String,
    /// The QEMU command as run, quoted for a shell.
    pub command: String,
    /// What QEMU printed on stderr (its own warnings and errors).
    pub qemu_stderr: String,
}

impl BootRun {
    /// Whether the kernel finished and shut down cleanly.
    pub fn is_success(&self) -> bool {
        self.outcome.is_success()
    }

    /// The whole console log as text, one line per console line.
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&line.text);
            text.push('\n');
        }
        text
    }

    /// The first line starting with `prefix`.
    pub fn find(&self, prefix: &str) -> Option<&ConsoleLine> {
        self.lines.iter().find(|line| line.text.starts_with(prefix))
    }

    /// The index of the first line starting with `prefix`.
    pub fn position(&self, prefix: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|line| line.text.starts_with(prefix))
    }

    /// Every line starting with `prefix`, in order.
    pub fn lines_with_prefix(&self, prefix: &str) -> Vec<&ConsoleLine> {
        self.lines
            .iter()
            .filter(|line| line.text.starts_with(prefix))
            .collect()
    }
}

impl fmt::Display for BootRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "boot {} after {:.3} s",
            self.outcome,
            self.elapsed.as_secs_f64()
        )?;
        match (self.stop, self.qemu_status) {
            (StopReason::QemuExited, Some(code)) => writeln!(f, " (QEMU exit status {code})")?,
            (StopReason::QemuExited, None) => writeln!(f, " (QEMU killed by a signal)")?,
            (StopReason::Marker, _) => writeln!(f, " (QEMU killed after Xen's final message)")?,
            (StopReason::Deadline, _) => writeln!(f, " (QEMU killed at the deadline)")?,
            (StopReason::Silence, _) => writeln!(f, " (QEMU killed: console silent)")?,
        }
        writeln!(f, "kernel command line: {}", self.kernel_cmdline)?;
        writeln!(f, "QEMU command: {}", self.command)?;
        if !self.qemu_stderr.trim().is_empty() {
            writeln!(f, "QEMU stderr:\n{}", self.qemu_stderr.trim_end())?;
        }
        writeln!(f, "---- console log ({} lines) ----", self.lines.len())?;
        for line in &self.lines {
            let offset = line
                .at
                .duration_since(self.started_at)
                .unwrap_or(Duration::ZERO);
            writeln!(f, "[{:7.3}] {}", offset.as_secs_f64(), line.text)?;
        }
        write!(f, "---- end of console log ----")
    }
}

/// Debug shows the whole log too, so `{:?}` in a failing assertion is useful.
impl fmt::Debug for BootRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Boots Xen with the kernel as dom0 and returns the run's log and outcome.
///
/// Installs the host packages and fetches Xen first if needed (both cached
/// per process). An `Err` means the boot could not be attempted (bad
/// configuration, QEMU missing); a boot that goes wrong is an `Ok` whose
/// [`BootRun::outcome`] says how.
pub fn boot(config: &BootConfig) -> Result<BootRun, Error> {
    ensure_host_packages()?;
    let xen = xen_hypervisor()?;
    if !config.kernel.is_file() {
        return Err(Error::MissingOutput {
            what: "the kernel ELF to boot",
            path: config.kernel.clone(),
        });
    }
    let started_at = SystemTime::now();
    let host_seconds = started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let kernel_cmdline = kernel_cmdline_for(config, &host_seconds.to_string());
    let args = config.qemu_args(&xen, &kernel_cmdline)?;
    let command = std::iter::once(QEMU)
        .chain(args.iter().map(String::as_str))
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ");

    let mut launcher = if Path::new(SETPRIV).is_file() {
        // setpriv sets PR_SET_PDEATHSIG and then execs QEMU, so the child
        // we hold *is* QEMU and dies with this thread.
        let mut setpriv = Command::new(SETPRIV);
        setpriv.args(["--pdeathsig", "KILL", "--", QEMU]);
        setpriv
    } else {
        Command::new(QEMU)
    };
    launcher
        .args(&args)
        .stdin(if config.console_input.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let child = launcher
        .spawn()
        .map_err(|error| Error::io(format!("starting {QEMU}"), error))?;
    let mut qemu = QemuGuard::new(child);

    let stdout = qemu
        .child
        .stdout
        .take()
        .expect("stdout was configured as piped");
    let stderr = qemu
        .child
        .stderr
        .take()
        .expect("stderr was configured as piped");
    let (sender, receiver) = mpsc::channel();
    let reader = thread::spawn(move || read_console(stdout, &sender));
    let stderr_reader = thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut stderr = stderr;
        // A read error just ends what we keep of QEMU's stderr.
        let _ignored = stderr.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });

    let mut lines = Vec::new();
    let stdin = qemu.child.stdin.take();
    let stop = watch(config, start, &receiver, &mut lines, stdin);
    if stop != StopReason::QemuExited {
        qemu.kill();
    }
    // Collect what QEMU wrote before it ended.
    let drain_deadline = Instant::now() + DRAIN_PATIENCE;
    loop {
        let left = drain_deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(ConsoleEvent::Line(line)) => {
                if config.echo {
                    eprintln!("{}", line.text);
                }
                lines.push(line);
            }
            Ok(ConsoleEvent::Activity) => {}
            Err(_) => break,
        }
    }
    let status = qemu.wait(DRAIN_PATIENCE);
    let elapsed = start.elapsed();
    // The reader ends at EOF, which QEMU's exit guarantees.
    let _ignored = reader.join();
    let qemu_stderr = stderr_reader.join().unwrap_or_default();

    let qemu_status = match stop {
        StopReason::QemuExited => status.and_then(|status| status.code()),
        _ => None,
    };
    let outcome = classify(
        lines.iter().map(|line| line.text.as_str()),
        stop,
        qemu_status,
    );
    Ok(BootRun {
        lines,
        outcome,
        stop,
        qemu_status,
        elapsed,
        started_at,
        kernel_cmdline,
        command,
        qemu_stderr,
    })
}

/// What the console reader thread reports.
enum ConsoleEvent {
    /// A complete line.
    Line(ConsoleLine),
    /// Bytes arrived that did not complete a line (still output, for the
    /// silence watchdog).
    Activity,
}

/// Reads QEMU's stdout until EOF, sending lines as they complete.
fn read_console(mut stdout: impl Read, sender: &Sender<ConsoleEvent>) {
    let mut assembler = LineAssembler::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let count = match stdout.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => count,
        };
        let at = SystemTime::now();
        let lines = assembler.push(&buffer[..count]);
        let completed_any = !lines.is_empty();
        for text in lines {
            if sender
                .send(ConsoleEvent::Line(ConsoleLine { at, text }))
                .is_err()
            {
                return;
            }
        }
        if !completed_any && sender.send(ConsoleEvent::Activity).is_err() {
            return;
        }
    }
    if let Some(text) = assembler.finish() {
        let at = SystemTime::now();
        // The receiver may be gone already; then nobody wants the line.
        let _ignored = sender.send(ConsoleEvent::Line(ConsoleLine { at, text }));
    }
}

/// Watches the console until QEMU exits, a final marker, the deadline or
/// the silence timeout; returns which.
fn watch(
    config: &BootConfig,
    start: Instant,
    receiver: &Receiver<ConsoleEvent>,
    lines: &mut Vec<ConsoleLine>,
    mut stdin: Option<std::process::ChildStdin>,
) -> StopReason {
    use std::io::Write;
    let deadline = start + config.timeout;
    let mut typed = 0;
    let mut last_output = start;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return StopReason::Deadline;
        }
        let silence_end = last_output + config.silence_timeout;
        if now >= silence_end {
            return StopReason::Silence;
        }
        match receiver.recv_timeout(deadline.min(silence_end) - now) {
            Ok(ConsoleEvent::Line(line)) => {
                last_output = Instant::now();
                if config.echo {
                    eprintln!("{}", line.text);
                }
                let final_marker = is_final_marker(&line.text);
                // Type what waits for this line (and anything after it
                // that waits for the same line).
                while let Some(input) = config.console_input.get(typed) {
                    if !line.text.contains(&input.after) {
                        break;
                    }
                    if let Some(stdin) = stdin.as_mut() {
                        // A closed stdin means QEMU is ending: nothing to type into.
                        let _ignored = stdin.write_all(&input.bytes).and_then(|()| stdin.flush());
                    }
                    typed += 1;
                }
                lines.push(line);
                if final_marker {
                    return StopReason::Marker;
                }
            }
            Ok(ConsoleEvent::Activity) => last_output = Instant::now(),
            // The reader ends at EOF: QEMU closed its stdout by exiting.
            Err(RecvTimeoutError::Disconnected) => return StopReason::QemuExited,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// Owns the QEMU process: kills and reaps it unless it was reaped already.
struct QemuGuard {
    child: Child,
    reaped: bool,
}

impl QemuGuard {
    fn new(child: Child) -> Self {
        QemuGuard {
            child,
            reaped: false,
        }
    }

    fn kill(&mut self) {
        // Fails only if it already exited, which is what we want.
        let _ignored = self.child.kill();
    }

    /// Waits up to `patience` for QEMU to exit, then kills it; reaps it.
    fn wait(&mut self, patience: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + patience;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.reaped = true;
                    return Some(status);
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) | Err(_) => {
                    self.kill();
                    let status = self.child.wait().ok();
                    self.reaped = true;
                    return status;
                }
            }
        }
    }
}

impl Drop for QemuGuard {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            // Reap it so no zombie stays behind; its status is of no use.
            let _ignored = self.child.wait();
        }
    }
}
