//! Calendar and duration arithmetic: civil dates, `date` formats, `ps`
//! and `uptime` durations, `sleep` arguments.
//!
//! There is no time-zone database in our system: every calendar time is
//! UTC. [`civil_from_days`] is Howard Hinnant's algorithm
//! ("chrono-Compatible Low-Level Date Algorithms"), exact for the
//! proleptic Gregorian calendar over the whole `i64` day range we use.

use core::fmt::{self, Write};

/// Seconds in a day.
const DAY_SECONDS: i64 = 86_400;
/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A UTC calendar time, as `gmtime` would give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0..1_000_000_000
    pub nanosecond: u32,
    /// 0 = Sunday
    pub weekday: u32,
    /// 1..=366
    pub day_of_year: u32,
    /// The Unix time this was made from.
    pub unix_seconds: i64,
}

/// Year, month (1..=12), day (1..=31) of day number `days` since
/// 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day number since 1970-01-01 of a civil date (inverse of
/// [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

impl DateTime {
    /// The UTC calendar time of a Unix time.
    pub fn from_unix(seconds: i64, nanosecond: u32) -> DateTime {
        let days = seconds.div_euclid(DAY_SECONDS);
        let second_of_day = seconds.rem_euclid(DAY_SECONDS) as u32;
        let (year, month, day) = civil_from_days(days);
        let day_of_year = (days - days_from_civil(year, 1, 1)) as u32 + 1;
        DateTime {
            year,
            month,
            day,
            hour: second_of_day / 3600,
            minute: second_of_day / 60 % 60,
            second: second_of_day % 60,
            nanosecond,
            weekday: (days + 4).rem_euclid(7) as u32,
            day_of_year,
            unix_seconds: seconds,
        }
    }

    /// Three-letter English month name.
    pub fn month_name(&self) -> &'static str {
        MONTH_NAMES[(self.month - 1) as usize]
    }

    /// Three-letter English weekday name.
    pub fn weekday_name(&self) -> &'static str {
        WEEKDAY_NAMES[self.weekday as usize]
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC`, the default output of our `date`.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// An unknown conversion in a `date +FORMAT` string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatError(pub char);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsupported conversion %{}", self.0)
    }
}

/// Expands a `strftime` subset as coreutils `date -u +FORMAT` does:
/// `%Y %m %d %H %M %S %y %b %a %e %j %F %T %D %R %s %N %Z %z %n %t %%`.
/// Any other conversion is an error (nothing is written for it).
pub fn strftime(format: &str, time: &DateTime, out: &mut dyn Write) -> Result<(), FormatError> {
    let mut chars = format.chars();
    let result = (|| -> Result<Result<(), FormatError>, fmt::Error> {
        while let Some(c) = chars.next() {
            if c != '%' {
                out.write_char(c)?;
                continue;
            }
            let Some(conversion) = chars.next() else {
                out.write_char('%')?;
                break;
            };
            match conversion {
                'Y' => write!(out, "{}", time.year)?,
                'y' => write!(out, "{:02}", time.year.rem_euclid(100))?,
                'm' => write!(out, "{:02}", time.month)?,
                'd' => write!(out, "{:02}", time.day)?,
                'e' => write!(out, "{:2}", time.day)?,
                'H' => write!(out, "{:02}", time.hour)?,
                'M' => write!(out, "{:02}", time.minute)?,
                'S' => write!(out, "{:02}", time.second)?,
                'j' => write!(out, "{:03}", time.day_of_year)?,
                'b' | 'h' => out.write_str(time.month_name())?,
                'a' => out.write_str(time.weekday_name())?,
                'F' => write!(out, "{}-{:02}-{:02}", time.year, time.month, time.day)?,
                'T' => write!(
                    out,
                    "{:02}:{:02}:{:02}",
                    time.hour, time.minute, time.second
                )?,
                'R' => write!(out, "{:02}:{:02}", time.hour, time.minute)?,
                'D' => write!(
                    out,
                    "{:02}/{:02}/{:02}",
                    time.month,
                    time.day,
                    time.year.rem_euclid(100)
                )?,
                's' => write!(out, "{}", time.unix_seconds)?,
                'N' => write!(out, "{:09}", time.nanosecond)?,
                'Z' => out.write_str("UTC")?,
                'z' => out.write_str("+0000")?,
                'n' => out.write_char('\n')?,
                't' => out.write_char('\t')?,
                '%' => out.write_char('%')?,
                other => return Ok(Err(FormatError(other))),
            }
        }
        Ok(Ok(()))
    })();
    // A formatting error of the sink (a full buffer) ends the output early;
    // the caller's writer decides what that means.
    result.unwrap_or(Ok(()))
}

/// procps `etime`: `[[DD-]hh:]mm:ss`.
pub struct Elapsed(pub u64);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0;
        let (days, hours, minutes, secs) = (
            seconds / 86_400,
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60,
        );
        let mut buffer = crate::fmt::StackString::<32>::new();
        if days > 0 {
            let _ = write!(buffer, "{days}-{hours:02}:{minutes:02}:{secs:02}");
        } else if hours > 0 {
            let _ = write!(buffer, "{hours:02}:{minutes:02}:{secs:02}");
        } else {
            let _ = write!(buffer, "{minutes:02}:{secs:02}");
        }
        f.pad(buffer.as_str())
    }
}

/// procps `time` (cumulative CPU time): `[DD-]HH:MM:SS`.
pub struct CpuTime(pub u64);

impl fmt::Display for CpuTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0;
        let (days, hours, minutes, secs) = (
            seconds / 86_400,
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60,
        );
        let mut buffer = crate::fmt::StackString::<32>::new();
        if days > 0 {
            let _ = write!(buffer, "{days}-{hours:02}:{minutes:02}:{secs:02}");
        } else {
            let _ = write!(buffer, "{hours:02}:{minutes:02}:{secs:02}");
        }
        f.pad(buffer.as_str())
    }
}

/// The uptime part of procps `uptime`: `3 days,  2:01` or `5 min`.
pub struct UptimeSpan(pub u64);

impl fmt::Display for UptimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0 / 86_400;
        let hours = self.0 / 3600 % 24;
        let minutes = self.0 / 60 % 60;
        if days > 0 {
            write!(f, "{days} day{}, ", if days == 1 { "" } else { "s" })?;
        }
        if hours > 0 {
            write!(f, "{hours:2}:{minutes:02}")
        } else {
            write!(f, "{minutes} min")
        }
    }
}

/// procps `uptime -p`: `up 2 days, 3 hours, 1 minute`.
pub struct PrettyUptime(pub u64);

impl fmt::Display for PrettyUptime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            (self.0 / 86_400, "day"),
            (self.0 / 3600 % 24, "hour"),
            (self.0 / 60 % 60, "minute"),
        ];
        f.write_str("up ")?;
        let mut first = true;
        for (count, unit) in parts {
            if count == 0 {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{count} {unit}{}", if count == 1 { "" } else { "s" })?;
        }
        if first {
            f.write_str("0 minutes")?;
        }
        Ok(())
    }
}

/// Parses a non-negative decimal number with up to 9 fractional digits
/// (more are truncated) into billionths: `"1.25"` is `1_250_000_000`.
pub fn parse_decimal_nanos(text: &str) -> Option<u64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = 0u64;
    let mut scale = NANOS_PER_SECOND / 10;
    for digit in fraction.bytes().take(9) {
        nanos += u64::from(digit - b'0') * scale;
        scale /= 10;
    }
    whole.checked_mul(NANOS_PER_SECOND)?.checked_add(nanos)
}

/// One `sleep` argument: `NUMBER[smhd]` (fractions allowed), in ns.
pub fn parse_sleep_argument(text: &str) -> Option<u64> {
    let (number, multiplier) = match text.as_bytes().last()? {
        b's' => (&text[..text.len() - 1], 1),
        b'm' => (&text[..text.len() - 1], 60),
        b'h' => (&text[..text.len() - 1], 3600),
        b'd' => (&text[..text.len() - 1], 86_400),
        _ => (text, 1),
    };
    parse_decimal_nanos(number)?.checked_mul(multiplier)
}

/// Whether `year` has 366 days (kept public for `ls`'s six-month rule).
pub fn days_in_year(year: i64) -> i64 {
    if is_leap_year(year) {
        366
    } else {
        365
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    #[test]
    fn civil_dates_of_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        // 2038-01-19, the 32-bit time_t limit.
        assert_eq!(civil_from_days(24_855), (2038, 1, 19));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }

    #[test]
    fn civil_round_trips_over_a_wide_range() {
        let mut previous = civil_from_days(-800_000);
        for days in -799_999..800_000 {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
            // Consecutive days advance by exactly one calendar day.
            let (prev_year, prev_month, prev_day) = previous;
            if day == 1 {
                assert!(month == prev_month % 12 + 1);
                if month == 1 {
                    assert_eq!(year, prev_year + 1);
                }
            } else {
                assert_eq!((year, month, day - 1), (prev_year, prev_month, prev_day));
            }
            previous = (year, month, day);
        }
    }

    #[test]
    fn unix_times_format_like_date_u() {
        let time = DateTime::from_unix(0, 0);
        assert_eq!(format!("{time}"), "1970-01-01 00:00:00 UTC");
        assert_eq!(time.weekday_name(), "Thu");
        // date -u -d @1700000000 -> Tue Nov 14 22:13:20 UTC 2023
        let time = DateTime::from_unix(1_700_000_000, 5);
        assert_eq!(format!("{time}"), "2023-11-14 22:13:20 UTC");
        assert_eq!(time.weekday_name(), "Tue");
        assert_eq!(time.day_of_year, 318);
        let time = DateTime::from_unix(-1, 0);
        assert_eq!(format!("{time}"), "1969-12-31 23:59:59 UTC");
        assert_eq!(DateTime::from_unix(951_782_400, 0).day_of_year, 60);
    }

    fn expand(format: &str, time: &DateTime) -> Result<String, FormatError> {
        let mut out = String::new();
        strftime(format, time, &mut out).map(|()| out)
    }

    #[test]
    fn strftime_subset_matches_coreutils() {
        let time = DateTime::from_unix(1_700_000_000, 123);
        assert_eq!(
            expand("%a %b %e %H:%M:%S %Z %Y", &time).unwrap(),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
        assert_eq!(
            expand("%F %T %s.%N %z %j %y %D %R%%", &time).unwrap(),
            "2023-11-14 22:13:20 1700000000.000000123 +0000 318 23 11/14/23 22:13%"
        );
        assert_eq!(expand("%e|", &DateTime::from_unix(0, 0)).unwrap(), " 1|");
        assert_eq!(expand("x%", &time).unwrap(), "x%");
        assert_eq!(expand("%Q", &time), Err(FormatError('Q')));
    }

    #[test]
    fn durations_format_like_procps() {
        assert_eq!(format!("{}", Elapsed(5)), "00:05");
        assert_eq!(format!("{}", Elapsed(3 * 3600 + 62)), "03:01:02");
        assert_eq!(format!("{}", Elapsed(2 * 86_400 + 61)), "2-00:01:01");
        assert_eq!(format!("{:>11}", Elapsed(65)), "      01:05");
        assert_eq!(format!("{}", CpuTime(0)), "00:00:00");
        assert_eq!(format!("{}", CpuTime(86_400 + 3661)), "1-01:01:01");
        assert_eq!(format!("{}", UptimeSpan(3900)), " 1:05");
        assert_eq!(format!("{}", UptimeSpan(300)), "5 min");
        assert_eq!(format!("{}", UptimeSpan(86_400 + 7200)), "1 day,  2:00");
        assert_eq!(format!("{}", UptimeSpan(3 * 86_400 + 60)), "3 days, 1 min");
        assert_eq!(format!("{}", PrettyUptime(0)), "up 0 minutes");
        assert_eq!(
            format!("{}", PrettyUptime(86_400 + 3600 + 120)),
            "up 1 day, 1 hour, 2 minutes"
        );
    }

    #[test]
    fn sleep_arguments_accept_fractions_and_suffixes() {
        assert_eq!(parse_sleep_argument("0.2"), Some(200_000_000));
        assert_eq!(parse_sleep_argument(".5"), Some(500_000_000));
        assert_eq!(parse_sleep_argument("3"), Some(3_000_000_000));
        assert_eq!(parse_sleep_argument("1.5m"), Some(90_000_000_000));
        assert_eq!(parse_sleep_argument("2h"), Some(7_200_000_000_000));
        assert_eq!(parse_sleep_argument("1d"), Some(86_400_000_000_000));
        assert_eq!(parse_sleep_argument("0.0000000019"), Some(1));
        assert_eq!(parse_sleep_argument("1s"), Some(1_000_000_000));
        for bad in [
            "",
            ".",
            "s",
            "-1",
            "1x",
            "1.2.3",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(parse_sleep_argument(bad), None, "{bad:?}");
        }
        assert_eq!(days_in_year(2000), 366);
        assert_eq!(days_in_year(1900), 365);
    }
}
