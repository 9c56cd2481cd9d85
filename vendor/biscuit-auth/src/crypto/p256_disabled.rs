/*
 * Copyright (c) 2019 Geoffroy Couprie <contact@geoffroycouprie.com> and Contributors to the Eclipse Foundation.
 * SPDX-License-Identifier: Apache-2.0
 */
//! marque fork: the P-256 (secp256r1) types when the `p256` feature is off.
//!
//! The types are uninhabited: no P-256 key or signature can exist in such a build. Every
//! constructor from bytes, text or protobuf returns `Format::InvalidKey`, so a token with a
//! secp256r1 key anywhere fails to parse with a typed error. Only `KeyPair::new_with_rng`, which
//! upstream cannot fail, panics: asking a build without P-256 to generate a P-256 key is a
//! programming error (marque only ever generates Ed25519 keys).
#![allow(non_snake_case, clippy::new_without_default)]
use crate::{error::Format, format::schema};

use super::error;
use super::Signature;

use rand_core::{CryptoRng, RngCore};
use std::hash::Hash;

fn disabled() -> Format {
    Format::InvalidKey("secp256r1 (P-256) keys are not supported by this build (biscuit-auth without the `p256` feature)".to_string())
}

/// pair of cryptographic keys used to sign a token's block (none can exist in this build)
#[derive(Debug, PartialEq)]
pub enum KeyPair {}

impl KeyPair {
    pub fn new() -> Self {
        panic!("secp256r1 (P-256) key generation is not supported by this build (biscuit-auth without the `p256` feature)")
    }

    pub fn new_with_rng<T: RngCore + CryptoRng>(_rng: &mut T) -> Self {
        Self::new()
    }

    pub fn from(key: &PrivateKey) -> Self {
        match *key {}
    }

    pub fn from_bytes(_bytes: &[u8]) -> Result<Self, error::Format> {
        Err(disabled())
    }

    pub fn sign(&self, _data: &[u8]) -> Result<Signature, error::Format> {
        match *self {}
    }

    pub fn private(&self) -> PrivateKey {
        match *self {}
    }

    pub fn public(&self) -> PublicKey {
        match *self {}
    }

    pub fn algorithm(&self) -> crate::format::schema::public_key::Algorithm {
        match *self {}
    }

    #[cfg(feature = "pem")]
    pub fn from_private_key_der(_bytes: &[u8]) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn from_private_key_pem(_str: &str) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn to_private_key_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, error::Format> {
        match *self {}
    }

    #[cfg(feature = "pem")]
    pub fn to_private_key_pem(&self) -> Result<zeroize::Zeroizing<String>, error::Format> {
        match *self {}
    }
}

/// the private part of a [KeyPair] (none can exist in this build)
#[derive(Debug, PartialEq)]
pub enum PrivateKey {}

impl PrivateKey {
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        match *self {}
    }

    pub fn to_bytes_hex(&self) -> String {
        match *self {}
    }

    pub fn from_bytes(_bytes: &[u8]) -> Result<Self, error::Format> {
        Err(disabled())
    }

    pub fn from_bytes_hex(_str: &str) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn from_der(_bytes: &[u8]) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn from_pem(_str: &str) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn to_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, error::Format> {
        match *self {}
    }

    #[cfg(feature = "pem")]
    pub fn to_pem(&self) -> Result<zeroize::Zeroizing<String>, error::Format> {
        match *self {}
    }

    pub fn public(&self) -> PublicKey {
        match *self {}
    }

    pub fn algorithm(&self) -> crate::format::schema::public_key::Algorithm {
        match *self {}
    }
}

impl std::clone::Clone for PrivateKey {
    fn clone(&self) -> Self {
        match *self {}
    }
}

/// the public part of a [KeyPair] (none can exist in this build)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKey {}

impl PublicKey {
    pub fn to_bytes(&self) -> Vec<u8> {
        match *self {}
    }

    pub fn to_bytes_hex(&self) -> String {
        match *self {}
    }

    pub fn from_bytes(_bytes: &[u8]) -> Result<Self, error::Format> {
        Err(disabled())
    }

    pub fn from_bytes_hex(_str: &str) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn from_der(_bytes: &[u8]) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn from_pem(_str: &str) -> Result<Self, error::Format> {
        Err(disabled())
    }

    #[cfg(feature = "pem")]
    pub fn to_der(&self) -> Result<Vec<u8>, error::Format> {
        match *self {}
    }

    #[cfg(feature = "pem")]
    pub fn to_pem(&self) -> Result<String, error::Format> {
        match *self {}
    }

    pub fn from_proto(_key: &schema::PublicKey) -> Result<Self, error::Format> {
        Err(disabled())
    }

    pub fn to_proto(&self) -> schema::PublicKey {
        match *self {}
    }

    pub fn verify_signature(&self, _data: &[u8], _signature: &Signature) -> Result<(), error::Format> {
        match *self {}
    }

    pub fn algorithm(&self) -> crate::format::schema::public_key::Algorithm {
        match *self {}
    }

    pub(crate) fn write(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }

    pub fn print(&self) -> String {
        match *self {}
    }
}

impl Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, _state: &mut H) {
        match *self {}
    }
}
