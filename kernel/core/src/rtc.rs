//! Decoding the PC's CMOS real-time clock into Unix time.
//!
//! As dom0 the kernel may read the RTC (ports 0x70/0x71; Xen emulates the
//! access for the hardware domain). That is the host clock QEMU gives the
//! machine, an independent check of Xen's wall clock. Register layout from
//! the MC146818 data sheet: seconds 0x00, minutes 0x02, hours 0x04, day
//! 0x07, month 0x08, year 0x09, status B 0x0b (bit 2 = binary, bit 1 =
//! 24-hour).

/// Raw RTC registers as read, before BCD decoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcRegisters {
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub day: u8,
    pub month: u8,
    pub year: u8,
    pub status_b: u8,
}

/// The registers do not describe a valid date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidRtc(pub RtcRegisters);

impl core::fmt::Display for InvalidRtc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RTC registers do not form a valid date: {:?}", self.0)
    }
}

fn bcd(value: u8) -> u8 {
    (value >> 4) * 10 + (value & 0x0f)
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month as i64 + 9) % 12; // March = 0
    let day_of_year = (153 * month_index + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

impl RtcRegisters {
    /// Seconds since the Unix epoch; years 00-99 are taken as 2000-2099.
    pub fn to_unix_seconds(&self) -> Result<u64, InvalidRtc> {
        let binary = self.status_b & 0x04 != 0;
        let twenty_four_hour = self.status_b & 0x02 != 0;
        let decode = |v: u8| if binary { v } else { bcd(v) };
        let pm = !twenty_four_hour && self.hours & 0x80 != 0;
        let mut hours = decode(self.hours & 0x7f);
        if !twenty_four_hour {
            hours %= 12;
            if pm {
                hours += 12;
            }
        }
        let (seconds, minutes) = (decode(self.seconds), decode(self.minutes));
        let (day, month, year) = (decode(self.day), decode(self.month), decode(self.year));
        if seconds > 59
            || minutes > 59
            || hours > 23
            || !(1..=31).contains(&day)
            || !(1..=12).contains(&month)
            || year > 99
        {
            return Err(InvalidRtc(*self));
        }
        let days = days_from_civil(2000 + year as i64, month as u32, day as u32);
        Ok(days as u64 * 86_400 + hours as u64 * 3600 + minutes as u64 * 60 + seconds as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 24), 20_781);
    }

    #[test]
    fn decodes_bcd_24_hour() {
        // 2026-11-24 03:26:56 UTC = 1795490816.
        let registers = RtcRegisters {
            seconds: 0x56,
            minutes: 0x26,
            hours: 0x03,
            day: 0x24,
            month: 0x11,
            year: 0x26,
            status_b: 0x02,
        };
        assert_eq!(registers.to_unix_seconds(), Ok(1_795_490_816));
    }

    #[test]
    fn decodes_binary_12_hour_pm() {
        let registers = RtcRegisters {
            seconds: 0,
            minutes: 0,
            hours: 0x80 | 1,
            day: 1,
            month: 1,
            year: 0,
            status_b: 0x04,
        };
        assert_eq!(registers.to_unix_seconds(), Ok(946_684_800 + 13 * 3600));
    }

    #[test]
    fn rejects_garbage() {
        let registers = RtcRegisters {
            seconds: 0xff,
            ..RtcRegisters::default()
        };
        assert!(registers.to_unix_seconds().is_err());
    }
}
