//! Calendar dates as they appear in files: `1982-08-02`, `1982/08/02`, `02/08/1982`, `02-08-1982`,
//! `02.08.1982`, `19820802`, with an optional time part (`1982-08-02T00:00:00`, `… 00:00:00`).

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Ymd {
    /// ISO 8601 form, `1982-08-02`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day number (days since 1970-01-01; Howard Hinnant's algorithm).
    pub fn from_days(z: i64) -> Ymd {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Ymd {
            year: (y + i64::from(month <= 2)) as i32,
            month,
            day,
        }
    }

    /// Completed years between `self` and `at`.
    pub fn age_at(self, at: Ymd) -> i32 {
        let mut a = at.year - self.year;
        if (at.month, at.day) < (self.month, self.day) {
            a -= 1;
        }
        a
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parse a date in the usual French and ISO layouts; `None` when it is not a real date
/// between 1900 and 2100. Day-first is assumed for `dd/mm/yyyy` (the French convention).
///
/// Layouts: year first or last, split by `-`, `/` or `.` (`1982-08-02`, `1982/08/02`,
/// `1982.08.02`, `02/08/1982`, `02-08-1982`, `02.08.1982`, `2/8/1982`), or eight digits
/// (`19820802`, else `02081982`); an optional time part after `T` or a space
/// (`1982-08-02T00:00:00`, `02/08/1982 00:00`). Enrolment, analysis and `scan` all read dates
/// through this function, so a date is the same date whatever its layout.
pub fn parse(s: &str) -> Option<Ymd> {
    let s = s.trim();
    // Drop a time part (it must start with a digit: `2020-01-01 foo` is no date).
    let s = match s.find(['T', ' ']) {
        Some(i) => {
            let rest = s[i + 1..].trim_start();
            if !rest.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            &s[..i]
        }
        None => s,
    };
    let (y, m, d) = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
        let iso = (n(0..4)?, n(4..6)?, n(6..8)?);
        if valid(iso.0 as i32, iso.1, iso.2) {
            iso
        } else {
            (n(4..8)?, n(2..4)?, n(0..2)?)
        }
    } else {
        let mut parts = s.split(['/', '-', '.']);
        let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
        if !(digits(a) && digits(b) && digits(c)) {
            return None;
        }
        if a.len() == 4 {
            (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?)
        } else if c.len() == 4 {
            (c.parse().ok()?, b.parse().ok()?, a.parse().ok()?)
        } else {
            return None;
        }
    };
    let y = y as i32;
    valid(y, m, d).then_some(Ymd {
        year: y,
        month: m,
        day: d,
    })
}

/// Whether `y-m-d` is a real date between 1900 and 2100.
fn valid(y: i32, m: u32, d: u32) -> bool {
    (1900..=2100).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layouts() {
        let want = Some(Ymd {
            year: 1982,
            month: 8,
            day: 2,
        });
        for s in [
            "1982-08-02",
            "02/08/1982",
            "02-08-1982",
            "02.08.1982",
            "19820802",
            "1982-08-02T00:00:00",
            "1982/08/02",
            "1982.08.02",
            "02081982",
            "02/08/1982 00:00",
            "2/8/1982",
            " 1982-08-02 00:00:00",
        ] {
            assert_eq!(parse(s), want, "{s}");
        }
        for s in [
            "",
            "1982-02-30",
            "31/04/1990",
            "1899-01-01",
            "12/12/12",
            "abc",
            "1982-08-02-01",
            "13/13/2000",
            "1982-08-02 foo",
            "19821302",
            "1982080",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
        assert_eq!(
            parse("29/02/2000").map(Ymd::iso).as_deref(),
            Some("2000-02-29")
        );
        assert_eq!(parse("29/02/1900"), None);
    }

    #[test]
    fn days_and_age() {
        assert_eq!(parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(parse("2000-03-01").unwrap().days(), 11_017);
        let b = parse("1982-08-02").unwrap();
        assert_eq!(b.age_at(parse("2026-08-01").unwrap()), 43);
        assert_eq!(b.age_at(parse("2026-08-02").unwrap()), 44);
    }

    proptest! {
        #[test]
        fn iso_round_trip(y in 1900i32..2100, m in 1u32..=12, d in 1u32..=28) {
            let ymd = Ymd { year: y, month: m, day: d };
            prop_assert_eq!(parse(&ymd.iso()), Some(ymd));
            prop_assert_eq!(parse(&format!("{d:02}/{m:02}/{y}")), Some(ymd));
        }

        #[test]
        fn every_layout_is_the_same_date(days in -25_000i64..47_000, layout in 0usize..9,
                                         time in proptest::bool::ANY) {
            let ymd = Ymd::from_days(days);
            let (y, m, d) = (ymd.year, ymd.month, ymd.day);
            let s = match layout {
                0 => format!("{y:04}-{m:02}-{d:02}"),
                1 => format!("{y:04}/{m:02}/{d:02}"),
                2 => format!("{y:04}.{m:02}.{d:02}"),
                3 => format!("{y:04}{m:02}{d:02}"),
                4 => format!("{d:02}/{m:02}/{y:04}"),
                5 => format!("{d:02}-{m:02}-{y:04}"),
                6 => format!("{d:02}.{m:02}.{y:04}"),
                7 => format!("{d}/{m}/{y}"),
                _ => format!("{y:04}-{m}-{d}"),
            };
            let s = if time { format!("{s} 12:30:00") } else { s };
            prop_assert_eq!(parse(&s), Some(ymd), "{}", s);
        }

        #[test]
        fn never_panics(s in ".{0,24}") {
            let _ = parse(&s);
        }
    }
}
