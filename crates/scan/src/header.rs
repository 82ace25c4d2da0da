//! Header evidence: French and English column-name synonyms.

use leaktrace_pii::{text, ColumnType};

/// The type a column name suggests, if any. Names are folded (case, accents, punctuation).
pub fn hint(name: &str) -> Option<ColumnType> {
    use ColumnType::*;
    let f = text::fold(name);
    let words: Vec<&str> = f.split(' ').collect();
    let has = |w: &str| words.contains(&w);
    let joined = f.replace(' ', "");
    let table: &[(&[&str], ColumnType)] = &[
        (
            &["NIR", "SECU", "NUMSS", "NSS", "SECURITESOCIALE", "NUMSECU"],
            Nir,
        ),
        (
            &[
                "EMAIL",
                "MAIL",
                "COURRIEL",
                "EMAILADDRESS",
                "ADRESSEMAIL",
                "MEL",
            ],
            Email,
        ),
        (
            &[
                "TEL",
                "TELEPHONE",
                "PHONE",
                "PORTABLE",
                "MOBILE",
                "GSM",
                "CELL",
                "TELPORTABLE",
                "NUMTEL",
            ],
            Phone,
        ),
        (
            &["PRENOM", "FIRSTNAME", "FIRST", "GIVENNAME", "FORENAME"],
            FirstName,
        ),
        (
            &[
                "NOM",
                "LASTNAME",
                "SURNAME",
                "FAMILYNAME",
                "NOMFAMILLE",
                "NOMDEFAMILLE",
                "NOMUSAGE",
            ],
            LastName,
        ),
        (&["NOMCOMPLET", "FULLNAME", "NOMPRENOM"], FullName),
        (
            &[
                "DATENAISSANCE",
                "DATEDENAISSANCE",
                "NAISSANCE",
                "BIRTHDATE",
                "DOB",
                "DATEOFBIRTH",
                "BIRTHDAY",
                "DTNAIS",
            ],
            BirthDate,
        ),
        (&["AGE"], Age),
        (
            &["SEXE", "SEX", "GENRE", "GENDER", "CIVILITE", "TITLE"],
            Sex,
        ),
        (
            &[
                "CP",
                "CODEPOSTAL",
                "POSTALCODE",
                "ZIP",
                "ZIPCODE",
                "POSTCODE",
            ],
            PostalCode,
        ),
        (&["CODEINSEE", "INSEE", "COG", "CODECOMMUNE"], InseeCode),
        (
            &[
                "VILLE", "COMMUNE", "CITY", "TOWN", "LOCALITE", "SUBURB", "LOCALITY",
            ],
            Commune,
        ),
        (&["ADRESSE", "ADDRESS", "RUE", "STREET"], Address),
        (&["LAT", "LATITUDE"], Latitude),
        (&["LON", "LNG", "LONG", "LONGITUDE"], Longitude),
        (&["ROME", "CODEROME", "ROMECODE", "METIER"], RomeCode),
        (
            &[
                "DIPLOME",
                "NIVEAU",
                "NIVEAUETUDE",
                "NIVEAUDEFORMATION",
                "EDUCATION",
                "FORMATION",
            ],
            EducationLevel,
        ),
        (
            &[
                "PERMIS",
                "VEHICULE",
                "VOITURE",
                "CAR",
                "DRIVINGLICENCE",
                "LICENCE",
            ],
            Boolean,
        ),
        (&["IBAN", "RIB"], Iban),
        (&["HASH", "PASSWORDHASH", "MDPHASH"], PasswordHash),
        (&["MDP", "PASSWORD", "MOTDEPASSE", "PASS", "PWD"], Password),
        (&["IP", "IPADDRESS", "ADRESSEIP"], IpAddress),
        (
            &[
                "ID",
                "IDENTIFIANT",
                "USERID",
                "PERSONID",
                "NDEMANDEUR",
                "NUMDEMANDEUR",
                "IDDEMANDEUR",
                "MATRICULE",
                "NDOSSIER",
            ],
            PersonId,
        ),
        (
            &[
                "SOCSEC",
                "SOCSECID",
                "SOCIALSECURITY",
                "SOCIALSECURITYNUMBER",
                "SSN",
                "ACCOUNT",
                "ACCOUNTID",
                "ACCOUNTNUMBER",
                "CUSTOMER",
                "CUSTOMERID",
                "CUSTOMERNUMBER",
                "CLIENT",
                "IDCLIENT",
                "NUMCLIENT",
                "NUMEROCLIENT",
                "COMPTE",
                "NUMCOMPTE",
                "NUMERO",
                "NUM",
                "MEMBER",
                "MEMBERID",
                "ADHERENT",
                "CONTRAT",
                "CONTRACT",
                "PASSPORT",
                "PASSEPORT",
                "LICENSENUMBER",
                "EMPLOYEEID",
                "STAFFID",
            ],
            Identifier,
        ),
    ];
    for (names, ty) in table {
        if names.iter().any(|n| *n == joined) {
            return Some(*ty);
        }
    }
    for (names, ty) in table {
        if names.iter().any(|n| n.len() >= 3 && has(n)) {
            return Some(*ty);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms() {
        assert_eq!(hint("Prénom"), Some(ColumnType::FirstName));
        assert_eq!(hint("date_naissance"), Some(ColumnType::BirthDate));
        assert_eq!(hint("Date de naissance"), Some(ColumnType::BirthDate));
        assert_eq!(hint("N° demandeur"), Some(ColumnType::PersonId));
        assert_eq!(hint("code_postal"), Some(ColumnType::PostalCode));
        assert_eq!(hint("GSM"), Some(ColumnType::Phone));
        assert_eq!(hint("zzz"), None);
        assert_eq!(hint("soc_sec_id"), Some(ColumnType::Identifier));
        assert_eq!(hint("Customer ID"), Some(ColumnType::Identifier));
        assert_eq!(hint("numéro client"), Some(ColumnType::Identifier));
        assert_eq!(hint("num_tel"), Some(ColumnType::Phone));
        assert_eq!(hint("numero_telephone"), Some(ColumnType::Phone));
        assert_eq!(hint("client_email"), Some(ColumnType::Email));
        assert_eq!(hint("suburb"), Some(ColumnType::Commune));
        assert_eq!(hint("user_id"), Some(ColumnType::PersonId));
    }
}
