//! Tokens to a [`Script`]: lists, pipelines, commands, redirections.

use alloc::vec::Vec;

use super::lexer::{tokenize, RedirectionOperator, Token};
use super::{
    Command, Condition, ParseError, Pipeline, Redirection, RedirectionKind, Script, WordPart,
};

/// Parses shell text (one line or a whole script) into a [`Script`].
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        next: 0,
    };
    parser.script()
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn skip_newlines(&mut self) {
        while self.peek() == Some(&Token::Newline) {
            self.next += 1;
        }
    }

    fn script(&mut self) -> Result<Script, ParseError> {
        let mut items = Vec::new();
        let mut condition = Condition::Always;
        loop {
            if condition == Condition::Always {
                self.skip_newlines();
                if self.peek().is_none() {
                    break;
                }
            }
            let pipeline = self.pipeline()?;
            items.push((condition, pipeline));
            match self.peek() {
                None => break,
                Some(Token::Semicolon | Token::Newline) => {
                    self.next += 1;
                    condition = Condition::Always;
                }
                Some(Token::And) => {
                    self.next += 1;
                    condition = Condition::IfSuccess;
                    self.skip_newlines();
                }
                Some(Token::Or) => {
                    self.next += 1;
                    condition = Condition::IfFailure;
                    self.skip_newlines();
                }
                Some(Token::Background) => return Err(ParseError::BackgroundNotSupported),
                Some(other) => return Err(ParseError::UnexpectedToken(other.text())),
            }
        }
        Ok(Script { items })
    }

    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let mut commands = alloc::vec![self.command()?];
        while self.peek() == Some(&Token::Pipe) {
            self.next += 1;
            self.skip_newlines();
            commands.push(self.command()?);
        }
        Ok(Pipeline { commands })
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let mut command = Command::default();
        while let Some(token) = self.peek() {
            match token {
                Token::Word(word) => {
                    command.words.push(word.clone());
                    self.next += 1;
                }
                Token::Redirection { fd, operator } => {
                    let (fd, operator) = (*fd, *operator);
                    self.next += 1;
                    let Some(Token::Word(target)) = self.peek() else {
                        return Err(ParseError::MissingRedirectionTarget);
                    };
                    let target = target.clone();
                    self.next += 1;
                    let kind = match operator {
                        RedirectionOperator::Input => RedirectionKind::Input(target),
                        RedirectionOperator::Output => RedirectionKind::Output(target),
                        RedirectionOperator::Append => RedirectionKind::Append(target),
                        RedirectionOperator::Duplicate => {
                            RedirectionKind::Duplicate(descriptor_number(&target.parts)?)
                        }
                    };
                    command.redirections.push(Redirection { fd, kind });
                }
                Token::Background => return Err(ParseError::BackgroundNotSupported),
                _ => break,
            }
        }
        if command.words.is_empty() && command.redirections.is_empty() {
            return Err(match self.peek() {
                Some(token) => ParseError::UnexpectedToken(token.text()),
                None => ParseError::UnexpectedEnd,
            });
        }
        Ok(command)
    }
}

/// The `n` of `>&n`: a literal, unquoted-or-not, decimal number.
fn descriptor_number(parts: &[WordPart]) -> Result<i32, ParseError> {
    match parts {
        [WordPart::Literal(text)]
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse().map_err(|_| ParseError::BadDuplicationTarget)
        }
        _ => Err(ParseError::BadDuplicationTarget),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::tests::TestContext;
    use crate::shell::{expand, Word};
    use alloc::string::String;
    use std::vec;

    fn words(command: &Command) -> Vec<String> {
        command
            .words
            .iter()
            .filter_map(|word| expand(word, &TestContext))
            .collect()
    }

    #[test]
    fn lists_pipelines_and_conditions() {
        let script = parse("a 1 | b | c && d || e; f\n\ng").unwrap();
        let shape: Vec<(Condition, Vec<Vec<String>>)> = script
            .items
            .iter()
            .map(|(condition, pipeline)| {
                (*condition, pipeline.commands.iter().map(words).collect())
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (
                    Condition::Always,
                    vec![
                        vec!["a".into(), "1".into()],
                        vec!["b".into()],
                        vec!["c".into()]
                    ]
                ),
                (Condition::IfSuccess, vec![vec!["d".into()]]),
                (Condition::IfFailure, vec![vec!["e".into()]]),
                (Condition::Always, vec![vec!["f".into()]]),
                (Condition::Always, vec![vec!["g".into()]]),
            ]
        );
    }

    #[test]
    fn empty_scripts_and_trailing_separators_are_fine() {
        assert_eq!(parse("").unwrap(), Script::default());
        assert_eq!(parse("\n  # only a comment\n").unwrap(), Script::default());
        assert_eq!(parse("a;").unwrap().items.len(), 1);
        assert_eq!(parse("a &&\n b |\n c").unwrap().items.len(), 2);
    }

    #[test]
    fn redirections_attach_to_their_command() {
        let script = parse("cat <in >out 2>>log 2>&1 x").unwrap();
        let command = &script.items[0].1.commands[0];
        assert_eq!(words(command), ["cat", "x"]);
        assert_eq!(
            command.redirections,
            vec![
                Redirection {
                    fd: 0,
                    kind: RedirectionKind::Input(Word::literal("in"))
                },
                Redirection {
                    fd: 1,
                    kind: RedirectionKind::Output(Word::literal("out"))
                },
                Redirection {
                    fd: 2,
                    kind: RedirectionKind::Append(Word::literal("log"))
                },
                Redirection {
                    fd: 2,
                    kind: RedirectionKind::Duplicate(1)
                },
            ]
        );
        // A command of redirections alone is allowed (`> file` creates it).
        assert_eq!(parse(">f").unwrap().items[0].1.commands[0].words.len(), 0);
    }

    #[test]
    fn syntax_errors_name_the_token() {
        assert_eq!(parse("| a"), Err(ParseError::UnexpectedToken("|")));
        assert_eq!(parse("a ||"), Err(ParseError::UnexpectedEnd));
        assert_eq!(parse("a |"), Err(ParseError::UnexpectedEnd));
        assert_eq!(parse("a && ; b"), Err(ParseError::UnexpectedToken(";")));
        assert_eq!(parse("; a"), Err(ParseError::UnexpectedToken(";")));
        assert_eq!(parse("a ;; b"), Err(ParseError::UnexpectedToken(";")));
        assert_eq!(parse("a >"), Err(ParseError::MissingRedirectionTarget));
        assert_eq!(parse("a > | b"), Err(ParseError::MissingRedirectionTarget));
        assert_eq!(parse("a >&x"), Err(ParseError::BadDuplicationTarget));
        assert_eq!(parse("a >&$1"), Err(ParseError::BadDuplicationTarget));
        assert_eq!(parse("sleep 1 &"), Err(ParseError::BackgroundNotSupported));
        assert_eq!(parse("a & b"), Err(ParseError::BackgroundNotSupported));
        assert_eq!(
            std::format!("{}", parse("| a").unwrap_err()),
            "syntax error near unexpected token `|'"
        );
    }
}
