//! Canary persons: synthetic identities planted in a recipient's delivery, written like its
//! real rows, so that a leak holding one names the recipient.
//!
//! A canary is an invented person of the population model (INSEE name frequencies, a NIR
//! with a valid key, a real commune and postal code) whose phone is drawn from a configured
//! block (by default ARCEP's block of mobile numbers reserved for fiction, `06 39 98 xx xx`)
//! and whose e-mail is on a configured domain (one the organisation owns, so that mail sent to
//! a canary shows it is being used). Its person id copies the shape of the delivery's ids.
//!
//! How many to plant: if a delivery of `N` rows holds `s` canaries and a leak is a uniform
//! sample of `k` of its rows, the leak holds none with probability
//! `C(N−s, k)/C(N, k) ≈ exp(−s·k/N)`: to catch a sample of `k` rows with probability `1 − p`,
//! plant `s = ⌈N·ln(1/p)/k⌉` (see [`canaries_needed`]).

use leaktrace_pii::{text, ColumnType};

use crate::date::Date;
use crate::person::{Person, Versioned};
use crate::render::Field;
use crate::rng::Rng;

/// ARCEP's block of mobile numbers reserved for fiction (`06 39 98 00 00`–`06 39 98 99 99`).
pub const FICTION_PHONE_PREFIX: &str = "063998";

/// How to make canaries.
#[derive(Debug, Clone)]
pub struct CanaryOptions {
    /// Recipient and delivery (source name) the canaries are planted for.
    pub recipient: String,
    pub delivery: String,
    /// Delivery date.
    pub as_of: Date,
    pub count: u64,
    /// Domain of the canaries' e-mail addresses.
    pub email_domain: String,
    /// National digits every canary phone starts with (`063998`); the rest is drawn.
    pub phone_prefix: String,
    /// A person id of the delivery to imitate (digits are redrawn), if any.
    pub id_like: Option<String>,
    pub seed: u64,
}

/// Canaries to plant in a delivery of `rows` rows so that a leaked sample of `sample` rows
/// holds at least one with probability `1 − miss` (miss ≈ exp(−s·k/N)).
pub fn canaries_needed(rows: u64, sample: u64, miss: f64) -> u64 {
    if sample == 0 || rows == 0 {
        return 0;
    }
    ((rows as f64 * (1.0 / miss.clamp(1e-12, 1.0)).ln()) / sample as f64).ceil() as u64
}

/// A stable 64-bit seed from the recipient, delivery and date (FNV-1a): canaries are unique
/// per recipient and delivery, and the same inputs give the same canaries.
pub fn seed_for(recipient: &str, delivery: &str, as_of: Date) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in recipient
        .bytes()
        .chain([0])
        .chain(delivery.bytes())
        .chain([0])
        .chain(as_of.iso().into_bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The canary persons (ids are made unique among themselves; the caller checks them against
/// the enrolled ids).
pub fn canaries(opts: &CanaryOptions) -> Vec<Person> {
    let digits: String = opts
        .phone_prefix
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let national = digits.strip_prefix('0').unwrap_or(&digits).to_string();
    let free = 9usize.saturating_sub(national.len());
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut i = 0u64;
    while (out.len() as u64) < opts.count && i < opts.count * 20 + 100 {
        let mut p = Person::generate(opts.seed, i, true);
        let mut rng = Rng::new(opts.seed, 0xCA_4A27, i);
        i += 1;
        let tail = if free == 0 {
            String::new()
        } else {
            format!("{:0w$}", rng.below(10u64.pow(free as u32)), w = free)
        };
        let phone = format!("+33{national}{tail}");
        let f = text::fold(&p.first_name).to_lowercase().replace(' ', "");
        let l = text::fold(&p.last_name).to_lowercase().replace(' ', "");
        let email = format!("{f}.{l}{}@{}", rng.range(1, 99), opts.email_domain);
        let id = match &opts.id_like {
            Some(like) if like.chars().any(|c| c.is_ascii_digit()) => like
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        char::from(b'0' + rng.below(10) as u8)
                    } else {
                        c
                    }
                })
                .collect(),
            _ => format!("C{:09}", rng.below(1_000_000_000)),
        };
        if !seen.insert(id.clone()) || !seen.insert(phone.clone()) || !seen.insert(email.clone()) {
            continue;
        }
        let since = p.registration.min(opts.as_of);
        p.id = id;
        p.phones = vec![Versioned {
            since,
            value: phone,
        }];
        p.emails = vec![Versioned {
            since,
            value: email,
        }];
        out.push(p);
    }
    out
}

/// How to write a column of type `ty` whose values have `styles` (style → share, as in a
/// format profile) so that a canary looks like the delivery's rows. `None`: left empty.
pub fn field_like(ty: ColumnType, styles: &[(String, f64)]) -> Option<Field> {
    let top = styles
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("", |s| s.0.as_str());
    let has = |k: &str| styles.iter().any(|(s, _)| s == k);
    use ColumnType as T;
    Some(match ty {
        T::PersonId => Field::Id,
        T::Sex => Field::Civility,
        T::LastName if top.starts_with("upper") => Field::LastUpper,
        T::LastName => Field::LastTitle,
        T::FirstName if top.starts_with("upper") => Field::FirstUpper,
        T::FirstName => Field::First,
        T::Nir if top == "spaced" => Field::NirSpaced,
        T::Nir => Field::NirCompact,
        T::BirthDate if top.starts_with("DD/MM") => Field::BirthFrench,
        T::BirthDate => Field::BirthIso,
        T::Age => Field::Age,
        T::Email => Field::Email,
        T::Phone if top.starts_with("+33") => Field::PhoneE164,
        T::Phone if top.contains(' ') => Field::PhoneSpaced,
        T::Phone => Field::PhoneCompact,
        T::PostalCode => Field::PostalCode,
        T::Commune => Field::Commune,
        T::InseeCode => Field::InseeCode,
        T::EducationLevel => Field::Education,
        T::Boolean if has("oui") || has("non") => Field::LicenceOuiNon,
        T::Boolean => Field::LicenceBool,
        T::RomeCode => Field::Rome,
        T::Latitude => Field::Latitude,
        T::Longitude => Field::Longitude,
        T::Date => Field::RegistrationIso,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(count: u64) -> CanaryOptions {
        CanaryOptions {
            recipient: "WebOps".into(),
            delivery: "website".into(),
            as_of: Date::new(2024, 3, 1),
            count,
            email_domain: "canari.example.fr".into(),
            phone_prefix: FICTION_PHONE_PREFIX.into(),
            id_like: Some("FT001234567".into()),
            seed: seed_for("WebOps", "website", Date::new(2024, 3, 1)),
        }
    }

    #[test]
    fn canaries_are_valid_unique_and_deterministic() {
        let a = canaries(&opts(200));
        assert_eq!(a.len(), 200);
        let ids: std::collections::HashSet<_> = a.iter().map(|p| p.id.clone()).collect();
        assert_eq!(ids.len(), 200);
        for p in &a {
            assert!(leaktrace_pii::nir::parse(&p.nir).is_some(), "{}", p.nir);
            assert!(p.phone_at(Date::new(2024, 3, 1)).starts_with("+3363998"));
            assert!(p
                .email_at(Date::new(2024, 3, 1))
                .ends_with("@canari.example.fr"));
            assert!(p.id.starts_with("FT") && p.id.len() == 11);
        }
        let b = canaries(&opts(200));
        assert_eq!(
            a.iter().map(|p| &p.id).collect::<Vec<_>>(),
            b.iter().map(|p| &p.id).collect::<Vec<_>>()
        );
        // Another delivery, other canaries.
        let mut o = opts(200);
        o.seed = seed_for("WebOps", "website", Date::new(2025, 9, 1));
        let c = canaries(&o);
        assert!(c.iter().all(|p| !ids.contains(&p.id) || p.nir != a[0].nir));
    }

    #[test]
    fn how_many_to_plant() {
        // 1 M rows, a 10 000-row sample, 1 % miss: 461 canaries; exp(−461·10 000/10⁶) ≈ 0.01.
        assert_eq!(canaries_needed(1_000_000, 10_000, 0.01), 461);
        assert!((-(461.0f64) * 10_000.0 / 1e6).exp() <= 0.01);
        assert_eq!(canaries_needed(0, 10, 0.01), 0);
    }

    #[test]
    fn formats_follow_the_styles() {
        let s = |k: &str| vec![(k.to_string(), 1.0)];
        assert_eq!(
            field_like(ColumnType::Phone, &s("+33XXXXXXXXX")),
            Some(Field::PhoneE164)
        );
        assert_eq!(
            field_like(ColumnType::Phone, &s("0X XX XX XX XX")),
            Some(Field::PhoneSpaced)
        );
        assert_eq!(
            field_like(ColumnType::LastName, &s("upper/ascii")),
            Some(Field::LastUpper)
        );
        assert_eq!(
            field_like(ColumnType::BirthDate, &s("DD/MM/YYYY")),
            Some(Field::BirthFrench)
        );
        assert_eq!(field_like(ColumnType::Text, &[]), None);
    }
}
