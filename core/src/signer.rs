//! Signers: where a signature comes from, so a root or agent key can live outside the process.
//!
//! Everything in marque that signs — minting ([`Token::mint`](crate::Token::mint)), delegation,
//! proofs of possession, audit envelopes, revocation lists and JWT issuance — takes a
//! [`Signer`]: something with a public key that signs bytes. An in-memory [`KeyPair`] is one
//! signer; [`FnSigner`] wraps any function (a KMS or HSM client, another process, a language
//! binding's callback). A signer's output is never trusted blindly: every signature it returns is
//! verified under its public key before it is used, and a wrong or malformed signature is the
//! typed error [`ErrorKind::SignerFailed`] — never a token that fails mysteriously later. (The
//! in-process `KeyPair` is exempt from that re-check: it is the reference implementation.)
//!
//! ```
//! use marque::signer::{FnSigner, Signer};
//! use marque::KeyPair;
//!
//! // A key behind a function, as a KMS client would be.
//! let hidden = KeyPair::from_seed(&[7; 32]);
//! let public = hidden.public_key();
//! let kms = FnSigner::new(public, move |msg: &[u8]| Ok(hidden.sign(msg).to_bytes().to_vec()));
//! let sig = marque::signer::sign_checked(&kms, b"hello")?;
//! assert!(public.verify(b"hello", &sig).is_ok());
//!
//! // One that misbehaves is caught.
//! let liar = FnSigner::new(public, |_msg: &[u8]| Ok(vec![0u8; 64]));
//! assert_eq!(marque::signer::sign_checked(&liar, b"hello").unwrap_err().code(), "signer_failed");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyPair, PublicKey, Signature};

/// Something that signs with an Ed25519 key: `public_key()` and `sign(message)`.
///
/// Implement it for a KMS/HSM client or a remote signing service. `sign` must return a
/// deterministic-or-not Ed25519 signature of exactly `message` under `public_key()`; marque
/// verifies it before use.
pub trait Signer {
    /// The public key the signatures verify under.
    fn public_key(&self) -> PublicKey;

    /// Signs `message`. Errors are passed through (use [`ErrorKind::SignerFailed`] for failures
    /// of the signing backend).
    fn sign(&self, message: &[u8]) -> Result<Signature>;

    /// The in-process key pair behind this signer, if there is one: lets marque take Biscuit's
    /// native signing path (no extra work) and skip re-verifying its own signatures.
    #[doc(hidden)]
    fn key_pair(&self) -> Option<&KeyPair> {
        None
    }
}

impl Signer for KeyPair {
    fn public_key(&self) -> PublicKey {
        KeyPair::public_key(self)
    }
    fn sign(&self, message: &[u8]) -> Result<Signature> {
        Ok(KeyPair::sign(self, message))
    }
    fn key_pair(&self) -> Option<&KeyPair> {
        Some(self)
    }
}

impl<S: Signer + ?Sized> Signer for &S {
    fn public_key(&self) -> PublicKey {
        (**self).public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Signature> {
        (**self).sign(message)
    }
    fn key_pair(&self) -> Option<&KeyPair> {
        (**self).key_pair()
    }
}

impl<S: Signer + ?Sized> Signer for Box<S> {
    fn public_key(&self) -> PublicKey {
        (**self).public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Signature> {
        (**self).sign(message)
    }
    fn key_pair(&self) -> Option<&KeyPair> {
        (**self).key_pair()
    }
}

/// A signing function returning raw signature bytes.
type SignFn<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>> + 'a;

/// A [`Signer`] from a public key and a function that returns raw signature bytes — the shape of
/// a KMS `Sign` call and of the language bindings' callbacks. Bytes that are not a 64-byte
/// signature are [`ErrorKind::SignerFailed`].
pub struct FnSigner<'a> {
    public: PublicKey,
    sign: Box<SignFn<'a>>,
}

impl<'a> FnSigner<'a> {
    /// Wraps `sign`, which must sign with the secret half of `public`.
    pub fn new(public: PublicKey, sign: impl Fn(&[u8]) -> Result<Vec<u8>> + 'a) -> Self {
        FnSigner { public, sign: Box::new(sign) }
    }
}

impl fmt::Debug for FnSigner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSigner").field("public", &self.public.fingerprint()).finish()
    }
}

impl Signer for FnSigner<'_> {
    fn public_key(&self) -> PublicKey {
        self.public
    }
    fn sign(&self, message: &[u8]) -> Result<Signature> {
        let raw = (self.sign)(message)?;
        Signature::from_slice(&raw).map_err(|_| {
            Error::new(
                ErrorKind::SignerFailed,
                format!("the signer returned {} bytes; an Ed25519 signature is 64", raw.len()),
            )
        })
    }
}

/// Asks `signer` to sign `message` and checks the result under `signer.public_key()` (strict
/// verification). A signature that does not verify is [`ErrorKind::SignerFailed`].
pub fn sign_checked<S: Signer + ?Sized>(signer: &S, message: &[u8]) -> Result<Signature> {
    if let Some(kp) = signer.key_pair() {
        return Ok(kp.sign(message));
    }
    let public = signer.public_key();
    let sig = signer.sign(message)?;
    public.verify(message, &sig).map_err(|_| {
        Error::new(
            ErrorKind::SignerFailed,
            format!("the signer returned a signature that does not verify under its public key {}", public.fingerprint()),
        )
    })?;
    Ok(sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn key_pair_and_function_signers_agree() {
        let kp = KeyPair::from_seed(&[3; 32]);
        let inner = kp.clone();
        let f = FnSigner::new(kp.public_key(), move |m: &[u8]| Ok(inner.sign(m).to_bytes().to_vec()));
        assert_eq!(sign_checked(&kp, b"m").unwrap(), sign_checked(&f, b"m").unwrap());
        assert_eq!(Signer::public_key(&f), kp.public_key());
        assert!(format!("{f:?}").contains("ed25519:"));
    }

    #[test]
    fn misbehaving_signers_are_caught() {
        let kp = KeyPair::from_seed(&[3; 32]);
        let other = KeyPair::from_seed(&[4; 32]);
        let wrong_key = FnSigner::new(kp.public_key(), move |m: &[u8]| Ok(other.sign(m).to_bytes().to_vec()));
        assert_eq!(sign_checked(&wrong_key, b"m").unwrap_err().kind(), ErrorKind::SignerFailed);
        let short = FnSigner::new(kp.public_key(), |_m: &[u8]| Ok(vec![1, 2, 3]));
        assert_eq!(sign_checked(&short, b"m").unwrap_err().kind(), ErrorKind::SignerFailed);
        let inner = kp.clone();
        let other_msg = FnSigner::new(kp.public_key(), move |_m: &[u8]| Ok(inner.sign(b"x").to_bytes().to_vec()));
        assert_eq!(sign_checked(&other_msg, b"m").unwrap_err().kind(), ErrorKind::SignerFailed);
        let failing =
            FnSigner::new(kp.public_key(), |_m: &[u8]| Err(Error::new(ErrorKind::SignerFailed, "kms unavailable")));
        let e = sign_checked(&failing, b"m").unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::SignerFailed, "kms unavailable"));
    }
}
