use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The type of a column of personal data. This vocabulary is shared by every command;
/// its snake-case names (`nir`, `last_name`, …) are part of the JSON outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// French social security number (NIR), 13 digits + 2-digit key.
    Nir,
    Email,
    /// Phone number (French forms 0x, +33, 0033 with any separators, or international).
    Phone,
    LastName,
    FirstName,
    /// First and last name in one field.
    FullName,
    BirthDate,
    Age,
    Sex,
    PostalCode,
    /// INSEE commune code (5 characters, 2A/2B for Corsica).
    InseeCode,
    Commune,
    Address,
    Latitude,
    Longitude,
    /// France Travail ROME job code (letter + 4 digits).
    RomeCode,
    EducationLevel,
    Boolean,
    Iban,
    PasswordHash,
    Password,
    IpAddress,
    /// The organisation's own identifier for a person.
    PersonId,
    /// Any other identifier of a person: customer or account number, foreign social security
    /// number, matricule. Compared exactly, after [`crate::ident::normalize`].
    Identifier,
    Date,
    Number,
    Text,
    Unknown,
}

impl ColumnType {
    /// Every type, in a stable order.
    pub const ALL: [ColumnType; 28] = [
        ColumnType::Nir,
        ColumnType::Email,
        ColumnType::Phone,
        ColumnType::LastName,
        ColumnType::FirstName,
        ColumnType::FullName,
        ColumnType::BirthDate,
        ColumnType::Age,
        ColumnType::Sex,
        ColumnType::PostalCode,
        ColumnType::InseeCode,
        ColumnType::Commune,
        ColumnType::Address,
        ColumnType::Latitude,
        ColumnType::Longitude,
        ColumnType::RomeCode,
        ColumnType::EducationLevel,
        ColumnType::Boolean,
        ColumnType::Iban,
        ColumnType::PasswordHash,
        ColumnType::Password,
        ColumnType::IpAddress,
        ColumnType::PersonId,
        ColumnType::Identifier,
        ColumnType::Date,
        ColumnType::Number,
        ColumnType::Text,
        ColumnType::Unknown,
    ];

    /// The snake-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Nir => "nir",
            ColumnType::Email => "email",
            ColumnType::Phone => "phone",
            ColumnType::LastName => "last_name",
            ColumnType::FirstName => "first_name",
            ColumnType::FullName => "full_name",
            ColumnType::BirthDate => "birth_date",
            ColumnType::Age => "age",
            ColumnType::Sex => "sex",
            ColumnType::PostalCode => "postal_code",
            ColumnType::InseeCode => "insee_code",
            ColumnType::Commune => "commune",
            ColumnType::Address => "address",
            ColumnType::Latitude => "latitude",
            ColumnType::Longitude => "longitude",
            ColumnType::RomeCode => "rome_code",
            ColumnType::EducationLevel => "education_level",
            ColumnType::Boolean => "boolean",
            ColumnType::Iban => "iban",
            ColumnType::PasswordHash => "password_hash",
            ColumnType::Password => "password",
            ColumnType::IpAddress => "ip_address",
            ColumnType::PersonId => "person_id",
            ColumnType::Identifier => "identifier",
            ColumnType::Date => "date",
            ColumnType::Number => "number",
            ColumnType::Text => "text",
            ColumnType::Unknown => "unknown",
        }
    }

    /// Whether values of this type identify or describe a person (personal data),
    /// as opposed to generic types such as `number` or `text`.
    pub fn is_personal(self) -> bool {
        !matches!(
            self,
            ColumnType::Date | ColumnType::Number | ColumnType::Text | ColumnType::Unknown
        )
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when parsing an unknown column-type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown column type `{0}` (expected one of: nir, email, phone, last_name, …)")]
pub struct UnknownColumnType(pub String);

impl FromStr for ColumnType {
    type Err = UnknownColumnType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        ColumnType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or(UnknownColumnType(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in ColumnType::ALL {
            assert_eq!(t.as_str().parse::<ColumnType>().unwrap(), t);
            assert_eq!(
                serde_json::to_string(&t).unwrap_or_else(|_| format!("\"{}\"", t.as_str())),
                format!("\"{}\"", t.as_str())
            );
        }
        assert!("nope".parse::<ColumnType>().is_err());
    }
}
