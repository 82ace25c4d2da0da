//! Civil dates as day numbers (days since 1970-01-01), without a date crate.

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Build a date (not validated).
    pub const fn new(year: i32, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        leaktrace_pii::date::Ymd {
            year: self.year,
            month: self.month,
            day: self.day,
        }
        .days()
    }

    /// The date of a day number.
    pub fn from_days(z: i64) -> Date {
        let d = leaktrace_pii::date::Ymd::from_days(z);
        Date::new(d.year, d.month, d.day)
    }

    /// `yyyy-mm-dd`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `dd/mm/yyyy`.
    pub fn french(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// Parse `yyyy-mm-dd`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(Date::new(y, m, d))
    }

    /// Whole years between `self` (a birth date) and `at`.
    pub fn age_at(self, at: Date) -> i32 {
        let mut a = at.year - self.year;
        if (at.month, at.day) < (self.month, self.day) {
            a -= 1;
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for z in -30_000..30_000 {
            assert_eq!(Date::from_days(z).days(), z);
        }
        assert_eq!(Date::new(1970, 1, 1).days(), 0);
        assert_eq!(Date::new(2000, 3, 1).iso(), "2000-03-01");
        assert_eq!(Date::parse_iso("2022-02-28"), Some(Date::new(2022, 2, 28)));
        assert_eq!(Date::new(1990, 5, 10).age_at(Date::new(2020, 5, 9)), 29);
    }
}
