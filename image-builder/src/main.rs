//! `image-builder`: build, boot, benchmark and test the kernel from one tool.
//!
//! ```text
//! image-builder build [--debug]                 build the kernel, print its path
//! image-builder run [--debug] [--timeout S] [--initrd] [--interactive] [WORD...]
//!                                              boot it (default: self-checks, then
//!                                              the userland demo from the initrd)
//! image-builder bench [--debug]                boot with `bench`, summarize results
//! image-builder bench-domu [--debug]           our kernel and Linux as domUs of a Linux dom0
//! image-builder bench-userland [--debug] [quick] [whole]
//!                                              xenrs-bench in our domU and a Linux domU, xentrace
//! image-builder linux-dom0                     build (or find) the Linux dom0 image
//! image-builder linux-dom0-run SCRIPT [NAME=PATH...]
//!                                              run a shell script in the Linux dom0
//! image-builder test                           every check: fmt, clippy, build, tests
//! image-builder qemu-cmdline [--debug] [WORD...]
//!                                              print the QEMU command line to boot by hand
//! image-builder xen-cmdline                    print Xen's command line
//! ```
//!
//! `run` and `bench` exit with 0 when the kernel shut down cleanly, 1 when
//! it failed or crashed, 2 when the run timed out or stalled. Usage errors
//! exit with 64.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use image_builder::bench::{BenchLine, BENCH_PREFIX};
use image_builder::host::{target_dir, xen_hypervisor_path};
use image_builder::kernel::{kernel_cargo, kernel_path, kernel_target_dir};
use image_builder::qemu::shell_command;
use image_builder::{
    boot, build_kernel, domu_flow, ensure_host_packages, linux_dom0, set_echo, userland_bench,
    xen_hypervisor, BootConfig, BootRun, Dom0Run, Error, Outcome, Profile, ScriptOutcome, TestFile,
};

const USAGE: &str = "\
usage: image-builder <command> [options]

commands:
  build [--debug]                      build the kernel and print the ELF's path
  run [--debug] [--timeout SECONDS] [--initrd] [--interactive] [WORD...]
                                       boot the kernel under Xen in QEMU, console on
                                       stderr; kernel command line WORDs (default: the
                                       self-checks, then /etc/rc from an initrd of our
                                       userland and busybox); --initrd adds that initrd
                                       to your WORDs; --interactive gives QEMU this
                                       terminal and starts init's shell (Ctrl-A x quits)
  bench [--debug]                      boot with `bench` and summarize its results
  bench-domu [--debug]                 boot a Linux dom0 (Debian, xl) and time our kernel
                                       and a Linux PV guest as its domUs: `bench domu-boot`,
                                       `domu-cpu-share`, `domu-min-memory`, `domu-image`
  bench-userland [--debug] [quick] [whole]
                                       boot a Linux dom0 and run xenrs-bench as init of our
                                       kernel and of a Linux PV domU, xentrace counting each
                                       guest's hypercalls: side-by-side, `userland-vs-linux`
                                       and `xentrace-crosscheck` lines. Default: a baseline
                                       run and one run per case for each guest; `quick`:
                                       --quick iterations; `whole`: one run with every case
  linux-dom0                           build (or find cached) the Linux dom0 image, print it
  linux-dom0-run SCRIPT [NAME=PATH...] boot the Linux dom0 and run the shell script SCRIPT
                                       with the host files PATH at /tmp/NAME
  test                                 run every check: fmt, clippy, kernel build, cargo test
  qemu-cmdline [--debug] [WORD...]     print the QEMU command line `run` uses
  xen-cmdline                          print Xen's command line

`run` and `bench` exit with 0 on a clean shutdown, 1 on failure or crash,
2 on timeout or stall; `bench-domu` and `linux-dom0-run` exit with 0 when
the script finished with status 0, 1 otherwise, 2 on timeout or stall;
usage errors exit with 64.";

/// Exit status for a command line we do not understand (sysexits EX_USAGE).
const EXIT_USAGE: u8 = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(EXIT_USAGE);
    };
    let result = match command.as_str() {
        "build" => Options::parse(rest, false).and_then(|options| build(&options)),
        "run" => Options::parse(rest, true).and_then(|options| run(&options)),
        "bench" => Options::parse(rest, false).and_then(|options| bench(&options)),
        "bench-domu" => Options::parse(rest, false).and_then(|options| bench_domu(&options)),
        "bench-userland" => Options::parse(rest, true).and_then(|options| bench_userland(&options)),
        "linux-dom0" => Options::parse(rest, false).and_then(|_| linux_dom0_image()),
        "linux-dom0-run" => Options::parse(rest, true).and_then(|options| linux_dom0_run(&options)),
        "test" => Options::parse(rest, false).and_then(|_| test()),
        "qemu-cmdline" => Options::parse(rest, true).and_then(|options| qemu_cmdline(&options)),
        "xen-cmdline" => Options::parse(rest, false).map(|_| {
            println!(
                "{}",
                BootConfig::new(kernel_path(Profile::Release)).xen_cmdline()
            );
            ExitCode::SUCCESS
        }),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Failure::Usage(format!("unknown command {other:?}"))),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("image-builder: {message}\n\n{USAGE}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Tool(error)) => {
            eprintln!("image-builder: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command did not get to report an outcome.
enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// Building, fetching or starting something failed.
    Tool(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Tool(error)
    }
}

/// Options shared by the commands.
struct Options {
    profile: Profile,
    timeout: Option<Duration>,
    /// Boot with an initrd of our userland and busybox (`--initrd`).
    initrd: bool,
    /// Give QEMU the terminal (`--interactive`).
    interactive: bool,
    words: Vec<String>,
}

impl Options {
    /// Parses leading `--debug` / `--timeout S`, then command line words
    /// (only where `takes_words`).
    fn parse(args: &[String], takes_words: bool) -> Result<Self, Failure> {
        let mut options = Options {
            profile: Profile::Release,
            timeout: None,
            initrd: false,
            interactive: false,
            words: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--debug" if options.words.is_empty() => options.profile = Profile::Debug,
                "--initrd" if options.words.is_empty() => options.initrd = true,
                "--interactive" if options.words.is_empty() => options.interactive = true,
                "--timeout" if options.words.is_empty() => {
                    let seconds = args
                        .next()
                        .and_then(|value| value.parse::<u64>().ok())
                        .filter(|seconds| *seconds > 0)
                        .ok_or_else(|| {
                            Failure::Usage(
                                "--timeout needs a positive number of seconds".to_owned(),
                            )
                        })?;
                    options.timeout = Some(Duration::from_secs(seconds));
                }
                "--" if options.words.is_empty() => {
                    options.words.extend(args.by_ref().cloned());
                }
                word if takes_words && !(options.words.is_empty() && word.starts_with("--")) => {
                    options.words.push(word.to_owned());
                }
                other => return Err(Failure::Usage(format!("unexpected argument {other:?}"))),
            }
        }
        Ok(options)
    }

    /// The kernel command line: the words given, or `default`.
    fn cmdline(&self, default: &str) -> String {
        if self.words.is_empty() {
            default.to_owned()
        } else {
            self.words.join(" ")
        }
    }
}

fn build(options: &Options) -> Result<ExitCode, Failure> {
    set_echo(true);
    let path = build_kernel(options.profile)?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Installs what is missing, fetches Xen, builds the kernel: all a boot needs.
fn prepare(profile: Profile) -> Result<(PathBuf, PathBuf), Failure> {
    ensure_host_packages()?;
    let xen = xen_hypervisor()?;
    set_echo(true);
    eprintln!("image-builder: building the kernel ({profile:?})");
    let kernel = build_kernel(profile)?;
    Ok((xen, kernel))
}

/// Boots with echo on and prints the outcome as the last line.
fn boot_and_report(options: &Options, default_cmdline: &str) -> Result<BootRun, Failure> {
    let (_xen, kernel) = prepare(options.profile)?;
    let mut config = BootConfig::new(kernel).with_cmdline(options.cmdline(default_cmdline));
    config.echo = true;
    if options.initrd {
        config
            .extra_modules
            .push((build_demo_initrd()?, String::new()));
    }
    if let Some(timeout) = options.timeout {
        config.timeout = timeout;
    }
    Ok(boot(&config)?)
}

fn exit_code(run: &BootRun) -> ExitCode {
    let verdict = if run.is_success() {
        "success"
    } else {
        "FAILURE"
    };
    let status = run
        .qemu_status
        .map(|code| format!(", QEMU exit status {code}"))
        .unwrap_or_default();
    println!(
        "image-builder: outcome: {} after {:.1} s{status}: {verdict}",
        run.outcome,
        run.elapsed.as_secs_f64()
    );
    match run.outcome {
        outcome if outcome.is_success() => ExitCode::SUCCESS,
        Outcome::TimedOut | Outcome::Stalled => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}

/// The default boot: the self-checks, then init from the initrd runs
/// `/etc/rc` (the userland demo) and the kernel shuts down.
const DEFAULT_RUN_CMDLINE: &str = "selftest init=/bin/sh -- /etc/rc";
/// The interactive boot: the self-checks, then `/init` (runs `/etc/rc`
/// and keeps a shell on the console).
const INTERACTIVE_RUN_CMDLINE: &str = "selftest";

fn run(options: &Options) -> Result<ExitCode, Failure> {
    let mut options = Options {
        words: options.words.clone(),
        ..*options
    };
    if options.words.is_empty() {
        // Our own defaults boot with the userland.
        options.initrd = true;
    }
    if options.interactive {
        return run_interactive(&options);
    }
    let run = boot_and_report(&options, DEFAULT_RUN_CMDLINE)?;
    Ok(exit_code(&run))
}

/// Boots with QEMU on this terminal: what you type reaches the guest's
/// console (Ctrl-C included); Ctrl-A x quits QEMU.
fn run_interactive(options: &Options) -> Result<ExitCode, Failure> {
    let (xen, kernel) = prepare(options.profile)?;
    let mut config = BootConfig::new(kernel).with_cmdline(options.cmdline(INTERACTIVE_RUN_CMDLINE));
    if options.initrd {
        config
            .extra_modules
            .push((build_demo_initrd()?, String::new()));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let cmdline = image_builder::qemu::kernel_cmdline_for(&config, &now.to_string());
    let args = config.qemu_args(&xen, &cmdline)?;
    eprintln!("image-builder: interactive console (Ctrl-A x quits QEMU)");
    let status = Command::new(image_builder::qemu::QEMU)
        .args(&args)
        .status()
        .map_err(|error| Error::io("starting QEMU", error))?;
    println!("image-builder: QEMU exited with {status}");
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Builds target/initrd.cpio: our programs, busybox, /etc/rc.
fn build_demo_initrd() -> Result<PathBuf, Failure> {
    let programs = image_builder::initrd::build_userland()?;
    let busybox = image_builder::initrd::busybox_static()?;
    let out = image_builder::host::target_dir().join("initrd.cpio");
    image_builder::initrd::build_initrd(&programs, Some(&busybox), &out)?;
    println!("image-builder: initrd {}", out.display());
    Ok(out)
}

fn bench(options: &Options) -> Result<ExitCode, Failure> {
    let run = boot_and_report(options, "bench")?;
    println!("benchmark results:");
    for line in run.lines_with_prefix(BENCH_PREFIX) {
        match BenchLine::parse(&line.text) {
            Ok(parsed) => println!("  {parsed}"),
            Err(error) => println!("  {}   <- malformed: {error}", line.text),
        }
    }
    Ok(exit_code(&run))
}

fn linux_dom0_image() -> Result<ExitCode, Failure> {
    let image = linux_dom0::image()?;
    let size = |path: &std::path::Path| {
        std::fs::metadata(path)
            .map(|metadata| metadata.len() as f64 / 1e6)
            .unwrap_or(0.0)
    };
    println!("image {} (kernel {})", image.key, image.kernel_release);
    for (what, path) in [
        ("vmlinux", &image.vmlinux),
        ("dom0 initramfs", &image.initramfs),
        ("Linux domU initramfs", &image.domu_initramfs),
    ] {
        println!("  {what}: {} ({:.1} MB)", path.display(), size(path));
    }
    if let Some(time) = image.build_time {
        println!("  built in {:.1} s", time.as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints how a Linux dom0 run ended; maps it to an exit status.
fn script_exit_code(run: &Dom0Run) -> ExitCode {
    let ready = run
        .ready_after()
        .map(|ready| format!(", dom0 ready after {:.1} s", ready.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "image-builder: outcome: {} after {:.1} s{ready}",
        run.outcome,
        run.boot.elapsed.as_secs_f64()
    );
    match run.outcome {
        outcome if outcome.is_success() => ExitCode::SUCCESS,
        ScriptOutcome::TimedOut | ScriptOutcome::Stalled => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}

fn linux_dom0_run(options: &Options) -> Result<ExitCode, Failure> {
    let Some((script, files)) = options.words.split_first() else {
        return Err(Failure::Usage("linux-dom0-run needs a script".to_owned()));
    };
    let script = std::fs::read_to_string(script)
        .map_err(|error| Error::io(format!("reading {script}"), error))?;
    let mut test_files = Vec::new();
    for file in files {
        let (name, path) = file
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("{file:?} is not NAME=PATH")))?;
        test_files.push(TestFile::path(name, path));
    }
    let mut dom0_options = linux_dom0::Dom0Options {
        echo: true,
        ..Default::default()
    };
    if let Some(timeout) = options.timeout {
        dom0_options.timeout = timeout;
    }
    let run = linux_dom0::run_in_linux_dom0_with(&dom0_options, &script, &test_files)?;
    Ok(script_exit_code(&run))
}

fn bench_domu(options: &Options) -> Result<ExitCode, Failure> {
    let (_xen, kernel) = prepare(options.profile)?;
    linux_dom0::image()?;
    let mut flow_options = domu_flow::options();
    flow_options.echo = true;
    if let Some(timeout) = options.timeout {
        flow_options.timeout = timeout;
    }
    let run = linux_dom0::run_in_linux_dom0_with(
        &flow_options,
        domu_flow::SCRIPT,
        &domu_flow::files(&kernel),
    )?;
    println!("benchmark results:");
    for line in domu_flow::bench_lines(&run, &kernel) {
        println!("  {line}");
    }
    for (key, value) in domu_flow::results(&run) {
        if ["-ns", "-wait", "-residue", "-outcome"]
            .iter()
            .any(|suffix| key.ends_with(suffix))
        {
            println!("  {key}={value}");
        }
    }
    Ok(script_exit_code(&run))
}

fn bench_userland(options: &Options) -> Result<ExitCode, Failure> {
    let (mut quick, mut whole) = (false, false);
    for word in &options.words {
        match word.as_str() {
            "quick" => quick = true,
            "whole" => whole = true,
            other => {
                return Err(Failure::Usage(format!(
                    "bench-userland: unknown word {other:?}"
                )))
            }
        }
    }
    let plan = if whole {
        userland_bench::Plan::WholeRun { quick }
    } else {
        userland_bench::Plan::PerCase { quick }
    };
    let (_xen, kernel) = prepare(options.profile)?;
    linux_dom0::image()?;
    let run = userland_bench::run(plan, &kernel, true)?;
    let results = userland_bench::results(plan, &run);
    println!("benchmark results:");
    for line in userland_bench::report(&results) {
        println!("  {line}");
    }
    for result in &results {
        let pairs: Vec<String> = result
            .results
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        println!("  run {}", pairs.join(" "));
    }
    Ok(script_exit_code(&run))
}

fn qemu_cmdline(options: &Options) -> Result<ExitCode, Failure> {
    let kernel = kernel_path(options.profile);
    let xen = xen_hypervisor_path();
    for (what, path) in [("the kernel", &kernel), ("Xen", &xen)] {
        if !path.is_file() {
            eprintln!(
                "image-builder: note: {what} is not at {} yet; `image-builder run` builds/fetches it",
                path.display()
            );
        }
    }
    let config = BootConfig::new(kernel).with_cmdline(options.cmdline("selftest"));
    println!("{}", shell_command(&config, &xen)?);
    Ok(ExitCode::SUCCESS)
}

/// One step of `test`: a name and the command that runs it.
struct Step {
    name: &'static str,
    command: Command,
}

fn cargo_step(name: &'static str, args: &[&str]) -> Step {
    let mut command = image_builder::command::cargo();
    command.args(args);
    Step { name, command }
}

/// Every check, in order of cost; stops at the first failure.
fn test() -> Result<ExitCode, Failure> {
    let started = Instant::now();
    eprintln!("==> host packages");
    ensure_host_packages()?;

    // In a target directory of its own, so that clippy's check artifacts
    // and the kernel build's never mix.
    let mut kernel_clippy =
        kernel_cargo("clippy", Profile::Debug, target_dir().join("kernel-clippy"));
    kernel_clippy.args(["--", "-D", "warnings"]);
    let mut kernel_build = kernel_cargo("build", Profile::Release, kernel_target_dir());
    kernel_build.args(["--bin", "kernel"]);

    let steps = vec![
        cargo_step("formatting", &["fmt", "--all", "--", "--check"]),
        cargo_step(
            "clippy (workspace, host)",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step {
            name: "clippy (kernel, kernel flags)",
            command: kernel_clippy,
        },
        Step {
            name: "kernel build (release)",
            command: kernel_build,
        },
        // Default members: every host crate, with the system tests; the
        // kernel is not a default member, so it is not built for the host.
        cargo_step("tests (unit, host, system)", &["test"]),
    ];
    let count = steps.len();
    let mut totals = TestTotals::default();
    for (index, mut step) in steps.into_iter().enumerate() {
        eprintln!(
            "==> [{}/{count}] {}: {}",
            index + 1,
            step.name,
            image_builder::command::describe(&step.command)
        );
        let status = if index + 1 == count {
            run_counting_tests(&mut step.command, &mut totals)
        } else {
            step.command.status()
        }
        .map_err(|error| Error::io(format!("starting step {}", step.name), error))?;
        if !status.success() {
            let code = status.code().map_or_else(
                || "a signal".to_owned(),
                |code| format!("exit status {code}"),
            );
            eprintln!(
                "image-builder test: step {}/{count} \"{}\" FAILED ({code}); stopping",
                index + 1,
                step.name
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    eprintln!(
        "image-builder test: all {count} steps passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // One closing line over every test binary, so a reader of the log does
    // not have to add up cargo's per-binary lines (the last of which is
    // usually an empty doc-test run).
    println!(
        "tests: {} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    Ok(ExitCode::SUCCESS)
}

/// Sums of cargo's `test result:` lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestTotals {
    /// Adds one `test result: ok. 3 passed; 0 failed; 1 ignored; ...` line;
    /// other lines are ignored.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test`, passing its output through while adding up results.
fn run_counting_tests(
    command: &mut Command,
    totals: &mut TestTotals,
) -> std::io::Result<std::process::ExitStatus> {
    use std::io::{BufRead, BufReader};
    let mut child = command.stdout(std::process::Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().expect("stdout was piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        totals.add_line(&line);
    }
    child.wait()
}

#[cfg(test)]
mod tests {
    use super::TestTotals;

    #[test]
    fn totals_add_up_cargo_result_lines() {
        let mut totals = TestTotals::default();
        totals.add_line("test result: ok. 34 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.02s");
        totals.add_line("running 3 tests");
        totals.add_line(
            "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        assert_eq!(
            totals,
            TestTotals {
                passed: 35,
                failed: 2,
                ignored: 2
            }
        );
    }
}
