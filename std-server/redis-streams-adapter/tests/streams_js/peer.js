// A Node socket.io node with @socket.io/redis-streams-adapter and
// connection state recovery on, plus socket.io-client clients, driven by
// JSON lines on stdin; prints JSON lines on stdout.
// Usage: node peer.js <redis-url> <maxDisconnectionDuration ms> [<adapter options as JSON>]
// Binary values travel in the JSON as {"$bin":[bytes]}.
//
// Clients keep recovering across nodes: socket.io-client reconnects to the
// URL it started with, so `drop` closes a client's engine (the server sees
// "transport close" and stores the session) and `client` with `pid` and
// `offset` starts a new client for another node carrying them (the
// client's own `_pid` / `_lastOffset`, which it sends in its CONNECT auth).
"use strict";
const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-streams-adapter");
const { createClient } = require("redis");
const { io: connect } = require("socket.io-client");

const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

const toJson = (v) => {
  if (Buffer.isBuffer(v)) return { $bin: [...v] };
  if (v instanceof ArrayBuffer) return { $bin: [...new Uint8Array(v)] };
  if (ArrayBuffer.isView(v)) return { $bin: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toJson(v[k]);
    return o;
  }
  return v;
};
const fromJson = (v) => {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v && typeof v === "object") {
    if (Array.isArray(v.$bin)) return Buffer.from(v.$bin);
    const o = {};
    for (const k of Object.keys(v)) o[k] = fromJson(v[k]);
    return o;
  }
  return v;
};

async function main() {
  const url = process.argv[2];
  const maxDisconnectionDuration = Number(process.argv[3] || 120000);
  const redis = createClient({ url });
  redis.on("error", () => {});
  await redis.connect();
  const httpServer = http.createServer();
  const adapterOpts = { blockTimeInMs: 1000, ...JSON.parse(process.argv[4] || "{}") };
  const io = new Server(httpServer, {
    adapter: createAdapter(redis, adapterOpts),
    connectionStateRecovery: { maxDisconnectionDuration },
  });
  io.on("connection", (socket) => {
    const auth = socket.handshake.auth || {};
    if (!socket.recovered) socket.data = { node: "js", name: auth.name };
    for (const r of auth.rooms || []) socket.join(r);
    socket.on("whoami", (cb) => cb({ node: "js", id: socket.id, rooms: [...socket.rooms].sort(), recovered: socket.recovered }));
  });
  io.on("ssevent", (...args) => {
    const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
    out({ ev: "server_side", args: toJson(args), ack: !!cb });
    if (cb) cb("js:" + args[0]);
  });
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  const clients = new Map();
  const tickers = new Map();

  const ops = {
    async client(c) {
      const s = connect(c.url, {
        auth: { name: c.name, rooms: c.rooms || [] },
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        autoConnect: false,
      });
      if (c.pid !== undefined) {
        s._pid = c.pid;
        s._lastOffset = c.offset;
      }
      clients.set(c.name, s);
      s.on("connect", () => out({ ev: "connected", client: c.name, id: s.id, recovered: s.recovered }));
      s.on("connect_error", (e) => out({ ev: "connect_error", client: c.name, message: e.message }));
      s.on("disconnect", (reason) => out({ ev: "disconnected", client: c.name, reason }));
      s.onAny((event, ...args) => {
        const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
        out({ ev: "event", client: c.name, event, args: toJson(args) });
        if (cb) cb(c.name + ":" + args[0]);
      });
      s.connect();
    },
    // Closes the client's engine: "transport close" on the server, which
    // stores the session. Returns what the client would recover with.
    async drop(c) {
      const s = clients.get(c.client);
      const state = { id: s.id, pid: s._pid, offset: s._lastOffset };
      s.io.engine.close();
      return state;
    },
    async whoami(c) {
      return clients.get(c.client).timeout(8000).emitWithAck("whoami");
    },
    async client_close(c) {
      clients.get(c.client).disconnect();
      clients.delete(c.client);
    },
    async emit(c) {
      let op = io;
      if (c.to) op = op.to(c.to);
      if (c.except) op = op.except(c.except);
      if (c.volatile) op = op.volatile;
      op.emit(c.event, ...fromJson(c.args || []));
    },
    async emitWithAck(c) {
      let op = io.timeout(c.timeout || 8000);
      if (c.to) op = op.to(c.to);
      return toJson(await op.emitWithAck(c.event, ...fromJson(c.args || [])));
    },
    // Emits `event` with 1, 2, 3, ... to room `to` every `every` ms until
    // ticker_stop, which returns the last number sent.
    async ticker(c) {
      const t = { n: 0 };
      t.timer = setInterval(() => {
        t.n += 1;
        io.to(c.to).emit(c.event, t.n);
      }, c.every || 10);
      tickers.set(c.event, t);
    },
    async ticker_stop(c) {
      const t = tickers.get(c.event);
      clearInterval(t.timer);
      tickers.delete(c.event);
      return t.n;
    },
    async fetchSockets(c) {
      const sockets = await (c.to ? io.in(c.to) : io).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data }));
    },
    async remote(c) {
      if (c.join) io.in(c.id).socketsJoin(c.join);
      if (c.leave) io.in(c.id).socketsLeave(c.leave);
      if (c.disconnect) io.in(c.id).disconnectSockets(true);
    },
    async serverSideEmit(c) {
      io.serverSideEmit(c.event, ...fromJson(c.args || []));
    },
    async serverSideEmitWithAck(c) {
      return toJson(await io.serverSideEmitWithAck(c.event, ...fromJson(c.args || [])));
    },
    async serverCount() {
      return io.of("/").adapter.serverCount();
    },
  };

  out({ ev: "ready", port: httpServer.address().port });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      return out({ ev: "bad_command", line });
    }
    try {
      const value = await ops[c.cmd](c);
      out({ ev: "result", rid: c.rid, value: value === undefined ? null : value });
    } catch (e) {
      out({ ev: "result", rid: c.rid, error: String(e && e.message) });
    }
  });
  rl.on("close", () => process.exit(0));
}

main().catch((e) => {
  out({ ev: "fatal", message: String(e && e.stack) });
  process.exit(1);
});
