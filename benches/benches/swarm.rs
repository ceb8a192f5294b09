//! Swarm and storage RPC benchmarks: the nearest-swarm lookup, building a signed `store`,
//! a node parsing and verifying it, the message hash, and parsing a 2 000-node
//! `get_service_nodes` list; in the same run, the primitives those consist of (Ed25519
//! sign/verify, the Ed25519→X25519 conversion, BLAKE2b-256, base64, serde_json). Prints each
//! operation's median against the sum of its primitives' medians, and heap allocations per
//! operation.

use metaless_benches::median_ns;
use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U32;
use criterion::Criterion;
use metaless_benches::{CountingAlloc, allocations_during};
use metaless_identity::{Keypair, Seed, ed25519_to_x25519_public, verify_ed25519};
use metaless_swarm::{MessageHash, Namespace, NodeList, ServiceNode, SwarmIds, UserPubkey, server};
use metaless_swarm::{Request, Signer, Store};
use serde_json::Value;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const NOW: u64 = 1_700_000_000_000;
const PAYLOAD: usize = 1024;
const NODES: usize = 2000;

fn keys() -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([7u8; 32]))
}

fn store_request(k: &Keypair) -> Request {
    Request::Store(
        Store::signed(
            &Signer::session(k),
            Namespace::Contacts,
            vec![0x5a; PAYLOAD],
            NOW,
            86_400_000,
        )
        .unwrap(),
    )
}

fn swarm_ids() -> SwarmIds {
    // Spread like the network's: a few hundred ids over the whole ring.
    (0..500u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect()
}

fn node_list_body() -> Vec<u8> {
    let nodes: Vec<ServiceNode> = (0..NODES)
        .map(|i| {
            let k = Keypair::from_seed(&Seed::from_bytes([(i % 251) as u8 + 1; 32]));
            let mut n = ServiceNode::new(
                k.ed25519_public(),
                [10, 0, (i >> 8) as u8, i as u8],
                22021,
                (i / 10) as u64,
            )
            .unwrap();
            n.omq_port = 22020;
            n
        })
        .collect();
    metaless_swarm::oxend_service_nodes_json(&nodes, NOW, [19, 3])
        .to_string()
        .into_bytes()
}

fn operations(c: &mut Criterion) {
    let k = keys();
    let ids = swarm_ids();
    let account = UserPubkey::new(5, k.x25519_public());
    let request = store_request(&k);
    let body = request.to_body();
    let data = vec![0x5au8; PAYLOAD];
    let list = node_list_body();
    let mut group = c.benchmark_group("swarm");
    group.bench_function("nearest_swarm_500", |b| {
        b.iter(|| ids.swarm_for(black_box(account.key())))
    });
    group.bench_function("store_build_1KiB", |b| {
        b.iter(|| store_request(&k).to_body())
    });
    group.bench_function("store_parse_verify_1KiB", |b| {
        b.iter(|| {
            let r = server::parse_request(black_box(&body)).unwrap();
            server::verify(&r, NOW).unwrap();
        })
    });
    group.bench_function("message_hash_1KiB", |b| {
        b.iter(|| MessageHash::compute(&account, Namespace::Default, black_box(&data)))
    });
    group.sample_size(20);
    group.bench_function("node_list_2000", |b| {
        b.iter(|| NodeList::from_get_service_nodes(black_box(&list)).unwrap())
    });
    group.finish();
}

fn primitives(c: &mut Criterion) {
    let k = keys();
    let ids = swarm_ids();
    let request = store_request(&k);
    let body = request.to_body();
    let params = request.to_params();
    let data = vec![0x5au8; PAYLOAD];
    let data_b64 = STANDARD.encode(&data);
    let message = b"store31700000000000";
    let sig = k.sign(message);
    let ed = k.ed25519_public();
    let list = node_list_body();
    let mut group = c.benchmark_group("swarm_baseline");
    group.bench_function("xor_words_and_binary_search", |b| {
        b.iter(|| {
            let key = black_box(k.x25519_public());
            let mut pos = 0u64;
            for w in key.chunks_exact(8) {
                pos ^= u64::from_be_bytes(w.try_into().unwrap());
            }
            ids.as_slice().partition_point(|&id| id < pos)
        })
    });
    group.bench_function("ed25519_sign", |b| b.iter(|| k.sign(black_box(message))));
    group.bench_function("ed25519_verify", |b| {
        b.iter(|| verify_ed25519(&ed, black_box(message), &sig).unwrap())
    });
    group.bench_function("ed25519_to_x25519", |b| {
        b.iter(|| ed25519_to_x25519_public(black_box(&ed)).unwrap())
    });
    group.bench_function("base64_encode_1KiB", |b| {
        b.iter(|| STANDARD.encode(black_box(&data)))
    });
    group.bench_function("base64_decode_1KiB", |b| {
        b.iter(|| STANDARD.decode(black_box(&data_b64)).unwrap())
    });
    // The node's decoder (the storage server's rules: padding optional, trailing bits ignored).
    group.bench_function("b64_decode_server_rules_1KiB", |b| {
        b.iter(|| metaless_swarm::b64::decode(black_box(data_b64.as_bytes())).unwrap())
    });
    group.bench_function("json_write_store", |b| {
        b.iter(|| serde_json::to_vec(black_box(&params)).unwrap())
    });
    group.bench_function("json_read_store", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).unwrap())
    });
    group.bench_function("blake2b_256_1KiB", |b| {
        b.iter(|| {
            let mut h = Blake2b::<U32>::new();
            h.update([5u8]);
            h.update([1u8; 32]);
            h.update(black_box(&data));
            h.finalize()
        })
    });
    group.bench_function("base64_encode_32", |b| {
        b.iter(|| STANDARD.encode(black_box([1u8; 32])))
    });
    group.sample_size(20);
    group.bench_function("json_read_node_list_2000", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&list)).unwrap())
    });
    group.finish();
}

fn report() {
    let base = |b: &str| median_ns("swarm_baseline", b);
    let line = |op: &str, ours: Option<f64>, parts: Option<f64>| match (ours, parts) {
        (Some(ours), Some(total)) => println!(
            "{op:>24}: {:10.2} µs   primitives {:10.2} µs   ratio {:.3}",
            ours / 1000.0,
            total / 1000.0,
            ours / total
        ),
        _ => println!("{op:>24}: (no estimates found; run the whole bench)"),
    };
    let ours = |b: &str| median_ns("swarm", b);
    println!("\n== swarm: medians against the sum of their primitives (same run)");
    line(
        "nearest_swarm_500",
        ours("nearest_swarm_500"),
        base("xor_words_and_binary_search"),
    );
    line(
        "store_build_1KiB",
        ours("store_build_1KiB"),
        (|| Some(base("ed25519_sign")? + base("base64_encode_1KiB")? + base("json_write_store")?))(
        ),
    );
    line(
        "store_parse_verify_1KiB",
        ours("store_parse_verify_1KiB"),
        (|| {
            Some(
                base("json_read_store")?
                    + base("base64_decode_1KiB")?
                    + base("ed25519_to_x25519")?
                    + base("ed25519_verify")?,
            )
        })(),
    );
    line(
        "message_hash_1KiB",
        ours("message_hash_1KiB"),
        (|| Some(base("blake2b_256_1KiB")? + base("base64_encode_32")?))(),
    );
    line(
        "node_list_2000",
        ours("node_list_2000"),
        (|| Some(base("json_read_node_list_2000")? + NODES as f64 * base("ed25519_to_x25519")?))(),
    );

    println!("\n== heap allocations per operation (count, bytes)");
    let k = keys();
    let ids = swarm_ids();
    let account = UserPubkey::new(5, k.x25519_public());
    let (_, nearest) = allocations_during(|| ids.swarm_for(account.key()));
    let (body, build) = allocations_during(|| store_request(&k).to_body());
    let (_, parse) = allocations_during(|| {
        let r = server::parse_request(&body).unwrap();
        server::verify(&r, NOW).unwrap();
    });
    let data = vec![0x5au8; PAYLOAD];
    let (_, hash) =
        allocations_during(|| MessageHash::compute(&account, Namespace::Default, &data));
    let list = node_list_body();
    let (_, nodes) = allocations_during(|| NodeList::from_get_service_nodes(&list).unwrap());
    println!(
        "nearest_swarm {nearest:?}  store_build {build:?}  store_parse_verify {parse:?}  message_hash {hash:?}  node_list_2000 {nodes:?}"
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    operations(&mut criterion);
    primitives(&mut criterion);
    criterion.final_summary();
    report();
}
