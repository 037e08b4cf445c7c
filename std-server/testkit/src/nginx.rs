//! nginx in front of oxio servers, for the tests that need a real reverse
//! proxy or load balancer (sticky sessions, a node killed behind it, the
//! client address passed in `X-Forwarded-For`). Needs `nginx` installed
//! (`apt-get install -y nginx`; `scripts/test.sh` installs it).

use std::process::Stdio;
use std::time::Duration;

/// nginx over `upstreams` (`ip_hash` when `sticky`, else round-robin), in
/// its own temp prefix, logging `$remote_addr $upstream_addr $status
/// "$request"` to `access.log`. Every location is proxied, with WebSocket
/// upgrades, `X-Real-IP` and `X-Forwarded-For` (`$proxy_add_x_forwarded_for`).
pub struct Nginx {
    child: tokio::process::Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    pub async fn start(upstreams: &[std::net::SocketAddr], sticky: bool) -> Nginx {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("oxio-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let servers: String = upstreams
            .iter()
            .map(|a| format!("    server {a};\n"))
            .collect();
        let d = dir.display();
        let balance = if sticky { "    ip_hash;\n" } else { "" };
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\n\
events {{ worker_connections 256; }}\n\
http {{\n  log_format up '$remote_addr $upstream_addr $status \"$request\"';\n\
  access_log {d}/logs/access.log up;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
  upstream oxio {{\n{balance}{servers}  }}\n\
  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
      proxy_pass http://oxio;\n      proxy_http_version 1.1;\n\
      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"upgrade\";\n\
      proxy_set_header Host $host;\n      proxy_set_header X-Real-IP $remote_addr;\n\
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      proxy_read_timeout 60s;\n    }}\n  }}\n}}\n"
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

    /// The access log so far, one `(client, upstream, status, request)` a line.
    pub fn log(&self) -> Vec<(String, String, u16, String)> {
        let text = std::fs::read_to_string(self.dir.join("logs/access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut it = l.splitn(4, ' ');
                Some((
                    it.next()?.to_owned(),
                    it.next()?.to_owned(),
                    it.next()?.parse().ok()?,
                    it.next()?.trim_matches('"').to_owned(),
                ))
            })
            .collect()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free TCP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
