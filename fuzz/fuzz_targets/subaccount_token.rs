//! Sub-account tokens as a node reads them: arbitrary token / owner-signature / request
//! signature bytes through the node's checks, a correctly signed token with arbitrary prefix,
//! flags and reserved bytes (its verdict must be exactly the prefix and access rule), the
//! member's 100-byte auth data parser, and the JSON `subaccount` field. Nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_group::{GroupKeys, MemberAuth, MemberSigner};
use metaless_identity::{Keypair, Seed};
use metaless_swarm::server::{self, check_auth, verify_subaccount};
use metaless_swarm::subaccount::{SubaccountAccess as A, SubaccountToken};
use metaless_swarm::{Auth, Subaccount, UserPubkey, b64};

const ACCESS: [A; 6] = [
    A::NONE,
    A::READ,
    A::WRITE,
    A::DELETE,
    A::ANY_PREFIX,
    A::from_bits(0x07),
];

fuzz_target!(|data: &[u8]| {
    let owner = Keypair::from_seed(&Seed::from_bytes([0x11; 32]));
    let member = Keypair::from_seed(&Seed::from_bytes([0x22; 32]));
    let owner_pk = owner.ed25519_public();

    // 1. Raw bytes: token ‖ owner signature ‖ request signature ‖ message.
    if data.len() >= 164 {
        let mut token = [0u8; 36];
        token.copy_from_slice(&data[..36]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&data[36..100]);
        let mut req = [0u8; 64];
        req.copy_from_slice(&data[100..164]);
        let sub = Subaccount { token, signature };
        let t = sub.token();
        let _ = (
            t.prefix(),
            t.access(),
            t.reserved(),
            t.key(),
            format!("{t:?}"),
        );
        for a in ACCESS {
            let _ = verify_subaccount(data[0], &owner_pk, &sub, a, &data[164..], &req);
        }
        let auth = Auth {
            signature: req,
            pubkey_ed25519: Some(owner_pk),
            subaccount: Some(sub),
        };
        let _ = check_auth(
            &UserPubkey::new(0x05, owner.x25519_public()),
            &auth,
            A::READ,
            false,
            &data[164..],
        );
    }

    // 2. A token the owner really signed, for the member's key, with the input's header bytes.
    if data.len() >= 5 {
        let mut token =
            SubaccountToken::new(data[0], A::from_bits(data[1]), member.ed25519_public())
                .to_bytes();
        token[2] = data[2];
        token[3] = data[3];
        let sub = Subaccount {
            token,
            signature: owner.sign(&token),
        };
        let message = &data[4..];
        let sig = member.sign(message);
        let account_prefix = data[4];
        for a in ACCESS {
            let got = verify_subaccount(account_prefix, &owner_pk, &sub, a, message, &sig);
            let t = sub.token();
            let expect = t.prefix_allowed(account_prefix) && t.access().contains(a);
            assert_eq!(got.is_ok(), expect, "{t:?} {a:?} {got:?}");
            // Revoked is always refused.
            let auth = Auth {
                signature: sig,
                pubkey_ed25519: None,
                subaccount: Some(sub.clone()),
            };
            let pk = UserPubkey::new(account_prefix, owner_pk);
            assert!(check_auth(&pk, &auth, a, true, message).is_err());
        }
    }

    // 3. The member's auth data as it arrives in an invite.
    if let Ok(auth) = MemberAuth::from_bytes(data) {
        let group = GroupKeys::from_seed([0x33; 32]);
        let _ = MemberSigner::new(&member, group.group_id(), &auth);
    }

    // 4. The JSON field.
    let text = String::from_utf8_lossy(data);
    let body = serde_json::json!({
        "method": "retrieve",
        "params": {
            "pubkey": format!("03{}", "ab".repeat(32)),
            "namespace": 11,
            "timestamp": 1_700_000_000_000u64,
            "signature": b64::encode(&[0u8; 64]),
            "subaccount": text,
            "subaccount_sig": b64::encode(&[1u8; 64]),
        }
    });
    if let Ok(r) = server::parse_request(body.to_string().as_bytes()) {
        let _ = server::verify(&r, 1_700_000_000_000);
    }
});
