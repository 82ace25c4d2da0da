//! The organisation's contacts file (`--contacts contacts.csv`): its own person id → e-mail
//! address, read at send time and kept in memory only. Errors name the file and line and show
//! an address masked, never in clear.

use std::collections::HashMap;
use std::path::Path;

use leaktrace_pii::ColumnType;
use lettre::Address;

use crate::CampaignError;

/// Header names accepted for the id column (case-insensitive).
pub const ID_COLUMNS: &[&str] = &["person_id", "id", "identifiant"];
/// Header names accepted for the e-mail column (case-insensitive).
pub const EMAIL_COLUMNS: &[&str] = &["email", "e-mail", "courriel", "mail"];
/// The largest contacts file read (an organisation's whole registry fits easily).
pub const MAX_CONTACTS_BYTES: u64 = 4 << 30;

/// The contacts: the id as written in the file → the address.
#[derive(Debug, Default)]
pub struct Contacts {
    by_id: HashMap<String, Address>,
}

impl Contacts {
    /// The address of `id`, if the file holds it.
    pub fn get(&self, id: &str) -> Option<&Address> {
        self.by_id.get(id)
    }
    /// How many contacts the file holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }
    /// Whether the file holds none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
    /// Every (id, address).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Address)> {
        self.by_id.iter().map(|(k, v)| (k.as_str(), v))
    }
}

fn find(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

/// Read the contacts file: a header with an id column ([`ID_COLUMNS`]) and an e-mail column
/// ([`EMAIL_COLUMNS`]), comma or semicolon separated, UTF-8. A line without an id, with an
/// address that is not one, or repeating an id is an error naming the line.
pub fn read(path: &Path) -> Result<Contacts, CampaignError> {
    let shown = path.display().to_string();
    let bad = |line: u64, message: String| CampaignError::Contacts {
        path: shown.clone(),
        line,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| CampaignError::io(path, e))?;
    if !meta.is_file() || meta.len() > MAX_CONTACTS_BYTES {
        return Err(bad(
            0,
            format!("not a file of at most {MAX_CONTACTS_BYTES} bytes"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| CampaignError::io(path, e))?;
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let delimiter = if first.contains(&b';') && !first.contains(&b',') {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes));
    let headers = r.headers().map_err(|e| bad(1, csv_message(&e)))?.clone();
    let id_col = find(&headers, ID_COLUMNS).ok_or_else(|| {
        bad(
            1,
            format!("no id column (one of: {})", ID_COLUMNS.join(", ")),
        )
    })?;
    let email_col = find(&headers, EMAIL_COLUMNS).ok_or_else(|| {
        bad(
            1,
            format!("no e-mail column (one of: {})", EMAIL_COLUMNS.join(", ")),
        )
    })?;
    let mut by_id: HashMap<String, Address> = HashMap::new();
    let mut lines: HashMap<String, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let line = r.position().line();
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(bad(
                    e.position().map_or(line, |p| p.line()),
                    csv_message(&e),
                ))
            }
        }
        let line = rec.position().map_or(line, |p| p.line());
        let id = rec.get(id_col).unwrap_or("").trim();
        let email = rec.get(email_col).unwrap_or("").trim();
        if id.is_empty() {
            return Err(bad(line, "empty id".into()));
        }
        if email.is_empty() {
            return Err(bad(line, "empty e-mail address".into()));
        }
        let address: Address = email.parse().map_err(|_| {
            bad(
                line,
                format!(
                    "not an e-mail address: {}",
                    leaktrace_pii::mask::mask(ColumnType::Email, email)
                ),
            )
        })?;
        if let Some(before) = lines.insert(id.to_string(), line) {
            return Err(bad(
                line,
                format!("the same id as line {before} (one address per person)"),
            ));
        }
        by_id.insert(id.to_string(), address);
    }
    Ok(Contacts { by_id })
}

/// A CSV error's message without the record's content.
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => "unreadable CSV".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Contacts, CampaignError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("contacts.csv");
        std::fs::write(&p, text).unwrap();
        read(&p)
    }

    #[test]
    fn reads_and_names_bad_lines() {
        let c = read_text("id,email\nP1,a@example.fr\nP2, b@example.fr \n").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("P2").unwrap().to_string(), "b@example.fr");
        let c = read_text("\u{feff}identifiant;courriel\nP1;a@example.fr\n").unwrap();
        assert_eq!(c.len(), 1);
        for (text, line, what) in [
            (
                "id,email\nP1,a@example.fr\nP2,not-an-address\n",
                3,
                "not an e-mail",
            ),
            ("id,email\nP1,a@example.fr\n,b@example.fr\n", 3, "empty id"),
            ("id,email\nP1,a@example.fr\nP1,b@example.fr\n", 3, "line 2"),
            (
                "id,email\nP1,a@example.fr\nP2,b@example.fr,x\n",
                3,
                "3 fields",
            ),
            ("name,email\nP1,a@example.fr\n", 1, "no id column"),
        ] {
            let e = read_text(text).unwrap_err();
            let shown = e.to_string();
            assert!(
                matches!(e, CampaignError::Contacts { line: l, .. } if l == line),
                "{text:?}: {shown}"
            );
            assert!(shown.contains(what), "{shown}");
            assert!(!shown.contains("not-an-address") || what != "not an e-mail");
        }
        let e = read_text("id,email\nP1,secretname@@example.fr\n")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secretname"), "the address is masked: {e}");
    }
}
