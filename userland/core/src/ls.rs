//! `ls`'s formats: options, `-l` rows, and columns for a terminal.
//!
//! Follows coreutils `ls` in the C locale: names sorted by bytes, dot
//! files hidden unless `-a`/`-A`, one name per line when the output is not
//! a terminal, vertical columns when it is. Our system has no user
//! database, so `-l` prints numeric owners (like `ls -ln`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::cli::UsageError;
use crate::time::DateTime;
use linux_abi::stat::{decode_dev, FileType, Stat};

/// `ls`'s command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-l`
    pub long: bool,
    /// `-a`: also `.`, `..` and dot files.
    pub all: bool,
    /// `-A`: dot files but not `.` and `..`.
    pub almost_all: bool,
    /// `-1`: one name per line even on a terminal.
    pub one_per_line: bool,
    /// `-d`: list directories themselves, not their contents.
    pub directory: bool,
    /// The operands (empty means `.`).
    pub paths: Vec<String>,
}

impl Options {
    /// Parses `ls [-laA1d] [path...]` (arguments after the program name).
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Options, UsageError> {
        let mut options = Options::default();
        let mut only_operands = false;
        for arg in args {
            if only_operands || arg == "-" || !arg.starts_with('-') {
                options.paths.push(arg.into());
                continue;
            }
            if arg == "--" {
                only_operands = true;
                continue;
            }
            for letter in arg[1..].chars() {
                match letter {
                    'l' => options.long = true,
                    'a' => options.all = true,
                    'A' => options.almost_all = true,
                    '1' => options.one_per_line = true,
                    'd' => options.directory = true,
                    other => return Err(UsageError::InvalidOption(other)),
                }
            }
        }
        Ok(options)
    }

    /// Whether a directory entry called `name` is listed.
    pub fn shows(&self, name: &[u8]) -> bool {
        if name == b"." || name == b".." {
            self.all
        } else if name.first() == Some(&b'.') {
            self.all || self.almost_all
        } else {
            true
        }
    }
}

/// `drwxr-xr-x` for `st_mode`, with setuid/setgid/sticky letters.
pub fn mode_string(mode: u32) -> [u8; 10] {
    let type_letter = match FileType::from_mode(mode) {
        Some(FileType::Directory) => b'd',
        Some(FileType::Symlink) => b'l',
        Some(FileType::CharDevice) => b'c',
        Some(FileType::BlockDevice) => b'b',
        Some(FileType::Fifo) => b'p',
        Some(FileType::Socket) => b's',
        Some(FileType::Regular) => b'-',
        None => b'?',
    };
    let mut text = *b"----------";
    text[0] = type_letter;
    let letters = [b'r', b'w', b'x'];
    for bit in 0..9 {
        if mode & (0o400 >> bit) != 0 {
            text[1 + bit] = letters[bit % 3];
        }
    }
    let special = [
        (0o4000, 3, b's', b'S'),
        (0o2000, 6, b's', b'S'),
        (0o1000, 9, b't', b'T'),
    ];
    for (bit, index, with_execute, without_execute) in special {
        if mode & bit != 0 {
            text[index] = if text[index] == b'x' {
                with_execute
            } else {
                without_execute
            };
        }
    }
    text
}

/// Half a Gregorian year in seconds: coreutils' "recent" limit.
const SIX_MONTHS_SECONDS: i64 = 31_556_952 / 2;

/// The time column of `ls -l`: `Nov 24 04:31` for the last six months,
/// `May 20  2025` otherwise (and for times in the future).
pub fn long_time(mtime: i64, now: i64) -> String {
    let time = DateTime::from_unix(mtime, 0);
    let mut text = String::new();
    let recent = mtime <= now && now - mtime < SIX_MONTHS_SECONDS;
    // Writing into a String cannot fail.
    let _ = if recent {
        write!(
            text,
            "{} {:2} {:02}:{:02}",
            time.month_name(),
            time.day,
            time.hour,
            time.minute
        )
    } else {
        write!(text, "{} {:2}  {}", time.month_name(), time.day, time.year)
    };
    text
}

/// One row of `ls -l` before alignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongRow {
    pub mode: [u8; 10],
    pub links: String,
    pub owner: String,
    pub group: String,
    /// The size, or `major, minor` for a device.
    pub size: String,
    pub time: String,
    /// The name, plus ` -> target` for a symbolic link.
    pub name: String,
}

impl LongRow {
    /// The row for `stat` of the entry `name`.
    pub fn new(stat: &Stat, name: &str, link_target: Option<&str>, now: i64) -> LongRow {
        let mut size = String::new();
        let _ = match FileType::from_mode(stat.st_mode) {
            Some(FileType::CharDevice | FileType::BlockDevice) => {
                let (major, minor) = decode_dev(stat.st_rdev);
                write!(size, "{major}, {minor}")
            }
            _ => write!(size, "{}", stat.st_size),
        };
        let mut name = String::from(name);
        if let Some(target) = link_target {
            name.push_str(" -> ");
            name.push_str(target);
        }
        LongRow {
            mode: mode_string(stat.st_mode),
            links: alloc::format!("{}", stat.st_nlink),
            owner: alloc::format!("{}", stat.st_uid),
            group: alloc::format!("{}", stat.st_gid),
            size,
            // st_mtime is a signed time_t in C; linux-abi stores the bits.
            time: long_time(stat.st_mtime as i64, now),
            name,
        }
    }
}

/// The `ls -l` lines for `rows`, columns right-aligned (names left).
pub fn format_long(rows: &[LongRow]) -> Vec<String> {
    let width = |field: fn(&LongRow) -> &str| rows.iter().map(|row| field(row).len()).max();
    let links = width(|row| &row.links).unwrap_or(0);
    let owner = width(|row| &row.owner).unwrap_or(0);
    let group = width(|row| &row.group).unwrap_or(0);
    let size = width(|row| &row.size).unwrap_or(0);
    rows.iter()
        .map(|row| {
            alloc::format!(
                "{} {:>links$} {:<owner$} {:<group$} {:>size$} {} {}",
                core::str::from_utf8(&row.mode).unwrap_or("??????????"),
                row.links,
                row.owner,
                row.group,
                row.size,
                row.time,
                row.name,
            )
        })
        .collect()
}

/// Lays `names` out in vertical columns for a terminal `width` wide, the
/// way coreutils does: as many columns as fit, each as wide as its longest
/// name plus two spaces (the last column unpadded).
pub fn format_columns(names: &[&str], width: usize) -> Vec<String> {
    if names.is_empty() {
        return Vec::new();
    }
    let lengths: Vec<usize> = names.iter().map(|name| name.chars().count()).collect();
    let mut chosen = (1, alloc::vec![lengths.iter().copied().max().unwrap_or(0)]);
    for columns in (2..=names.len()).rev() {
        let rows = names.len().div_ceil(columns);
        // Skip layouts whose last column would be empty.
        if (columns - 1) * rows >= names.len() {
            continue;
        }
        let widths: Vec<usize> = (0..columns)
            .map(|column| {
                lengths[column * rows..((column + 1) * rows).min(names.len())]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total: usize = widths.iter().sum::<usize>() + 2 * (columns - 1);
        if total <= width {
            chosen = (columns, widths);
            break;
        }
    }
    let (columns, widths) = chosen;
    let rows = names.len().div_ceil(columns);
    (0..rows)
        .map(|row| {
            let mut line = String::new();
            for column in 0..columns {
                let Some(name) = names.get(column * rows + row) else {
                    break;
                };
                let is_last = column + 1 == columns || (column + 1) * rows + row >= names.len();
                line.push_str(name);
                if !is_last {
                    let padding = widths[column] + 2 - lengths[column * rows + row];
                    line.extend(core::iter::repeat_n(' ', padding));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn options_parse_like_coreutils() {
        let options = Options::parse(["-la", "x", "-1", "--", "-y"]).unwrap();
        assert!(options.long && options.all && options.one_per_line);
        assert_eq!(options.paths, ["x", "-y"]);
        assert_eq!(
            Options::parse(["-z"]).unwrap_err(),
            UsageError::InvalidOption('z')
        );
        let plain = Options::parse([]).unwrap();
        assert!(plain.shows(b"file") && !plain.shows(b".hidden") && !plain.shows(b"."));
        let almost = Options::parse(["-A"]).unwrap();
        assert!(almost.shows(b".hidden") && !almost.shows(b".."));
        assert!(Options::parse(["-a"]).unwrap().shows(b".."));
    }

    #[test]
    fn mode_strings_show_type_permissions_and_special_bits() {
        assert_eq!(&mode_string(0o100644), b"-rw-r--r--");
        assert_eq!(&mode_string(0o040755), b"drwxr-xr-x");
        assert_eq!(&mode_string(0o120777), b"lrwxrwxrwx");
        assert_eq!(&mode_string(0o020620), b"crw--w----");
        assert_eq!(&mode_string(0o104755), b"-rwsr-xr-x");
        assert_eq!(&mode_string(0o102644), b"-rw-r-Sr--");
        assert_eq!(&mode_string(0o041777), b"drwxrwxrwt");
        assert_eq!(&mode_string(0o041776), b"drwxrwxrwT");
        assert_eq!(&mode_string(0o000644), b"?rw-r--r--");
    }

    #[test]
    fn times_are_recent_for_six_months() {
        let now = 1_700_000_000; // 2023-11-14 22:13:20
        assert_eq!(long_time(now - 60, now), "Nov 14 22:12");
        assert_eq!(long_time(1_690_000_000, now), "Jul 22 04:26");
        assert_eq!(long_time(1_600_000_000, now), "Sep 13  2020");
        assert_eq!(long_time(now + 3600, now), "Nov 14  2023");
    }

    #[test]
    fn long_rows_align_columns() {
        let file = Stat {
            st_mode: 0o100644,
            st_nlink: 1,
            st_size: 5,
            st_mtime: 1_600_000_000,
            ..Stat::default()
        };
        let directory = Stat {
            st_mode: 0o040755,
            st_nlink: 12,
            st_uid: 1000,
            st_size: 4096,
            st_mtime: 1_600_000_000,
            ..Stat::default()
        };
        let device = Stat {
            st_mode: 0o020666,
            st_nlink: 1,
            st_rdev: (1 << 8) | 3,
            st_mtime: 1_600_000_000,
            ..Stat::default()
        };
        let rows = [
            LongRow::new(&file, "a", None, 1_600_000_100),
            LongRow::new(&directory, "dir", None, 1_600_000_100),
            LongRow::new(&device, "null", None, 1_600_000_100),
            LongRow::new(&file, "l", Some("a"), 1_600_000_100),
        ];
        assert_eq!(
            format_long(&rows),
            [
                "-rw-r--r--  1 0    0    5 Sep 13 12:26 a",
                "drwxr-xr-x 12 1000 0 4096 Sep 13 12:26 dir",
                "crw-rw-rw-  1 0    0 1, 3 Sep 13 12:26 null",
                "-rw-r--r--  1 0    0    5 Sep 13 12:26 l -> a",
            ]
        );
    }

    #[test]
    fn columns_fit_the_terminal() {
        let names = ["a", "bb", "ccc", "dddd", "e"];
        assert_eq!(format_columns(&names, 80), ["a  bb  ccc  dddd  e"]);
        assert_eq!(format_columns(&names, 12), ["a   ccc   e", "bb  dddd"]);
        assert_eq!(format_columns(&names, 1), ["a", "bb", "ccc", "dddd", "e"]);
        assert_eq!(format_columns(&[], 80), Vec::<String>::new());
        // Four names in three columns would leave the last empty: two.
        assert_eq!(
            format_columns(&["aaaa", "b", "c", "d"], 10),
            ["aaaa  c", "b     d"]
        );
        let _ = vec![0];
    }
}
