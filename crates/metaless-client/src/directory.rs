//! What the client knows about the network: service nodes, their failures, swarms learned from
//! replies, the guard node and the onion paths built from them.

use std::collections::{BTreeMap, BTreeSet};

use metaless_onion::Hop;
use metaless_swarm::{INVALID_SWARM_ID, ServiceNode, SwarmIds, UserPubkey};
use rand_core::RngCore;

/// Most guards remembered: the primary one, plus stand-ins for destinations in its swarm.
const MAX_GUARDS: usize = 3;

/// A known node, with its onion key prepared once.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) node: ServiceNode,
    pub(crate) hop: Hop,
}

/// Id of an onion path, unique per client (paths are numbered from 1 as they are built).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PathId(u64);

/// One onion path: hops in order, the guard first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub(crate) id: PathId,
    pub(crate) hops: Vec<[u8; 32]>,
    strikes: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Directory {
    nodes: BTreeMap<[u8; 32], Entry>,
    swarm_ids: SwarmIds,
    strikes: BTreeMap<[u8; 32], u32>,
    banned_until: BTreeMap<[u8; 32], u64>,
    /// Swarms learned from 421 replies, per account; they override the node list's view.
    swarms: BTreeMap<UserPubkey, (u64, Vec<[u8; 32]>)>,
    guards: Vec<[u8; 32]>,
    paths: Vec<Path>,
    /// Number of the last path built.
    next_path: u64,
}

/// Picks one element uniformly (up to a negligible modulo bias) — `None` when empty.
pub(crate) fn choose<'a, T>(items: &'a [T], rng: &mut impl RngCore) -> Option<&'a T> {
    if items.is_empty() {
        return None;
    }
    let i = (rng.next_u64() % items.len() as u64) as usize;
    items.get(i)
}

/// The nodes that at least `quorum` of `answers` list with the same Ed25519 key, IP and port
/// (a node listed twice in one answer counts once for it), each with the swarm id most of
/// those answers give it; at most [`MAX_NODES`](crate::limits::MAX_NODES) of them, by key.
///
/// This is the refresh rule libsession-util's `SnodePool` follows (3 answers, a node kept
/// when 2 of them list it): a node that lies about the network can add nodes only to its own
/// answer, so they never reach a quorum.
pub(crate) fn agreed_nodes(answers: &[Vec<ServiceNode>], quorum: usize) -> Vec<ServiceNode> {
    type Key = ([u8; 32], [u8; 4], u16);
    let mut votes: BTreeMap<Key, Vec<&ServiceNode>> = BTreeMap::new();
    for answer in answers {
        let mut once = BTreeSet::new();
        for node in answer {
            let key = (node.ed25519, node.ip, node.storage_port);
            if once.insert(key) {
                votes.entry(key).or_default().push(node);
            }
        }
    }
    let mut agreed: BTreeMap<[u8; 32], ServiceNode> = BTreeMap::new();
    for ((ed25519, _, _), listed) in votes {
        if listed.len() < quorum.max(1) || agreed.contains_key(&ed25519) {
            continue;
        }
        // The swarm id most of the answers give (the first one listed on a tie).
        let mut best: Option<(&ServiceNode, usize)> = None;
        for n in &listed {
            let count = listed.iter().filter(|m| m.swarm_id == n.swarm_id).count();
            if best.is_none_or(|(_, c)| count > c) {
                best = Some((n, count));
            }
        }
        if let Some((node, _)) = best {
            agreed.insert(ed25519, node.clone());
        }
    }
    agreed
        .into_values()
        .take(crate::limits::MAX_NODES)
        .collect()
}

impl Directory {
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<&Entry> {
        self.nodes.get(key)
    }

    pub(crate) fn paths(&self) -> &[Path] {
        &self.paths
    }

    pub(crate) fn guards(&self) -> &[[u8; 32]] {
        &self.guards
    }

    /// Replaces the node list (a refresh). Strikes and bans survive; swarms learned from 421s
    /// are dropped because the list is newer; paths through departed nodes are dropped.
    pub(crate) fn replace_nodes(&mut self, nodes: Vec<ServiceNode>) -> Vec<Path> {
        self.nodes.clear();
        self.add_nodes(nodes);
        self.swarms.clear();
        let gone: Vec<[u8; 32]> = self
            .paths
            .iter()
            .flat_map(|p| p.hops.iter().copied())
            .filter(|k| !self.nodes.contains_key(k))
            .collect();
        let mut dropped = Vec::new();
        for k in gone {
            dropped.extend(self.drop_paths_with(&k));
        }
        self.guards.retain(|g| self.nodes.contains_key(g));
        dropped
    }

    /// Adds or updates nodes (from a node list or a 421 body), up to the node limit.
    pub(crate) fn add_nodes(&mut self, nodes: impl IntoIterator<Item = ServiceNode>) {
        for node in nodes {
            if self.nodes.len() >= crate::limits::MAX_NODES
                && !self.nodes.contains_key(&node.ed25519)
            {
                break;
            }
            let hop = Hop::new(node.ed25519, node.x25519);
            self.nodes.insert(node.ed25519, Entry { node, hop });
        }
        self.swarm_ids = self
            .nodes
            .values()
            .map(|e| e.node.swarm_id)
            .filter(|&id| id != INVALID_SWARM_ID)
            .collect();
    }

    /// Whether a node is known and not blacklisted at `now`.
    pub(crate) fn usable(&self, key: &[u8; 32], now: u64) -> bool {
        self.nodes.contains_key(key) && self.banned_until.get(key).is_none_or(|&until| until <= now)
    }

    pub(crate) fn usable_count(&self, now: u64) -> usize {
        self.nodes.keys().filter(|k| self.usable(k, now)).count()
    }

    /// The swarm holding `account`'s messages and its members: what a 421 said, else the
    /// node list's nearest swarm.
    pub(crate) fn swarm_of(&self, account: &UserPubkey) -> Option<(u64, Vec<[u8; 32]>)> {
        if let Some((id, members)) = self.swarms.get(account) {
            return Some((*id, members.clone()));
        }
        let id = self.swarm_ids.nearest(account.swarm_space())?;
        let members = self
            .nodes
            .values()
            .filter(|e| e.node.swarm_id == id)
            .map(|e| e.node.ed25519)
            .collect();
        Some((id, members))
    }

    /// Records the swarm a node named in a 421 for `account` (only for that account), keeping
    /// only members already in the directory: a 421 body is one node's word, so the nodes it
    /// names that no refresh confirmed are not used (not as members, not as hops). Returns how
    /// many members were kept; with none the learned swarm is not recorded.
    pub(crate) fn set_swarm(
        &mut self,
        account: UserPubkey,
        id: u64,
        members: Vec<ServiceNode>,
    ) -> usize {
        let keys: Vec<[u8; 32]> = members
            .iter()
            .map(|n| n.ed25519)
            .filter(|k| self.nodes.contains_key(k))
            .collect();
        let kept = keys.len();
        if kept > 0 {
            self.swarms.insert(account, (id, keys));
        }
        kept
    }

    /// One failure of `key`; blacklists it at `limit`. Returns the paths that had to go.
    pub(crate) fn strike(
        &mut self,
        key: &[u8; 32],
        now: u64,
        limit: u32,
        ban_ms: u64,
    ) -> Vec<Path> {
        let n = self.strikes.entry(*key).or_insert(0);
        *n = n.saturating_add(1);
        if *n >= limit {
            self.ban(key, now, ban_ms)
        } else {
            Vec::new()
        }
    }

    /// Blacklists `key` until `now + ban_ms`; drops every path through it.
    pub(crate) fn ban(&mut self, key: &[u8; 32], now: u64, ban_ms: u64) -> Vec<Path> {
        tracing::info!(node = %metaless_swarm::NodeId::new(*key), for_ms = ban_ms, "node blacklisted");
        self.strikes.remove(key);
        self.banned_until.insert(*key, now.saturating_add(ban_ms));
        self.guards.retain(|g| g != key);
        self.drop_paths_with(key)
    }

    /// A successful exchange with `key`: its strikes are forgiven.
    pub(crate) fn clear_strikes(&mut self, key: &[u8; 32]) {
        self.strikes.remove(key);
    }

    fn drop_paths_with(&mut self, key: &[u8; 32]) -> Vec<Path> {
        let (gone, keep): (Vec<Path>, Vec<Path>) = core::mem::take(&mut self.paths)
            .into_iter()
            .partition(|p| p.hops.contains(key));
        self.paths = keep;
        gone
    }

    /// One failure through path `id`; at `limit` the path is dropped and each hop gets a strike
    /// (so a node that keeps breaking paths ends up blacklisted).
    pub(crate) fn strike_path(
        &mut self,
        id: PathId,
        now: u64,
        limit: u32,
        node_limit: u32,
        ban_ms: u64,
    ) -> Vec<Path> {
        let Some(pos) = self.paths.iter().position(|p| p.id == id) else {
            return Vec::new();
        };
        let hit = self.paths.get_mut(pos).map(|p| {
            p.strikes = p.strikes.saturating_add(1);
            p.strikes >= limit
        });
        if hit != Some(true) {
            return Vec::new();
        }
        let path = self.paths.remove(pos);
        let mut dropped = vec![path.clone()];
        for hop in &path.hops {
            dropped.extend(self.strike(hop, now, node_limit, ban_ms));
        }
        dropped
    }

    pub(crate) fn path_ok(&mut self, id: PathId) {
        if let Some(p) = self.paths.iter_mut().find(|p| p.id == id) {
            p.strikes = 0;
        }
    }

    pub(crate) fn path(&self, id: PathId) -> Option<&Path> {
        self.paths.iter().find(|p| p.id == id)
    }

    /// A path none of whose hops is in `avoid`: an existing one when there is one, else a new
    /// one (`true` in the result). `None` when too few usable nodes are left.
    pub(crate) fn path_for(
        &mut self,
        avoid: &BTreeSet<[u8; 32]>,
        hops: usize,
        max_paths: usize,
        now: u64,
        rng: &mut impl RngCore,
    ) -> Option<(PathId, bool)> {
        let fits: Vec<PathId> = self
            .paths
            .iter()
            .filter(|p| {
                p.hops
                    .iter()
                    .all(|h| !avoid.contains(h) && self.usable(h, now))
            })
            .map(|p| p.id)
            .collect();
        if let Some(id) = choose(&fits, rng) {
            return Some((*id, false));
        }
        let path = self.build_path(avoid, hops, now, rng)?;
        let id = path.id;
        if self.paths.len() >= max_paths.max(1) {
            self.paths.remove(0);
        }
        self.paths.push(path);
        Some((id, true))
    }

    fn build_path(
        &mut self,
        avoid: &BTreeSet<[u8; 32]>,
        hops: usize,
        now: u64,
        rng: &mut impl RngCore,
    ) -> Option<Path> {
        if hops == 0 {
            return None;
        }
        let candidates: Vec<[u8; 32]> = self
            .nodes
            .keys()
            .filter(|k| !avoid.contains(*k) && self.usable(k, now))
            .copied()
            .collect();
        if candidates.len() < hops {
            return None;
        }
        // The guard is kept across paths: the same first hop every time, unless it sits in the
        // destination's swarm (then a stand-in) or has been blacklisted.
        self.guards.retain(|g| self.nodes.contains_key(g));
        let guard = match self.guards.iter().find(|g| candidates.contains(g)) {
            Some(g) => *g,
            None => {
                let g = *choose(&candidates, rng)?;
                if self.guards.len() >= MAX_GUARDS {
                    self.guards.remove(1.min(self.guards.len() - 1));
                }
                self.guards.push(g);
                g
            }
        };
        let mut rest: Vec<[u8; 32]> = candidates.into_iter().filter(|k| *k != guard).collect();
        let mut chosen = vec![guard];
        while chosen.len() < hops {
            if rest.is_empty() {
                return None;
            }
            let i = (rng.next_u64() % rest.len() as u64) as usize;
            chosen.push(rest.swap_remove(i));
        }
        self.next_path += 1;
        Some(Path {
            id: PathId(self.next_path),
            hops: chosen,
            strikes: 0,
        })
    }

    /// Usable nodes (for direct requests such as a node list refresh).
    pub(crate) fn usable_nodes(&self, now: u64) -> Vec<[u8; 32]> {
        self.nodes
            .keys()
            .filter(|k| self.usable(k, now))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metaless_identity::{Keypair, Seed};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn nodes(n: u8, swarms: u64) -> Vec<ServiceNode> {
        (1..=n)
            .map(|i| {
                let k = Keypair::from_seed(&Seed::from_bytes([i; 32]));
                ServiceNode::new(
                    k.ed25519_public(),
                    [127, 0, 0, 1],
                    1000 + u16::from(i),
                    u64::from(i) % swarms * 1000,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn paths_keep_the_guard_and_avoid_the_destination_swarm() {
        let mut dir = Directory::default();
        dir.add_nodes(nodes(12, 4));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let account = UserPubkey::new(5, [9; 32]);
        let (_, members) = dir.swarm_of(&account).unwrap();
        assert_eq!(members.len(), 3);
        let avoid: BTreeSet<_> = members.iter().copied().collect();
        let mut guards = BTreeSet::new();
        for _ in 0..20 {
            let (id, _) = dir.path_for(&avoid, 3, 1, 0, &mut rng).unwrap();
            let path = dir.path(id).unwrap().clone();
            let distinct: BTreeSet<_> = path.hops.iter().collect();
            assert_eq!(distinct.len(), 3);
            assert!(path.hops.iter().all(|h| !avoid.contains(h)));
            guards.insert(path.hops[0]);
            // Force a new path next time.
            dir.strike_path(id, 0, 1, 100, 1);
        }
        assert_eq!(guards.len(), 1, "the guard is kept across rebuilt paths");
    }

    #[test]
    fn banned_nodes_leave_paths_and_are_not_chosen() {
        let mut dir = Directory::default();
        dir.add_nodes(nodes(6, 2));
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (id, built) = dir.path_for(&BTreeSet::new(), 3, 3, 0, &mut rng).unwrap();
        assert!(built);
        let victim = dir.path(id).unwrap().hops[1];
        let dropped = dir.strike(&victim, 0, 1, 1_000);
        assert_eq!(dropped.len(), 1);
        assert!(!dir.usable(&victim, 500));
        assert!(dir.usable(&victim, 1_000), "the ban ends");
        for _ in 0..10 {
            let (id, _) = dir.path_for(&BTreeSet::new(), 3, 3, 10, &mut rng).unwrap();
            assert!(!dir.path(id).unwrap().hops.contains(&victim));
        }
    }

    #[test]
    fn too_few_nodes_means_no_path() {
        let mut dir = Directory::default();
        dir.add_nodes(nodes(2, 1));
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        assert!(dir.path_for(&BTreeSet::new(), 3, 3, 0, &mut rng).is_none());
    }

    #[test]
    fn learned_swarm_overrides_only_that_account() {
        let mut dir = Directory::default();
        let all = nodes(6, 3);
        dir.add_nodes(all.clone());
        let a = UserPubkey::new(5, [1; 32]);
        let b = UserPubkey::new(5, [2; 32]);
        let before_b = dir.swarm_of(&b);
        dir.set_swarm(a, 42, vec![all[0].clone()]);
        assert_eq!(dir.swarm_of(&a).unwrap(), (42, vec![all[0].ed25519]));
        assert_eq!(dir.swarm_of(&b), before_b);
    }

    #[test]
    fn a_421_cannot_add_nodes() {
        let mut dir = Directory::default();
        let all = nodes(12, 3);
        dir.add_nodes(all[..6].to_vec());
        let a = UserPubkey::new(5, [1; 32]);
        // Only unknown nodes: nothing is learned, nothing added.
        assert_eq!(dir.set_swarm(a, 7, all[6..].to_vec()), 0);
        assert_eq!(dir.len(), 6);
        assert_ne!(dir.swarm_of(&a).unwrap().0, 7);
        // A mix: only the known member is kept.
        assert_eq!(dir.set_swarm(a, 7, vec![all[7].clone(), all[1].clone()]), 1);
        assert_eq!(dir.swarm_of(&a).unwrap(), (7, vec![all[1].ed25519]));
        assert_eq!(dir.len(), 6);
    }

    #[test]
    fn only_nodes_a_quorum_agrees_on_are_kept() {
        let honest = nodes(8, 2);
        let liar: Vec<ServiceNode> = (100..=140)
            .map(|i| {
                let k = Keypair::from_seed(&Seed::from_bytes([i; 32]));
                ServiceNode::new(k.ed25519_public(), [6, 6, 6, 6], 1, 1).unwrap()
            })
            .collect();
        // The liar repeats its own nodes and moves an honest node to its own address.
        let mut lie = liar.clone();
        lie.extend(liar.clone());
        let mut moved = honest[0].clone();
        moved.ip = [6, 6, 6, 6];
        lie.push(moved);
        let answers = vec![honest.clone(), lie, honest.clone()];
        let agreed = agreed_nodes(&answers, 2);
        assert_eq!(agreed.len(), 8);
        assert!(agreed.iter().all(|n| honest.contains(n)));
        // A node only one answer lists (honest[0] missing from the third) is dropped.
        let answers = vec![honest.clone(), answers[1].clone(), honest[1..].to_vec()];
        let agreed = agreed_nodes(&answers, 2);
        assert_eq!(agreed.len(), 7);
        assert!(!agreed.iter().any(|n| n.ed25519 == honest[0].ed25519));
        // One answer alone is not a quorum of two.
        assert!(agreed_nodes(&answers[1..2], 2).is_empty());
        // A swarm id is taken from the majority of the answers listing the node.
        let mut other = honest.clone();
        other[2].swarm_id = 99;
        let agreed = agreed_nodes(&[honest.clone(), other, honest.clone()], 2);
        let n2 = agreed
            .iter()
            .find(|n| n.ed25519 == honest[2].ed25519)
            .unwrap();
        assert_eq!(n2.swarm_id, honest[2].swarm_id);
    }
}
