//! What is wrong with a configuration: every problem at once, each naming the variable the way
//! the operator wrote it (`TWOFOLD_LISTEN`, or `listen` in the file), never a type or a source
//! location of ours.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use super::ENV_PREFIX;

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key it is about (`listen`), if it is about one.
    key: Option<String>,
    /// How the key is shown; set from the key, then from where its value came from.
    name: String,
    what: What,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum What {
    /// A variable or file key that is not a setting.
    Unknown { suggestion: Option<String> },
    /// The value (or its absence) is refused: why, and what would do.
    Refused(String),
    /// Not about one key (the file is missing or is not TOML).
    General(String),
}

impl Problem {
    /// `key`'s value (or its absence) is refused; `message` says what it expects.
    pub fn refused(key: &str, message: impl Into<String>) -> Problem {
        Problem {
            key: Some(key.to_string()),
            name: env_name(key),
            what: What::Refused(message.into()),
        }
    }

    pub(super) fn unknown(key: &str, suggestion: Option<&str>) -> Problem {
        Problem {
            key: Some(key.to_string()),
            name: env_name(key),
            what: What::Unknown {
                suggestion: suggestion.map(str::to_string),
            },
        }
    }

    pub(super) fn general(message: impl Into<String>) -> Problem {
        Problem {
            key: None,
            name: String::new(),
            what: What::General(message.into()),
        }
    }

    /// The key this problem is about, as the settings name it (`listen`).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Names the key as the operator wrote it.
    fn name_by(&mut self, sources: &Sources<'_>) {
        let Some(key) = &self.key else { return };
        self.name = sources.name(key);
        if let What::Unknown {
            suggestion: Some(s),
        } = &mut self.what
        {
            *s = if sources.set_in_env(key) {
                env_name(s)
            } else {
                format!("`{s}`")
            };
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.what {
            What::Unknown { suggestion } => {
                let is_env = self.name.starts_with(ENV_PREFIX);
                let what = if is_env { "variable" } else { "key" };
                write!(f, "unknown {what} {}", self.name)?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean {s}?)"),
                    None => write!(f, " (docs/configuration.md lists the settings)"),
                }
            }
            What::Refused(message) => write!(f, "{}: {message}", self.name),
            What::General(message) => f.write_str(message),
        }
    }
}

/// The whole configuration was refused; [`ConfigError::problems`] says every reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl From<Problem> for ConfigError {
    fn from(problem: Problem) -> ConfigError {
        ConfigError {
            problems: vec![problem],
        }
    }
}

/// One problem a line.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Collects problems while the configuration is checked, so one start reports them all.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// Refuses `key` with `message`.
    pub fn refuse(&mut self, key: &str, message: impl Into<String>) {
        self.push(Problem::refused(key, message));
    }

    /// The value, or `None` with its problem recorded.
    pub fn take<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|p| self.push(p)).ok()
    }

    /// Takes in the problems of a part checked on its own.
    pub fn extend(&mut self, error: ConfigError) {
        self.0.extend(error.problems);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err` if anything was wrong, else `value` (which must then be there).
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ConfigError> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            // A value missing without a problem recorded would be a bug of ours: say so plainly
            // rather than start half-configured.
            _ if self.0.is_empty() => {
                Err(Problem::general("the configuration is incomplete").into())
            }
            _ => Err(ConfigError { problems: self.0 }),
        }
    }

    pub fn into_error(self) -> ConfigError {
        ConfigError { problems: self.0 }
    }
}

/// `TWOFOLD_LISTEN` for `listen`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// Where each key's value came from, to name it the way the operator wrote it.
pub(super) struct Sources<'a> {
    pub file: Option<&'a Path>,
    pub file_keys: BTreeSet<String>,
    pub env_keys: BTreeSet<String>,
}

impl Sources<'_> {
    fn set_in_env(&self, key: &str) -> bool {
        self.env_keys.contains(key)
    }

    /// The environment wins over the file; a key set in neither is named by its variable (and
    /// its file key too when a file is in use).
    fn name(&self, key: &str) -> String {
        match self.file {
            _ if self.set_in_env(key) => env_name(key),
            Some(file) if self.file_keys.contains(key) => {
                format!("`{key}` in {}", file.display())
            }
            Some(file) => format!("{} (or `{key}` in {})", env_name(key), file.display()),
            None => env_name(key),
        }
    }

    pub fn name_all(&self, error: ConfigError) -> ConfigError {
        let mut problems = error.problems;
        for p in &mut problems {
            p.name_by(self);
        }
        ConfigError { problems }
    }
}

/// The known key closest to `unknown`, if it is close enough to be a slip of the keyboard
/// (`listn`, `publicurl`, `master_kye`: one slip in three characters, and always one) or one
/// key is the start of the other (`listen_port`, `redis`).
pub(super) fn closest<'k>(unknown: &str, known: &'k [String]) -> Option<&'k str> {
    let unknown = unknown.to_ascii_lowercase();
    let prefix =
        |k: &str| unknown.len() >= 4 && (k.starts_with(&unknown) || unknown.starts_with(k));
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&unknown, k), k))
        .filter(|(distance, k)| *distance <= (unknown.len() / 3).max(1) || prefix(k))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.as_str())
}

/// What a setting's type expects, in words, from serde's description of it.
pub(super) fn expected(serde_expects: &str) -> String {
    let e = serde_expects;
    if e.contains("u8") || e.contains("u16") || e.contains("u32") || e.contains("u64") {
        "expects a whole number".into()
    } else if e.contains("bool") {
        "expects true or false".into()
    } else if e.contains("text") || e.contains("string") || e.contains("path") {
        "expects text".into()
    } else {
        format!("expects {e}")
    }
}

/// The value as the operator wrote it, for the refusals of type errors.
pub(super) fn written(actual: &figment::error::Actual) -> String {
    use figment::error::Actual;
    match actual {
        Actual::Bool(b) => format!("`{b}`"),
        Actual::Unsigned(n) => format!("`{n}`"),
        Actual::Signed(n) => format!("`{n}`"),
        Actual::Float(n) => format!("`{n}`"),
        Actual::Char(c) => format!("`{c}`"),
        Actual::Str(s) => format!("`{s}`"),
        Actual::Seq => "a list".into(),
        Actual::Map => "a table".into(),
        _ => "something else".into(),
    }
}
