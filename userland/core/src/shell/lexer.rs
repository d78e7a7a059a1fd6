//! Shell text to tokens: words (quotes and escapes resolved) and operators.

use alloc::string::String;
use alloc::vec::Vec;
use core::iter::Peekable;
use core::str::Chars;

use super::{ParseError, Word, WordPart};

/// The operator of a redirection token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectionOperator {
    /// `<`
    Input,
    /// `>`
    Output,
    /// `>>`
    Append,
    /// `>&` or `<&`
    Duplicate,
}

impl RedirectionOperator {
    /// The descriptor used when none is written before the operator.
    pub fn default_fd(self, text_was_input: bool) -> i32 {
        match self {
            RedirectionOperator::Input => 0,
            RedirectionOperator::Duplicate if text_was_input => 0,
            _ => 1,
        }
    }
}

/// One token of shell text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word(Word),
    /// `|`
    Pipe,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `;`
    Semicolon,
    /// A line break (separates commands like `;`).
    Newline,
    /// A lone `&`.
    Background,
    /// `[fd]<`, `[fd]>`, `[fd]>>`, `[fd]>&`, `[fd]<&`; `fd` is the
    /// explicit descriptor or the operator's default.
    Redirection {
        fd: i32,
        operator: RedirectionOperator,
    },
}

impl Token {
    /// How the token is written, for error messages.
    pub fn text(&self) -> &'static str {
        match self {
            Token::Word(_) => "word",
            Token::Pipe => "|",
            Token::And => "&&",
            Token::Or => "||",
            Token::Semicolon => ";",
            Token::Newline => "newline",
            Token::Background => "&",
            Token::Redirection { operator, .. } => match operator {
                RedirectionOperator::Input => "<",
                RedirectionOperator::Output => ">",
                RedirectionOperator::Append => ">>",
                RedirectionOperator::Duplicate => ">&",
            },
        }
    }
}

/// The word being read.
#[derive(Default)]
struct WordBuilder {
    parts: Vec<WordPart>,
    literal: String,
    quoted: bool,
    started: bool,
    /// Whether everything so far is unquoted ASCII digits (a possible
    /// descriptor number before `<` or `>`).
    only_digits: bool,
}

impl WordBuilder {
    fn push_char(&mut self, c: char, quoted: bool) {
        if !self.started {
            self.only_digits = true;
        }
        self.started = true;
        self.only_digits &= !quoted && c.is_ascii_digit();
        self.literal.push(c);
    }

    fn push_part(&mut self, part: WordPart) {
        self.started = true;
        self.only_digits = false;
        if !self.literal.is_empty() {
            self.parts
                .push(WordPart::Literal(core::mem::take(&mut self.literal)));
        }
        self.parts.push(part);
    }

    fn mark_quoted(&mut self) {
        self.started = true;
        self.quoted = true;
        self.only_digits = false;
    }

    /// The pending descriptor number, if the word so far is one.
    fn take_descriptor(&mut self) -> Option<i32> {
        if !(self.started && self.only_digits && self.parts.is_empty()) {
            return None;
        }
        let fd = self.literal.parse().ok()?;
        *self = WordBuilder::default();
        Some(fd)
    }

    fn finish(&mut self, tokens: &mut Vec<Token>) {
        if !self.started {
            return;
        }
        let mut builder = core::mem::take(self);
        if !builder.literal.is_empty() {
            builder.parts.push(WordPart::Literal(builder.literal));
        }
        tokens.push(Token::Word(Word {
            parts: builder.parts,
            quoted: builder.quoted,
        }));
    }
}

/// Splits `text` into tokens.
pub fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut word = WordBuilder::default();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' => word.finish(&mut tokens),
            '\n' => {
                word.finish(&mut tokens);
                tokens.push(Token::Newline);
            }
            '#' if !word.started => while chars.next_if(|&next| next != '\n').is_some() {},
            '\'' => {
                word.mark_quoted();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(inner) => word.push_char(inner, true),
                        None => return Err(ParseError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                word.mark_quoted();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek() {
                            Some(&escaped @ ('$' | '"' | '\\' | '`')) => {
                                chars.next();
                                word.push_char(escaped, true);
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => word.push_char('\\', true),
                        },
                        Some('$') => dollar(&mut chars, &mut word)?,
                        Some(inner) => word.push_char(inner, true),
                        None => return Err(ParseError::UnterminatedQuote('"')),
                    }
                }
            }
            '\\' => match chars.next() {
                // A backslash-newline joins lines.
                Some('\n') => {}
                Some(escaped) => {
                    word.mark_quoted();
                    word.push_char(escaped, true);
                }
                None => word.push_char('\\', false),
            },
            '$' => dollar(&mut chars, &mut word)?,
            '|' => {
                word.finish(&mut tokens);
                tokens.push(if chars.next_if_eq(&'|').is_some() {
                    Token::Or
                } else {
                    Token::Pipe
                });
            }
            '&' => {
                word.finish(&mut tokens);
                tokens.push(if chars.next_if_eq(&'&').is_some() {
                    Token::And
                } else {
                    Token::Background
                });
            }
            ';' => {
                word.finish(&mut tokens);
                tokens.push(Token::Semicolon);
            }
            '<' | '>' => {
                let explicit_fd = word.take_descriptor();
                word.finish(&mut tokens);
                let operator = if chars.next_if_eq(&'&').is_some() {
                    RedirectionOperator::Duplicate
                } else if c == '>' && chars.next_if_eq(&'>').is_some() {
                    RedirectionOperator::Append
                } else if c == '>' {
                    RedirectionOperator::Output
                } else {
                    RedirectionOperator::Input
                };
                let fd = explicit_fd.unwrap_or(operator.default_fd(c == '<'));
                tokens.push(Token::Redirection { fd, operator });
            }
            other => word.push_char(other, false),
        }
    }
    word.finish(&mut tokens);
    Ok(tokens)
}

/// Reads what follows a `$` (already consumed) into `word`.
fn dollar(chars: &mut Peekable<Chars<'_>>, word: &mut WordBuilder) -> Result<(), ParseError> {
    match chars.peek().copied() {
        Some('?') => {
            chars.next();
            word.push_part(WordPart::Status);
        }
        Some('$') => {
            chars.next();
            word.push_part(WordPart::Pid);
        }
        Some('#') => {
            chars.next();
            word.push_part(WordPart::ArgumentCount);
        }
        Some(digit @ '0'..='9') => {
            chars.next();
            word.push_part(WordPart::Positional(digit as u8 - b'0'));
        }
        Some('{') => {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '?' => name.push(c),
                    _ => return Err(ParseError::BadSubstitution),
                }
            }
            let part = match name.as_str() {
                "?" => WordPart::Status,
                digits if digits.len() == 1 && digits.as_bytes()[0].is_ascii_digit() => {
                    WordPart::Positional(digits.as_bytes()[0] - b'0')
                }
                name if is_name(name) => WordPart::Variable(name.into()),
                _ => return Err(ParseError::BadSubstitution),
            };
            word.push_part(part);
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let mut name = String::new();
            while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                name.push(c);
            }
            word.push_part(WordPart::Variable(name));
        }
        // A `$` before anything else is literal, as in POSIX shells.
        _ => word.push_char('$', false),
    }
    Ok(())
}

/// Whether `name` is a shell variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::tests::TestContext;
    use crate::shell::{expand, Word};
    use std::vec;

    /// The expanded words of a token list, operators as their text.
    fn show(text: &str) -> Vec<String> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|token| match token {
                Token::Word(word) => expand(&word, &TestContext).unwrap_or_else(|| "<gone>".into()),
                Token::Redirection { fd, .. } => std::format!("{fd}{}", token.text()),
                other => other.text().into(),
            })
            .collect()
    }

    #[test]
    fn words_split_on_blanks_and_operators() {
        assert_eq!(show("echo  a\tb"), ["echo", "a", "b"]);
        assert_eq!(
            show("a|b||c&&d;e\nf"),
            ["a", "|", "b", "||", "c", "&&", "d", ";", "e", "newline", "f"]
        );
        assert_eq!(show("x & y"), ["x", "&", "y"]);
        assert_eq!(
            show("  # a comment\necho a#b # c"),
            ["newline", "echo", "a#b"]
        );
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(
            show("echo 'a b' \"c d\" e\\ f"),
            ["echo", "a b", "c d", "e f"]
        );
        assert_eq!(
            show("'$HOME' \"$HOME\" \\$HOME"),
            ["$HOME", "/root", "$HOME"]
        );
        assert_eq!(show(r#""a\"b\\c\d""#), [r#"a"b\c\d"#]);
        assert_eq!(show("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(show("'' \"\""), ["", ""]);
        assert_eq!(show("a\\\nb"), ["ab"]);
        assert_eq!(show("'|;&' \"<>\""), ["|;&", "<>"]);
    }

    #[test]
    fn expansions_are_recognised() {
        assert_eq!(
            show("$? $$ $# $0 $1 ${HOME}x $HOME/y $UNSET \"$UNSET\" $ a$"),
            ["3", "42", "2", "sh", "first", "/rootx", "/root/y", "<gone>", "", "$", "a$"]
        );
        assert_eq!(show("${?}${1}"), ["3first"]);
        assert_eq!(tokenize("${1a}"), Err(ParseError::BadSubstitution));
        assert_eq!(tokenize("${HOME"), Err(ParseError::BadSubstitution));
    }

    #[test]
    fn redirections_take_an_optional_descriptor() {
        assert_eq!(
            show("a >f 2>>g <h 2>&1 >&2 x2>y '2'>z"),
            [
                "a", "1>", "f", "2>>", "g", "0<", "h", "2>&", "1", "1>&", "2", "x2", "1>", "y",
                "2", "1>", "z"
            ]
        );
        assert_eq!(show("<&3"), ["0>&", "3"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(
            tokenize("echo 'a"),
            Err(ParseError::UnterminatedQuote('\''))
        );
        assert_eq!(
            tokenize("echo \"a"),
            Err(ParseError::UnterminatedQuote('"'))
        );
        assert_eq!(tokenize("a\\"), Ok(vec![Token::Word(Word::literal("a\\"))]));
    }

    #[test]
    fn names_follow_posix() {
        assert!(is_name("PATH"));
        assert!(is_name("_x1"));
        assert!(!is_name("1x"));
        assert!(!is_name(""));
        assert!(!is_name("a-b"));
    }
}
