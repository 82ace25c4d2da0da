//! SQL dumps (MySQL and PostgreSQL): `CREATE TABLE` for column names, multi-row
//! `INSERT INTO t [(cols)] VALUES (…),(…);` and `COPY t (cols) FROM stdin;` blocks. Several tables
//! per dump; statements are streamed one at a time.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{ReadError, Record, Source, TableInfo};

/// Whether a text sample looks like an SQL dump.
pub(crate) fn looks_like_sql(sample: &str) -> bool {
    sample.lines().take(400).any(|l| {
        let u = l.trim_start().to_ascii_uppercase();
        u.starts_with("INSERT INTO ")
            || u.starts_with("CREATE TABLE ")
            || (u.starts_with("COPY ") && u.contains("FROM STDIN"))
    })
}

/// Largest single statement accepted (bytes).
const MAX_STATEMENT: usize = 256 * 1024 * 1024;

pub(crate) struct SqlSource {
    path: PathBuf,
    input: BufReader<Box<dyn Read + Send>>,
    line: u64,
    tables: Vec<TableInfo>,
    by_name: HashMap<String, usize>,
    counts: Vec<u64>,
    pending: VecDeque<Record>,
    /// Inside a `COPY … FROM stdin` block: the table.
    copy: Option<usize>,
    done: bool,
}

impl SqlSource {
    pub(crate) fn new(path: &Path, input: Box<dyn Read + Send>) -> SqlSource {
        SqlSource {
            path: path.to_path_buf(),
            input: BufReader::with_capacity(1 << 16, input),
            line: 0,
            tables: Vec::new(),
            by_name: HashMap::new(),
            counts: Vec::new(),
            pending: VecDeque::new(),
            copy: None,
            done: false,
        }
    }

    fn err(&self, problem: impl Into<String>) -> ReadError {
        ReadError::Record {
            path: self.path.clone(),
            record: self.pending.len() as u64,
            line: self.line,
            problem: problem.into(),
        }
    }

    /// The operating system's failure is I/O; a decoder's (truncated or invalid compressed
    /// data, bad text) is bad input at this record.
    fn io_err(&self, e: std::io::Error) -> ReadError {
        if e.raw_os_error().is_some() {
            return ReadError::Io {
                path: self.path.clone(),
                source: e,
            };
        }
        self.err(format!("read error: {e}"))
    }

    fn table(&mut self, name: &str, columns: Option<Vec<String>>) -> usize {
        let key = name.to_ascii_lowercase();
        if let Some(&i) = self.by_name.get(&key) {
            if let Some(c) = columns {
                if self.tables[i].columns.is_empty() || self.counts[i] == 0 {
                    self.tables[i].columns = c;
                }
            }
            return i;
        }
        let i = self.tables.len();
        self.tables.push(TableInfo {
            name: name.to_string(),
            columns: columns.unwrap_or_default(),
        });
        self.counts.push(0);
        self.by_name.insert(key, i);
        i
    }

    fn push(&mut self, table: usize, fields: Vec<String>) {
        let cols = &mut self.tables[table].columns;
        while cols.len() < fields.len() {
            cols.push(format!("col_{}", cols.len() + 1));
        }
        let index = self.counts[table];
        self.counts[table] += 1;
        self.pending.push_back(Record {
            table,
            index,
            fields,
        });
    }

    /// Read one statement (up to `;` outside quotes and comments). `None` at end of input.
    fn statement(&mut self) -> Result<Option<String>, ReadError> {
        let mut stmt = String::new();
        let mut line = String::new();
        let (mut quote, mut esc) = (None::<char>, false);
        loop {
            line.clear();
            let n = self
                .input
                .read_line(&mut line)
                .map_err(|e| self.io_err(e))?;
            if n == 0 {
                let rest = stmt.trim();
                if quote.is_some() {
                    return Err(self.err("the dump ends inside a quoted value (truncated file?)"));
                }
                return Ok((!rest.is_empty()).then(|| rest.to_string()));
            }
            self.line += 1;
            if quote.is_none() && stmt.trim().is_empty() {
                let t = line.trim_start();
                if t.starts_with("--") || t.starts_with('#') || t.trim().is_empty() {
                    continue;
                }
            }
            let mut chars = line.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                match quote {
                    Some(q) => {
                        if esc {
                            esc = false;
                        } else if c == '\\' && q == '\'' {
                            esc = true;
                        } else if c == q {
                            if chars.peek().map(|x| x.1) == Some(q) {
                                chars.next();
                            } else {
                                quote = None;
                            }
                        }
                    }
                    None => match c {
                        '\'' | '"' | '`' => quote = Some(c),
                        ';' => {
                            stmt.push_str(&line[..i]);
                            // Anything after ';' on the line is ignored unless it is a new
                            // statement: dumps put one statement per line or more lines.
                            return Ok(Some(stmt));
                        }
                        _ => {}
                    },
                }
            }
            stmt.push_str(&line);
            if stmt.len() > MAX_STATEMENT {
                return Err(self.err(format!(
                    "an SQL statement is larger than {} MiB",
                    MAX_STATEMENT >> 20
                )));
            }
        }
    }

    fn handle(&mut self, stmt: &str) -> Result<(), ReadError> {
        let t = stmt.trim_start();
        let upper: String = t.chars().take(32).collect::<String>().to_ascii_uppercase();
        if upper.starts_with("CREATE TABLE") {
            let after = &t["CREATE TABLE".len()..];
            let after = after
                .trim_start()
                .strip_prefix("IF NOT EXISTS")
                .or_else(|| after.trim_start().strip_prefix("if not exists"))
                .unwrap_or(after);
            let (name, rest) = ident(after);
            if let Some(body) = parenthesised(rest) {
                let cols: Vec<String> = split_top(body, ',')
                    .into_iter()
                    .filter_map(|part| {
                        let p = part.trim();
                        let u = p.to_ascii_uppercase();
                        let constraint = [
                            "PRIMARY",
                            "KEY",
                            "UNIQUE",
                            "CONSTRAINT",
                            "INDEX",
                            "FOREIGN",
                            "CHECK",
                            "FULLTEXT",
                            "SPATIAL",
                        ]
                        .iter()
                        .any(|k| u.starts_with(k));
                        (!constraint && !p.is_empty()).then(|| ident(p).0)
                    })
                    .collect();
                self.table(&name, Some(cols));
            }
        } else if upper.starts_with("INSERT") {
            let Some(pos) = t.to_ascii_uppercase().find("INTO") else {
                return Err(self.err("INSERT without INTO"));
            };
            let (name, mut rest) = ident(&t[pos + 4..]);
            let mut cols = None;
            if rest.trim_start().starts_with('(') {
                let r = rest.trim_start();
                let body = parenthesised(r).ok_or_else(|| self.err("unbalanced column list"))?;
                cols = Some(split_top(body, ',').iter().map(|c| ident(c).0).collect());
                rest = &r[body.len() + 2..];
            }
            let r = rest.trim_start();
            if !r.to_ascii_uppercase().starts_with("VALUES") {
                return Ok(()); // INSERT … SELECT: nothing to read
            }
            let table = self.table(&name, cols);
            let tuples = tuples(&r[6..]).map_err(|p| self.err(p))?;
            for t in tuples {
                self.push(table, t);
            }
        } else if upper.starts_with("COPY ") {
            let (name, rest) = ident(&t[5..]);
            let cols = parenthesised(rest.trim_start())
                .map(|b| split_top(b, ',').iter().map(|c| ident(c).0).collect());
            let table = self.table(&name, cols);
            if t.to_ascii_uppercase().contains("FROM STDIN") {
                self.copy = Some(table);
            }
        }
        Ok(())
    }

    fn copy_line(&mut self, table: usize) -> Result<(), ReadError> {
        let mut line = String::new();
        let n = self
            .input
            .read_line(&mut line)
            .map_err(|e| self.io_err(e))?;
        if n == 0 {
            self.copy = None;
            return Err(self.err("the dump ends inside a COPY block (missing \\.)"));
        }
        self.line += 1;
        let l = line.trim_end_matches(['\n', '\r']);
        if l == "\\." {
            self.copy = None;
            return Ok(());
        }
        let fields = l.split('\t').map(copy_unescape).collect();
        self.push(table, fields);
        Ok(())
    }
}

fn copy_unescape(s: &str) -> String {
    if s == "\\N" {
        return String::new();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A possibly quoted identifier (`name`, `"name"`, `` `name` ``, `schema.name`) and the rest.
fn ident(s: &str) -> (String, &str) {
    let mut rest = s.trim_start();
    let mut name;
    loop {
        let r = rest;
        let (part, after) = match r.chars().next() {
            Some(q @ ('"' | '`' | '[')) => {
                let close = if q == '[' { ']' } else { q };
                match r[1..].find(close) {
                    Some(end) => (&r[1..1 + end], &r[2 + end..]),
                    None => (&r[1..], ""),
                }
            }
            _ => {
                let end = r
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                    .unwrap_or(r.len());
                (&r[..end], &r[end..])
            }
        };
        name = part.to_string();
        rest = after;
        if let Some(a) = rest.strip_prefix('.') {
            rest = a;
            continue;
        }
        break;
    }
    (name, rest)
}

/// The text inside the first balanced parentheses at the start of `s`.
fn parenthesised(s: &str) -> Option<&str> {
    let s = s.trim_start();
    if !s.starts_with('(') {
        return None;
    }
    let mut depth = 0;
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(&s[1..i]);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// Split at `sep` outside parentheses and quotes.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                c if c == sep && depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    out.push(&s[start..]);
    out
}

/// Parse `(v, v, …), (…)` value tuples with MySQL and standard escapes.
fn tuples(s: &str) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    loop {
        while matches!(it.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            it.next();
        }
        match it.next() {
            None => return Ok(out),
            Some('(') => {}
            Some(_) => return Err("malformed VALUES list".into()),
        }
        let mut row = Vec::new();
        loop {
            while matches!(it.peek(), Some(c) if c.is_whitespace()) {
                it.next();
            }
            let mut v = String::new();
            match it.peek() {
                Some('\'') => {
                    it.next();
                    loop {
                        match it.next() {
                            None => return Err("unterminated quoted value".into()),
                            Some('\\') => match it.next() {
                                Some('n') => v.push('\n'),
                                Some('r') => v.push('\r'),
                                Some('t') => v.push('\t'),
                                Some('0') => {}
                                Some(c) => v.push(c),
                                None => return Err("unterminated quoted value".into()),
                            },
                            Some('\'') => {
                                if it.peek() == Some(&'\'') {
                                    it.next();
                                    v.push('\'');
                                } else {
                                    break;
                                }
                            }
                            Some(c) => v.push(c),
                        }
                    }
                }
                _ => {
                    while let Some(&c) = it.peek() {
                        if c == ',' || c == ')' {
                            break;
                        }
                        v.push(c);
                        it.next();
                    }
                    let t = v.trim();
                    v = if t.eq_ignore_ascii_case("NULL") {
                        String::new()
                    } else {
                        t.to_string()
                    };
                }
            }
            row.push(v);
            while matches!(it.peek(), Some(c) if c.is_whitespace()) {
                it.next();
            }
            match it.next() {
                Some(',') => continue,
                Some(')') => break,
                _ => return Err("malformed value tuple".into()),
            }
        }
        out.push(row);
    }
}

impl Source for SqlSource {
    fn next(&mut self) -> Option<Result<Record, ReadError>> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Some(Ok(r));
            }
            if self.done {
                return None;
            }
            if let Some(t) = self.copy {
                if let Err(e) = self.copy_line(t) {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            match self.statement() {
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Ok(Some(s)) => {
                    if let Err(e) = self.handle(&s) {
                        return Some(Err(e));
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    fn tables(&self) -> &[TableInfo] {
        &self.tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tuples_and_identifiers() {
        let t = tuples(" ('a''b','c\\'d',NULL, 42),('x','y)z','',-1)").unwrap();
        assert_eq!(t[0], ["a'b", "c'd", "", "42"]);
        assert_eq!(t[1], ["x", "y)z", "", "-1"]);
        assert_eq!(ident(" `public`.\"users\" (a)").0, "users");
        assert!(tuples("('unterminated").is_err());
    }
}
