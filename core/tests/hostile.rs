//! Hostile inputs: every one ends in a typed error (or a denial), quickly, and never a panic.

use std::time::{Duration, Instant};

use biscuit_auth::builder::BlockBuilder;
use biscuit_auth::UnverifiedBiscuit;
use prost::Message as _;
use marque::{DelegateParams, KeyPair, Limits, MintParams, Request, Right, Token, Verifier};

const NOW: u64 = 1_767_225_600;

fn kp(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

fn chain() -> (Verifier, Token) {
    let t = Token::mint(&kp(1), &MintParams::new("agent:o", kp(2).public_key(), "user:a").right(Right::new("read_file", "*", "*")).now(NOW))
        .unwrap()
        .delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).resource_prefix("src/").now(NOW))
        .unwrap();
    (Verifier::new([kp(1).public_key()]), t)
}

fn req() -> Request {
    Request::new("read_file", "read", "src/a.rs")
}

/// The Datalog of the profile's hop from `token`'s holder (key pair `holder`) to `agent:x`
/// (key 9): what an honest delegation writes, read back from one.
fn canonical_hop(token: &Token, holder: &KeyPair) -> String {
    let child = token.delegate(holder, &DelegateParams::new(format!("agent:x{}", token.depth() + 1), kp(9).public_key()).ttl_seconds(100).now(NOW)).unwrap();
    let raw = biscuit_auth::format::schema::Biscuit::decode(child.to_bytes()).unwrap();
    UnverifiedBiscuit::from(child.to_bytes()).unwrap().print_block_source(raw.blocks.len()).unwrap()
}

/// Appends the hop `token`'s holder (`holder`) would write to `agent:x`, plus `extra` Datalog,
/// signed by `signer` as a third-party block.
fn hop_with(token: &Token, holder: &KeyPair, signer: &KeyPair, extra: &str) -> Vec<u8> {
    hop_with_next_key(token, holder, signer, extra, None)
}

/// [`hop_with`], with the block's next key chosen by the caller (else a fresh Ed25519 key).
fn hop_with_next_key(token: &Token, holder: &KeyPair, signer: &KeyPair, extra: &str, next: Option<biscuit_auth::KeyPair>) -> Vec<u8> {
    let ub = UnverifiedBiscuit::from(token.to_bytes()).unwrap();
    let code = canonical_hop(token, holder);
    let sk = biscuit_auth::PrivateKey::from_bytes(&signer.to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap();
    let builder = BlockBuilder::new().code(format!("{code}\n{extra}")).unwrap();
    let block = ub.third_party_request().unwrap().create_block(&sk, builder).unwrap();
    let appended = match next {
        Some(next) => ub.append_third_party_with_keypair(&block.serialize().unwrap(), next),
        None => ub.append_third_party(&block.serialize().unwrap()),
    };
    appended.unwrap().to_vec().unwrap()
}

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    out
}

#[test]
fn truncated_and_nested_protobuf() {
    let (v, t) = chain();
    let bytes = t.to_bytes();
    for cut in 0..bytes.len() {
        let e = timed(|| v.authorize(&bytes[..cut], &req(), None, Some(NOW))).unwrap_err();
        assert!(["invalid_token", "invalid_signature", "unknown_root_key"].contains(&e.code()), "cut {cut}: {}", e.code());
        assert!(Token::from_bytes(&bytes[..cut]).is_err());
    }
    // Deeply nested length-delimited fields (field 2, wire type 2, nested 5000 times).
    let mut nested: Vec<u8> = Vec::new();
    for _ in 0..5000 {
        let mut outer = vec![0x12];
        let mut len = nested.len();
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                outer.push(b);
                break;
            }
            outer.push(b | 0x80);
        }
        outer.extend_from_slice(&nested);
        nested = outer;
        if nested.len() > 15_000 {
            break;
        }
    }
    assert_eq!(timed(|| v.authorize(&nested, &req(), None, Some(NOW))).unwrap_err().code(), "invalid_token");
}

#[test]
fn base64_tricks() {
    let (v, t) = chain();
    let b64 = t.to_base64();
    let standard = b64.replace('-', "+").replace('_', "/");
    let cases = [
        format!("{b64}==="),
        format!("{b64}\u{0}"),
        format!("{}{}", &b64[..10], &b64[11..]),
        format!("{} {}", &b64[..10], &b64[10..]),
        "=".repeat(8),
        String::from_utf8_lossy(&[0xff, 0xfe, 0x41]).into_owned(),
    ];
    for c in cases.iter().chain(std::iter::once(&standard).filter(|s| **s != b64)) {
        let e = v.authorize_base64(c, &req(), None, Some(NOW)).unwrap_err();
        assert!(["invalid_token", "invalid_signature"].contains(&e.code()), "{c:?}: {}", e.code());
    }
    // Surrounding whitespace and missing padding are tolerated; the token is the same.
    assert!(v.authorize_base64(&format!("  {}\n", b64.trim_end_matches('=')), &req(), None, Some(NOW)).unwrap().allowed);
}

#[test]
fn invalid_utf8_inside_a_block_is_refused() {
    let (v, t) = chain();
    let mut bytes = t.to_bytes().to_vec();
    // Corrupt a string byte inside the authority block's symbol table: signature fails first.
    let needle = b"user:a";
    let pos = bytes.windows(needle.len()).position(|w| w == needle).unwrap();
    bytes[pos] = 0xff;
    let e = v.authorize(&bytes, &req(), None, Some(NOW)).unwrap_err();
    assert!(["invalid_token", "invalid_signature"].contains(&e.code()));
}

/// A hop block carrying Datalog beyond the profile's — huge fact sets, recursive rules, heavy
/// checks — is refused as a whole (`invalid_token`) before any Datalog runs, by the verifier and
/// by a plain parse; the same hop without the extra Datalog is accepted (the helper builds the
/// profile's block, so the extra Datalog is what is refused). The attack vectors
/// (`core/tests/attacks/blocks.rs`) hold the cases every runtime replays.
#[test]
fn hop_blocks_with_datalog_beyond_the_profile_are_refused_before_it_runs() {
    let (v, t) = chain();
    let honest = hop_with(&t, &kp(3), &kp(3), "");
    assert!(v.authorize(&honest, &req(), None, Some(NOW)).unwrap().allowed);
    let facts: String = (0..1200).map(|i| format!("f({i});")).collect();
    let edges: String = (0..60).map(|i| format!("e({i}, {});", i + 1)).collect();
    let closure = format!("{edges} p($x, $y) <- e($x, $y); p($x, $z) <- p($x, $y), e($y, $z);");
    let long = "a".repeat(4000);
    let regex = format!(r#"s("{long}"); check if s($x), ($x + $x + $x + $x).matches("^(a|aa)+b$");"#);
    let join: String = (0..20).map(|i| format!("f({i});")).collect::<String>()
        + "check if f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;";
    for extra in [facts.as_str(), &closure, &regex, &join, "check if true;"] {
        let hostile = hop_with(&t, &kp(3), &kp(3), extra);
        let e = timed(|| v.authorize(&hostile, &req(), None, Some(NOW))).unwrap_err();
        assert_eq!(e.code(), "invalid_token", "{}", &extra[..extra.len().min(40)]);
        assert!(e.message().contains("block 2"), "{e}");
        assert_eq!(Token::from_bytes(&hostile).unwrap_err().code(), "invalid_token");
    }
}

/// Defence in depth (biscuit-auth fork, `datalog::Budget`): an operator policy is only
/// allow/deny/check, but one query can still join request attributes (up to 64) five ways —
/// 64⁵ ≈ 10⁹ combinations. The time limit now holds *inside* that query, so it ends with
/// `limits_exceeded` within the limit instead of running for minutes and being compared with
/// the limit afterwards.
#[test]
fn an_operator_policy_joining_request_attributes_five_ways_hits_the_time_limit() {
    let (mut v, t) = chain();
    v.add_policy(marque::Policy::new(
        "five-way",
        "deny if attribute($a, $va), attribute($b, $vb), attribute($c, $vc), attribute($d, $vd), \
         attribute($e, $ve), $va + $vb + $vc + $vd + $ve == \"never\";",
    ))
    .unwrap();
    let mut request = req();
    for i in 0..64 {
        request = request.attribute(format!("k{i}"), format!("v{i}"));
    }
    let e = v.authorize(t.to_bytes(), &request, None, Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "limits_exceeded", "{e}");
    // The same policy over a few attributes completes (and denies nothing).
    let small = req().attribute("k", "v").attribute("l", "w");
    assert!(v.authorize(t.to_bytes(), &small, None, Some(NOW)).unwrap().allowed);
}

#[test]
fn oversized_inputs_are_limits_exceeded() {
    let (v, t) = chain();
    let big = vec![0u8; Limits::default().max_token_bytes + 1];
    assert_eq!(v.authorize(&big, &req(), None, Some(NOW)).unwrap_err().code(), "limits_exceeded");
    let text = "A".repeat(40_000);
    assert_eq!(v.authorize_base64(&text, &req(), None, Some(NOW)).unwrap_err().code(), "limits_exceeded");
    let long_proof = "a".repeat(9000);
    let e = v.authorize(t.to_bytes(), &req(), Some(&long_proof), Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "limits_exceeded");
    let mut many = t.clone();
    let mut holder = kp(3);
    for i in 0..3 {
        let next = kp(20 + i);
        many = many.delegate(&holder, &DelegateParams::new(format!("agent:n{i}"), next.public_key()).now(NOW)).unwrap();
        holder = next;
    }
    let v2 = Verifier::new([kp(1).public_key()]).with_limits(Limits { max_blocks: 4, ..Limits::default() });
    assert_eq!(v2.authorize(many.to_bytes(), &req(), None, Some(NOW)).unwrap_err().code(), "limits_exceeded");
}

#[test]
fn a_hop_signed_by_an_unexpected_key_or_naming_another_next_key() {
    let (v, t) = chain();
    // Signed by a stranger.
    assert_eq!(v.authorize(&hop_with(&t, &kp(3), &kp(66), ""), &req(), None, Some(NOW)).unwrap_err().code(), "invalid_signature");
    // Hop 2 names key 9; a hop 3 signed by anyone but key 9 is refused, even by agent a.
    let two = Token::from_bytes(&hop_with(&t, &kp(3), &kp(3), "")).unwrap();
    assert_eq!(two.holder_key(), &kp(9).public_key());
    let three = hop_with(&two, &kp(9), &kp(3), "");
    assert_eq!(v.authorize(&three, &req(), None, Some(NOW)).unwrap_err().code(), "invalid_signature");
    let ok = hop_with(&two, &kp(9), &kp(9), "");
    assert!(v.authorize(&ok, &req(), None, Some(NOW)).unwrap().allowed);
}

#[test]
fn errors_never_echo_secret_material() {
    let secret = kp(42);
    let seed_hex = secret.to_hex().to_string();
    let mut messages = vec![format!("{secret:?}"), format!("{:?}", secret.to_jwk())];
    let (v, t) = chain();
    messages.push(t.delegate(&secret, &DelegateParams::new("agent:x", kp(5).public_key()).now(NOW)).unwrap_err().to_string());
    messages.push(t.sign_proof(&secret, &req(), Some(NOW)).unwrap_err().to_string());
    messages.push(KeyPair::from_hex(&format!("{seed_hex}00")).unwrap_err().to_string());
    messages.push(marque::PublicKey::from_hex(&seed_hex[..62]).unwrap_err().to_string());
    messages.push(v.authorize_base64(&seed_hex, &req(), None, Some(NOW)).unwrap_err().to_string());
    for m in &messages {
        assert!(!m.contains(&seed_hex), "secret in: {m}");
        assert!(!m.contains(&seed_hex[..16]), "secret prefix in: {m}");
    }
}

/// marque's profile is Ed25519 only: a hop that is otherwise valid (signed by the holder, a
/// the profile's Datalog) but whose next block key is P-256 is refused by the core itself, in
/// every build, before biscuit-auth (which in this test build does support P-256) sees it.
#[test]
fn p256_keys_are_refused_everywhere_in_a_token() {
    let (v, t) = chain();
    let p256_next = biscuit_auth::KeyPair::new_with_algorithm(biscuit_auth::Algorithm::Secp256r1);
    let with_p256 = hop_with_next_key(&t, &kp(3), &kp(3), "", Some(p256_next));
    // The same hop with an Ed25519 next key is accepted: only the algorithm differs.
    let with_ed25519 = hop_with(&t, &kp(3), &kp(3), "");
    assert!(v.authorize(&with_ed25519, &req(), None, Some(NOW)).unwrap().allowed);

    let e = v.authorize(&with_p256, &req(), None, Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "invalid_token");
    assert!(e.message().contains("Ed25519 keys only"), "{e}");
    let e = Token::from_bytes(&with_p256).unwrap_err();
    assert_eq!(e.code(), "invalid_token");
    assert!(e.message().contains("Ed25519 keys only"), "{e}");
}

/// Found by the `hop_block_datalog` fuzzer: biscuit-auth's `append_third_party` panicked
/// (`unwrap`) on a correctly signed third-party payload that is a protobuf `Block` but not a
/// valid block (here: an unknown schema version). The vendored copy returns an error
/// (crates.io's biscuit-auth still panics: only with the fork, `biscuit-fork`).
#[cfg(feature = "biscuit-fork")]
#[test]
fn appending_a_signed_payload_that_is_no_valid_block_is_an_error() {
    use biscuit_auth::format::schema;
    let (_, t) = chain();
    let ub = UnverifiedBiscuit::from(t.to_bytes()).unwrap();
    let request = ub.third_party_request().unwrap().serialize().unwrap();
    let previous = schema::ThirdPartyBlockRequest::decode(&request[..]).unwrap().previous_signature;
    let payload = schema::Block { version: Some(99), ..Default::default() }.encode_to_vec();
    let mut message = b"\0EXTERNAL\0\0VERSION\0".to_vec();
    message.extend_from_slice(&1u32.to_le_bytes());
    message.extend_from_slice(b"\0PAYLOAD\0");
    message.extend_from_slice(&payload);
    message.extend_from_slice(b"\0PREVSIG\0");
    message.extend_from_slice(&previous);
    let holder = biscuit_auth::KeyPair::from(&biscuit_auth::PrivateKey::from_bytes(&kp(3).to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap());
    let contents = schema::ThirdPartyBlockContents {
        payload,
        external_signature: schema::ExternalSignature {
            signature: holder.sign(&message).unwrap().to_bytes().to_vec(),
            public_key: holder.public().to_proto(),
        },
    };
    assert!(ub.append_third_party(&contents.encode_to_vec()).is_err());
}
