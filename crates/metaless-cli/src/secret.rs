//! Secrets off the command line: every secret flag has a file form (`--seed-file F`), an
//! environment variable (`METALESS_SEED`, …) and stdin (`-` as the value or the file).
//!
//! The argv forms stay for scripts, but a command line is visible to every local user (`ps`,
//! `/proc/*/cmdline`) and often lands in shell history, so `--help` says so.

use std::io::Read;
use std::path::Path;

use crate::cli_error::CliError;

/// Most bytes read for one secret (a 25-word phrase is well under 300).
const MAX_SECRET: u64 = 4096;

/// One secret, from (in this order) the argv value, the file, or the environment variable
/// `env`; a value, file or variable of `-` reads stdin. `None` when none of them is given.
/// Surrounding white space is trimmed. `flag` names the secret in errors (never its value).
pub fn read(
    flag: &str,
    value: Option<&str>,
    file: Option<&Path>,
    env: &str,
) -> Result<Option<String>, CliError> {
    let text = match (value, file) {
        (Some("-"), _) => stdin(flag)?,
        (Some(v), _) => v.to_owned(),
        (None, Some(p)) if p.as_os_str() == "-" => stdin(flag)?,
        (None, Some(p)) => {
            let mut s = String::new();
            std::fs::File::open(p)
                .and_then(|f| f.take(MAX_SECRET).read_to_string(&mut s))
                .map_err(|e| CliError(format!("{flag}-file {}: {e}", p.display())))?;
            s
        }
        (None, None) => match std::env::var(env) {
            Ok(v) if v == "-" => stdin(flag)?,
            Ok(v) => v,
            Err(_) => return Ok(None),
        },
    };
    // An empty value is passed on: the parser says what is wrong with it.
    Ok(Some(text.trim().to_owned()))
}

/// [`read`], required: the error names every way to give it.
pub fn require(
    flag: &str,
    value: Option<&str>,
    file: Option<&Path>,
    env: &str,
) -> Result<String, CliError> {
    read(flag, value, file, env)?.ok_or_else(|| {
        CliError(format!(
            "missing {flag}: give {flag}-file FILE, {env}, or '-' for stdin"
        ))
    })
}

fn stdin(flag: &str) -> Result<String, CliError> {
    let mut s = String::new();
    std::io::stdin()
        .take(MAX_SECRET)
        .read_to_string(&mut s)
        .map_err(|e| CliError(format!("{flag} from stdin: {e}")))?;
    Ok(s)
}
