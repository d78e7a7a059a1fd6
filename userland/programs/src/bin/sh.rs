//! `sh`: a small shell.
//!
//! Runs command lines with arguments, quotes, `|` pipes, `<` `>` `>>`
//! `2>&1` redirections, `;` `&&` `||` lists and `$?` `$$` `$0`..`$9` `$#`
//! `$NAME` expansions (the language is parsed by `userland_core::shell`).
//! Builtins: `cd`, `exit`, `echo`, `pwd`, `true`, `false`, `:`. Other
//! commands run by path or from `PATH` (default `/bin`); a file the kernel
//! refuses with `ENOEXEC` runs as a shell script.
//!
//! Modes: `sh -c 'commands' [name args...]`, `sh file [args...]`, and
//! standard input (with a `$ ` prompt when it is a terminal or `-i`).
//!
//! Signals: the shell ignores SIGINT and SIGQUIT, and its children restore
//! the default before `execve`. Without job control every process of the
//! session is in one process group, so Ctrl-C at the terminal (SIGINT to
//! the foreground group) ends the running command but never the shell,
//! which goes on with the next command with `$?` = 130.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use linux_abi::wait::WaitStatus;
use userland_core::abi::{shell_status, OpenFlags};
use userland_core::cli::{parse_shell, ShellInput};
use userland_core::echo::echo;
use userland_core::shell::{
    command_candidates, expand, parse, Command, Context, Pipeline, RedirectionKind, Script,
};
use userland_core::strerror;
use userland_core::{Errno, Signal};
use userland_rt::io::FdWriter;
use userland_rt::sys::{self, Disposition, ExecRequest, ForkResult};
use userland_rt::{eprintln, read_file, Args, Env, Fd};

userland_rt::entry!(main);

/// `PATH` when the environment has none.
const DEFAULT_PATH: &str = "/bin";

/// A redirection with its file name expanded.
enum Redirect {
    Open {
        fd: i32,
        path: String,
        flags: OpenFlags,
    },
    Duplicate {
        fd: i32,
        from: i32,
    },
}

/// A command with its words expanded, ready to run.
struct Prepared {
    argv: Vec<String>,
    redirects: Vec<Redirect>,
}

struct Shell {
    status: i32,
    pid: i32,
    /// `$0`, `$1`, ...
    positional: Vec<String>,
    /// `NAME=value` entries passed to every command.
    environment: Vec<Vec<u8>>,
    /// Set by the `exit` builtin: stop and exit with this status.
    exit_requested: Option<i32>,
    /// The name used in error messages (`sh`).
    name: &'static str,
}

impl Context for Shell {
    fn status(&self) -> i32 {
        self.status
    }
    fn pid(&self) -> i32 {
        self.pid
    }
    fn positional(&self, index: u8) -> Option<&str> {
        self.positional.get(usize::from(index)).map(String::as_str)
    }
    fn argument_count(&self) -> usize {
        self.positional.len().saturating_sub(1)
    }
    fn variable(&self, name: &str) -> Option<&str> {
        self.environment.iter().find_map(|entry| {
            let value = entry.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
            core::str::from_utf8(value).ok()
        })
    }
}

impl Shell {
    fn set_variable(&mut self, name: &str, value: &[u8]) {
        let mut entry = Vec::from(name.as_bytes());
        entry.push(b'=');
        entry.extend_from_slice(value);
        let existing = self.environment.iter_mut().find(|current| {
            current.starts_with(name.as_bytes()) && current.get(name.len()) == Some(&b'=')
        });
        match existing {
            Some(current) => *current = entry,
            None => self.environment.push(entry),
        }
    }

    /// Parses and runs `text`; reports syntax errors (status 2).
    fn run_text(&mut self, text: &str) {
        match parse(text) {
            Ok(script) => self.run_script(&script),
            Err(error) => {
                eprintln!("{}: {error}", self.name);
                self.status = 2;
            }
        }
    }

    fn run_script(&mut self, script: &Script) {
        for (condition, pipeline) in &script.items {
            if self.exit_requested.is_some() {
                return;
            }
            if condition.holds(self.status) {
                self.status = self.run_pipeline(pipeline);
            }
        }
    }

    /// Expands a command's words and redirection targets (in the shell,
    /// so `$?` is the status before the pipeline).
    fn prepare(&self, command: &Command) -> Result<Prepared, String> {
        let argv = command
            .words
            .iter()
            .filter_map(|word| expand(word, self))
            .collect();
        let mut redirects = Vec::new();
        for redirection in &command.redirections {
            let fd = redirection.fd;
            let (word, flags) = match &redirection.kind {
                RedirectionKind::Duplicate(from) => {
                    redirects.push(Redirect::Duplicate { fd, from: *from });
                    continue;
                }
                RedirectionKind::Input(word) => (word, OpenFlags::READ_ONLY),
                RedirectionKind::Output(word) => (
                    word,
                    OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::TRUNCATE,
                ),
                RedirectionKind::Append(word) => (
                    word,
                    OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::APPEND,
                ),
            };
            let path = expand(word, self).ok_or_else(|| String::from("ambiguous redirect"))?;
            redirects.push(Redirect::Open { fd, path, flags });
        }
        Ok(Prepared { argv, redirects })
    }

    fn run_pipeline(&mut self, pipeline: &Pipeline) -> i32 {
        let mut prepared = Vec::with_capacity(pipeline.commands.len());
        for command in &pipeline.commands {
            match self.prepare(command) {
                Ok(command) => prepared.push(command),
                Err(message) => {
                    eprintln!("{}: {message}", self.name);
                    return 1;
                }
            }
        }
        // A lone builtin without redirections runs in the shell itself
        // (cd and exit must; the others save a fork).
        if let [only] = prepared.as_slice() {
            let name = only.argv.first().map(String::as_str);
            let in_shell = matches!(name, Some("cd" | "exit"))
                || (only.redirects.is_empty() && name.is_some_and(is_builtin));
            if in_shell {
                return self.run_builtin(&only.argv);
            }
        }
        self.run_processes(&prepared)
    }

    /// Forks one process per command, connected by pipes; waits for all
    /// and returns the last one's status.
    fn run_processes(&mut self, commands: &[Prepared]) -> i32 {
        let mut children = Vec::with_capacity(commands.len());
        let mut previous_read: Option<Fd> = None;
        let mut failed = false;
        for (index, command) in commands.iter().enumerate() {
            let pipe = if index + 1 < commands.len() {
                match sys::pipe2(OpenFlags::default()) {
                    Ok(pipe) => Some(pipe),
                    Err(error) => {
                        eprintln!("{}: pipe: {}", self.name, strerror(error));
                        failed = true;
                        break;
                    }
                }
            } else {
                None
            };
            match sys::fork() {
                Ok(ForkResult::Child) => {
                    restore_default_signals();
                    if let Some(read) = previous_read {
                        move_fd(read, Fd::STDIN);
                    }
                    if let Some((read, write)) = pipe {
                        let _ = sys::close(read);
                        move_fd(write, Fd::STDOUT);
                    }
                    let status = self.run_in_child(command);
                    sys::exit(status);
                }
                Ok(ForkResult::Parent(pid)) => children.push(pid),
                Err(error) => {
                    eprintln!("{}: fork: {}", self.name, strerror(error));
                    failed = true;
                }
            }
            if let Some(read) = previous_read.take() {
                let _ = sys::close(read);
            }
            if let Some((read, write)) = pipe {
                let _ = sys::close(write);
                previous_read = Some(read);
            }
            if failed {
                break;
            }
        }
        if let Some(read) = previous_read {
            let _ = sys::close(read);
        }
        let mut status = if failed { 1 } else { 0 };
        let last = children.len().checked_sub(1);
        for (index, pid) in children.into_iter().enumerate() {
            match sys::wait_for(pid) {
                Ok(wait_status) => {
                    if Some(index) == last && !failed {
                        status = shell_status(wait_status);
                        self.report(wait_status);
                    }
                }
                Err(error) => {
                    eprintln!("{}: wait: {}", self.name, strerror(error));
                    status = 1;
                }
            }
        }
        status
    }

    /// Says how a job ended if a signal ended it (bash's wording).
    fn report(&self, status: WaitStatus) {
        if let WaitStatus::Signaled {
            signal,
            core_dumped,
        } = status
        {
            let signal = Signal(i32::from(signal));
            if signal == Signal::INT {
                // The terminal already showed ^C; end that line.
                eprintln!();
            } else if signal != Signal::PIPE {
                let text = signal.description().unwrap_or("Killed by a signal");
                let core = if core_dumped { " (core dumped)" } else { "" };
                eprintln!("{text}{core}");
            }
        }
    }

    /// In a forked child: redirections, then the builtin or program.
    /// Returns the status to exit with if no program replaced us.
    fn run_in_child(&mut self, command: &Prepared) -> i32 {
        for redirect in &command.redirects {
            match *redirect {
                Redirect::Open {
                    fd,
                    ref path,
                    flags,
                } => match sys::open(path, flags, 0o666) {
                    Ok(opened) => move_fd(opened, Fd(fd)),
                    Err(error) => {
                        eprintln!("{}: {path}: {}", self.name, strerror(error));
                        return 1;
                    }
                },
                Redirect::Duplicate { fd, from } => {
                    if let Err(error) = sys::dup2(Fd(from), Fd(fd)) {
                        eprintln!("{}: {from}: {}", self.name, strerror(error));
                        return 1;
                    }
                }
            }
        }
        let Some(name) = command.argv.first() else {
            return 0;
        };
        if is_builtin(name) || name == "cd" || name == "exit" {
            return self.run_builtin(&command.argv);
        }
        self.exec(&command.argv)
    }

    /// Replaces the process with program `argv[0]`; returns 126/127 with a
    /// message if it cannot.
    fn exec(&mut self, argv: &[String]) -> i32 {
        let name = argv[0].as_str();
        let path = self.variable("PATH").unwrap_or(DEFAULT_PATH);
        let argv_bytes: Vec<&[u8]> = argv.iter().map(String::as_bytes).collect();
        let envp: Vec<&[u8]> = self.environment.iter().map(Vec::as_slice).collect();
        let mut error = Errno::ENOENT;
        let mut script = None;
        for candidate in command_candidates(name, path) {
            let failure = match ExecRequest::new(candidate.as_bytes(), &argv_bytes, &envp) {
                Ok(request) => request.exec(),
                Err(failure) => failure,
            };
            match failure {
                Errno::ENOENT | Errno::ENOTDIR => {}
                Errno::ENOEXEC => {
                    script = Some(candidate);
                    break;
                }
                // Found but not runnable: remember, keep looking (as bash).
                other => error = other,
            }
        }
        if let Some(file) = script {
            // Not a binary the kernel runs: treat it as a shell script.
            self.positional = argv.to_vec();
            return self.run_file(&file);
        }
        if error == Errno::ENOENT {
            eprintln!("{}: {name}: not found", self.name);
            127
        } else {
            eprintln!("{}: {name}: {}", self.name, strerror(error));
            126
        }
    }

    /// Runs the script in `path`; returns its status.
    fn run_file(&mut self, path: &str) -> i32 {
        match read_file(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                self.run_text(&text);
                self.exit_requested.unwrap_or(self.status)
            }
            Err(error) => {
                eprintln!("{}: {path}: {}", self.name, strerror(error));
                127
            }
        }
    }

    fn run_builtin(&mut self, argv: &[String]) -> i32 {
        let name = argv[0].as_str();
        let args = &argv[1..];
        match name {
            "cd" => {
                let target = match args.first() {
                    Some(target) => target.as_str(),
                    None => self.variable("HOME").unwrap_or("/"),
                };
                let target = String::from(target);
                match sys::chdir(&target) {
                    Ok(()) => {
                        let mut buffer = [0u8; 4096];
                        if let Ok(cwd) = sys::getcwd(&mut buffer) {
                            let cwd = Vec::from(cwd);
                            self.set_variable("PWD", &cwd);
                        }
                        0
                    }
                    Err(error) => {
                        eprintln!("{}: cd: {target}: {}", self.name, strerror(error));
                        1
                    }
                }
            }
            "exit" => {
                let status = match args.first() {
                    None => self.status,
                    Some(text) => match text.parse::<i32>() {
                        Ok(status) => status & 0xff,
                        Err(_) => {
                            eprintln!("{}: exit: {text}: numeric argument required", self.name);
                            2
                        }
                    },
                };
                self.exit_requested = Some(status);
                status
            }
            "echo" => {
                let output = echo(args.iter().map(String::as_bytes));
                match sys::write_all(Fd::STDOUT, &output) {
                    Ok(()) => 0,
                    Err(error) => {
                        eprintln!("{}: echo: write error: {}", self.name, strerror(error));
                        1
                    }
                }
            }
            "pwd" => {
                let mut buffer = [0u8; 4096];
                match sys::getcwd(&mut buffer) {
                    Ok(cwd) => {
                        let mut writer = FdWriter::new(Fd::STDOUT);
                        writer.write_bytes(cwd);
                        writer.write_bytes(b"\n");
                        i32::from(writer.flush().is_err())
                    }
                    Err(error) => {
                        eprintln!("{}: pwd: {}", self.name, strerror(error));
                        1
                    }
                }
            }
            "false" => 1,
            // true, :
            _ => 0,
        }
    }
}

/// Builtins that may also run in a child (with redirections or in a
/// pipeline); `cd` and `exit` only make sense in the shell itself.
fn is_builtin(name: &str) -> bool {
    matches!(name, "echo" | "pwd" | "true" | "false" | ":")
}

/// Makes `to` refer to what `from` does and closes `from`.
fn move_fd(from: Fd, to: Fd) {
    if from != to {
        // In a child about to exec: a failure shows up as the command's
        // own I/O error, there is nobody else to tell.
        let _ = sys::dup2(from, to);
        let _ = sys::close(from);
    }
}

/// In a child: the signals the shell ignores get their default back.
fn restore_default_signals() {
    for signal in [Signal::INT, Signal::QUIT] {
        let _ = sys::set_signal_disposition(signal, Disposition::Default);
    }
}

/// Reads standard input line by line.
struct LineReader {
    pending: Vec<u8>,
    at_end: bool,
}

impl LineReader {
    /// The next line without its newline; `None` at the end of input.
    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(newline) = self.pending.iter().position(|&byte| byte == b'\n') {
                let rest = self.pending.split_off(newline + 1);
                let mut line = core::mem::replace(&mut self.pending, rest);
                line.pop();
                return Some(line);
            }
            if self.at_end {
                return (!self.pending.is_empty()).then(|| core::mem::take(&mut self.pending));
            }
            let mut chunk = [0u8; 1024];
            match sys::read(Fd::STDIN, &mut chunk) {
                Ok(0) => self.at_end = true,
                Ok(count) => self.pending.extend_from_slice(&chunk[..count]),
                Err(Errno::EINTR) => {}
                Err(_) => self.at_end = true,
            }
        }
    }
}

fn main(args: Args, env: Env) -> i32 {
    let name = "sh";
    let options = match args.operands() {
        Ok(operands) => match parse_shell(args.program_name(), operands) {
            Ok(options) => options,
            Err(error) => {
                eprintln!("{name}: {error}");
                eprintln!("Usage: sh [-i] [-c command [name [args...]] | file [args...]]");
                return 2;
            }
        },
        Err(_) => {
            eprintln!("{name}: arguments must be UTF-8");
            return 2;
        }
    };
    for signal in [Signal::INT, Signal::QUIT] {
        let _ = sys::set_signal_disposition(signal, Disposition::Ignore);
    }
    let mut shell = Shell {
        status: 0,
        pid: sys::getpid(),
        positional: options.positional,
        environment: env.iter().map(Vec::from).collect(),
        exit_requested: None,
        name,
    };
    match options.input {
        ShellInput::Command(text) => {
            shell.run_text(&text);
        }
        ShellInput::File(path) => {
            let status = shell.run_file(&path);
            return shell.exit_requested.unwrap_or(status);
        }
        ShellInput::Stdin => {
            let interactive = options.force_interactive || sys::isatty(Fd::STDIN);
            let mut reader = LineReader {
                pending: Vec::new(),
                at_end: false,
            };
            loop {
                if interactive {
                    let mut prompt = FdWriter::new(Fd::STDERR);
                    let _ = write!(prompt, "$ ");
                    let _ = prompt.flush();
                }
                let Some(line) = reader.next_line() else {
                    if interactive {
                        eprintln!();
                    }
                    break;
                };
                shell.run_text(&String::from_utf8_lossy(&line));
                if shell.exit_requested.is_some() {
                    break;
                }
            }
        }
    }
    shell.exit_requested.unwrap_or(shell.status)
}
