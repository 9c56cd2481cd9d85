//! A tiny, strict argument parser: `--name value` options (repeatable), `--flag` switches and
//! positionals. Unknown options are errors, never ignored.

use std::collections::BTreeMap;
use std::io::Read;

pub struct Args {
    options: BTreeMap<String, Vec<String>>,
    flags: Vec<String>,
    positional: Vec<String>,
}

impl Args {
    pub fn parse(argv: &[String], options: &[&str], flags: &[&str]) -> Result<Args, String> {
        let mut out = Args { options: BTreeMap::new(), flags: Vec::new(), positional: Vec::new() };
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (name, None),
                };
                if flags.contains(&name) {
                    out.flags.push(name.to_string());
                } else if options.contains(&name) {
                    let value = match inline {
                        Some(v) => v,
                        None => it.next().ok_or_else(|| format!("--{name} needs a value"))?.clone(),
                    };
                    out.options.entry(name.to_string()).or_default().push(value);
                } else {
                    return Err(format!("unknown option --{name}"));
                }
            } else {
                out.positional.push(a.clone());
            }
        }
        Ok(out)
    }

    pub fn one(&self, name: &str) -> Option<&str> {
        self.options.get(name).and_then(|v| v.last()).map(String::as_str)
    }

    pub fn req(&self, name: &str) -> Result<&str, String> {
        self.one(name).ok_or_else(|| format!("--{name} is required"))
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.options.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    pub fn positional(&self) -> &[String] {
        &self.positional
    }
}

/// A file's text, or a one-line error naming it.
pub fn read_file(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// Resolves a TOKEN-style argument: `-` reads stdin, `@file` reads a file, anything else is
/// the value itself. Surrounding whitespace is trimmed.
pub fn read_arg(arg: &str) -> Result<String, String> {
    if arg == "-" {
        let mut s = String::new();
        std::io::stdin().take(1 << 20).read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(s.trim().to_string())
    } else if let Some(path) = arg.strip_prefix('@') {
        let s = read_file(path)?;
        Ok(s.trim().to_string())
    } else {
        Ok(arg.trim().to_string())
    }
}
