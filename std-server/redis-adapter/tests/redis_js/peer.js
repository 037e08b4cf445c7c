// A Node socket.io node with @socket.io/redis-adapter, plus socket.io-client
// clients, driven by JSON lines on stdin; prints JSON lines on stdout.
// Usage: node peer.js <redis-url> [<adapter options as JSON>] [json|msgpack]
//    or: node peer.js cluster:<url>,<url>... [<options>] [json|msgpack] for
//        createShardedAdapter on a Redis Cluster.
// (msgpack: the server uses socket.io-msgpack-parser; a client gets it
// with "parser": "msgpack" in its `client` command)
// Binary values travel in the JSON as {"$bin":[bytes]}.
"use strict";
const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const { createClient, createCluster } = require("redis");
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
  const sharded = url.startsWith("cluster:");
  const pub = sharded
    ? createCluster({ rootNodes: url.slice(8).split(",").map((u) => ({ url: u })) })
    : createClient({ url });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const opts = JSON.parse(process.argv[3] || "{}");
  const adapter = sharded
    ? createShardedAdapter(pub, sub, opts)
    : createAdapter(pub, sub, { requestsTimeout: 3000, ...opts });
  const serverOpts = { adapter };
  if (process.argv[4] === "msgpack") serverOpts.parser = require("socket.io-msgpack-parser");
  const io = new Server(httpServer, serverOpts);
  io.on("connection", (socket) => {
    const auth = socket.handshake.auth || {};
    socket.data = { node: "js", name: auth.name };
    for (const r of auth.rooms || []) socket.join(r);
  });
  io.on("ssevent", (...args) => {
    const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
    out({ ev: "server_side", args: toJson(args), ack: !!cb });
    if (cb) cb("node:" + args[0]);
  });
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  const clients = new Map();
  const tickers = new Map();

  const ops = {
    async client(c) {
      const opts = {
        auth: { name: c.name, rooms: c.rooms || [] },
        transports: c.transports || ["websocket"],
        reconnection: !!c.reconnect,
        // When reconnecting: quickly, without jitter (the tests bound it).
        reconnectionDelay: 100,
        reconnectionDelayMax: 500,
        randomizationFactor: 0,
        forceNew: true,
      };
      if (c.parser === "msgpack") opts.parser = require("socket.io-msgpack-parser");
      if (c.localAddress) {
        // The source address of every request: the polling XHRs use `agent`,
        // the WebSocket upgrade (ws) gets both `agent` and `localAddress`.
        opts.agent = new http.Agent({ localAddress: c.localAddress });
        opts.localAddress = c.localAddress;
      }
      const s = connect(c.url, opts);
      clients.set(c.name, s);
      s.io.on("open", () => {
        // The Engine.IO session is open: its first transport, then upgrades.
        out({ ev: "opened", client: c.name, transport: s.io.engine.transport.name });
        s.io.engine.on("upgrade", (t) => out({ ev: "upgraded", client: c.name, transport: t.name }));
      });
      s.on("connect", () => {
        out({ ev: "connected", client: c.name, id: s.id, transport: s.io.engine.transport.name });
        // Sent on every (re)connection: `onConnect` is [[event, ...args], ...].
        for (const [event, ...args] of c.onConnect || []) s.emit(event, ...fromJson(args));
      });
      s.on("connect_error", (e) => out({ ev: "connect_error", client: c.name, message: e.message }));
      s.on("disconnect", (reason) => out({ ev: "disconnected", client: c.name, reason }));
      s.onAny((event, ...args) => {
        const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
        out({ ev: "event", client: c.name, event, args: toJson(args), transport: s.io.engine.transport.name });
        if (cb) cb(c.name + ":" + args[0]);
      });
      return undefined;
    },
    async client_emit(c) {
      clients.get(c.client).emit(c.event, ...fromJson(c.args || []));
    },
    async client_ack(c) {
      const s = clients.get(c.client);
      const args = await s.timeout(c.timeout || 3000).emitWithAck(c.event, ...fromJson(c.args || []));
      return { args: toJson([args]), transport: s.io.engine.transport.name };
    },
    async client_close(c) {
      clients.get(c.client).disconnect();
      clients.delete(c.client);
    },
    async emit(c) {
      let op = io;
      if (c.to) op = op.to(c.to);
      if (c.except) op = op.except(c.except);
      if (c.local) op = op.local;
      if (c.volatile) op = op.volatile;
      op.emit(c.event, ...fromJson(c.args || []));
    },
    async emitWithAck(c) {
      let op = io.timeout(c.timeout || 2000);
      if (c.to) op = op.to(c.to);
      return toJson(await op.emitWithAck(c.event, ...fromJson(c.args || [])));
    },
    async fetchSockets(c) {
      const sockets = await (c.to ? io.in(c.to) : io).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data }));
    },
    async remote(c) {
      const sockets = await io.fetchSockets();
      const s = sockets.find((x) => x.id === c.id);
      if (!s) throw new Error("no socket " + c.id);
      if (c.join) s.join(c.join);
      if (c.leave) s.leave(c.leave);
      if (c.disconnect) s.disconnect(true);
      if (c.emit) s.emit(c.emit, ...fromJson(c.args || []));
    },
    // Emits `event` with 1, 2, 3, ... every `every` ms (to room `to` if
    // given) until ticker_stop; prints {ev:"tick", n} after each emit.
    async ticker(c) {
      let n = 0;
      const op = c.to ? io.to(c.to) : io;
      tickers.set(c.event, setInterval(() => {
        n += 1;
        op.emit(c.event, n);
        out({ ev: "tick", event: c.event, n });
      }, c.every || 50));
    },
    async ticker_stop(c) {
      clearInterval(tickers.get(c.event));
      tickers.delete(c.event);
    },
    async serverSideEmit(c) {
      io.serverSideEmit(c.event, ...fromJson(c.args || []));
    },
    async serverSideEmitWithAck(c) {
      return toJson(await io.serverSideEmitWithAck(c.event, ...fromJson(c.args || [])));
    },
    async uid() {
      return io.of("/").adapter.uid;
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
