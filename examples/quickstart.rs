//! Two clients, one message, over a local testnet: `cargo run -p metaless-examples --example quickstart`.
use metaless_envelope::Content;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (net, bootstrap) = metaless_examples::start_testnet(8, 2).await?;
    let mut alice = metaless_examples::client(&bootstrap);
    let mut bob = metaless_examples::client(&bootstrap);
    let bob_id = bob.client().session_id();
    alice
        .send_confirmed(&bob_id, &Content::text("Hello, Bob!"), 10_000)
        .await?;
    let got = bob.recv(10_000).await.ok_or("nothing arrived")?;
    let text = got.message.content.as_text().unwrap_or_default();
    println!("Bob got {text:?} from {}", got.message.sender);
    net.shutdown().await;
    Ok(())
}
