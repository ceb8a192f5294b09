//! One example per subcommand, shown at the end of its `--help`.
//!
//! Kept in one table rather than beside each subcommand so they read as a set (the same file
//! names, the same accounts) and a test can hold every leaf subcommand to having one.
//! Subcommands that carry their own `after_help` keep it.

use clap::Command;

/// `(subcommand path, example command lines)`.
const EXAMPLES: &[(&str, &str)] = &[
    ("demo", "metaless demo --nodes 12 --swarms 4"),
    (
        "send",
        "metaless send --bootstrap net/bootstrap.json --seed-file alice.seed --to 05… --text \"hi\"",
    ),
    (
        "inbox",
        "metaless inbox --bootstrap net/bootstrap.json --seed-file bob.seed --wait-ms 5000 --since-last",
    ),
    (
        "file encrypt",
        "metaless file encrypt --seed-file alice.seed --in photo.jpg --out photo.enc\n  metaless file encrypt --legacy --key-file legacy.key --iv 000102030405060708090a0b0c0d0e0f --in photo.jpg --out photo.enc",
    ),
    (
        "file decrypt",
        "metaless file decrypt --key-file photo.key --in photo.enc --out photo.jpg\n  metaless file decrypt --legacy --key-file legacy.key --digest HEX --in photo.enc --out photo.jpg",
    ),
    (
        "file put",
        "metaless file put --bootstrap net/bootstrap.json --seed-file alice.seed --in photo.jpg",
    ),
    (
        "file get",
        "metaless file get --bootstrap net/bootstrap.json --url \"http://127.0.0.1:…/file/ID#p=…\" --key-file photo.key --out photo.jpg",
    ),
    (
        "config encrypt",
        "metaless config encrypt --seed-file alice.seed --namespace 2 --in padded.bin",
    ),
    (
        "config decrypt",
        "metaless config decrypt --seed-file alice.seed --namespace 3 --data-hex HEX",
    ),
    (
        "config read",
        "metaless config read --seed-file alice.seed --namespace 2 --data-hex HEX\n  metaless config read --seed-file alice.seed --namespace 2 --data-hex - < push.hex",
    ),
    (
        "profile set",
        "metaless profile set --bootstrap net/bootstrap.json --seed-file alice.seed --name Alice --avatar me.png",
    ),
    (
        "profile show",
        "metaless profile show --bootstrap net/bootstrap.json --seed-file alice.seed",
    ),
    (
        "community auth",
        "metaless community auth --seed-file alice.seed --server-pubkey HEX --method GET --path /room/lobby --timestamp 1700000000 --nonce 00112233445566778899aabbccddeeff",
    ),
    (
        "community dm-seal",
        "metaless community dm-seal --seed-file alice.seed --server-pubkey HEX --to 15… --plaintext-hex 68690a",
    ),
    (
        "community dm-open",
        "metaless community dm-open --seed-file bob.seed --server-pubkey HEX --from 15… --data-b64 B64",
    ),
    (
        "community post",
        "metaless community post --bootstrap net/bootstrap.json --seed-file alice.seed --url \"http://127.0.0.1:…/lobby?public_key=HEX\" --text \"hello room\"",
    ),
    (
        "community read",
        "metaless community read --bootstrap net/bootstrap.json --seed-file bob.seed --url \"http://127.0.0.1:…/lobby?public_key=HEX\" --limit 20",
    ),
    (
        "group subaccount",
        "metaless group subaccount --group-seed-file group.seed --member 05… --write",
    ),
    (
        "group encrypt",
        "metaless group encrypt --sender-seed-file alice.seed --group 03… --key HEX --plaintext-hex 68690a",
    ),
    (
        "group decrypt",
        "metaless group decrypt --group 03… --key HEX --ciphertext-hex HEX",
    ),
    (
        "group create",
        "metaless group create --bootstrap net/bootstrap.json --seed-file alice.seed --name \"Book club\" --member 05…",
    ),
    (
        "group invite",
        "metaless group invite --bootstrap net/bootstrap.json --seed-file alice.seed --group 03… --member 05…",
    ),
    (
        "group send",
        "metaless group send --bootstrap net/bootstrap.json --seed-file alice.seed --group 03… --text \"hello all\"",
    ),
    (
        "group read",
        "metaless group read --bootstrap net/bootstrap.json --seed-file bob.seed --group 03… --wait-ms 5000",
    ),
    ("id new", "metaless id new > alice.json"),
    (
        "id restore",
        "metaless id restore --mnemonic-file words.txt",
    ),
    (
        "id blind",
        "metaless id blind --seed-file alice.seed --server-pk HEX",
    ),
    (
        "msg encrypt",
        "metaless msg encrypt --sender-seed-file alice.seed --to 05… --in content.bin",
    ),
    (
        "msg decrypt",
        "metaless msg decrypt --seed-file bob.seed --in sealed.bin",
    ),
    (
        "msg seal",
        "metaless msg seal --sender-seed-file alice.seed --to 05… --text \"hi\" --disappear after-send --timer-s 3600",
    ),
    (
        "msg open",
        "metaless msg open --seed-file bob.seed --data-b64 B64",
    ),
    (
        "onion build",
        "metaless onion build --hop ED:X --hop ED:X --hop ED:X --to-node ED:X --enc xchacha20 --payload-file request.json",
    ),
    (
        "onion peel",
        "metaless onion peel --x25519-secret-file node.x25519 --in onion.bin",
    ),
    (
        "onion respond",
        "metaless onion respond --x25519-secret-file node.x25519 --ephemeral-key HEX --enc xchacha20 --in reply.json",
    ),
    (
        "onion open-response",
        "metaless onion open-response --reply-secret-file reply.secret --dest-x25519 HEX --enc xchacha20 --in response.bin",
    ),
    (
        "swarm map",
        "metaless swarm map --pubkey 05… --swarm-ids 1,2,3",
    ),
    (
        "swarm ttl",
        "metaless swarm ttl --namespace 0 --ttl-ms 86400000",
    ),
    (
        "testnet init",
        "metaless testnet init --nodes 12 --swarms 4 --dir net",
    ),
    (
        "testnet up",
        "metaless testnet up --dir net\n  metaless testnet up --dir net --only ED25519_HEX",
    ),
];

/// `cmd` with every listed example attached to its subcommand.
pub fn attach(cmd: Command) -> Command {
    attach_under(cmd, "")
}

fn attach_under(mut cmd: Command, prefix: &str) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix} {name}")
        };
        cmd = cmd.mut_subcommand(name, |sub| {
            let sub = attach_under(sub, &path);
            match EXAMPLES.iter().find(|(p, _)| *p == path) {
                Some((_, text)) if sub.get_after_help().is_none() => {
                    let label = if text.contains('\n') {
                        "Examples"
                    } else {
                        "Example"
                    };
                    sub.after_help(format!("{label}:\n  {text}"))
                }
                _ => sub,
            }
        });
    }
    cmd
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use clap::CommandFactory;

    fn leaves(cmd: &Command, prefix: &str, out: &mut Vec<(String, bool)>) {
        let subs: Vec<&Command> = cmd
            .get_subcommands()
            .filter(|c| c.get_name() != "help")
            .collect();
        if subs.is_empty() && !prefix.is_empty() {
            out.push((prefix.to_owned(), cmd.get_after_help().is_some()));
        }
        for sub in subs {
            let path = if prefix.is_empty() {
                sub.get_name().to_owned()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            leaves(sub, &path, out);
        }
    }

    #[test]
    fn every_subcommand_has_an_example() {
        let cmd = attach(crate::Cli::command());
        let mut all = Vec::new();
        leaves(&cmd, "", &mut all);
        assert!(all.len() > 30, "{all:?}");
        let missing: Vec<&String> = all.iter().filter(|(_, ok)| !ok).map(|(p, _)| p).collect();
        assert!(missing.is_empty(), "no example in --help for: {missing:?}");
    }

    /// Splits a command line as a shell would for these examples: words, "quoted words", and
    /// redirections (`< file`, `> file`) left out.
    fn words(line: &str) -> Vec<String> {
        let line = line.split(['<', '>']).next().unwrap_or(line);
        let mut out = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for ch in line.trim().chars() {
            match ch {
                '"' => quoted = !quoted,
                ' ' if !quoted => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
        out
    }

    #[test]
    fn every_example_parses_as_its_own_subcommand() {
        for (path, text) in EXAMPLES {
            for line in text.lines() {
                let argv = words(line);
                let expected: Vec<&str> =
                    std::iter::once("metaless").chain(path.split(' ')).collect();
                assert_eq!(&argv[..expected.len()], &expected[..], "{path}: {line}");
                if let Err(e) = crate::Cli::command().try_get_matches_from(&argv) {
                    panic!("{path}: {line}: {e}");
                }
            }
        }
    }
}
