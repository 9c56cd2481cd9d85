//! The bindings' error-code lists, generated from the core's [`ErrorKind::ALL`].
//!
//! Every file of [`FILES`] holds one or more blocks between a line containing
//! `BEGIN generated error codes: <format>` and a line containing `END generated error codes`; the
//! lines in between are rendered here from `ErrorKind::ALL` (codes, variant names, and the
//! variants' doc comments read from `core/src/error.rs`). This test fails when a block differs from
//! its rendering, when a listed file has no block, or when `ErrorKind::ALL` misses a variant of
//! the enum; `MARQUE_REGEN_VECTORS=1 cargo test -p marque --test error_codes` rewrites the blocks.
//! (`bindings-node/index.d.ts` is also produced by `npm run build` from `types/header.d.ts`: both
//! are rewritten, so either way they agree.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use marque::ErrorKind;
use std::path::{Path, PathBuf};

/// Every file that lists the error codes, relative to the repository root.
const FILES: &[&str] = &[
    "bindings-python/src/errors.rs",
    "bindings-python/python/marque/__init__.py",
    "bindings-python/python/marque/_native.pyi",
    "bindings-wasm/pkg/errors.js",
    "bindings-wasm/pkg/errors.cjs",
    "bindings-wasm/pkg/index.d.ts",
    "bindings-node/types/header.d.ts",
    "bindings-node/index.d.ts",
];

const BEGIN: &str = "BEGIN generated error codes:";
const END: &str = "END generated error codes";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One error kind as the renderers see it.
struct Kind {
    variant: String,
    code: &'static str,
    /// The variant's doc comment in `core/src/error.rs`, on one line, Markdown links reduced to
    /// their text.
    doc: String,
}

impl Kind {
    /// The Python exception class (`Internal` is `InternalError`: a bare `Internal` would read
    /// as a flag).
    fn python_class(&self) -> String {
        if self.variant == "Internal" {
            "InternalError".into()
        } else {
            self.variant.clone()
        }
    }
}

/// The doc comments of the `ErrorKind` variants, in source order, read from `core/src/error.rs`.
fn variant_docs() -> Vec<(String, String)> {
    let src = std::fs::read_to_string(repo().join("core/src/error.rs")).unwrap();
    let body = src.split("pub enum ErrorKind {").nth(1).expect("enum ErrorKind in error.rs");
    let body = body.split("\n}").next().unwrap();
    let mut out = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    for line in body.lines().map(str::trim) {
        if let Some(d) = line.strip_prefix("///") {
            doc.push(d.trim().to_string());
        } else if let Some(name) = line.strip_suffix(',') {
            assert!(!doc.is_empty(), "ErrorKind::{name} has no doc comment");
            out.push((name.to_string(), strip_links(&doc.join(" "))));
            doc.clear();
        }
    }
    out
}

/// `[`Signer`](crate::signer::Signer)` → `` `Signer` ``.
fn strip_links(doc: &str) -> String {
    let mut out = String::new();
    let mut rest = doc;
    while let Some(start) = rest.find('[') {
        let Some(mid) = rest[start..].find("](") else { break };
        let Some(end) = rest[start + mid..].find(')') else { break };
        out.push_str(&rest[..start]);
        out.push_str(&rest[start + 1..start + mid]);
        rest = &rest[start + mid + end + 1..];
    }
    out.push_str(rest);
    out
}

fn kinds() -> Vec<Kind> {
    let docs = variant_docs();
    let all: Vec<String> = ErrorKind::ALL.iter().map(|k| format!("{k:?}")).collect();
    let declared: Vec<&String> = docs.iter().map(|(n, _)| n).collect();
    assert_eq!(
        all.iter().collect::<Vec<_>>(),
        declared,
        "ErrorKind::ALL must list every variant of the enum, in declaration order"
    );
    ErrorKind::ALL
        .iter()
        .zip(docs)
        .map(|(k, (variant, doc))| Kind { variant, code: k.code(), doc })
        .collect()
}

fn rust_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The lines of one block in `format`, without indentation.
fn render(format: &str, kinds: &[Kind]) -> Vec<String> {
    kinds
        .iter()
        .map(|k| match format {
            // bindings-python/src/errors.rs: the `kinds!` table (variant => class, docstring).
            "pyo3-classes" => {
                let doc = format!("{} Code: `{}`.", k.doc, k.code);
                format!("{} => {}, \"{}\";", k.variant, k.python_class(), rust_str(&doc))
            }
            "py-names" => format!("{},", k.python_class()),
            "py-quoted-names" => format!("\"{}\",", k.python_class()),
            "py-codes" => format!("\"{}\",", k.code),
            "pyi-classes" => format!("class {}(MarqueError): ...", k.python_class()),
            "js-codes" => format!("'{}',", k.code),
            "ts-union" => format!("| '{}'", k.code),
            other => panic!("unknown generated-block format {other:?}"),
        })
        .collect()
}

/// `text` with every block re-rendered.
fn regenerate(path: &str, text: &str, kinds: &[Kind]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n');
    let mut blocks = 0;
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some(at) = line.find(BEGIN) else { continue };
        let format = line[at + BEGIN.len()..].split_whitespace().next().unwrap_or("");
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        for l in render(format, kinds) {
            out.push_str(&indent);
            out.push_str(&l);
            out.push('\n');
        }
        loop {
            let l = lines.next().unwrap_or_else(|| panic!("{path}: unterminated {BEGIN} block"));
            assert!(!l.contains(BEGIN), "{path}: nested {BEGIN} block");
            if l.contains(END) {
                out.push_str(l);
                break;
            }
        }
        blocks += 1;
    }
    assert!(blocks > 0, "{path} has no `{BEGIN} <format>` block");
    out
}

#[test]
fn binding_error_code_lists_are_generated_from_the_core() {
    let kinds = kinds();
    let regen = std::env::var_os("MARQUE_REGEN_VECTORS").is_some();
    let mut stale = Vec::new();
    for file in FILES {
        let path = repo().join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let want = regenerate(file, &text, &kinds);
        if want != text {
            if regen {
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(*file);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "error-code lists differ from ErrorKind::ALL in {stale:?}: run \
         MARQUE_REGEN_VECTORS=1 cargo test -p marque --test error_codes (and rebuild the bindings)"
    );
}

#[test]
fn renderings_quote_codes_and_docs() {
    let kinds = kinds();
    assert_eq!(kinds.len(), ErrorKind::ALL.len());
    let rust = render("pyo3-classes", &kinds);
    assert!(rust[0].starts_with("InvalidToken => InvalidToken, \""), "{}", rust[0]);
    assert!(rust.last().unwrap().starts_with("Internal => InternalError, \""));
    assert!(rust.iter().all(|l| l.ends_with("`.\";")), "{rust:?}");
    // Links are reduced to their text.
    assert_eq!(strip_links("A [`Signer`](crate::signer::Signer) failed"), "A `Signer` failed");
    assert_eq!(render("ts-union", &kinds)[0], "| 'invalid_token'");
}
