//! How a person's value is written in a given file: the fields and their formats.

use leaktrace_pii::{nir, phone, text, ColumnType};

use crate::date::Date;
use crate::person::Person;

/// A value of a person, in one written format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Civility,
    /// Surname in upper case (legacy style).
    LastUpper,
    /// Surname in title case.
    LastTitle,
    /// First name as given (accents).
    First,
    /// First name in upper case.
    FirstUpper,
    /// `2 89 05 75 056 123 45`.
    NirSpaced,
    /// `289057505612345`.
    NirCompact,
    BirthIso,
    BirthFrench,
    Age,
    Email,
    /// `+33612345678`.
    PhoneE164,
    /// `06 12 34 56 78`.
    PhoneSpaced,
    /// `0612345678`.
    PhoneCompact,
    PostalCode,
    Commune,
    InseeCode,
    Education,
    /// `true` / `false`.
    LicenceBool,
    CarBool,
    /// `oui` / `non`.
    LicenceOuiNon,
    CarOuiNon,
    Rome,
    Latitude,
    Longitude,
    RegistrationIso,
}

impl Field {
    /// The column type a value of this field has.
    pub fn column_type(self) -> ColumnType {
        use Field::*;
        match self {
            Id => ColumnType::PersonId,
            Civility => ColumnType::Sex,
            LastUpper | LastTitle => ColumnType::LastName,
            First | FirstUpper => ColumnType::FirstName,
            NirSpaced | NirCompact => ColumnType::Nir,
            BirthIso | BirthFrench => ColumnType::BirthDate,
            Age => ColumnType::Age,
            Email => ColumnType::Email,
            PhoneE164 | PhoneSpaced | PhoneCompact => ColumnType::Phone,
            PostalCode => ColumnType::PostalCode,
            Commune => ColumnType::Commune,
            InseeCode => ColumnType::InseeCode,
            Education => ColumnType::EducationLevel,
            LicenceBool | CarBool | LicenceOuiNon | CarOuiNon => ColumnType::Boolean,
            Rome => ColumnType::RomeCode,
            Latitude => ColumnType::Latitude,
            Longitude => ColumnType::Longitude,
            RegistrationIso => ColumnType::Date,
        }
    }

    /// Whether JSON writes this field as a number or boolean rather than a string.
    pub fn json_typed(self) -> bool {
        use Field::*;
        matches!(self, Age | Latitude | Longitude | LicenceBool | CarBool)
    }

    /// Render the person's value as of `at`.
    pub fn render(self, p: &Person, at: Date) -> String {
        use Field::*;
        let yes_no = |b: bool| if b { "oui" } else { "non" }.to_string();
        match self {
            Id => p.id.clone(),
            Civility => if p.sex == 'F' { "Mme" } else { "M." }.to_string(),
            LastUpper => p.last_name.to_uppercase(),
            LastTitle => text::title_case(&p.last_name),
            First => p.first_name.clone(),
            FirstUpper => p.first_name.to_uppercase(),
            NirSpaced => nir::parse(&p.nir)
                .map(|n| n.spaced())
                .unwrap_or_else(|| p.nir.clone()),
            NirCompact => p.nir.clone(),
            BirthIso => p.birth.iso(),
            BirthFrench => p.birth.french(),
            Age => p.birth.age_at(at).to_string(),
            Email => p.email_at(at).to_string(),
            PhoneE164 => p.phone_at(at).to_string(),
            PhoneSpaced => {
                phone::national_spaced(p.phone_at(at)).unwrap_or_else(|| p.phone_at(at).into())
            }
            PhoneCompact => phone::national_spaced(p.phone_at(at))
                .map(|s| s.replace(' ', ""))
                .unwrap_or_else(|| p.phone_at(at).into()),
            PostalCode => p.home_at(at).postal_code.clone(),
            Commune => p.commune_at(at).to_string(),
            InseeCode => leaktrace_pii::refdata::get().communes[p.home_at(at).commune]
                .insee_code
                .clone(),
            Education => p.education.to_string(),
            LicenceBool => p.licence.to_string(),
            CarBool => p.car.to_string(),
            LicenceOuiNon => yes_no(p.licence),
            CarOuiNon => yes_no(p.car),
            Rome => p.rome.to_string(),
            Latitude => format!("{:.5}", p.location_at(at).0),
            Longitude => format!("{:.5}", p.location_at(at).1),
            RegistrationIso => p.registration.iso(),
        }
    }
}

/// A column of an output file: its header and what it holds.
#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    pub field: Field,
}

/// Per column, whether JSON writes it typed (see [`Field::json_typed`]).
pub fn json_types(columns: &[Column]) -> Vec<bool> {
    columns.iter().map(|c| c.field.json_typed()).collect()
}

/// Shorthand to build a column list.
pub fn cols(spec: &[(&str, Field)]) -> Vec<Column> {
    spec.iter()
        .map(|(h, f)| Column {
            header: h.to_string(),
            field: *f,
        })
        .collect()
}
