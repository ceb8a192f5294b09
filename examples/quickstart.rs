//! Two messengers, one message, over a local testnet: `cargo run -p metaless-examples --example quickstart`.
use metaless_client::Messenger;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let net = metaless_node_server::local::start(8).await?;
    let messenger = || Messenger::builder().testnet(net.bootstrap_path()).build();
    let (alice, bob) = (messenger().await?, messenger().await?);
    let mut inbox = bob.events();
    alice.send(&bob.session_id(), "Hello, Bob!").await?;
    let got = inbox.next_message().await.ok_or("nothing arrived")?.message;
    println!("Bob got {:?} from {}", got.content.as_text(), got.sender);
    net.shutdown().await;
    Ok(())
}
