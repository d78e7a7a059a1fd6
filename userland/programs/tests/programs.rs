//! The userland programs, run on the Linux host.
//!
//! Each test starts the freestanding binaries cargo built for this package
//! (`CARGO_BIN_EXE_<name>`) as ordinary Linux processes and checks what
//! they print, the way their coreutils/procps namesakes would behave.
//! Our kernel implements the same system-call ABI, so a program that
//! passes here fails there only because of the kernel.
//!
//! This test links std: it may use `userland_core` (plain logic) but never
//! `userland_rt`, whose `_start`, panic handler and allocator would clash
//! with std's.

use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

macro_rules! bin {
    ($name:literal) => {
        env!(concat!("CARGO_BIN_EXE_", $name))
    };
}

/// Every program of the package.
const PROGRAMS: [&str; 15] = [
    bin!("init"),
    bin!("sh"),
    bin!("ps"),
    bin!("free"),
    bin!("uptime"),
    bin!("date"),
    bin!("cat"),
    bin!("ls"),
    bin!("echo"),
    bin!("kill"),
    bin!("sleep"),
    bin!("hello"),
    bin!("xenrs-bench"),
    bin!("xentrace-count"),
    bin!("fault-inject"),
];

/// Runs `program args...` with `stdin` as input; returns its output.
fn run_with_input(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("PATH", bin_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("starting {program}: {error}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("writing stdin");
    child.wait_with_output().expect("waiting for the program")
}

fn run(program: &str, args: &[&str]) -> Output {
    run_with_input(program, args, b"")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs and expects success; returns stdout.
fn run_ok(program: &str, args: &[&str]) -> String {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {:?}, stderr: {}",
        output.status,
        stderr(&output)
    );
    stdout(&output)
}

/// The directory holding the built programs (used as `PATH`).
fn bin_dir() -> PathBuf {
    Path::new(bin!("sh"))
        .parent()
        .expect("a directory")
        .to_owned()
}

/// A fresh, empty directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("userland-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating a temporary directory");
    dir
}

#[test]
fn every_program_is_a_static_elf64_executable_without_interpreter() {
    for program in PROGRAMS {
        let bytes = fs::read(program).expect("reading the binary");
        assert_eq!(&bytes[..4], b"\x7fELF", "{program}");
        assert_eq!(bytes[4], 2, "{program}: ELFCLASS64");
        let half = |offset: usize| u16::from_le_bytes([bytes[offset], bytes[offset + 1]]);
        let word =
            |offset: usize| u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap());
        let quad =
            |offset: usize| u64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap());
        assert_eq!(half(16), 2, "{program}: e_type must be ET_EXEC");
        assert_eq!(half(18), 62, "{program}: e_machine must be x86-64");
        let (phoff, phentsize, phnum) = (quad(32) as usize, half(54) as usize, half(56) as usize);
        let types: Vec<u32> = (0..phnum)
            .map(|index| word(phoff + index * phentsize))
            .collect();
        assert!(!types.contains(&3), "{program} has PT_INTERP");
        assert!(!types.contains(&2), "{program} has PT_DYNAMIC");
        assert!(types.contains(&1), "{program} has no PT_LOAD");
        let lowest_load = (0..phnum)
            .filter(|index| word(phoff + index * phentsize) == 1)
            .map(|index| quad(phoff + index * phentsize + 16))
            .min()
            .unwrap();
        assert_eq!(lowest_load, 0x40_0000, "{program}: image base");
    }
}

#[test]
fn hello_prints_one_line() {
    assert_eq!(run_ok(bin!("hello"), &[]), "Hello world\n");
}

#[test]
fn echo_joins_arguments_like_coreutils() {
    assert_eq!(run_ok(bin!("echo"), &["hello", "world"]), "hello world\n");
    assert_eq!(run_ok(bin!("echo"), &[]), "\n");
    assert_eq!(run_ok(bin!("echo"), &["-n", "x"]), "x");
    assert_eq!(run_ok(bin!("echo"), &["-e", "a\\tb"]), "a\tb\n");
    assert_eq!(run_ok(bin!("echo"), &["a\\tb"]), "a\\tb\n");
}

#[test]
fn cat_copies_files_and_standard_input() {
    let dir = temp_dir("cat");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(dir.join("big"), &big).unwrap();
    fs::write(dir.join("small"), "small\n").unwrap();
    let big_path = dir.join("big");
    let small_path = dir.join("small");
    let output = run(bin!("cat"), &[big_path.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(output.stdout, big);

    let output = run_with_input(
        bin!("cat"),
        &[
            small_path.to_str().unwrap(),
            "-",
            small_path.to_str().unwrap(),
        ],
        b"from stdin\n",
    );
    assert_eq!(stdout(&output), "small\nfrom stdin\nsmall\n");
    assert_eq!(stdout(&run_with_input(bin!("cat"), &[], b"piped")), "piped");

    let missing = dir.join("missing");
    let output = run(
        bin!("cat"),
        &[missing.to_str().unwrap(), small_path.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "small\n");
    assert_eq!(
        stderr(&output),
        format!("cat: {}: No such file or directory\n", missing.display())
    );
    let output = run(bin!("cat"), &[dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).ends_with(": Is a directory\n"),
        "{}",
        stderr(&output)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ls_lists_sorted_names_and_long_rows() {
    let dir = temp_dir("ls");
    fs::write(dir.join("b-file"), "12345").unwrap();
    fs::write(dir.join("a-file"), "").unwrap();
    fs::write(dir.join(".hidden"), "").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("a-file", dir.join("link")).unwrap();
    let path = dir.to_str().unwrap();

    assert_eq!(run_ok(bin!("ls"), &[path]), "a-file\nb-file\nlink\nsub\n");
    assert_eq!(
        run_ok(bin!("ls"), &["-a", path]),
        ".\n..\n.hidden\na-file\nb-file\nlink\nsub\n"
    );
    assert_eq!(
        run_ok(bin!("ls"), &["-A", path]),
        ".hidden\na-file\nb-file\nlink\nsub\n"
    );

    let long = run_ok(bin!("ls"), &["-l", path]);
    let lines: Vec<&str> = long.lines().collect();
    assert!(lines[0].starts_with("total "), "{long}");
    assert_eq!(lines.len(), 5, "{long}");
    assert!(
        lines[1].starts_with("-rw") && lines[1].ends_with(" a-file"),
        "{long}"
    );
    let b_row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(b_row[4], "5", "size column of {}", lines[2]);
    assert!(
        lines[3].starts_with('l') && lines[3].ends_with(" link -> a-file"),
        "{long}"
    );
    assert!(
        lines[4].starts_with('d') && lines[4].ends_with(" sub"),
        "{long}"
    );

    // Two operands: headings; a file operand is listed first.
    let file = dir.join("b-file");
    let sub = dir.join("sub");
    let both = run_ok(bin!("ls"), &[sub.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(both, format!("{}\n\n{}:\n", file.display(), sub.display()));

    let missing = dir.join("missing");
    let output = run(bin!("ls"), &[missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "ls: cannot access '{}': No such file or directory\n",
            missing.display()
        )
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// `sh -c script` run in `dir` with our programs first in `PATH`.
fn shell_in(dir: &Path, script: &str) -> Output {
    Command::new(bin!("sh"))
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", bin_dir())
        .env("GREETING", "hi there")
        .stdin(Stdio::null())
        .output()
        .expect("running sh")
}

#[test]
fn sh_runs_pipes_redirections_and_lists() {
    let dir = temp_dir("sh");
    let output = shell_in(
        &dir,
        "echo one two | cat | cat > out.txt; echo three >> out.txt; cat < out.txt",
    );
    assert_eq!(stdout(&output), "one two\nthree\n");
    assert_eq!(
        fs::read_to_string(dir.join("out.txt")).unwrap(),
        "one two\nthree\n"
    );

    let output = shell_in(
        &dir,
        "false && echo no; echo status=$?; true && echo yes || echo no",
    );
    assert_eq!(stdout(&output), "status=1\nyes\n");
    let output = shell_in(&dir, "false || echo fallback; nosuchcommand; echo $?");
    assert_eq!(stdout(&output), "fallback\n127\n");
    assert_eq!(stderr(&output), "sh: nosuchcommand: not found\n");

    let output = shell_in(&dir, "echo 'single $GREETING' \"double $GREETING\" \\$x");
    assert_eq!(stdout(&output), "single $GREETING double hi there $x\n");

    let output = shell_in(&dir, "echo to-stderr >&2; ls missing-file 2>&1 | cat");
    assert_eq!(stderr(&output), "to-stderr\n");
    assert_eq!(
        stdout(&output),
        "ls: cannot access 'missing-file': No such file or directory\n"
    );

    let output = shell_in(&dir, "cd sub-missing; echo $?; exit 7; echo unreachable");
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(stdout(&output), "1\n");

    let output = shell_in(&dir, "echo a |");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("syntax error"),
        "{}",
        stderr(&output)
    );

    // Arguments after -c: $0, $1, $#.
    let output = Command::new(bin!("sh"))
        .args(["-c", "echo $0 $1 $#", "name", "first"])
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "name first 1\n");

    // A script from standard input, and a script file run as a command.
    let script = dir.join("script");
    fs::write(&script, "echo from script $1\nexit 4\n").unwrap();
    let output = run_with_input(bin!("sh"), &[], b"echo from stdin\ncd /\npwd\n");
    assert_eq!(stdout(&output), "from stdin\n/\n");
    let output = shell_in(&dir, "sh ./script arg; echo $?");
    assert_eq!(stdout(&output), "from script arg\n4\n");
    fs::remove_dir_all(&dir).unwrap();
}

/// Waits until process `parent` has a child whose command is `name`.
fn wait_for_child_named(parent: u32, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let wanted = format!("({name}) ");
    while Instant::now() < deadline {
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let Some(at) = stat.find(&wanted) else {
                continue;
            };
            let ppid = stat[at + wanted.len()..].split_whitespace().nth(1);
            if ppid == Some(parent.to_string().as_str()) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {parent} started no {name} within 10 s");
}

#[test]
fn ctrl_c_ends_the_foreground_job_but_not_the_shell() {
    // The shell and its job share a process group, as at a terminal
    // without job control; SIGINT to the group is what Ctrl-C sends.
    let child = Command::new(bin!("sh"))
        .args(["-c", "sleep 5; echo after $?"])
        .env("PATH", bin_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("starting sh");
    wait_for_child_named(child.id(), "sleep");
    let started = Instant::now();
    let group = format!("-{}", child.id());
    run_ok(bin!("kill"), &["-INT", "--", &group]);
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(output.status.success(), "{:?}", output.status);
    assert_eq!(stdout(&output), "after 130\n");
}

#[test]
fn date_prints_utc_close_to_the_host_clock() {
    let output = run_ok(bin!("date"), &[]);
    let host = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let text = output.trim_end();
    // YYYY-MM-DD HH:MM:SS UTC
    let bytes = text.as_bytes();
    assert_eq!(text.len(), 23, "{text:?}");
    for (index, byte) in bytes.iter().enumerate() {
        match index {
            4 | 7 => assert_eq!(*byte, b'-', "{text:?}"),
            10 | 19 => assert_eq!(*byte, b' ', "{text:?}"),
            13 | 16 => assert_eq!(*byte, b':', "{text:?}"),
            20..=22 => {}
            _ => assert!(byte.is_ascii_digit(), "{text:?}"),
        }
    }
    assert!(text.ends_with(" UTC"));
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let days = userland_core::time::days_from_civil(
        number(0..4),
        number(5..7) as u32,
        number(8..10) as u32,
    );
    let seconds = days * 86_400 + number(11..13) * 3600 + number(14..16) * 60 + number(17..19);
    assert!((seconds - host).abs() <= 2, "date says {text}, host {host}");

    let epoch: i64 = run_ok(bin!("date"), &["+%s"]).trim().parse().unwrap();
    assert!((epoch - host).abs() <= 2);
    let output = run(bin!("date"), &["+%Q"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn sleep_waits_at_least_as_long_as_asked() {
    let started = Instant::now();
    run_ok(bin!("sleep"), &["0.2"]);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let output = run(bin!("sleep"), &["soon"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "sleep: invalid time interval 'soon'\n");
}

#[test]
fn ps_lists_itself_with_times() {
    let child = Command::new(bin!("ps"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let text = stdout(&output);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("  PID  PPID S     ELAPSED     TIME COMMAND")
    );
    let own: Vec<&str> = lines
        .find(|line| line.split_whitespace().next() == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("pid {pid} missing from:\n{text}"))
        .split_whitespace()
        .collect();
    assert_eq!(own[1], std::process::id().to_string());
    assert_eq!(own[2], "R");
    assert_eq!(own[3], "00:00", "just started");
    assert_eq!(own[4], "00:00:00");
    assert_eq!(own[5], "ps");
}

#[test]
fn free_and_uptime_read_proc() {
    let free = run_ok(bin!("free"), &[]);
    let lines: Vec<&str> = free.lines().collect();
    assert!(lines[0].starts_with("               total        used        free"));
    let columns: Vec<u64> = lines[1]
        .strip_prefix("Mem:")
        .unwrap()
        .split_whitespace()
        .map(|column| column.parse().unwrap())
        .collect();
    assert_eq!(columns[0], columns[1] + columns[2], "total = used + free");
    let mebibytes = run_ok(bin!("free"), &["-m"]);
    let total_mib: u64 = mebibytes.lines().nth(1).unwrap()[4..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(total_mib, columns[0] / 1024);

    let uptime = run_ok(bin!("uptime"), &[]);
    assert!(
        uptime.starts_with(' ') && uptime.contains(" up "),
        "{uptime:?}"
    );
    assert!(uptime.contains("load average: "), "{uptime:?}");
    assert!(run_ok(bin!("uptime"), &["-p"]).starts_with("up "));
    let since = run_ok(bin!("uptime"), &["-s"]);
    assert_eq!(since.trim_end().len(), 19, "{since:?}");
}

#[test]
fn kill_sends_signals_and_lists_names() {
    let mut child = Command::new(bin!("sleep")).arg("10").spawn().unwrap();
    run_ok(bin!("kill"), &["-s", "TERM", &child.id().to_string()]);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15));
    assert!(run_ok(bin!("kill"), &["-l"]).starts_with("HUP INT QUIT"));
    assert_eq!(run_ok(bin!("kill"), &["-l", "9"]), "KILL\n");
    assert_eq!(run_ok(bin!("kill"), &["-l", "TERM"]), "15\n");
    let output = run(bin!("kill"), &["-9", "2147483647"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "kill: (2147483647) - No such process\n");
}

#[test]
fn init_runs_rc_then_the_shell() {
    let dir = temp_dir("init");
    let rc = dir.join("rc");
    fs::write(&rc, "echo rc ran as $0\n").unwrap();
    let output = Command::new(bin!("init"))
        .args([
            "--rc",
            rc.to_str().unwrap(),
            "--shell",
            bin!("sh"),
            "--once",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"echo interactive\nexit 3\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("init: started as pid "), "{text}");
    assert_eq!(lines[1], format!("init: running {}", rc.display()));
    assert_eq!(lines[2], format!("rc ran as {}", rc.display()));
    assert_eq!(lines[3], format!("init: starting {}", bin!("sh")));
    assert_eq!(lines[4], "interactive");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_quick_mode_prints_well_formed_lines() {
    let output = run(
        bin!("xenrs-bench"),
        &["--quick", "--hello", bin!("hello"), "--sh", bin!("sh")],
    );
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let mut names = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("bench"), "{line}");
        let name = words.next().expect("a benchmark name");
        let fields: Vec<(&str, u64)> = words
            .map(|word| {
                let (key, value) = word.split_once('=').unwrap_or_else(|| panic!("{line}"));
                (key, value.parse().unwrap_or_else(|_| panic!("{line}")))
            })
            .collect();
        let get = |key: &str| {
            fields
                .iter()
                .find(|(name, _)| *name == key)
                .unwrap_or_else(|| panic!("{key} missing in {line}"))
                .1
        };
        let iterations = get("iterations");
        assert!(iterations > 0);
        assert!(get("elapsed_ns") > 0, "{line}");
        assert_eq!(get("ns_per_op"), get("elapsed_ns") / iterations, "{line}");
        get("cpu_ns");
        names.push(name.to_owned());
    }
    assert_eq!(
        names,
        [
            "fork-exit-wait",
            "fork-execve-hello",
            "sh-c-true",
            "page-fault-first-touch",
            "mmap-touch-munmap-64mib",
            "mmap-populate-munmap-64mib",
            "fork-exit-wait-64mib",
            "pipe-ping-pong"
        ]
    );
    let output = run(bin!("xenrs-bench"), &["--bogus"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(
        bin!("xenrs-bench"),
        &[
            "--quick",
            "--only",
            "fork-execve-hello",
            "--hello",
            "/nonexistent",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("execve /nonexistent: No such file or directory"));
}

#[test]
fn bench_reads_a_counters_file_and_prints_totals_and_figures() {
    // A fake /proc/xenrs/counters: it never changes, so every delta is 0,
    // but the lines must carry the counter keys in the kernel's format.
    let dir = temp_dir("bench-counters");
    let counters = dir.join("counters");
    fs::write(
        &counters,
        "hypercalls 100\nxen_entries 300\nmmu_hypercalls 2\npte_updates 1024\npage_faults 0\n",
    )
    .unwrap();
    let output = run(
        bin!("xenrs-bench"),
        &[
            "--only",
            "fork-exit-wait,page-fault-first-touch",
            "--quick",
            "--counters",
            counters.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines[0],
        "bench counters-start hypercalls=100 xen_entries=300 mmu_hypercalls=2 pte_updates=1024 page_faults=0"
    );
    assert!(
        lines[1].starts_with("bench counters-read-overhead hypercalls=0 "),
        "{text}"
    );
    assert!(lines[2].starts_with("bench fork-exit-wait "), "{text}");
    assert!(
        lines[2].ends_with(
            " hypercalls=0 xen_entries=0 hypercalls_per_op=0.00 xen_entries_per_op=0.00"
        ),
        "{text}"
    );
    assert!(
        lines[3].ends_with(" xen_entries_per_page=0.00 page_faults_per_page=0.00"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("bench counters-end hypercalls=100 "),
        "{text}"
    );
    // A malformed file is reported and the benchmark runs without it.
    fs::write(&counters, "hypercalls lots\n").unwrap();
    let output = run(
        bin!("xenrs-bench"),
        &["--only", "none", "--counters", counters.to_str().unwrap()],
    );
    assert!(output.status.success());
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("hypercalls's value is not a decimal u64"),
        "{}",
        stderr(&output)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn xentrace_count_attributes_hypercalls_to_domains() {
    use userland_core::xentrace::{
        encode_record, TRC_PV_HYPERCALL_V2, TRC_SCHED_SWITCH, TRC_TRACE_CPU_CHANGE,
    };
    let records = [
        encode_record(TRC_SCHED_SWITCH, Some(1), &[0x7fff, 0, 3, 0]),
        encode_record(TRC_PV_HYPERCALL_V2, Some(2), &[23]),
        encode_record(TRC_PV_HYPERCALL_V2, Some(3), &[1 | (1 << 20), 600]),
    ]
    .concat();
    let mut file = encode_record(TRC_TRACE_CPU_CHANGE, None, &[1, records.len() as u32]);
    file.extend(records);
    let dir = temp_dir("xentrace-count");
    let trace = dir.join("trace.bin");
    fs::write(&trace, &file).unwrap();
    let output = run(bin!("xentrace-count"), &[trace.to_str().unwrap()]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "xentrace-count domain=3 hypercalls=2 guest_hypercalls=2 continuations=0 \
         multicall_continuations=0 irets=1 mmu_updates=1 mmu_update_entries=600 mmuext_ops=0 multicalls=0 \
         multicall_entries=0 multicalls_after_incomplete=0\n\
         xentrace-count records=4 lost_records=0 unattributed_hypercalls=0\n"
    );
    fs::write(&trace, &file[..file.len() - 1]).unwrap();
    let output = run(bin!("xentrace-count"), &[trace.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("ends inside the record"),
        "{}",
        stderr(&output)
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// The fault-injection cases are Linux's documented answers: on the
/// host's Linux every case of the groups that are safe to run on a shared
/// machine passes. (`fork-bomb` forks up to 512 processes and `memory`
/// exhausts memory: those run only on our kernel, in QEMU.)
#[test]
fn fault_inject_expectations_hold_on_linux() {
    let output = run(
        bin!("fault-inject"),
        &[
            "pointers",
            "exposure",
            "elf",
            "child-faults",
            "signal-handlers",
            "syscalls",
            "arguments",
        ],
    );
    let text = stdout(&output);
    let failed: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(" FAIL "))
        .collect();
    assert!(
        failed.is_empty(),
        "cases failing on Linux:\n{}",
        failed.join("\n")
    );
    assert!(output.status.success(), "{text}\n{}", stderr(&output));
    assert!(
        text.contains("fault-inject: ") && text.contains(" ok, 0 failed"),
        "{text}"
    );
}
