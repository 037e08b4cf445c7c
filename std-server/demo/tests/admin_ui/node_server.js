// Node's reference: socket.io 4.8 with @socket.io/admin-ui's instrument(),
// shaped like the oxio demo where the admin UI tests look (namespace "/"
// sends "welcome", "join-room" joins "room:<name>"), and the UI's files at
// /admin-ui/ as the demo serves them.
// Usage: node node_server.js <namespace> <user> <bcrypt hash> <server id> [redis url]
// With a Redis URL, the node joins that cluster (@socket.io/redis-adapter,
// key "socket.io", as the demo's --redis). Prints
// "listening on http://127.0.0.1:<port>" once ready.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const { Server } = require("socket.io");
const { instrument } = require("@socket.io/admin-ui");

const [namespace, username, hash, serverId, redisUrl] = process.argv.slice(2);
const dist = path.join(path.dirname(require.resolve("@socket.io/admin-ui/package.json")), "ui", "dist");
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".map": "application/json" };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (!url.pathname.startsWith("/admin-ui/")) {
    res.writeHead(404).end();
    return;
  }
  const rel = url.pathname.slice("/admin-ui/".length) || "index.html";
  const file = path.join(dist, path.normalize(rel));
  if (!file.startsWith(dist)) {
    res.writeHead(404).end();
    return;
  }
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" }).end(body);
  });
});

async function main() {
const io = new Server(server);
if (redisUrl) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}
io.on("connection", (socket) => {
  socket.emit("welcome", "Welcome to oxio");
  socket.on("join-room", (name) => {
    socket.join("room:" + name);
    socket.emit("room-joined", name);
  });
});
instrument(io, {
  namespaceName: namespace,
  auth: { type: "basic", username, password: hash },
  serverId,
  mode: "development",
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
process.on("SIGTERM", () => process.exit(0));
