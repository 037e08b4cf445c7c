//! A real Redis Cluster for the sharded adapter tests: six redis-server
//! processes (`cluster-enabled`, short `cluster-node-timeout`) on free
//! 127.0.0.1 ports, in a temporary directory, joined by
//! `redis-cli --cluster create --cluster-replicas 1`: three masters with
//! one replica each. Everything is killed and removed on drop.

use super::{free_port, missing};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// Whether redis-server is 7.0 or newer (sharded pub/sub) and redis-cli
/// is there (skip/fail rule, as [`super::ready`]).
pub fn ready() -> bool {
    let version = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let major: u32 = version
        .split("v=")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 7 {
        return missing("redis-server >= 7.0 (sharded pub/sub)");
    }
    let cli = std::process::Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    cli || missing("redis-cli (Debian package redis-tools)")
}

pub struct ClusterNode {
    pub port: u16,
    bus_port: u16,
    dir: PathBuf,
    child: Option<tokio::process::Child>,
}

impl ClusterNode {
    async fn start(&mut self) {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--cluster-port",
                &self.bus_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "1000",
                "--cluster-replica-validity-factor",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not come up on port {}", self.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn alive(&self) -> bool {
        self.child.is_some()
    }

    /// Runs `redis-cli -p <port> args...`; its stdout.
    pub async fn cli(&self, args: &[&str]) -> String {
        let out = tokio::process::Command::new("redis-cli")
            .arg("-p")
            .arg(self.port.to_string())
            .args(args)
            .output()
            .await
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

pub struct RedisCluster {
    pub nodes: Vec<ClusterNode>,
    root: PathBuf,
}

impl RedisCluster {
    /// Starts six nodes and creates the cluster; waits until every node
    /// reports `cluster_state:ok` and every replica is in sync.
    pub async fn start() -> RedisCluster {
        let root = std::env::temp_dir().join(format!(
            "oxio-redis-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&root).unwrap();
        let mut nodes = Vec::new();
        for i in 0..6 {
            let dir = root.join(format!("n{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut n = ClusterNode {
                port: free_port(),
                bus_port: free_port(),
                dir,
                child: None,
            };
            n.start().await;
            nodes.push(n);
        }
        let c = RedisCluster { nodes, root };
        let addrs: Vec<String> = c
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = tokio::process::Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .await
            .expect("run redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        c.wait_ok(20).await;
        c
    }

    /// The seed URLs of every node, for the adapters.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(ClusterNode::url).collect()
    }

    /// `cluster:<url>,<url>...`, the Node peer's argument.
    pub fn peer_arg(&self) -> String {
        format!("cluster:{}", self.urls().join(","))
    }

    /// Waits until every live node says `cluster_state:ok`, sees three
    /// masters with slots, and every live replica's link is up.
    pub async fn wait_ok(&self, secs: u64) {
        for _ in 0..secs * 10 {
            let mut ok = true;
            for n in self.nodes.iter().filter(|n| n.alive()) {
                let info = n.cli(&["cluster", "info"]).await;
                let repl = n.cli(&["info", "replication"]).await;
                let replica_ok =
                    !repl.contains("role:slave") || repl.contains("master_link_status:up");
                if !info.contains("cluster_state:ok")
                    || !info.contains("cluster_size:3")
                    || !replica_ok
                {
                    ok = false;
                    break;
                }
            }
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the Redis Cluster is not ok after {secs} s");
    }

    /// The node serving `channel`'s slot as master.
    pub async fn master_of(&self, channel: &str) -> usize {
        let any = self.nodes.iter().find(|n| n.alive()).unwrap();
        let slot: u16 = any
            .cli(&["cluster", "keyslot", channel])
            .await
            .trim()
            .parse()
            .unwrap();
        for (i, n) in self.nodes.iter().enumerate().filter(|(_, n)| n.alive()) {
            let slots = n.cli(&["cluster", "nodes"]).await;
            for line in slots
                .lines()
                .filter(|l| l.contains("myself") && l.contains("master"))
            {
                for range in line.split_whitespace().skip(8) {
                    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                    if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
                        if (lo..=hi).contains(&slot) {
                            return i;
                        }
                    }
                }
            }
        }
        panic!("no live master serves {channel}");
    }

    /// Subscribers of sharded `channel`, summed over the live nodes.
    pub async fn shard_numsub(&self, channel: &str) -> usize {
        let mut total = 0;
        for n in self.nodes.iter().filter(|n| n.alive()) {
            let out = n.cli(&["pubsub", "shardnumsub", channel]).await;
            total += out
                .lines()
                .nth(1)
                .and_then(|l| l.trim().parse::<usize>().ok())
                .unwrap_or(0);
        }
        total
    }

    /// Kills node `i` (SIGKILL) and waits until it is gone.
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill().await;
            let _ = c.wait().await;
        }
    }

    /// Starts node `i` again (it rejoins from its nodes.conf).
    pub async fn restart(&mut self, i: usize) {
        self.nodes[i].start().await;
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(c) = n.child.as_mut() {
                let _ = c.start_kill();
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
