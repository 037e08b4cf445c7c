// The Node.js side of benches/compare.sh: socket.io 4.8 with the load
// contract every compared server implements (see benches/peers/README.md):
//   namespace "/", WebSocket transport (polling also on, as by default)
//   "echo" (one argument)  -> "echo-response" with the same argument, to the sender
//   "bcast" (one argument) -> io.emit("bcast", argument) to every socket
//   "join" (room name, ack) -> socket.join(room), then ack()
//   "bcast-room" (room name, one argument) -> io.to(room).emit("bcast", argument)
// (any number of arguments is passed through; oxio-load sends one).
// Defaults otherwise (pingInterval 25 s, pingTimeout 20 s, maxHttpBufferSize 1e6).
//
// Usage: node server.js [PORT] [--redis URL | --redis-cluster URL[,URL...]]
//   PORT: or env PORT; default 3000; 0 = any free port.
//   --redis URL: @socket.io/redis-adapter 8.3 on this Redis (node-redis 4.7
//   clients), so several nodes serve one io.emit (compare.sh's
//   cluster-broadcast); connects before listening.
//   --recovery MS: connectionStateRecovery with maxDisconnectionDuration MS
//   (the cost of recovery, benches/RESULTS.md, issue 12).
//   --redis-cluster URL[,URL...]: createShardedAdapter (default options) on
//   this Redis Cluster (node-redis 4.7 createCluster; compare.sh's
//   sharded-broadcast).
// Prints "listening on <port>" once ready.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const args = process.argv.slice(2);
let redisUrl = null;
const redisAt = args.indexOf("--redis");
if (redisAt >= 0) {
  redisUrl = args[redisAt + 1];
  if (!redisUrl) {
    console.error("server.js: --redis needs a URL");
    process.exit(2);
  }
  args.splice(redisAt, 2);
}
let recoveryMs = 0;
const recoveryAt = args.indexOf("--recovery");
if (recoveryAt >= 0) {
  recoveryMs = Number(args[recoveryAt + 1]);
  args.splice(recoveryAt, 2);
}
let clusterUrls = null;
const clusterAt = args.indexOf("--redis-cluster");
if (clusterAt >= 0) {
  clusterUrls = (args[clusterAt + 1] || "").split(",").filter(Boolean);
  if (clusterUrls.length === 0) {
    console.error("server.js: --redis-cluster needs URLs");
    process.exit(2);
  }
  args.splice(clusterAt, 2);
}
const port = Number(args[0] ?? process.env.PORT ?? 3000);
// The REST fan-out of the load contract: POST /api/update emits its JSON
// body as `bcast` to every socket of `/` (socket.io handles /socket.io/).
const httpServer = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/api/update") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let arg;
    try {
      arg = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      res.writeHead(400, { "content-type": "application/json", "content-length": 2 }).end("{}");
      return;
    }
    io.emit("bcast", arg);
    res.writeHead(200, { "content-type": "application/json", "content-length": 2 }).end("{}");
  });
});
const io = new Server(httpServer, {
  serveClient: false,
  ...(recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs } } : {}),
});
const redisClients = [];

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    socket.emit("echo-response", ...args);
  });
  socket.on("bcast", (...args) => {
    io.emit("bcast", ...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("bcast-room", (room, ...args) => {
    io.to(room).emit("bcast", ...args);
  });
});

async function start() {
  if (redisUrl) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: redisUrl });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) {
      c.on("error", (e) => console.error("redis:", e.message));
      redisClients.push(c);
    }
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  if (clusterUrls) {
    const { createCluster } = require("redis");
    const { createShardedAdapter } = require("@socket.io/redis-adapter");
    const pub = createCluster({ rootNodes: clusterUrls.map((url) => ({ url })) });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) {
      c.on("error", (e) => console.error("redis:", e.message));
      redisClients.push(c);
    }
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createShardedAdapter(pub, sub));
  }
  httpServer.listen(port, "127.0.0.1", () => {
    console.log(`listening on ${httpServer.address().port}`);
  });
}

start().catch((e) => {
  console.error("server.js:", e);
  process.exit(1);
});

const stop = () => {
  io.close();
  for (const c of redisClients) c.disconnect().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
