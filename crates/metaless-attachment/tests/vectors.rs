//! Every entry of test-vectors/attachments.json (except `community_file_url_parsing`, which is
//! the community crate's URL form).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_attachment::{
    AttachmentError, AttachmentKey, Domain, FileServer, FileUrl, LegacyKey, decrypt,
    decrypt_legacy, encrypt, encrypt_in_place, encrypt_legacy, encrypted_size, legacy_padded_size,
    limits::MAX_REGULAR_SIZE,
};
use metaless_identity::{Seed, hex};
use metaless_test_vectors::{Value, array, bytes, load, text};
use sha2::{Digest, Sha256};

fn entry(id: &str) -> Value {
    let all = load("attachments.json");
    all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no entry {id}"))
        .clone()
}

fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} not a number"))
}

/// The upstream test's data: byte i = i·7 mod 256.
fn make_data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn encrypted_sizes_match_upstream_table() {
    let mut checked = 0;
    for id in [
        "attachment_encrypted_sizes",
        "attachment_encrypted_sizes_large",
    ] {
        for case in entry(id)["cases"].as_array().unwrap() {
            let n = num(case, "plaintext_size");
            let expected = num(case, "expected_encrypted_size");
            assert_eq!(encrypted_size(n), expected, "{id} n={n}");
            checked += 1;
        }
    }
    assert_eq!(checked, 23);
}

#[test]
fn encrypted_sizes_are_real_output_sizes() {
    // Actually encrypt (and decrypt) the table's small and medium sizes, so the size function
    // and the encryptor cannot drift apart.
    let seed = Seed::from_bytes([3; 32]);
    for case in entry("attachment_encrypted_sizes")["cases"]
        .as_array()
        .unwrap()
    {
        let n = num(case, "plaintext_size") as usize;
        if n > 600_000 {
            continue;
        }
        let data = make_data(n);
        let (blob, key) = encrypt(&seed, &data, Domain::Attachment, false).unwrap();
        assert_eq!(
            blob.len() as u64,
            num(case, "expected_encrypted_size"),
            "n={n}"
        );
        assert_eq!(decrypt(&blob, &key).unwrap(), data, "n={n}");
    }
}

#[test]
fn max_regular_size_is_the_limit() {
    let e = entry("attachment_max_regular_size");
    let n = num(&e, "plaintext_size");
    assert_eq!(n, MAX_REGULAR_SIZE);
    assert_eq!(encrypted_size(n), num(&e, "expected_encrypted_size"));
    let seed = Seed::from_bytes([3; 32]);
    let mut data = vec![0u8; n as usize];
    let key = encrypt_in_place(&seed, &mut data, Domain::Attachment, false).unwrap();
    assert_eq!(data.len() as u64, num(&e, "expected_encrypted_size"));
    assert_eq!(decrypt(&data, &key).unwrap().len() as u64, n);
    let over = vec![0u8; n as usize + 1];
    assert_eq!(
        encrypt(&seed, &over, Domain::Attachment, false).unwrap_err(),
        AttachmentError::TooLarge { len: n + 1, max: n }
    );
    assert!(encrypt(&seed, &over, Domain::Attachment, true).is_ok());
}

fn check_derived(id: &str) {
    let e = entry(id);
    let seed = Seed::from_bytes(array::<32>(&e, "seed"));
    let domain = match text(&e, "domain") {
        "attachment" => Domain::Attachment,
        "profile_pic" => Domain::ProfilePic,
        other => panic!("domain {other}"),
    };
    let data = make_data(num(&e, "plaintext_size") as usize);
    let (blob, key) = encrypt(&seed, &data, domain, false).unwrap();
    assert_eq!(
        key.expose_secret(),
        &array::<32>(&e, "expected_key"),
        "{id} key"
    );
    if e.get("expected_size").is_some() {
        assert_eq!(blob.len() as u64, num(&e, "expected_size"), "{id} size");
    }
    let sha: [u8; 32] = Sha256::digest(&blob).into();
    assert_eq!(sha, array::<32>(&e, "expected_sha256"), "{id} sha256");
    if e.get("expected_prefix_hex").is_some() {
        let prefix = bytes(&e, "expected_prefix_hex");
        assert_eq!(&blob[..prefix.len()], &prefix[..], "{id} prefix");
    }
    if e.get("expected_ciphertext").is_some() {
        assert_eq!(blob, bytes(&e, "expected_ciphertext"), "{id} ciphertext");
        // And the known ciphertext decrypts with the known key.
        let k = AttachmentKey::from_bytes(array::<32>(&e, "expected_key"));
        assert_eq!(
            decrypt(&bytes(&e, "expected_ciphertext"), &k).unwrap(),
            data
        );
    }
    // in-place gives the same bytes
    let mut buf = data.clone();
    let k2 = encrypt_in_place(&seed, &mut buf, domain, false).unwrap();
    assert_eq!(buf, blob, "{id} in place");
    assert_eq!(k2, key);
    assert_eq!(decrypt(&blob, &key).unwrap(), data, "{id} round trip");
}

#[test]
fn derived_attachment_encryptions() {
    for n in ["0", "1", "100", "4054", "40000"] {
        check_derived(&format!("attachment_encrypt_derived_{n}"));
    }
}

#[test]
fn derived_profile_pic_encryption() {
    check_derived("profile_pic_encrypt_derived_100");
}

#[test]
fn legacy_padding_sizes() {
    let cases = entry("legacy_attachment_padding_sizes");
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for case in cases {
        let n = num(case, "plaintext_size");
        assert_eq!(
            legacy_padded_size(n),
            num(case, "expected_padded_size"),
            "n={n}"
        );
    }
}

#[test]
fn legacy_aes_cbc_hmac() {
    let e = entry("legacy_attachment_aes_cbc_hmac_derived");
    let key = LegacyKey::from_slice(&bytes(&e, "key64")).unwrap();
    let iv = array::<16>(&e, "iv");
    let plain = bytes(&e, "plaintext");
    // The vector's plaintext is already padded (541 bytes): padding again changes nothing.
    for pad in [false, true] {
        let out = encrypt_legacy(&key, iv, &plain, pad);
        assert_eq!(out.blob.len() as u64, num(&e, "expected_blob_len"));
        let sha: [u8; 32] = Sha256::digest(&out.blob).into();
        assert_eq!(sha, array::<32>(&e, "expected_blob_sha256"));
        assert_eq!(out.digest, array::<32>(&e, "expected_digest"));
        assert_eq!(
            &out.blob[out.blob.len() - 32..],
            &array::<32>(&e, "expected_mac")
        );
        assert_eq!(&out.blob[..16], &iv);
        let back = decrypt_legacy(&key, &out.blob, Some(&out.digest), None).unwrap();
        assert_eq!(back, plain);
        let cut = decrypt_legacy(&key, &out.blob, Some(&out.digest), Some(16)).unwrap();
        assert_eq!(cut, b"hello attachment");
    }
}

#[test]
fn file_server_keys() {
    for (id, server) in [
        ("file_server_default_pubkeys", FileServer::default_server()),
        ("file_server_potato_pubkeys", FileServer::potato()),
        ("file_server_testnet_pubkeys", FileServer::testnet()),
    ] {
        let e = entry(id);
        assert_eq!(server.ed25519(), &array::<32>(&e, "ed25519_pk"), "{id}");
        assert_eq!(
            server.x25519().unwrap(),
            array::<32>(&e, "expected_x25519_pk"),
            "{id}"
        );
    }
    // The superseded key named in the default entry's description.
    assert_eq!(
        hex::encode(&FileServer::SUPERSEDED_DEFAULT_X25519),
        "da21e1d886c6fbaea313f75298bd64aab03a97ce985b46bb2dad9f2089c8ee59"
    );
}

#[test]
fn download_url_parsing() {
    let e = entry("file_server_download_url_parsing");
    let cases = e["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for case in cases {
        let url = text(case, "url");
        if case.get("invalid").is_some() {
            assert!(FileUrl::parse(url).is_err(), "{url} should be refused");
            continue;
        }
        let p = FileUrl::parse(url).unwrap_or_else(|err| panic!("{url}: {err}"));
        assert_eq!(p.file_id, text(case, "file_id"), "{url}");
        assert_eq!(p.is_stream(), case["stream"].as_bool().unwrap(), "{url}");
        match case["custom_pubkey"].as_str() {
            Some(k) => assert_eq!(
                p.custom_ed25519,
                Some(hex::decode_array::<32>(k).unwrap()),
                "{url}"
            ),
            None => assert_eq!(p.custom_ed25519, None, "{url}"),
        }
    }
}

#[test]
fn download_url_generation() {
    let e = entry("file_server_download_url_generation");
    for case in e["cases"].as_array().unwrap() {
        let key = match text(case, "pubkey") {
            "DEFAULT" => FileServer::DEFAULT_ED25519,
            k => hex::decode_array::<32>(k).unwrap(),
        };
        let server = FileServer::new(
            text(case, "scheme"),
            text(case, "host"),
            num(case, "port") as u16,
            key,
        )
        .unwrap();
        let url = server.download_url("abc123", case["stream"].as_bool().unwrap());
        assert_eq!(url, text(case, "expected"));
        // and it parses back to the same server and flag
        let back = FileUrl::parse(&url).unwrap();
        assert_eq!(back.server().unwrap(), server);
        assert_eq!(back.is_stream(), case["stream"].as_bool().unwrap());
    }
}
