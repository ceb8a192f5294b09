//! An onion request by hand, with `metaless-onion` alone: build a 3-hop request to a service
//! node, peel it locally with the nodes' own keys to see what each hop learns, then send it for
//! real to a local testnet and open the encrypted reply.
//!
//! `cargo run -p metaless-examples --example onion_by_hand`

use metaless_client::http::{HttpTransport, wall_clock_ms};
use metaless_client::{RequestId, Target, Transmit, Transport};
use metaless_identity::{Keypair, hex};
use metaless_node_server::config::TestnetConfig;
use metaless_node_server::testnet::{Testnet, TestnetOptions};
use metaless_onion::ONION_PATH;
use metaless_onion::{Destination, EncType, Hop, NodeKey, Peeled, SnodeReply, build, peel};
use rand_core::OsRng;

fn short(key: &[u8; 32]) -> String {
    hex::encode(key).chars().take(10).collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TestnetConfig::generate(4, 1, 0, &mut OsRng);
    // The testnet config holds every node's secret seed: exactly what a researcher needs to
    // play each hop.
    let secrets: Vec<Keypair> = config
        .nodes
        .iter()
        .map(|n| n.keypair())
        .collect::<Result<_, _>>()?;
    let observe = TestnetOptions {
        observe: true,
        ..Default::default()
    };
    let net = Testnet::start(config, observe).await?;
    let nodes = net.nodes().to_vec();
    let [a, b, c, d] = nodes.as_slice() else {
        return Err("expected 4 nodes".into());
    };

    let path: Vec<Hop> = [a, b, c]
        .iter()
        .map(|n| Hop::new(n.pubkey_ed25519, n.pubkey_x25519))
        .collect();
    let destination = Destination::ServiceNode(Hop::new(d.pubkey_ed25519, d.pubkey_x25519));
    let payload = br#"{"method":"info","params":{}}"#;
    let built = build(&path, &destination, payload, EncType::XChaCha20, &mut OsRng)?;
    println!(
        "built: {} bytes for the guard {}",
        built.body.len(),
        short(&built.first_hop)
    );

    // Peel locally: every hop decrypts one layer and learns only where to send the rest.
    let mut body = built.body.clone();
    for (node, keys) in nodes.iter().zip(&secrets) {
        match peel(&NodeKey::from_keypair(keys), &body)? {
            Peeled::Forward {
                next_ed25519,
                body: next,
                ..
            } => {
                println!(
                    "  {} peels {} bytes → forward {} bytes to {}",
                    short(&node.pubkey_ed25519),
                    body.len(),
                    next.len(),
                    short(&next_ed25519)
                );
                body = next;
            }
            Peeled::Deliver(delivery) => {
                let request = String::from_utf8_lossy(delivery.payload()).into_owned();
                println!(
                    "  {} is the destination and reads: {request}",
                    short(&node.pubkey_ed25519)
                );
                break;
            }
            _ => return Err("unexpected layer".into()),
        }
    }

    // For real: POST to the guard, get back one reply only the builder can open.
    let transmit = Transmit {
        id: RequestId::from(1),
        to_node: Target {
            node: Some(a.pubkey_ed25519.into()),
            base_url: a.url(),
            path: ONION_PATH,
        },
        body: built.body,
        deadline_ms: wall_clock_ms() + 10_000,
    };
    let response = HttpTransport::default().post(&transmit).await?;
    println!(
        "guard answered HTTP {} with {} bytes (base64 of the sealed reply)",
        response.status,
        response.body.len()
    );
    let reply = SnodeReply::parse(&built.pending.open(&response.body)?)?;
    println!("opened reply: status {} body {}", reply.status, reply.body);
    net.shutdown().await;
    Ok(())
}
