//! What to boot and the exact QEMU command line that boots it.
//!
//! QEMU loads Xen as a multiboot kernel (`-kernel`), passes Xen's command
//! line (`-append`) and the multiboot modules (`-initrd`): the first module
//! is dom0's kernel, each module a path followed by its command line. Xen
//! drops the first word (the path) before handing the rest to dom0.
//!
//! Two QEMU 7.2 restrictions shape the validation here
//! (`hw/i386/multiboot.c`): modules are separated by commas, so neither a
//! module's path nor its command line may contain one; and the path ends at
//! the first space, so it may not contain a space either.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-x86_64";

/// Xen's command line before the dom0 memory size and the caller's extras.
///
/// `console=com1 com1=115200,8n1`: Xen's console on the first serial port,
/// which `-nographic` connects to QEMU's stdout. `guest_loglvl=all
/// loglvl=all`: keep every message. `smap=false`: QEMU 7.2's TCG performs
/// IRET's stack reads as supervisor accesses, so with SMAP a PV kernel
/// faults at its first return to ring 3 (DESIGN.md section 4).
/// `bootscrub=false`: QEMU's RAM is already zero; scrubbing costs seconds.
pub const XEN_BASE_CMDLINE: &str =
    "console=com1 com1=115200,8n1 guest_loglvl=all loglvl=all smap=false bootscrub=false";

/// Everything that describes one boot.
#[derive(Clone, Debug)]
pub struct BootConfig {
    /// The dom0 kernel ELF.
    pub kernel: PathBuf,
    /// The kernel's command line (without its path). The runner appends
    /// `hostclock=<unix seconds>` unless a `hostclock=` word is present.
    pub kernel_cmdline: String,
    /// Extra words for Xen's command line.
    pub xen_cmdline_extra: String,
    /// dom0's memory (`dom0_mem=<N>M,max:<N>M`).
    pub dom0_mem_mib: u32,
    /// The whole run's deadline, from QEMU's start.
    pub timeout: Duration,
    /// A console silent for this long means the run stalled.
    pub silence_timeout: Duration,
    /// Further multiboot modules after the kernel: path and command line.
    pub extra_modules: Vec<(PathBuf, String)>,
    /// The machine's memory (`-m`), in MiB.
    pub memory_mib: u32,
    /// The machine's CPUs (`-smp`); at most the host's core count.
    pub cpus: u32,
    /// Whether the runner appends `hostclock=<unix seconds>` to the kernel
    /// command line (our kernel's `wallclock-host` check uses it; a Linux
    /// dom0 has no use for it).
    pub append_hostclock: bool,
    /// Copy console lines to stderr as they arrive (default: `XENRS_ECHO=1`).
    pub echo: bool,
    /// Keystrokes typed on the serial console, in order, each once a
    /// console line containing its trigger has appeared.
    pub console_input: Vec<ConsoleInput>,
}

/// Bytes to type on the console once a line containing `after` is seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleInput {
    pub after: String,
    pub bytes: Vec<u8>,
}

impl ConsoleInput {
    pub fn new(after: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        ConsoleInput {
            after: after.into(),
            bytes: bytes.into(),
        }
    }
}

impl BootConfig {
    /// A configuration with the defaults: no command line, 64 MiB for
    /// dom0, 60 s overall, 30 s of silence, no extra modules, a machine
    /// with 1024 MiB and one CPU.
    pub fn new(kernel: impl Into<PathBuf>) -> Self {
        BootConfig {
            kernel: kernel.into(),
            kernel_cmdline: String::new(),
            xen_cmdline_extra: String::new(),
            dom0_mem_mib: 64,
            timeout: Duration::from_secs(60),
            silence_timeout: Duration::from_secs(30),
            extra_modules: Vec::new(),
            memory_mib: 1024,
            cpus: 1,
            append_hostclock: true,
            echo: crate::echo_enabled(),
            console_input: Vec::new(),
        }
    }

    /// The same configuration with another kernel command line.
    pub fn with_cmdline(mut self, kernel_cmdline: impl Into<String>) -> Self {
        self.kernel_cmdline = kernel_cmdline.into();
        self
    }

    /// Xen's full command line for this configuration.
    pub fn xen_cmdline(&self) -> String {
        let mib = self.dom0_mem_mib;
        let mut cmdline = format!("{XEN_BASE_CMDLINE} dom0_mem={mib}M,max:{mib}M");
        let extra = self.xen_cmdline_extra.trim();
        if !extra.is_empty() {
            cmdline.push(' ');
            cmdline.push_str(extra);
        }
        cmdline
    }

    /// QEMU's arguments (without the program name) to boot `xen` with this
    /// configuration, the kernel seeing `kernel_cmdline` (already including
    /// `hostclock=`; see [`effective_kernel_cmdline`]).
    pub fn qemu_args(&self, xen: &Path, kernel_cmdline: &str) -> Result<Vec<String>, Error> {
        if self.dom0_mem_mib == 0 {
            return Err(Error::InvalidConfig {
                what: "dom0 memory size",
                value: "0 MiB".to_owned(),
                reason: "dom0 needs memory",
            });
        }
        if self.memory_mib <= self.dom0_mem_mib || self.cpus == 0 {
            return Err(Error::InvalidConfig {
                what: "machine size",
                value: format!("{} MiB, {} CPUs", self.memory_mib, self.cpus),
                reason: "the machine needs at least one CPU and more memory than dom0 gets",
            });
        }
        check_cmdline("Xen command line", &self.xen_cmdline(), false)?;
        let mut modules = vec![module_string(&self.kernel, kernel_cmdline)?];
        for (path, cmdline) in &self.extra_modules {
            modules.push(module_string(path, cmdline)?);
        }
        let xen = module_path("Xen hypervisor path", xen)?;
        let memory = self.memory_mib.to_string();
        let cpus = self.cpus.to_string();
        let args = [
            "-accel",
            "tcg",
            "-cpu",
            "qemu64",
            "-m",
            &memory,
            "-smp",
            &cpus,
            "-nographic",
            "-no-reboot",
            "-kernel",
            xen,
            "-append",
            &self.xen_cmdline(),
            "-initrd",
            &modules.join(","),
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ];
        Ok(args.iter().map(|arg| (*arg).to_owned()).collect())
    }
}

/// The command line the kernel of `config` sees: its words, with
/// `hostclock=<host_unix_seconds>` appended if the configuration asks for
/// it (see [`effective_kernel_cmdline`]).
pub fn kernel_cmdline_for(config: &BootConfig, host_unix_seconds: &str) -> String {
    if config.append_hostclock {
        effective_kernel_cmdline(&config.kernel_cmdline, host_unix_seconds)
    } else {
        config
            .kernel_cmdline
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The kernel command line with `hostclock=<host_unix_seconds>` added,
/// unless the caller already gave one. Words after `--` belong to init, so
/// the option goes before them.
pub fn effective_kernel_cmdline(kernel_cmdline: &str, host_unix_seconds: &str) -> String {
    let words: Vec<&str> = kernel_cmdline.split_whitespace().collect();
    let kernel_words = words
        .iter()
        .position(|word| *word == "--")
        .unwrap_or(words.len());
    if words[..kernel_words]
        .iter()
        .any(|word| word.starts_with("hostclock="))
    {
        return words.join(" ");
    }
    let hostclock = format!("hostclock={host_unix_seconds}");
    let mut out: Vec<&str> = words[..kernel_words].to_vec();
    out.push(&hostclock);
    out.extend_from_slice(&words[kernel_words..]);
    out.join(" ")
}

/// One `-initrd` entry: `path cmdline`.
fn module_string(path: &Path, cmdline: &str) -> Result<String, Error> {
    let path = module_path("module path", path)?;
    check_cmdline("module command line", cmdline, true)?;
    let cmdline = cmdline.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(if cmdline.is_empty() {
        path.to_owned()
    } else {
        format!("{path} {cmdline}")
    })
}

/// A path QEMU's multiboot loader can take: UTF-8, no space, no comma.
fn module_path<'a>(what: &'static str, path: &'a Path) -> Result<&'a str, Error> {
    let text = path.to_str().ok_or_else(|| Error::InvalidConfig {
        what,
        value: path.to_string_lossy().into_owned(),
        reason: "QEMU needs the path as text (UTF-8)",
    })?;
    let reason = if text.is_empty() {
        Some("the path is empty")
    } else if text.contains(',') {
        Some("QEMU's -initrd separates modules with commas: move the file to a path without one")
    } else if text.contains(char::is_whitespace) {
        Some("QEMU's multiboot loader ends the path at the first space: move the file to a path without one")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidConfig {
            what,
            value: text.to_owned(),
            reason,
        }),
        None => Ok(text),
    }
}

/// Rejects command lines that QEMU cannot pass on intact.
fn check_cmdline(what: &'static str, cmdline: &str, in_initrd: bool) -> Result<(), Error> {
    let reason = if in_initrd && cmdline.contains(',') {
        Some("QEMU's -initrd separates modules with commas, so a module command line cannot contain one")
    } else if cmdline.chars().any(char::is_control) {
        Some("control characters (such as newlines) cannot be passed on a command line")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidConfig {
            what,
            value: cmdline.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Quotes `word` for a POSIX shell (unchanged if it needs no quoting).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The QEMU command line as a shell command a user can paste.
///
/// `hostclock=` is rendered as `$(date +%s)` so the pasted command gives
/// the kernel the time it is actually run, not the time it was printed.
pub fn shell_command(config: &BootConfig, xen: &Path) -> Result<String, Error> {
    const PLACEHOLDER: &str = "@HOSTCLOCK@";
    check_cmdline("module command line", &config.kernel_cmdline, true)?;
    let kernel_cmdline = kernel_cmdline_for(config, PLACEHOLDER);
    let args = config.qemu_args(xen, &kernel_cmdline)?;
    let mut words = vec![QEMU.to_owned()];
    words.extend(args.iter().map(|arg| {
        let quoted = shell_quote(arg);
        if !quoted.contains(PLACEHOLDER) {
            return quoted;
        }
        // 'path cmdline hostclock=@HOSTCLOCK@' becomes
        // 'path cmdline hostclock='"$(date +%s)"'' and the empty '' goes.
        let substituted = quoted.replace(PLACEHOLDER, r#"'"$(date +%s)"'"#);
        match substituted.strip_suffix("''") {
            Some(shorter) => shorter.to_owned(),
            None => substituted,
        }
    }));
    Ok(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BootConfig {
        BootConfig::new("/w/target/kernel/release/kernel").with_cmdline("selftest")
    }

    #[test]
    fn qemu_args_carry_xen_modules_and_the_exit_device() {
        let args = config()
            .qemu_args(Path::new("/w/xen.elf"), "selftest hostclock=5")
            .expect("valid");
        let after = |flag: &str| {
            let index = args.iter().position(|arg| arg == flag).expect(flag);
            args[index + 1].clone()
        };
        assert_eq!(after("-kernel"), "/w/xen.elf");
        assert_eq!(
            after("-append"),
            "console=com1 com1=115200,8n1 guest_loglvl=all loglvl=all smap=false \
             bootscrub=false dom0_mem=64M,max:64M"
        );
        assert_eq!(
            after("-initrd"),
            "/w/target/kernel/release/kernel selftest hostclock=5"
        );
        assert_eq!(after("-device"), "isa-debug-exit,iobase=0xf4,iosize=0x04");
        assert_eq!(after("-accel"), "tcg");
        assert_eq!(after("-cpu"), "qemu64");
        assert!(args.iter().any(|arg| arg == "-no-reboot"));
    }

    #[test]
    fn hostclock_goes_before_the_init_arguments() {
        assert_eq!(
            effective_kernel_cmdline("init=/bin/x -- a b", "5"),
            "init=/bin/x hostclock=5 -- a b"
        );
        assert_eq!(effective_kernel_cmdline("", "5"), "hostclock=5");
        assert_eq!(
            effective_kernel_cmdline("-- hostclock=1", "5"),
            "hostclock=5 -- hostclock=1"
        );
    }

    #[test]
    fn extra_modules_and_xen_options_are_appended() {
        let mut config = config();
        config.dom0_mem_mib = 32;
        config.xen_cmdline_extra = " sched=credit ".to_owned();
        config
            .extra_modules
            .push(("/w/initrd".into(), "init  x".to_owned()));
        config.extra_modules.push(("/w/disk".into(), String::new()));
        let args = config
            .qemu_args(Path::new("/w/xen.elf"), "a")
            .expect("valid");
        assert!(
            args.contains(&"/w/target/kernel/release/kernel a,/w/initrd init x,/w/disk".to_owned())
        );
        assert!(config
            .xen_cmdline()
            .ends_with("dom0_mem=32M,max:32M sched=credit"));
    }

    #[test]
    fn commas_in_module_command_lines_are_rejected() {
        let error = config()
            .qemu_args(Path::new("/w/xen.elf"), "a=1,2")
            .expect_err("comma");
        let message = error.to_string();
        assert!(message.contains("module command line"), "{message}");
        assert!(message.contains("commas"), "{message}");
        let mut config = config();
        config.extra_modules.push(("/w/m".into(), "x,y".to_owned()));
        assert!(config.qemu_args(Path::new("/w/xen.elf"), "a").is_err());
    }

    #[test]
    fn commas_and_spaces_in_paths_are_rejected() {
        for bad in ["/w/my kernel", "/w/a,b", ""] {
            let config = BootConfig::new(bad);
            let error = config
                .qemu_args(Path::new("/w/xen.elf"), "")
                .expect_err(bad);
            assert!(error.to_string().contains("module path"), "{error}");
        }
        assert!(config().qemu_args(Path::new("/w/x en"), "").is_err());
    }

    #[test]
    fn control_characters_and_zero_memory_are_rejected() {
        assert!(config().qemu_args(Path::new("/x"), "a\nb").is_err());
        let mut config = config();
        config.xen_cmdline_extra = "a\nb".to_owned();
        assert!(config.qemu_args(Path::new("/x"), "").is_err());
        config.xen_cmdline_extra.clear();
        config.dom0_mem_mib = 0;
        assert!(config.qemu_args(Path::new("/x"), "").is_err());
    }

    #[test]
    fn machine_size_and_hostclock_are_configurable() {
        let mut config = config();
        config.memory_mib = 3072;
        config.cpus = 2;
        config.dom0_mem_mib = 1024;
        config.append_hostclock = false;
        let args = config.qemu_args(Path::new("/x"), "a").expect("valid");
        assert!(args.windows(2).any(|pair| pair == ["-m", "3072"]));
        assert!(args.windows(2).any(|pair| pair == ["-smp", "2"]));
        assert_eq!(kernel_cmdline_for(&config, "17"), "selftest");
        config.append_hostclock = true;
        assert_eq!(kernel_cmdline_for(&config, "17"), "selftest hostclock=17");
        config.memory_mib = 1024;
        assert!(config.qemu_args(Path::new("/x"), "a").is_err());
        config.memory_mib = 2048;
        config.cpus = 0;
        assert!(config.qemu_args(Path::new("/x"), "a").is_err());
    }

    #[test]
    fn hostclock_is_appended_once() {
        assert_eq!(
            effective_kernel_cmdline("selftest", "17"),
            "selftest hostclock=17"
        );
        assert_eq!(effective_kernel_cmdline("", "17"), "hostclock=17");
        assert_eq!(
            effective_kernel_cmdline(" a   hostclock=3 ", "17"),
            "a hostclock=3"
        );
    }

    #[test]
    fn shell_quoting_round_trips_through_sh() {
        assert_eq!(shell_quote("plain/path-1.0,x=y"), "plain/path-1.0,x=y");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote(""), "''");
        let tricky = "it's $HOME `x`";
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(tricky)))
            .output()
            .expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&output.stdout), tricky);
    }

    #[test]
    fn shell_command_substitutes_the_clock_when_run() {
        let command = shell_command(&config(), Path::new("/w/xen.elf")).expect("valid");
        assert!(command.starts_with("qemu-system-x86_64 -accel tcg"));
        assert!(
            command.contains(
                r#"-initrd '/w/target/kernel/release/kernel selftest hostclock='"$(date +%s)" "#
            ),
            "{command}"
        );
        // The substitution really produces a number when a shell runs it.
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf '%s\\n' {}",
                command.replace("qemu-system-x86_64 ", "")
            ))
            .output()
            .expect("sh runs");
        let printed = String::from_utf8_lossy(&output.stdout);
        let initrd = printed
            .lines()
            .find(|line| line.contains("hostclock="))
            .expect("initrd argument");
        let seconds = initrd.rsplit('=').next().expect("value");
        assert!(seconds.parse::<u64>().is_ok(), "{initrd}");
    }
}
