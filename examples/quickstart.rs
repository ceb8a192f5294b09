//! Two clients, one message, over a local testnet: `cargo run -p metaless-examples --example quickstart`.
use metaless_client::Event;
use metaless_envelope::Content;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (net, bootstrap) = metaless_examples::start_testnet(8, 2).await?;
    let (mut alice, mut bob) = (
        metaless_examples::client(&bootstrap),
        metaless_examples::client(&bootstrap),
    );
    let bob_id = bob.client().session_id();
    alice.send(&bob_id, &Content::text("Hello, Bob!"))?;
    alice
        .wait_for(10_000, |e| matches!(e, Event::Delivered { .. }))
        .await
        .ok_or("not delivered")?;
    let Some(Event::Received(m)) = bob
        .wait_for(10_000, |e| matches!(e, Event::Received(_)))
        .await
    else {
        return Err("nothing arrived".into());
    };
    println!(
        "Bob got {:?} from {}",
        m.message.content.as_text().unwrap_or(""),
        m.message.sender
    );
    net.shutdown().await;
    Ok(())
}
