//! The one error type of the command line: a log-safe, one-line message.

use std::fmt;

/// A failure to report on stderr (exit code 2).
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    /// Wraps any displayable error with the argument or step it concerns.
    pub fn context(what: &str, err: impl fmt::Display) -> Self {
        Self(format!("{what}: {err}"))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the underlying error printed.
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(err: E) -> Self {
        Self(err.to_string())
    }
}
