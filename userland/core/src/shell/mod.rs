//! The shell language of `sh`: words, pipelines, redirections, lists.
//!
//! A small POSIX-shell subset, parsed into plain data here and executed by
//! the `sh` program (which owns the system calls):
//!
//! ```text
//! script     := and_or ((';' | '\n') and_or)* [';']
//! and_or     := pipeline (('&&' | '||') pipeline)*
//! pipeline   := command ('|' command)*
//! command    := (word | redirection)+
//! redirection:= [fd] ('<' | '>' | '>>') word | [fd] '>&' fd
//! ```
//!
//! Words may be quoted (`'...'` literally, `"..."` with `$` expansions and
//! `\` escapes of `$ " \`), may contain `\x` escapes and the expansions
//! `$?` (last status), `$$` (shell pid), `$#`, `$0`..`$9` and `$NAME` /
//! `${NAME}` (environment). There is no globbing, field splitting,
//! background `&`, or control flow: what is not supported is a clear
//! [`ParseError`], never a silent misreading.
//!
//! [`lexer`] turns text into tokens, [`parser`] tokens into a [`Script`];
//! [`expand`] turns a [`Word`] into its final text at run time (the
//! values of `$?` change between the commands of one line).

pub mod lexer;
pub mod parser;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use parser::parse;

/// One piece of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordPart {
    /// Text taken as is (quotes and escapes already removed).
    Literal(String),
    /// `$NAME` or `${NAME}`.
    Variable(String),
    /// `$0` .. `$9`.
    Positional(u8),
    /// `$?`
    Status,
    /// `$$`
    Pid,
    /// `$#`
    ArgumentCount,
}

/// A word: the concatenation of its parts.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Word {
    pub parts: Vec<WordPart>,
    /// Whether any part was quoted: a quoted word survives as an empty
    /// argument (`""`), an unquoted one that expands to nothing vanishes.
    pub quoted: bool,
}

impl Word {
    /// A plain literal word (for tests and builtins).
    pub fn literal(text: &str) -> Word {
        Word {
            parts: alloc::vec![WordPart::Literal(text.into())],
            quoted: false,
        }
    }
}

/// What a redirection does with its file descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectionKind {
    /// `[fd]< file`: open for reading (fd 0 by default).
    Input(Word),
    /// `[fd]> file`: create or truncate (fd 1 by default).
    Output(Word),
    /// `[fd]>> file`: create or append (fd 1 by default).
    Append(Word),
    /// `[fd]>&n`: make fd a copy of descriptor `n`.
    Duplicate(i32),
}

/// `fd` redirected as `kind`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirection {
    pub fd: i32,
    pub kind: RedirectionKind,
}

/// A simple command: its words (name first) and redirections, in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Command {
    pub words: Vec<Word>,
    pub redirections: Vec<Redirection>,
}

/// Commands joined by `|`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Pipeline {
    pub commands: Vec<Command>,
}

/// When a pipeline of a list runs, judged on `$?` at that point.
///
/// Evaluating a list left to right with these conditions is exactly
/// POSIX's left-associative `&&`/`||`: a skipped pipeline leaves `$?`
/// unchanged, so `false && a || b` runs `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// First of the line, or after `;` / newline.
    Always,
    /// After `&&`: only if `$?` is 0.
    IfSuccess,
    /// After `||`: only if `$?` is not 0.
    IfFailure,
}

impl Condition {
    /// Whether the pipeline runs when the last status is `status`.
    pub fn holds(self, status: i32) -> bool {
        match self {
            Condition::Always => true,
            Condition::IfSuccess => status == 0,
            Condition::IfFailure => status != 0,
        }
    }
}

/// A parsed script: pipelines with the condition under which each runs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Script {
    pub items: Vec<(Condition, Pipeline)>,
}

/// Why a script does not parse. Messages follow bash's where it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A `'` or `"` without its closing partner.
    UnterminatedQuote(char),
    /// `${` without `}` or with a bad name inside.
    BadSubstitution,
    /// An operator where a command was expected (`| a`, `a && ;`).
    UnexpectedToken(&'static str),
    /// The line ends where a command must follow (`a |`, `a &&`).
    UnexpectedEnd,
    /// `>` or `<` without a file name.
    MissingRedirectionTarget,
    /// `>&x` where `x` is not a descriptor number.
    BadDuplicationTarget,
    /// A single `&`: background jobs are not supported.
    BackgroundNotSupported,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnterminatedQuote(quote) => {
                write!(
                    f,
                    "unexpected end of input while looking for matching `{quote}'"
                )
            }
            ParseError::BadSubstitution => write!(f, "bad substitution"),
            ParseError::UnexpectedToken(token) => {
                write!(f, "syntax error near unexpected token `{token}'")
            }
            ParseError::UnexpectedEnd => write!(f, "syntax error: unexpected end of input"),
            ParseError::MissingRedirectionTarget => {
                write!(f, "syntax error: redirection without a file name")
            }
            ParseError::BadDuplicationTarget => write!(f, "ambiguous redirect: expected >&N"),
            ParseError::BackgroundNotSupported => {
                write!(f, "background jobs (`&') are not supported")
            }
        }
    }
}

impl core::error::Error for ParseError {}

/// What expansions read: the shell's state at the moment a word expands.
pub trait Context {
    /// `$?`
    fn status(&self) -> i32;
    /// `$$`
    fn pid(&self) -> i32;
    /// `$0`..`$9` (`$0` is the shell or script name).
    fn positional(&self, index: u8) -> Option<&str>;
    /// `$#`: positional parameters after `$0`.
    fn argument_count(&self) -> usize;
    /// `$NAME`
    fn variable(&self, name: &str) -> Option<&str>;
}

/// The text of `word` in `context`, or `None` if it vanishes (unquoted
/// and empty, like an unset `$X`).
pub fn expand(word: &Word, context: &dyn Context) -> Option<String> {
    use core::fmt::Write;
    let mut text = String::new();
    for part in &word.parts {
        match part {
            WordPart::Literal(literal) => text.push_str(literal),
            WordPart::Variable(name) => text.push_str(context.variable(name).unwrap_or("")),
            WordPart::Positional(index) => {
                text.push_str(context.positional(*index).unwrap_or(""));
            }
            // Writing into a String cannot fail.
            WordPart::Status => {
                let _ = write!(text, "{}", context.status());
            }
            WordPart::Pid => {
                let _ = write!(text, "{}", context.pid());
            }
            WordPart::ArgumentCount => {
                let _ = write!(text, "{}", context.argument_count());
            }
        }
    }
    (word.quoted || !text.is_empty()).then_some(text)
}

/// Where `sh` looks for a command `name`: itself if it contains a `/`,
/// else each directory of `path` (`PATH`, `:`-separated; an empty entry
/// is the current directory) joined with it.
pub fn command_candidates<'a>(name: &'a str, path: &'a str) -> impl Iterator<Item = String> + 'a {
    let direct = name.contains('/');
    let directories = if direct { None } else { Some(path.split(':')) };
    direct
        .then(|| String::from(name))
        .into_iter()
        .chain(directories.into_iter().flatten().map(move |directory| {
            let directory = if directory.is_empty() { "." } else { directory };
            let mut candidate = String::from(directory.trim_end_matches('/'));
            candidate.push('/');
            candidate.push_str(name);
            candidate
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    pub(crate) struct TestContext;

    impl Context for TestContext {
        fn status(&self) -> i32 {
            3
        }
        fn pid(&self) -> i32 {
            42
        }
        fn positional(&self, index: u8) -> Option<&str> {
            ["sh", "first", "second"].get(usize::from(index)).copied()
        }
        fn argument_count(&self) -> usize {
            2
        }
        fn variable(&self, name: &str) -> Option<&str> {
            match name {
                "HOME" => Some("/root"),
                "EMPTY" => Some(""),
                _ => None,
            }
        }
    }

    #[test]
    fn expansions_read_the_context() {
        let word = Word {
            parts: vec![
                WordPart::Literal("s=".into()),
                WordPart::Status,
                WordPart::Literal(",".into()),
                WordPart::Pid,
                WordPart::Variable("HOME".into()),
                WordPart::Positional(1),
                WordPart::Positional(9),
                WordPart::ArgumentCount,
            ],
            quoted: false,
        };
        assert_eq!(
            expand(&word, &TestContext).as_deref(),
            Some("s=3,42/rootfirst2")
        );
    }

    #[test]
    fn empty_unquoted_words_vanish_but_quoted_ones_stay() {
        let unset = Word {
            parts: vec![WordPart::Variable("UNSET".into())],
            quoted: false,
        };
        assert_eq!(expand(&unset, &TestContext), None);
        let quoted = Word {
            quoted: true,
            ..unset
        };
        assert_eq!(expand(&quoted, &TestContext).as_deref(), Some(""));
    }

    #[test]
    fn commands_are_searched_in_path_unless_they_have_a_slash() {
        let found: Vec<String> = command_candidates("ls", "/bin:/usr/bin/::").collect();
        assert_eq!(found, ["/bin/ls", "/usr/bin/ls", "./ls", "./ls"]);
        let direct: Vec<String> = command_candidates("./x", "/bin").collect();
        assert_eq!(direct, ["./x"]);
        let absolute: Vec<String> = command_candidates("/bin/sh", "/bin").collect();
        assert_eq!(absolute, ["/bin/sh"]);
    }

    #[test]
    fn conditions_follow_the_last_status() {
        assert!(Condition::Always.holds(1));
        assert!(Condition::IfSuccess.holds(0));
        assert!(!Condition::IfSuccess.holds(1));
        assert!(Condition::IfFailure.holds(2));
        assert!(!Condition::IfFailure.holds(0));
    }
}
