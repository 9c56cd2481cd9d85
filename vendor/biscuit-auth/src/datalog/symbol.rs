/*
 * Copyright (c) 2019 Geoffroy Couprie <contact@geoffroycouprie.com> and Contributors to the Eclipse Foundation.
 * SPDX-License-Identifier: Apache-2.0
 */
//! Symbol table implementation
use std::collections::{HashMap, HashSet}; // marque fork
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

pub type SymbolIndex = u64;
use crate::crypto::PublicKey;
use crate::token::default_symbol_table;
use crate::{error, token::public_keys::PublicKeys};

use super::{Check, Fact, Predicate, Rule, Term, World};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolTable {
    symbols: Vec<String>,
    pub(crate) public_keys: PublicKeys,
    // marque fork: see `LookupIndex`.
    index: LookupIndex,
}

/// marque fork: a hash index from symbol to position, built once a table holds
/// [`LookupIndex::FROM`] symbols. Upstream looked every symbol up by scanning the table, so
/// building or translating a block with *n* distinct strings cost O(n²) string comparisons:
/// a hop listing a few hundred tool names took milliseconds to verify. Invisible to equality
/// (a cache of `symbols`); dropped whenever the table shrinks or is replaced. Built only from
/// 128 symbols: an ordinary authorization's table (a few dozen symbols, past 32) is rebuilt for
/// every call, and copying and hashing every symbol into an index there cost more than the
/// scans it saves (the cached authorize bench was ~20 % slower with the index from 32 symbols).
#[derive(Clone, Debug, Default)]
struct LookupIndex(Option<HashMap<String, usize>>);

impl LookupIndex {
    const FROM: usize = 128;

    fn position(&mut self, symbols: &[String], s: &str) -> Option<usize> {
        if symbols.len() < Self::FROM {
            return symbols.iter().position(|sym| sym.as_str() == s);
        }
        let map = self.0.get_or_insert_with(|| {
            let mut map = HashMap::with_capacity(symbols.len() * 2);
            for (i, sym) in symbols.iter().enumerate() {
                // The first occurrence wins, as with a scan.
                map.entry(sym.clone()).or_insert(i);
            }
            map
        });
        map.get(s).copied()
    }

    fn pushed(&mut self, symbols: &[String]) {
        if let (Some(map), Some(last)) = (self.0.as_mut(), symbols.last()) {
            map.entry(last.clone()).or_insert(symbols.len() - 1);
        }
    }
}

impl PartialEq for LookupIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for LookupIndex {}

const DEFAULT_SYMBOLS: [&str; 28] = [
    "read",
    "write",
    "resource",
    "operation",
    "right",
    "time",
    "role",
    "owner",
    "tenant",
    "namespace",
    "user",
    "team",
    "service",
    "admin",
    "email",
    "group",
    "member",
    "ip_address",
    "client",
    "client_ip",
    "domain",
    "path",
    "version",
    "cluster",
    "node",
    "hostname",
    "nonce",
    "query",
];

const OFFSET: usize = 1024;

/// marque fork: the index of `s` among the default symbols. Compares length and first byte
/// before the bytes (no call per candidate): symbol lookups run for every term of every block
/// built, parsed or translated, on the verifier's cold path.
#[inline]
fn default_symbol_index(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let first = *b.first()?;
    DEFAULT_SYMBOLS.iter().position(|sym| {
        let d = sym.as_bytes();
        d.len() == b.len() && d[0] == first && d == b
    })
}

impl SymbolTable {
    pub fn new() -> Self {
        SymbolTable {
            symbols: vec![],
            public_keys: PublicKeys::new(),
            index: LookupIndex::default(), // marque fork
        }
    }

    pub fn from(symbols: Vec<String>) -> Result<Self, error::Format> {
        // marque fork: the same disjointness test without building two hash sets per block.
        if symbols.iter().any(|s| default_symbol_index(s).is_some()) {
            return Err(error::Format::SymbolTableOverlap);
        }

        Ok(SymbolTable {
            symbols,
            public_keys: PublicKeys::new(),
            index: LookupIndex::default(), // marque fork
        })
    }

    pub fn from_symbols_and_public_keys(
        symbols: Vec<String>,
        public_keys: Vec<PublicKey>,
    ) -> Result<Self, error::Format> {
        let mut table = Self::from(symbols)?;
        table.public_keys = PublicKeys::from(public_keys);
        Ok(table)
    }

    pub fn extend(&mut self, other: &SymbolTable) -> Result<(), error::Format> {
        if !self.is_disjoint(other) {
            return Err(error::Format::SymbolTableOverlap);
        }
        self.symbols.extend(other.symbols.iter().cloned());
        // marque fork: rebuilt on the next lookup.
        self.index = LookupIndex::default();
        self.public_keys.extend(&other.public_keys)?;
        Ok(())
    }

    pub fn insert(&mut self, s: &str) -> SymbolIndex {
        if let Some(index) = default_symbol_index(s) { // marque fork
            return index as u64;
        }

        match self.index.position(&self.symbols, s) { // marque fork
            Some(index) => (OFFSET + index) as u64,
            None => {
                self.symbols.push(s.to_string());
                self.index.pushed(&self.symbols); // marque fork
                (OFFSET + (self.symbols.len() - 1)) as u64
            }
        }
    }

    pub fn add(&mut self, s: &str) -> Term {
        let term = self.insert(s);
        Term::Str(term)
    }

    pub fn get(&self, s: &str) -> Option<SymbolIndex> {
        if let Some(index) = default_symbol_index(s) { // marque fork
            return Some(index as u64);
        }

        // marque fork: through the index when one is built.
        match &self.index.0 {
            Some(map) => map.get(s).copied(),
            None => self.symbols.iter().position(|sym| sym.as_str() == s),
        }
        .map(|i| (OFFSET + i) as SymbolIndex)
    }

    pub fn strings(&self) -> Vec<String> {
        self.symbols.clone()
    }

    /// marque fork: the symbols, moved out (the table is left empty).
    pub(crate) fn take_strings(&mut self) -> Vec<String> {
        self.index = LookupIndex::default();
        std::mem::take(&mut self.symbols)
    }

    pub fn current_offset(&self) -> usize {
        self.symbols.len()
    }

    pub fn split_at(&mut self, offset: usize) -> SymbolTable {
        let mut table = SymbolTable::new();
        table.symbols = self.symbols.split_off(offset);
        // marque fork: the index no longer matches the shortened table.
        self.index = LookupIndex::default();
        table
    }

    pub fn is_disjoint(&self, other: &SymbolTable) -> bool {
        // marque fork: small tables (every marque token's) are compared pairwise, without
        // building two hash sets per block; large ones as upstream.
        if self.symbols.len().saturating_mul(other.symbols.len()) <= 4096 {
            return !self
                .symbols
                .iter()
                .any(|a| other.symbols.iter().any(|b| a == b));
        }
        let h1 = self.symbols.iter().collect::<HashSet<_>>();
        let h2 = other.symbols.iter().collect::<HashSet<_>>();

        h1.is_disjoint(&h2)
    }

    pub fn get_symbol(&self, i: SymbolIndex) -> Option<&str> {
        if i >= OFFSET as u64 {
            self.symbols
                .get((i - OFFSET as u64) as usize)
                .map(|s| s.as_str())
        } else {
            DEFAULT_SYMBOLS.get(i as usize).copied()
        }
    }

    pub fn print_symbol(&self, i: SymbolIndex) -> Result<String, error::Format> {
        self.get_symbol(i)
            .map(|s| s.to_string())
            .ok_or(error::Format::UnknownSymbol(i))
    }

    // infallible symbol printing method
    pub fn print_symbol_default(&self, i: SymbolIndex) -> String {
        self.get_symbol(i)
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("<{}?>", i))
    }

    pub fn print_world(&self, w: &World) -> String {
        let facts = w
            .facts
            .inner
            .iter()
            .flat_map(|facts| facts.1.iter())
            .map(|f| self.print_fact(f))
            .collect::<Vec<_>>();
        let rules = w
            .rules
            .inner
            .iter()
            .flat_map(|rules| rules.1.iter())
            .map(|(_, r)| self.print_rule(r))
            .collect::<Vec<_>>();
        format!("World {{\n  facts: {:#?}\n  rules: {:#?}\n}}", facts, rules)
    }

    pub fn print_term(&self, term: &Term) -> String {
        match term {
            Term::Variable(i) => format!("${}", self.print_symbol_default(*i as u64)),
            Term::Integer(i) => i.to_string(),
            Term::Str(index) => format!("\"{}\"", self.print_symbol_default(*index)),
            Term::Date(d) => OffsetDateTime::from_unix_timestamp(*d as i64)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_else(|| "<invalid date>".to_string()),
            Term::Bytes(s) => format!("hex:{}", hex::encode(s)),
            Term::Bool(b) => {
                if *b {
                    "true".to_string()
                } else {
                    "false".to_string()
                }
            }
            Term::Set(s) => {
                if s.is_empty() {
                    "{,}".to_string()
                } else {
                    let terms = s
                        .iter()
                        .map(|term| self.print_term(term))
                        .collect::<Vec<_>>();
                    format!("{{{}}}", terms.join(", "))
                }
            }
            Term::Null => "null".to_string(),
            Term::Array(a) => {
                let terms = a
                    .iter()
                    .map(|term| self.print_term(term))
                    .collect::<Vec<_>>();
                format!("[{}]", terms.join(", "))
            }
            Term::Map(m) => {
                let terms = m
                    .iter()
                    .map(|(key, term)| match key {
                        crate::datalog::MapKey::Integer(i) => {
                            format!("{}: {}", i, self.print_term(term))
                        }
                        crate::datalog::MapKey::Str(s) => {
                            format!(
                                "\"{}\": {}",
                                self.print_symbol_default(*s as u64),
                                self.print_term(term)
                            )
                        }
                    })
                    .collect::<Vec<_>>();
                format!("{{{}}}", terms.join(", "))
            }
        }
    }

    pub fn print_fact(&self, f: &Fact) -> String {
        self.print_predicate(&f.predicate)
    }

    pub fn print_predicate(&self, p: &Predicate) -> String {
        let strings = p
            .terms
            .iter()
            .map(|term| self.print_term(term))
            .collect::<Vec<_>>();
        format!(
            "{}({})",
            self.get_symbol(p.name).unwrap_or("<?>"),
            strings.join(", ")
        )
    }

    pub fn print_expression(&self, e: &super::expression::Expression) -> String {
        e.print(self)
            .unwrap_or_else(|| format!("<invalid expression: {:?}>", e.ops))
    }

    pub fn print_rule_body(&self, r: &Rule) -> String {
        let preds: Vec<_> = r.body.iter().map(|p| self.print_predicate(p)).collect();

        let expressions: Vec<_> = r
            .expressions
            .iter()
            .map(|c| self.print_expression(c))
            .collect();

        let e = if expressions.is_empty() {
            String::new()
        } else if preds.is_empty() {
            expressions.join(", ")
        } else {
            format!(", {}", expressions.join(", "))
        };

        let scopes = if r.scopes.is_empty() {
            String::new()
        } else {
            let s: Vec<_> = r
                .scopes
                .iter()
                .map(|scope| match scope {
                    crate::token::Scope::Authority => "authority".to_string(),
                    crate::token::Scope::Previous => "previous".to_string(),
                    crate::token::Scope::PublicKey(key_id) => {
                        match self.public_keys.get_key(*key_id) {
                            Some(key) => key.print(),
                            None => "<unknown public key id>".to_string(),
                        }
                    }
                })
                .collect();
            format!(" trusting {}", s.join(", "))
        };

        format!("{}{}{}", preds.join(", "), e, scopes)
    }

    pub fn print_rule(&self, r: &Rule) -> String {
        let res = self.print_predicate(&r.head);

        format!("{} <- {}", res, self.print_rule_body(r))
    }

    pub fn print_check(&self, c: &Check) -> String {
        let queries = c
            .queries
            .iter()
            .map(|r| self.print_rule_body(r))
            .collect::<Vec<_>>();

        format!(
            "{} {}",
            match c.kind {
                crate::builder::CheckKind::One => "check if",
                crate::builder::CheckKind::All => "check all",
                crate::builder::CheckKind::Reject => "reject if",
            },
            queries.join(" or ")
        )
    }
}

impl Default for SymbolTable {
    fn default() -> Self {
        default_symbol_table()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporarySymbolTable<'a> {
    base: &'a SymbolTable,
    offset: usize,
    symbols: Vec<String>,
}

impl<'a> TemporarySymbolTable<'a> {
    pub fn new(base: &'a SymbolTable) -> Self {
        let offset = OFFSET + base.current_offset();

        TemporarySymbolTable {
            base,
            offset,
            symbols: vec![],
        }
    }

    pub fn get_symbol(&self, i: SymbolIndex) -> Option<&str> {
        if i as usize >= self.offset {
            self.symbols
                .get(i as usize - self.offset)
                .map(|s| s.as_str())
        } else {
            self.base.get_symbol(i)
        }
    }

    pub fn insert(&mut self, s: &str) -> SymbolIndex {
        if let Some(index) = self.base.get(s) {
            return index;
        }

        match self.symbols.iter().position(|sym| sym.as_str() == s) {
            Some(index) => (self.offset + index) as u64,
            None => {
                self.symbols.push(s.to_string());
                (self.offset + (self.symbols.len() - 1)) as u64
            }
        }
    }
}
