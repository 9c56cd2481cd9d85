//! Canonical blocks: a token's blocks hold exactly the profile's Datalog for what they claim.
//!
//! marque reads what a token grants from its block descriptors; Biscuit enforces the Datalog.
//! Nothing else ties the two, and any holder can append a third-party hop block signed by its
//! own key: without this check it could carry a valid descriptor *and* arbitrary Datalog — a
//! five-way join that pins a core for seconds, a rule deriving millions of facts, a check the
//! descriptor does not mention. So every parse ([`Token::from_bytes`](crate::Token::from_bytes),
//! and the verifier's path into its verified-token cache) rebuilds each block from its
//! descriptor with the very builders minting and delegation use, and refuses the token
//! (`invalid_token`) unless the signed block bytes are exactly those: no extra fact, rule,
//! check, scope or public key, nothing missing, the descriptor JSON itself canonical. It is a
//! byte comparison of serialized blocks, made before any Datalog runs (no parser, no
//! evaluation). The rebuilt bytes are deterministic: hop blocks are third-party blocks with their
//! own symbol table and the authority block starts from the default one, so they depend on the
//! descriptor alone (`tests::canonical_bytes_are_deterministic`).
//!
//! ```
//! use biscuit_auth::{builder::BlockBuilder, UnverifiedBiscuit};
//! use marque::{DelegateParams, KeyPair, MintParams, Request, Right, Token, Verifier};
//! let (root, agent, child) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
//! let now = 1_767_225_600;
//! let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
//!     .right(Right::new("read_file", "read", "*")).now(now))?;
//! let honest = token.delegate(&agent, &DelegateParams::new("agent:c", child.public_key()).now(now))?;
//!
//! // The same hop (descriptor and Datalog), signed by the same real holder key, plus one fact.
//! use prost::Message as _;
//! let raw = biscuit_auth::format::schema::Biscuit::decode(honest.to_bytes()).unwrap();
//! let descriptor = biscuit_auth::format::schema::Block::decode(&raw.blocks[0].block[..]).unwrap().context.unwrap();
//! let datalog = UnverifiedBiscuit::from(honest.to_bytes()).unwrap().print_block_source(1).unwrap() + "\nextra(1);";
//! let signer = biscuit_auth::PrivateKey::from_bytes(&agent.to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap();
//! let parent = UnverifiedBiscuit::from(token.to_bytes()).unwrap();
//! let block = parent.third_party_request().unwrap()
//!     .create_block(&signer, BlockBuilder::new().context(descriptor).code(&datalog).unwrap()).unwrap();
//! let hostile = parent.append_third_party(&block.serialize().unwrap()).unwrap().to_vec().unwrap();
//!
//! let verifier = Verifier::new([root.public_key()]);
//! let request = Request::new("read_file", "read", "src/a.rs");
//! assert!(verifier.authorize(honest.to_bytes(), &request, None, Some(now))?.allowed);
//! assert_eq!(verifier.authorize(&hostile, &request, None, Some(now)).unwrap_err().code(), "invalid_token");
//! assert_eq!(Token::from_bytes(&hostile).unwrap_err().code(), "invalid_token");
//! # Ok::<(), marque::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::token::Claims;

/// Refuses `claims` unless `blocks` (each block's serialized Datalog as signed, authority first)
/// are, byte for byte, the blocks the profile builds from the claims' descriptors.
pub(crate) fn check_blocks(claims: &Claims, blocks: &[Vec<u8>]) -> Result<()> {
    let (authority, hops) = match blocks.split_first() {
        Some(split) if split.1.len() == claims.hops.len() => split,
        _ => return Err(Error::invalid_token("the token's blocks do not match its descriptors")),
    };
    // One buffer for every rebuilt block, sized for the largest.
    let mut expected = Vec::with_capacity(blocks.iter().map(Vec::len).max().unwrap_or(0));
    crate::token::authority_builder(&claims.authority, &claims.chain[0].key)
        .and_then(|b| crate::compat::encode_authority_block(b, &mut expected).map_err(Error::from))
        .map_err(|_| not_canonical(0))?;
    if expected != *authority {
        return Err(not_canonical(0));
    }
    for (i, (info, block)) in claims.hops.iter().zip(hops).enumerate() {
        let depth = i + 1;
        // `chain[depth]` is the hop's own key, read from this descriptor.
        let key = &claims.chain[depth].key;
        crate::delegate::hop_block(info, key)
            .and_then(|b| crate::compat::encode_hop_block(b, &mut expected).map_err(Error::from))
            .map_err(|_| not_canonical(depth))?;
        if expected != *block {
            return Err(not_canonical(depth));
        }
    }
    Ok(())
}

fn not_canonical(block: usize) -> Error {
    let which = if block == 0 { "the authority block".to_string() } else { format!("block {block} (a delegation)") };
    Error::invalid_token(format!(
        "{which} is not the profile's block for its descriptor: it carries Datalog (facts, rules, \
         checks, scopes or keys) other than exactly what its descriptor states; refused before any Datalog runs"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegate::DelegateParams;
    use crate::keys::KeyPair;
    use crate::policy::Right;
    use crate::token::{MintParams, Token};
    use prost::Message as _;

    fn blocks(token: &Token) -> Vec<Vec<u8>> {
        let raw = biscuit_auth::format::schema::Biscuit::decode(token.to_bytes()).unwrap();
        std::iter::once(raw.authority.block).chain(raw.blocks.into_iter().map(|b| b.block)).collect()
    }

    fn chain() -> Token {
        let (root, a, b, c) =
            (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]), KeyPair::from_seed(&[4; 32]));
        Token::mint(
            &root,
            &MintParams::new("agent:o", a.public_key(), "user:u")
                .task("t")
                .workspace("w")
                .right(Right::new("read_file", "read", "src/"))
                .right(Right::new("*", "*", "*"))
                .now(1_767_225_600),
        )
        .unwrap()
        .delegate(
            &a,
            &DelegateParams::new("agent:b", b.public_key())
                .tools(["read_file", "write_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .max_depth(3)
                .ttl_seconds(60)
                .now(1_767_225_600),
        )
        .unwrap()
        .delegate(&b, &DelegateParams::new("agent:c", c.public_key()).now(1_767_225_600))
        .unwrap()
    }

    /// The rebuilt bytes depend on the descriptor alone: the same claims give the same bytes on
    /// every call (no fresh symbol-table state, no randomness, no map iteration order), and they
    /// are exactly the bytes minting and delegation signed.
    #[test]
    fn canonical_bytes_are_deterministic() {
        let token = chain();
        let signed = blocks(&token);
        let claims = token.claims();
        for _ in 0..3 {
            let mut a = Vec::new();
            crate::compat::encode_authority_block(crate::token::authority_builder(&claims.authority, &claims.chain[0].key).unwrap(), &mut a)
                .unwrap();
            assert_eq!(a, signed[0]);
            for (i, info) in claims.hops.iter().enumerate() {
                let mut h = Vec::new();
                crate::compat::encode_hop_block(crate::delegate::hop_block(info, &claims.chain[i + 1].key).unwrap(), &mut h).unwrap();
                assert_eq!(h, signed[i + 1], "hop {}", i + 1);
            }
        }
        check_blocks(claims, &signed).unwrap();
    }

    /// A hop listing hundreds of tools (hundreds of symbols, through the symbol table's hash
    /// index) is rebuilt byte for byte.
    #[test]
    fn a_hop_with_many_symbols_is_canonical() {
        let (root, a, b) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
        let tools: Vec<String> = (0..300).map(|i| format!("tool_{i:04}")).collect();
        let token = Token::mint(&root, &MintParams::new("agent:o", a.public_key(), "user:u").right(Right::new("*", "*", "*")).now(1_767_225_600))
            .unwrap()
            .delegate(&a, &DelegateParams::new("agent:b", b.public_key()).tools(tools).now(1_767_225_600))
            .unwrap();
        check_blocks(token.claims(), &blocks(&token)).unwrap();
        assert_eq!(Token::from_bytes(token.to_bytes()).unwrap(), token);
    }

    #[test]
    fn any_other_byte_or_block_count_is_refused() {
        let token = chain();
        let signed = blocks(&token);
        let claims = token.claims();
        for i in 0..signed.len() {
            let mut altered = signed.clone();
            altered[i].push(0);
            assert_eq!(check_blocks(claims, &altered).unwrap_err().code(), "invalid_token", "block {i}");
            let mut altered = signed.clone();
            let last = altered[i].len() - 1;
            altered[i][last] ^= 1;
            assert_eq!(check_blocks(claims, &altered).unwrap_err().code(), "invalid_token", "block {i}");
        }
        assert!(check_blocks(claims, &signed[..2]).is_err());
        assert!(check_blocks(claims, &[]).is_err());
    }
}
