//! Sticky sessions: a real nginx with `ip_hash` in front of two oxio
//! nodes that share a Redis adapter. socket.io-client clients connect
//! through nginx with HTTP long-polling first, then upgrade to WebSocket
//! (every request of a session reaches the same node), and chat with
//! clients connected straight to each node.
//!
//! Needs redis-server, nginx, node and `npm ci --prefix
//! std-server/tests/redis_js` (skip notice otherwise; a failure under `CI`
//! / `OXIO_REQUIRE_NODE=1`).

#![cfg(feature = "redis")]

mod redis_support;
mod sio_support;

use redis_support::{free_port, Peer, Redis, RustNode};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;

/// nginx with `ip_hash` over `upstreams`, in its own temp prefix.
struct Nginx {
    child: tokio::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    async fn start(upstreams: &[std::net::SocketAddr]) -> Nginx {
        let dir =
            std::env::temp_dir().join(format!("oxio-nginx-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|a| format!("    server {a};\n"))
            .collect();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\n\
events {{ worker_connections 256; }}\n\
http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
  upstream oxio {{\n    ip_hash;\n{servers}  }}\n\
  server {{\n    listen 127.0.0.1:{port};\n    location /socket.io/ {{\n\
      proxy_pass http://oxio;\n      proxy_http_version 1.1;\n\
      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"upgrade\";\n\
      proxy_set_header Host $host;\n      proxy_read_timeout 60s;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = tokio::process::Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("logs/error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start nginx");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Nginx { child, port, dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not come up on port {port}");
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn sticky_sessions_behind_nginx_ip_hash() {
    if !redis_support::nginx_ready() {
        return;
    }
    sio_support::run(async {
        let redis = Redis::start().await;
        let a = RustNode::start("A", &redis.url()).await;
        let b = RustNode::start("B", &redis.url()).await;
        let nginx = Nginx::start(&[a.server.addr, b.server.addr]).await;
        let mut n = Peer::start(&redis.url()).await;
        let front = format!("http://127.0.0.1:{}", nginx.port);
        let both = ["polling", "websocket"];
        n.client_with("c1", &front, &[], &both).await;
        n.client_with("c2", &front, &[], &both).await;
        n.client("da", &a.url(), &[]).await;
        n.client("db", &b.url(), &[]).await;
        // Let the polling clients upgrade (through nginx) before chatting.
        tokio::time::sleep(Duration::from_millis(500)).await;

        n.cmd(
            json!({"cmd": "client_emit", "client": "c1", "event": "chat", "args": ["hi from c1"]}),
        )
        .await;
        for c in ["c2", "da", "db"] {
            n.got(c, "chat", json!(["hi from c1"])).await;
        }
        let upgraded = n
            .all()
            .into_iter()
            .find(|v| v["ev"] == "event" && v["client"] == "c2" && v["event"] == "chat")
            .unwrap();
        assert_eq!(
            upgraded["transport"], "websocket",
            "c2 upgraded through nginx"
        );
        n.cmd(
            json!({"cmd": "client_emit", "client": "db", "event": "chat", "args": ["hi from db"]}),
        )
        .await;
        for c in ["c1", "c2", "da"] {
            n.got(c, "chat", json!(["hi from db"])).await;
        }
        n.cmd(
            json!({"cmd": "client_emit", "client": "da", "event": "chat", "args": ["hi from da"]}),
        )
        .await;
        for c in ["c1", "c2", "db"] {
            n.got(c, "chat", json!(["hi from da"])).await;
        }
        assert!(
            !n.all()
                .iter()
                .any(|v| v["ev"] == "disconnected" || v["ev"] == "connect_error"),
            "no session broke: {:#?}",
            n.all()
        );

        n.stop().await;
        nginx.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}
