//! `ls [-laA1d] [path...]`: lists directories, like coreutils `ls` in the
//! C locale (formats in `userland_core::ls`).
//!
//! Operands that are not directories (or all of them, with `-d`) are
//! listed first, then each directory's entries under a `dir:` heading when
//! there are several operands. Names are sorted by bytes. A terminal
//! (`TCGETS` succeeds) gets columns as wide as `TIOCGWINSZ` says (80 if it
//! cannot tell), anything else one name per line. `-l` shows numeric
//! owners: there is no user database. Exit status 2 if an operand cannot
//! be accessed, 1 if a directory cannot be read, like coreutils.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use linux_abi::stat::{FileType, Stat};
use userland_core::ls::{format_columns, format_long, LongRow, Options};
use userland_core::strerror;
use userland_core::Errno;
use userland_rt::{eprintln, println, program_name, read_dir, sys, Args, Env, Fd};

userland_rt::entry!(main);

/// One name to show and what is known about it.
struct Item {
    /// The name as shown (an entry name, or the operand as given).
    name: String,
    /// The path to stat it by.
    path: Vec<u8>,
}

struct Lister {
    options: Options,
    now: i64,
    terminal_width: Option<usize>,
    status: i32,
}

impl Lister {
    /// Prints `items` (already filtered and sorted) in the chosen format.
    fn show(&mut self, items: &[Item], with_total: bool) {
        if self.options.long {
            let mut rows = Vec::new();
            let mut blocks_kib: i64 = 0;
            for item in items {
                match sys::lstat(&item.path) {
                    Ok(stat) => {
                        blocks_kib += (stat.st_blocks + 1) / 2;
                        let target = link_target(&stat, &item.path);
                        rows.push(LongRow::new(&stat, &item.name, target.as_deref(), self.now));
                    }
                    Err(error) => {
                        eprintln!(
                            "{}: cannot access '{}': {}",
                            program_name(),
                            item.name,
                            strerror(error)
                        );
                        self.status = self.status.max(1);
                    }
                }
            }
            if with_total {
                println!("total {blocks_kib}");
            }
            for line in format_long(&rows) {
                println!("{line}");
            }
        } else if let Some(width) = self.terminal_width {
            let names: Vec<&str> = items.iter().map(|item| item.name.as_str()).collect();
            for line in format_columns(&names, width) {
                println!("{line}");
            }
        } else {
            for item in items {
                println!("{}", item.name);
            }
        }
    }

    /// Lists the directory `path`.
    fn list_directory(&mut self, path: &str) {
        let entries = match read_dir(path) {
            Ok(entries) => entries,
            Err(error) => {
                let error = strerror(error);
                eprintln!(
                    "{}: cannot open directory '{path}': {error}",
                    program_name()
                );
                self.status = self.status.max(2);
                return;
            }
        };
        let mut names: Vec<Vec<u8>> = entries
            .into_iter()
            .map(|entry| entry.name)
            .filter(|name| self.options.shows(name))
            .collect();
        names.sort();
        let items: Vec<Item> = names
            .into_iter()
            .map(|name| {
                let mut full = Vec::from(path.as_bytes());
                if !full.ends_with(b"/") {
                    full.push(b'/');
                }
                full.extend_from_slice(&name);
                Item {
                    name: String::from_utf8_lossy(&name).into_owned(),
                    path: full,
                }
            })
            .collect();
        self.show(&items, true);
    }
}

/// The target of a symbolic link, for `-l`.
fn link_target(stat: &Stat, path: &[u8]) -> Option<String> {
    if FileType::from_mode(stat.st_mode) != Some(FileType::Symlink) {
        return None;
    }
    let mut buffer = [0u8; 4096];
    let len = sys::readlink(path, &mut buffer).ok()?;
    Some(String::from_utf8_lossy(&buffer[..len]).into_owned())
}

fn main(args: Args, _env: Env) -> i32 {
    let options = match args.operands().map(Options::parse) {
        Ok(Ok(options)) => options,
        Ok(Err(error)) => {
            eprintln!("{}: {error}", program_name());
            return 2;
        }
        Err(_) => {
            eprintln!("{}: arguments must be UTF-8", program_name());
            return 2;
        }
    };
    let terminal_width = if options.one_per_line || !sys::isatty(Fd::STDOUT) {
        None
    } else {
        Some(
            sys::window_size(Fd::STDOUT)
                .ok()
                .map(|size| usize::from(size.ws_col))
                .filter(|&columns| columns > 0)
                .unwrap_or(80),
        )
    };
    let now = sys::clock_gettime(sys::Clock::Realtime).map_or(0, |time| time.tv_sec);
    let mut operands = options.paths.clone();
    if operands.is_empty() {
        operands.push(".".to_string());
    }
    operands.sort();
    let mut lister = Lister {
        options,
        now,
        terminal_width,
        status: 0,
    };

    let mut files = Vec::new();
    let mut directories = Vec::new();
    for operand in &operands {
        // Without -l, a link to a directory given by name is followed.
        let stat = if lister.options.long || lister.options.directory {
            sys::lstat(operand)
        } else {
            sys::stat(operand).or_else(|_: Errno| sys::lstat(operand))
        };
        match stat {
            Ok(stat)
                if FileType::from_mode(stat.st_mode) == Some(FileType::Directory)
                    && !lister.options.directory =>
            {
                directories.push(operand.clone());
            }
            Ok(_) => files.push(Item {
                name: operand.clone(),
                path: Vec::from(operand.as_bytes()),
            }),
            Err(error) => {
                eprintln!(
                    "{}: cannot access '{operand}': {}",
                    program_name(),
                    strerror(error)
                );
                lister.status = 2;
            }
        }
    }
    if !files.is_empty() {
        lister.show(&files, false);
    }
    let headings = operands.len() > 1;
    for (index, directory) in directories.iter().enumerate() {
        if index > 0 || !files.is_empty() {
            println!();
        }
        if headings {
            println!("{directory}:");
        }
        lister.list_directory(directory);
    }
    lister.status
}
