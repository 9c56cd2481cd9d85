//! The vendored biscuit-auth's run limits hold *inside* one rule application, check or query
//! (marque fork, `vendor/biscuit-auth/src/datalog/mod.rs`, `Budget`; the vendored crate's own
//! test module does not build without upstream's fixtures, so its regression tests live here).
//! Upstream compared the clock only between fixpoint iterations and after whole queries, and
//! the facts limit only after an iteration had merged everything it derived. Without the fork
//! (feature `biscuit-fork` off, crates.io's biscuit-auth) these APIs do not exist.
#![cfg(feature = "biscuit-fork")]

use std::time::{Duration, Instant};

use biscuit_auth::builder::{self, Convert};
use biscuit_auth::datalog::{Budget, Rule, RunLimits, SymbolTable, TrustedOrigins, World};
use biscuit_auth::error::{Execution, RunLimit};

/// A world holding `f(0)`…`f(count - 1)`, from origin 0.
fn world_with(count: i64, syms: &mut SymbolTable) -> World {
    let mut w = World::new();
    for i in 0..count {
        w.add_fact(&[0].iter().collect(), builder::fact("f", &[builder::int(i)]).convert(syms));
    }
    w
}

fn rule(text: &str, syms: &mut SymbolTable) -> Rule {
    builder::Rule::try_from(text).unwrap().convert(syms)
}

fn scope() -> TrustedOrigins {
    [0].iter().collect()
}

/// A four-way join over 40 facts derives 40⁴ = 2,560,000 facts in a single fixpoint iteration:
/// it stops at the facts limit, and nothing of that iteration is merged into the world.
#[test]
fn one_rule_application_stops_at_the_facts_limit() {
    let mut syms = SymbolTable::new();
    let mut w = world_with(40, &mut syms);
    let r = rule("g($a, $b, $c, $d) <- f($a), f($b), f($c), f($d)", &mut syms);
    w.add_rule(0, &scope(), r);
    let limits = RunLimits { max_facts: 1000, max_iterations: 100, max_time: Duration::from_secs(3600) };
    let e = w.run_with_limits(&syms, limits).unwrap_err();
    assert_eq!(e, Execution::RunLimit(RunLimit::TooManyFacts));
    assert!(w.facts.len() < 1000, "{} facts", w.facts.len());
}

/// Rules within the limit still reach their fixpoint; facts an iteration re-derives are not
/// counted again (a transitive closure over 10 edges: 10 edges + 55 paths = 65 facts, under a
/// limit of 66 although every iteration re-derives every path found so far).
#[test]
fn rules_under_the_facts_limit_reach_their_fixpoint() {
    let mut syms = SymbolTable::new();
    let mut w = World::new();
    for i in 0..10 {
        w.add_fact(&scope_origin(), builder::fact("e", &[builder::int(i), builder::int(i + 1)]).convert(&mut syms));
    }
    for text in ["p($x, $y) <- e($x, $y)", "p($x, $z) <- p($x, $y), e($y, $z)"] {
        let r = rule(text, &mut syms);
        w.add_rule(0, &scope(), r);
    }
    let limits = RunLimits { max_facts: 66, max_iterations: 100, max_time: Duration::from_secs(3600) };
    w.run_with_limits(&syms, limits).unwrap();
    assert_eq!(w.facts.len(), 65);
    // One fact less and the same closure is refused.
    let mut syms2 = SymbolTable::new();
    let mut w2 = World::new();
    for i in 0..10 {
        w2.add_fact(&scope_origin(), builder::fact("e", &[builder::int(i), builder::int(i + 1)]).convert(&mut syms2));
    }
    for text in ["p($x, $y) <- e($x, $y)", "p($x, $z) <- p($x, $y), e($y, $z)"] {
        let r = rule(text, &mut syms2);
        w2.add_rule(0, &scope(), r);
    }
    let limits = RunLimits { max_facts: 65, max_iterations: 100, max_time: Duration::from_secs(3600) };
    assert_eq!(w2.run_with_limits(&syms2, limits).unwrap_err(), Execution::RunLimit(RunLimit::TooManyFacts));
}

fn scope_origin() -> biscuit_auth::datalog::Origin {
    [0].iter().collect()
}

/// A five-way join over 20 facts is 3.2 million combinations, each evaluating an expression:
/// a check (`check if` / `check all`) over it stops at the deadline with `Timeout` instead of
/// answering "no match" after evaluating them all.
#[test]
fn one_check_stops_at_the_time_limit() {
    let mut syms = SymbolTable::new();
    let w = world_with(20, &mut syms);
    let text = "q(true) <- f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1";
    let soon = || Budget::starting_now(Duration::from_millis(1), 1000);
    let e = w.query_match(rule(text, &mut syms), 0, &scope(), &syms, &soon()).unwrap_err();
    assert_eq!(e, Execution::RunLimit(RunLimit::Timeout));
    // `check all` stops at the first combination that fails: the heavy one passes them all.
    let all = "q(true) <- f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e >= 0";
    let e = w.query_match_all(rule(all, &mut syms), &scope(), &syms, &soon()).unwrap_err();
    assert_eq!(e, Execution::RunLimit(RunLimit::Timeout));
    // A small join within its budget answers normally.
    let later = Budget::starting_now(Duration::from_secs(3600), 1000);
    assert!(w.query_match(rule("q(true) <- f($a), f($b), $a + $b == 37", &mut syms), 0, &scope(), &syms, &later).unwrap());
    assert!(!w.query_match(rule("q(true) <- f($a), f($b), $a + $b == 99", &mut syms), 0, &scope(), &syms, &later).unwrap());
}

/// A query's results are bounded by the facts limit too.
#[test]
fn one_query_stops_at_the_facts_limit() {
    let mut syms = SymbolTable::new();
    let w = world_with(40, &mut syms);
    let r = rule("g($a, $b, $c) <- f($a), f($b), f($c)", &mut syms);
    let budget = Budget::starting_now(Duration::from_secs(3600), 1000);
    match w.query_rule_with_budget(r, 0, &scope(), &syms, &budget) {
        Err(e) => assert_eq!(e, Execution::RunLimit(RunLimit::TooManyFacts)),
        Ok(found) => panic!("the query returned {} facts", found.len()),
    }
}

/// The same checks through biscuit-auth's public authorizer: a token whose block holds the
/// five-way join check ends in `Timeout` (marque refuses such a block before this point; this
/// is the engine's own guarantee).
#[test]
fn the_authorizer_stops_one_heavy_check_at_the_time_limit() {
    let root = biscuit_auth::KeyPair::new();
    let facts: String = (0..20).map(|i| format!("f({i});")).collect();
    let token = biscuit_auth::Biscuit::builder()
        .code(format!("{facts} check if f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;"))
        .unwrap()
        .build(&root)
        .unwrap();
    let limits = RunLimits { max_facts: 1000, max_iterations: 100, max_time: Duration::from_millis(5) };
    let started = Instant::now();
    let e = biscuit_auth::AuthorizerBuilder::new()
        .code("allow if true;")
        .unwrap()
        .set_limits(limits)
        .build(&token)
        .unwrap()
        .authorize()
        .unwrap_err();
    assert_eq!(e, biscuit_auth::error::Token::RunLimit(RunLimit::Timeout), "after {:?}", started.elapsed());
}

/// The symbol table's hash index (marque fork: lookups were a scan, O(n²) for a block with n
/// strings) answers exactly as the scan did, through inserts, lookups, splits and extensions.
#[test]
fn symbol_lookups_through_the_index_match_a_scan() {
    let mut table = SymbolTable::new();
    let names: Vec<String> = (0..300).map(|i| format!("tool_{i:04}")).collect();
    let first: Vec<u64> = names.iter().map(|n| table.insert(n)).collect();
    // Default symbols keep their fixed indices; new ones are numbered in order from 1024.
    assert_eq!(table.insert("read"), 0);
    assert_eq!(first, (1024..1324).collect::<Vec<u64>>());
    for (n, i) in names.iter().zip(&first) {
        assert_eq!(table.insert(n), *i);
        assert_eq!(table.get(n), Some(*i));
    }
    assert_eq!(table.get("absent"), None);
    // After a split the table is shorter: lookups of what moved out no longer find it there.
    let tail = table.split_at(100);
    assert_eq!(table.get(&names[150]), None);
    assert_eq!(tail.get(&names[150]), Some(1024 + 50));
    assert_eq!(table.insert(&names[150]), 1124);
    assert_eq!(table.get(&names[99]), Some(1123));
    // Extending with a disjoint table appends its symbols after ours.
    let mut other = SymbolTable::new();
    other.insert("elsewhere");
    table.extend(&other).unwrap();
    assert_eq!(table.get("elsewhere"), Some(1125));
    assert_eq!(table.strings().len(), 102);
}
