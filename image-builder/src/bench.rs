//! Parsing the kernel's benchmark lines: `bench <name> key=value ...`.
//!
//! The kernel prints one line per benchmark result, for example
//! `bench map-unmap-batched pages=16384 hypercalls=64 ptes_per_hypercall=512
//! elapsed_ns=1234567`. [`BenchLine::parse`] checks the shape (a name, then
//! unique `key=value` words) and the typed getters say which key is missing
//! or malformed, so a test failure names the field at fault.

use std::fmt;

/// The prefix of every benchmark line.
pub const BENCH_PREFIX: &str = "bench ";

/// One parsed benchmark line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchLine {
    /// The benchmark's name, e.g. `map-unmap-batched`.
    pub name: String,
    /// Its `key=value` fields, in the order printed.
    pub fields: Vec<(String, String)>,
}

/// What is wrong with a benchmark line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BenchParseError {
    /// The line does not start with `bench `.
    NotABenchLine,
    /// No benchmark name after `bench `, or the name looks like a field.
    MissingName,
    /// A word after the name is not `key=value` with a non-empty key.
    MalformedField(String),
    /// A key appears twice.
    DuplicateKey(String),
    /// A key the caller needs is absent.
    MissingKey(String),
    /// A value does not parse as the number the caller needs.
    BadValue {
        /// The field's key.
        key: String,
        /// Its value as printed.
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
}

impl fmt::Display for BenchParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchParseError::NotABenchLine => {
                write!(f, "not a line starting with {BENCH_PREFIX:?}")
            }
            BenchParseError::MissingName => write!(f, "no benchmark name after {BENCH_PREFIX:?}"),
            BenchParseError::MalformedField(word) => {
                write!(f, "field {word:?} is not key=value")
            }
            BenchParseError::DuplicateKey(key) => write!(f, "key {key:?} appears twice"),
            BenchParseError::MissingKey(key) => write!(f, "key {key:?} is missing"),
            BenchParseError::BadValue {
                key,
                value,
                expected,
            } => write!(f, "{key}={value:?} is not {expected}"),
        }
    }
}

impl std::error::Error for BenchParseError {}

impl BenchLine {
    /// Parses `bench <name> key=value ...`.
    pub fn parse(text: &str) -> Result<Self, BenchParseError> {
        let rest = text
            .trim()
            .strip_prefix(BENCH_PREFIX.trim_end())
            .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
            .ok_or(BenchParseError::NotABenchLine)?;
        let mut words = rest.split_whitespace();
        let name = words
            .next()
            .filter(|name| !name.contains('='))
            .ok_or(BenchParseError::MissingName)?;
        let mut fields: Vec<(String, String)> = Vec::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .filter(|(key, _)| !key.is_empty())
                .ok_or_else(|| BenchParseError::MalformedField(word.to_owned()))?;
            if fields.iter().any(|(existing, _)| existing == key) {
                return Err(BenchParseError::DuplicateKey(key.to_owned()));
            }
            fields.push((key.to_owned(), value.to_owned()));
        }
        Ok(BenchLine {
            name: name.to_owned(),
            fields,
        })
    }

    /// The value of `key`, as printed.
    pub fn value(&self, key: &str) -> Result<&str, BenchParseError> {
        self.fields
            .iter()
            .find(|(existing, _)| existing == key)
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| BenchParseError::MissingKey(key.to_owned()))
    }

    /// The value of `key` as an unsigned integer.
    pub fn u64(&self, key: &str) -> Result<u64, BenchParseError> {
        let value = self.value(key)?;
        value.parse().map_err(|_| BenchParseError::BadValue {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: "an unsigned integer",
        })
    }

    /// The value of `key` as a finite decimal number.
    pub fn f64(&self, key: &str) -> Result<f64, BenchParseError> {
        let value = self.value(key)?;
        value
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite())
            .ok_or_else(|| BenchParseError::BadValue {
                key: key.to_owned(),
                value: value.to_owned(),
                expected: "a finite decimal number",
            })
    }
}

impl fmt::Display for BenchLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{BENCH_PREFIX}{}", self.name)?;
        for (key, value) in &self.fields {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_line_parses_and_round_trips() {
        let text = "bench map-unmap-batched pages=16384 hypercalls=64 ptes_per_hypercall=512 elapsed_ns=1234567";
        let line = BenchLine::parse(text).expect("parses");
        assert_eq!(line.name, "map-unmap-batched");
        assert_eq!(line.u64("pages"), Ok(16384));
        assert_eq!(line.u64("ptes_per_hypercall"), Ok(512));
        assert_eq!(line.to_string(), text);
    }

    #[test]
    fn ratios_parse_as_decimals() {
        let line =
            BenchLine::parse("bench map-unmap-ratio hypercalls_ratio=256.0").expect("parses");
        assert_eq!(line.f64("hypercalls_ratio"), Ok(256.0));
        let bad = BenchLine::parse("bench r x=inf y=abc").expect("parses");
        assert!(matches!(
            bad.f64("x"),
            Err(BenchParseError::BadValue { .. })
        ));
        assert!(matches!(
            bad.f64("y"),
            Err(BenchParseError::BadValue { .. })
        ));
    }

    #[test]
    fn a_line_without_fields_is_allowed() {
        let line = BenchLine::parse("bench idle").expect("parses");
        assert!(line.fields.is_empty());
        assert_eq!(
            line.value("x"),
            Err(BenchParseError::MissingKey("x".to_owned()))
        );
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        assert_eq!(
            BenchLine::parse("benchmark x"),
            Err(BenchParseError::NotABenchLine)
        );
        assert_eq!(
            BenchLine::parse("selftest: x"),
            Err(BenchParseError::NotABenchLine)
        );
        assert_eq!(BenchLine::parse("bench"), Err(BenchParseError::MissingName));
        assert_eq!(
            BenchLine::parse("bench a=1"),
            Err(BenchParseError::MissingName)
        );
        assert_eq!(
            BenchLine::parse("bench x pages"),
            Err(BenchParseError::MalformedField("pages".to_owned()))
        );
        assert_eq!(
            BenchLine::parse("bench x =3"),
            Err(BenchParseError::MalformedField("=3".to_owned()))
        );
        assert_eq!(
            BenchLine::parse("bench x a=1 a=2"),
            Err(BenchParseError::DuplicateKey("a".to_owned()))
        );
        let line = BenchLine::parse("bench x pages=-1 empty=").expect("parses");
        assert!(matches!(
            line.u64("pages"),
            Err(BenchParseError::BadValue { .. })
        ));
        assert_eq!(line.value("empty"), Ok(""));
        assert!(line.u64("empty").is_err());
    }
}
