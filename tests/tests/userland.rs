//! Programs from the initrd: Xen 4.17 in QEMU with the kernel as dom0 and
//! an initrd holding our userland and Debian's unmodified `busybox-static`.
//!
//! Each scenario runs one program as init, named with `init=<path> --
//! <args>` (double quotes group an argument), and checks its output and
//! how it ended; shells fork, exec, pipe and wait. A failure prints the
//! whole console log.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use image_builder::initrd;
use system_tests::{boot_config, config, Checks};

/// The initrd, built once per test binary under target/.
fn initrd_path() -> PathBuf {
    static INITRD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = INITRD.get_or_init(|| {
        let programs = initrd::build_userland().map_err(|e| e.to_string())?;
        let busybox = initrd::busybox_static().map_err(|e| e.to_string())?;
        let out = image_builder::host::workspace_root().join("target/initrd-tests.cpio");
        initrd::build_initrd(&programs, Some(&busybox), &out).map_err(|e| e.to_string())?;
        Ok(out)
    });
    match built {
        Ok(path) => path.clone(),
        Err(message) => panic!("the initrd did not build:\n{message}"),
    }
}

/// Boots with the initrd as the second multiboot module.
fn boot_with_init(cmdline: &str) -> image_builder::BootRun {
    let mut boot = config(cmdline);
    boot.extra_modules.push((initrd_path(), String::new()));
    boot_config(&boot)
}

fn check_program(scenario: &'static str, cmdline: &str, path: &str, output: &[&str]) {
    let run = boot_with_init(cmdline);
    let mut checks = Checks::new(scenario, &run);
    for expected in output {
        checks.expect(
            run.lines.iter().any(|line| line.text.contains(expected)),
            || format!("no console line contains {expected:?}"),
        );
    }
    let exited = format!("init: {path} exited with status 0");
    checks.expect(run.find(&exited).is_some(), || {
        format!("missing {exited:?}")
    });
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {} is not a clean shutdown", run.outcome)
    });
    checks.finish();
}

/// Debian's unmodified static busybox runs `echo` as init.
#[test]
fn busybox_echo_runs_unmodified() {
    check_program(
        "busybox echo",
        "init=/bin/busybox -- echo hello from busybox",
        "/bin/busybox",
        &["hello from busybox"],
    );
}

/// busybox's `uname -a` sees a Linux release new enough for static glibc.
#[test]
fn busybox_uname_reports_a_linux_release() {
    check_program(
        "busybox uname",
        "init=/bin/busybox -- uname -a",
        "/bin/busybox",
        &["Linux xenrs 6.1.0-xenrs", "x86_64"],
    );
}

/// Files come from the initrd through the kernel's VFS: busybox lists the
/// root directory and prints a file.
#[test]
fn busybox_reads_the_initrd_file_system() {
    check_program(
        "busybox ls",
        "init=/bin/busybox -- ls /",
        "/bin/busybox",
        &["bin", "etc", "init", "proc"],
    );
    check_program(
        "busybox cat",
        "init=/bin/busybox -- cat /etc/rc",
        "/bin/busybox",
        &["# /etc/rc"],
    );
}

/// Our `ls -l` stats every entry; our `cat` reports a missing file with
/// errno's text and a non-zero status, without harm to the kernel.
#[test]
fn our_ls_and_cat_use_the_file_system() {
    check_program(
        "ls -l",
        "init=/bin/ls -- -l /bin",
        "/bin/ls",
        &["busybox", "hello"],
    );
    let run = boot_with_init("init=/bin/cat -- /etc/rc /nonexistent");
    let mut checks = Checks::new("cat with a missing file", &run);
    for expected in ["# /etc/rc", "cat: /nonexistent: No such file or directory"] {
        checks.expect(
            run.lines.iter().any(|line| line.text.contains(expected)),
            || format!("no console line contains {expected:?}"),
        );
    }
    checks.expect(
        run.find("init: /bin/cat exited with status 1").is_some(),
        || "cat did not exit with status 1".to_owned(),
    );
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {}", run.outcome)
    });
    checks.finish();
}

/// /proc (uptime, meminfo, 1/stat) feeds our uptime, free and ps, whose
/// line for the process shows its real (elapsed) and CPU time.
#[test]
fn proc_feeds_uptime_free_and_ps() {
    check_program("uptime", "init=/bin/uptime", "/bin/uptime", &[" up "]);
    check_program("free", "init=/bin/free", "/bin/free", &["Mem:", "total"]);
    check_program("ps", "init=/bin/ps", "/bin/ps", &["ELAPSED", "TIME", " ps"]);
    check_program(
        "busybox cat /proc/meminfo",
        "init=/bin/busybox -- cat /proc/meminfo",
        "/bin/busybox",
        &["MemTotal:", "MemFree:"],
    );
}

/// The issue's own example: busybox's shell forks, pipes, execs and waits.
#[test]
fn busybox_sh_pipeline_ls_and_uname() {
    check_program(
        "busybox sh -c 'echo hi | cat; ls /; uname -a'",
        "init=/bin/busybox -- sh -c \"echo hi | cat; ls /; uname -a\"",
        "/bin/busybox",
        &["hi", "proc", "Linux xenrs 6.1.0-xenrs"],
    );
}

/// Our shell: a pipeline into a file in the in-memory file system, read
/// back, then the exit status of the last command.
#[test]
fn our_sh_pipes_redirects_and_waits() {
    check_program(
        "our sh",
        "init=/bin/sh -- -c \"/bin/ls / | /bin/cat > /tmp/x; /bin/cat /tmp/x; /bin/echo done $?\"",
        "/bin/sh",
        &["proc", "done 0"],
    );
}

/// A process spinning in the background does not starve the shell: the
/// timer preempts it. /dev/null and /dev/zero work.
#[test]
fn preemption_and_device_files() {
    check_program(
        "preemption",
        "init=/bin/busybox -- sh -c \"(while true; do :; done) & sleep 1; echo preempted; \
         echo gone > /dev/null; head -c 4 /dev/zero | busybox wc -c\"",
        "/bin/busybox",
        &["preempted", "4"],
    );
}

/// The lmbench-style benchmark runs every case (fork, exec, shell, page
/// faults, 64 MiB mmap/munmap, pipe ping-pong): figures, not assertions.
#[test]
fn our_benchmark_quick_mode_runs() {
    let mut boot = config("init=/bin/xenrs-bench -- --quick");
    boot.dom0_mem_mib = 256;
    boot.timeout = std::time::Duration::from_secs(120);
    boot.extra_modules.push((initrd_path(), String::new()));
    let run = boot_config(&boot);
    let mut checks = Checks::new("xenrs-bench --quick", &run);
    for name in [
        "bench fork-exit-wait ",
        "bench fork-execve-hello ",
        "bench sh-c-true ",
        "bench page-fault-first-touch ",
        "bench mmap-touch-munmap-64mib ",
        "bench pipe-ping-pong ",
    ] {
        checks.expect(run.find(name).is_some(), || format!("no {name:?} line"));
    }
    checks.expect(
        run.find("init: /bin/xenrs-bench exited with status 0")
            .is_some(),
        || "the benchmark did not exit cleanly".to_owned(),
    );
    checks.finish();
}

/// A writer into a pipe whose reader is gone gets SIGPIPE (default
/// action: it ends), so `yes | head` finishes.
#[test]
fn sigpipe_ends_a_writer_without_reader() {
    check_program(
        "yes | head",
        "init=/bin/busybox -- sh -c \"busybox yes | head -n 2; echo after\"",
        "/bin/busybox",
        &["y", "after"],
    );
}

/// busybox's shell starts and runs a builtin.
#[test]
fn busybox_sh_runs_a_builtin() {
    check_program(
        "busybox sh",
        "init=/bin/busybox -- sh -c true",
        "/bin/busybox",
        &[],
    );
}

/// Our own static programs run on our kernel: hello, echo and date.
#[test]
fn our_programs_run() {
    check_program("hello", "init=/bin/hello", "/bin/hello", &["hello"]);
    check_program(
        "echo",
        "init=/bin/echo -- one two",
        "/bin/echo",
        &["one two"],
    );
    check_program("date", "init=/bin/date", "/bin/date", &[" UTC"]);
}

/// A program that is not in the initrd is reported, and the boot goes on.
#[test]
fn missing_init_is_reported() {
    let run = boot_with_init("init=/bin/nonexistent");
    let mut checks = Checks::new("missing init", &run);
    checks.expect(
        run.find("init: cannot start /bin/nonexistent").is_some(),
        || "no report of the missing program".to_owned(),
    );
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {} is not a clean shutdown", run.outcome)
    });
    checks.finish();
}

/// Signal handlers run and return (busybox's `trap`), the shell's `wait`
/// builtin returns when its SIGCHLD handler sees the child end, and a
/// background job is killed.
#[test]
fn signal_handlers_run_and_wait_returns() {
    check_program(
        "signal handlers",
        "init=/bin/busybox -- sh -c \"trap 'echo caught USR1' USR1; kill -USR1 $$; echo after-trap; \
         sleep 1 & wait; echo waited=$?; (sleep 30; echo never) & kill $!; wait; echo killed-bg\"",
        "/bin/busybox",
        &["caught USR1", "after-trap", "waited=0", "killed-bg"],
    );
}

/// A signal that is not handled ends the process with a signal status the
/// parent sees (SIGTERM = 143 in the shell), and a program stopped with
/// SIGSTOP continues on SIGCONT.
#[test]
fn default_actions_terminate_stop_and_continue() {
    check_program(
        "default actions",
        "init=/bin/busybox -- sh -c \"sleep 30 & pid=$!; kill -TERM $pid; wait $pid; echo status=$?; \
         (sleep 1; echo resumed) & pid=$!; kill -STOP $pid; kill -CONT $pid; wait $pid; echo done\"",
        "/bin/busybox",
        &["status=143", "resumed", "done"],
    );
}

/// The console is a terminal: busybox's interactive shell reads typed
/// lines (echoed back), Ctrl-C interrupts the foreground job with SIGINT
/// while the shell lives on, and `exit` ends it.
#[test]
fn interactive_shell_on_the_console_with_ctrl_c() {
    use image_builder::ConsoleInput;
    let mut boot = config("init=/bin/busybox -- sh");
    boot.extra_modules.push((initrd_path(), String::new()));
    boot.console_input = vec![
        ConsoleInput::new("init: starting", b"echo $((6*7))\r".to_vec()),
        ConsoleInput::new(
            "42",
            b"echo nap$((1+1))ing; sleep 30; echo not-interrupted\r".to_vec(),
        ),
        ConsoleInput::new("nap2ing", b"\x03".to_vec()),
        ConsoleInput::new("^C", b"echo back$((2+3))\r".to_vec()),
        ConsoleInput::new("back5", b"exit 7\r".to_vec()),
    ];
    let run = boot_config(&boot);
    let mut checks = Checks::new("interactive shell", &run);
    for expected in ["42", "nap2ing", "back5"] {
        checks.expect(
            run.lines
                .iter()
                .any(|line| line.text.trim_end() == expected),
            || format!("no output line {expected:?}"),
        );
    }
    checks.expect(
        run.lines
            .iter()
            .any(|line| line.text.contains("echo $((6*7))")),
        || "the typed command was not echoed".to_owned(),
    );
    checks.expect(
        !run.lines
            .iter()
            .any(|line| line.text.trim_end() == "not-interrupted"),
        || "Ctrl-C did not interrupt the sleep".to_owned(),
    );
    checks.expect(
        run.find("init: /bin/busybox exited with status 7")
            .is_some(),
        || "the shell did not exit with the typed status".to_owned(),
    );
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {} is not a clean shutdown", run.outcome)
    });
    checks.finish();
}

/// Files and processes as busybox uses them: working directories,
/// mkdir/ln/rm, a `#!` script (and EACCES without the execute bit),
/// sendfile through `cat`, sysinfo through `free`, `/proc/<pid>` through
/// `ps`, and SIGALRM through `timeout`.
#[test]
fn busybox_files_scripts_and_process_tools() {
    check_program(
        "busybox files and tools",
        "init=/bin/busybox -- sh -c \"cd /tmp && pwd && mkdir d && cd d && echo data > f && \
         ln -s f l && cat l && cd .. && rm -r d && test ! -e d && echo removed; \
         printf '#!/bin/busybox sh\\necho script-ran $1\\n' > /tmp/s.sh; chmod +x /tmp/s.sh; \
         /tmp/s.sh arg1; chmod -x /tmp/s.sh; /tmp/s.sh; echo noexec=$?; \
         busybox free | busybox head -n 2; busybox ps; \
         busybox timeout 1 busybox sleep 10; echo timeout=$?\"",
        "/bin/busybox",
        &[
            "/tmp",
            "data",
            "removed",
            "script-ran arg1",
            "Permission denied",
            "noexec=126",
            "Mem:",
            "busybox ps",
            "timeout=143",
        ],
    );
}

/// Our init runs /etc/rc, then keeps our shell on the console; what is
/// typed runs, and `busybox poweroff` (SIGUSR2 to init) makes init end
/// every process and power the system off through reboot(2).
#[test]
fn init_shell_on_the_console_and_poweroff() {
    use image_builder::ConsoleInput;
    let mut boot = config("");
    boot.extra_modules.push((initrd_path(), String::new()));
    boot.console_input = vec![
        ConsoleInput::new(
            "init: starting /bin/sh",
            b"echo typed; echo on-the-console\r".to_vec(),
        ),
        ConsoleInput::new("on-the-console", b"busybox poweroff\r".to_vec()),
    ];
    let run = boot_config(&boot);
    let mut checks = Checks::new("init and poweroff", &run);
    for expected in [
        "init: started as pid 1",
        "rc: done",
        "init: shutting down (PowerOff)",
        "reboot: power off requested by process 1",
        "shutdown: poweroff",
    ] {
        checks.expect(
            run.lines.iter().any(|line| line.text.contains(expected)),
            || format!("no console line contains {expected:?}"),
        );
    }
    checks.expect(
        // The shell's prompt may precede the output on its line.
        run.lines.iter().any(|line| line.text.trim_end().ends_with("typed")),
        || "the typed command did not run".to_owned(),
    );
    checks.expect(run.outcome.is_success(), || {
        format!("outcome {} is not a clean shutdown", run.outcome)
    });
    checks.finish();
}
