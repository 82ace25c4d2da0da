//! JSON Lines and JSON arrays of objects, streamed one object at a time; nested objects are
//! flattened as `a.b`, arrays kept as JSON text.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{ReadError, Record, Source, TableInfo};

/// Records from a JSON file.
pub(crate) struct JsonSource {
    path: PathBuf,
    input: BufReader<Box<dyn Read + Send>>,
    array: bool,
    started: bool,
    done: bool,
    line: u64,
    index: u64,
    keys: HashMap<String, usize>,
    tables: Vec<TableInfo>,
}

/// Largest single JSON object accepted (bytes).
const MAX_OBJECT: usize = 64 * 1024 * 1024;

impl JsonSource {
    fn new(path: &Path, input: Box<dyn Read + Send>, array: bool) -> JsonSource {
        let name = crate::table_name(path);
        JsonSource {
            path: path.to_path_buf(),
            input: BufReader::with_capacity(1 << 16, input),
            array,
            started: false,
            done: false,
            line: 0,
            index: 0,
            keys: HashMap::new(),
            tables: vec![TableInfo {
                name,
                columns: Vec::new(),
            }],
        }
    }

    /// A JSON array of objects.
    pub(crate) fn array(path: &Path, input: Box<dyn Read + Send>) -> JsonSource {
        JsonSource::new(path, input, true)
    }

    /// JSON Lines: one object per line.
    pub(crate) fn lines(path: &Path, input: Box<dyn Read + Send>) -> JsonSource {
        JsonSource::new(path, input, false)
    }

    fn err(&self, problem: impl Into<String>) -> ReadError {
        ReadError::Record {
            path: self.path.clone(),
            record: self.index,
            line: self.line,
            problem: problem.into(),
        }
    }

    fn io_err(&self, e: std::io::Error) -> ReadError {
        // The operating system's failure is I/O; a decoder's (truncated or invalid compressed
        // data, bad text) is bad input at this record.
        if e.raw_os_error().is_some() {
            return ReadError::Io {
                path: self.path.clone(),
                source: e,
            };
        }
        self.err(format!("read error: {e}"))
    }

    fn record(&mut self, v: Value) -> Result<Record, ReadError> {
        let Value::Object(map) = v else {
            return Err(self.err("expected a JSON object"));
        };
        let mut flat = Vec::new();
        flatten("", &Value::Object(map), &mut flat);
        let mut fields = vec![String::new(); self.tables[0].columns.len()];
        for (k, v) in flat {
            let idx = match self.keys.get(&k) {
                Some(&i) => i,
                None => {
                    let i = self.tables[0].columns.len();
                    self.tables[0].columns.push(k.clone());
                    self.keys.insert(k, i);
                    fields.push(String::new());
                    i
                }
            };
            fields[idx] = v;
        }
        let index = self.index;
        self.index += 1;
        Ok(Record {
            table: 0,
            index,
            fields,
        })
    }

    fn next_line_object(&mut self) -> Option<Result<Record, ReadError>> {
        let mut buf = String::new();
        loop {
            buf.clear();
            match self.input.read_line(&mut buf) {
                Ok(0) => return None,
                Ok(_) => {
                    self.line += 1;
                    let t = buf.trim();
                    if t.is_empty() {
                        continue;
                    }
                    return Some(
                        serde_json::from_str::<Value>(t)
                            .map_err(|e| self.err(format!("invalid JSON at column {}", e.column())))
                            .and_then(|v| self.record(v)),
                    );
                }
                Err(e) => return Some(Err(self.io_err(e))),
            }
        }
    }

    fn byte(&mut self) -> Result<Option<u8>, ReadError> {
        let b = match self.input.fill_buf() {
            Ok([]) => return Ok(None),
            Ok(buf) => buf[0],
            Err(e) => return Err(self.io_err(e)),
        };
        self.input.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    fn next_array_object(&mut self) -> Option<Result<Record, ReadError>> {
        // Skip to the next element: whitespace, the opening '[' once, commas; stop at ']'.
        loop {
            match self.byte() {
                Err(e) => return Some(Err(e)),
                Ok(None) => {
                    return if self.done {
                        None
                    } else {
                        self.done = true;
                        Some(Err(
                            self.err("the JSON array is not closed (truncated file?)")
                        ))
                    }
                }
                Ok(Some(b)) if b.is_ascii_whitespace() || b == b',' => continue,
                Ok(Some(b'[')) if !self.started => self.started = true,
                Ok(Some(b']')) => {
                    self.done = true;
                    return None;
                }
                Ok(Some(b'{')) => break,
                Ok(Some(_)) => {
                    self.done = true;
                    return Some(Err(self.err("expected an object in the JSON array")));
                }
            }
        }
        let mut obj = vec![b'{'];
        let (mut depth, mut in_str, mut esc) = (1usize, false, false);
        while depth > 0 {
            let b = match self.byte() {
                Err(e) => return Some(Err(e)),
                Ok(None) => {
                    self.done = true;
                    return Some(Err(
                        self.err("the file ends inside a JSON object (truncated file?)")
                    ));
                }
                Ok(Some(b)) => b,
            };
            obj.push(b);
            if obj.len() > MAX_OBJECT {
                self.done = true;
                return Some(Err(self.err(format!(
                    "a JSON object is larger than {} MiB",
                    MAX_OBJECT >> 20
                ))));
            }
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth -= 1,
                    _ => {}
                }
            }
        }
        Some(
            serde_json::from_slice::<Value>(&obj)
                .map_err(|e| self.err(format!("invalid JSON ({})", e.classify_name())))
                .and_then(|v| self.record(v)),
        )
    }
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

/// Flatten a JSON value into `(dotted key, text)` pairs.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

impl Source for JsonSource {
    fn next(&mut self) -> Option<Result<Record, ReadError>> {
        if self.array {
            if self.done {
                return None;
            }
            self.next_array_object()
        } else {
            self.next_line_object()
        }
    }

    fn tables(&self) -> &[TableInfo] {
        &self.tables
    }
}
