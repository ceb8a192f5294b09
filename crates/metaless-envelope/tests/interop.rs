//! The sealed box against an independent implementation of libsodium's `crypto_box_seal`
//! (RustCrypto `crypto_box`), in both directions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use crypto_box::{PublicKey, SecretKey};
use metaless_envelope::{EnvelopeError, decrypt_incoming, encrypt_for_recipient};
use metaless_identity::{Keypair, Seed};
use rand::SeedableRng;

fn keys(byte: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([byte; 32]))
}

#[test]
fn our_seal_opens_with_crypto_box() {
    let (alice, bob) = (keys(1), keys(2));
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for len in [0usize, 1, 100, 5000] {
        let message = vec![0x42u8; len];
        let sealed = encrypt_for_recipient(&alice, &bob.session_id(), &message, &mut rng).unwrap();
        let bob_box = SecretKey::from_bytes(*bob.x25519_secret().expose_secret());
        let inner = bob_box.unseal(&sealed).unwrap();
        // M ‖ A ‖ SIG, and SIG verifies over M ‖ A ‖ Y.
        assert_eq!(&inner[..len], &message[..]);
        assert_eq!(&inner[len..len + 32], &alice.ed25519_public());
        let signed = [&inner[..len + 32], &bob.x25519_public()].concat();
        let signature: [u8; 64] = inner[len + 32..].try_into().unwrap();
        metaless_identity::verify_ed25519(&alice.ed25519_public(), &signed, &signature).unwrap();
    }
}

#[test]
fn crypto_box_seal_opens_with_ours() {
    let (alice, bob) = (keys(1), keys(2));
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let message = b"sealed elsewhere";
    let signature =
        alice.sign(&[&message[..], &alice.ed25519_public(), &bob.x25519_public()].concat());
    let inner = [&message[..], &alice.ed25519_public(), &signature].concat();
    let sealed = PublicKey::from(bob.x25519_public())
        .seal(&mut rng, &inner)
        .unwrap();
    let opened = decrypt_incoming(&bob, &sealed).unwrap();
    assert_eq!(opened.plaintext, message);
    assert_eq!(opened.sender, alice.session_id());
    // Sealed by crypto_box to Alice: not Bob's.
    let elsewhere = PublicKey::from(alice.x25519_public())
        .seal(&mut rng, &inner)
        .unwrap();
    assert_eq!(
        decrypt_incoming(&bob, &elsewhere),
        Err(EnvelopeError::WrongRecipient)
    );
}
