// Drives the real npm Socket.IO clients against an oxio server
// (tests/sio_interop_node.rs) and prints what they observed, one JSON
// object per line: {"step":"<name>",...}; the last line is {"step":"done"},
// a failure is {"error":"..."}. Binary values are printed as {"bin":[bytes]}.
//
// Usage: node sio_client.js <http://host:port> <scenario> [websocket|polling|upgrade] [json|msgpack]
// (msgpack: socket.io-client 4.8.x with socket.io-msgpack-parser 3.x, for
// tests/sio_interop_msgpack.rs)
// Scenarios: basic, namespaces, rooms, reconnect, burst, compression (socket.io-client 4.8.x),
//            v2 (socket.io-client 2.5.0, Engine.IO v3).
"use strict";

const [, , url, scenario, mode = "websocket", parserName = "json"] = process.argv;

function out(step, data) {
  console.log(JSON.stringify(Object.assign({ step }, data || {})));
}

function fail(e) {
  console.log(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
  process.exit(1);
}

setTimeout(() => fail("timed out in scenario " + scenario), 20000).unref();
process.on("unhandledRejection", fail);

/** JSON-friendly view of received values: bytes become {"bin":[...]}. */
function show(v) {
  if (v === undefined) return "<undefined>";
  if (Buffer.isBuffer(v)) return { bin: Array.from(v) };
  if (v instanceof ArrayBuffer) return { bin: Array.from(new Uint8Array(v)) };
  if (ArrayBuffer.isView(v)) return { bin: Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (Array.isArray(v)) return v.map(show);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = show(v[k]);
    return o;
  }
  return v;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const once = (emitter, ev) => new Promise((resolve) => emitter.once(ev, (...args) => resolve(args)));

function transports() {
  if (mode === "polling") return ["polling"];
  if (mode === "websocket") return ["websocket"];
  return ["polling", "websocket"];
}

/** emit with a callback; resolves with every ack argument. */
function ask(socket, ev, ...args) {
  return new Promise((resolve) => socket.emit(ev, ...args, (...reply) => resolve(reply)));
}

/** socket.io-client 4.8.x; with the msgpack parser when asked for. */
function v4() {
  const client = require("socket.io-client");
  if (parserName !== "msgpack") return client;
  const parser = require("socket.io-msgpack-parser");
  const withParser = (opts) => Object.assign({ parser }, opts);
  class Manager extends client.Manager {
    constructor(uri, opts) {
      super(uri, withParser(opts));
    }
  }
  const io = (uri, opts) => client.io(uri, withParser(opts));
  return Object.assign({}, client, { io, Manager });
}

async function basic() {
  const { io } = v4();
  const socket = io(url, {
    transports: transports(),
    upgrade: mode === "upgrade",
    auth: { token: "abc" },
    reconnection: false,
    forceNew: true,
  });
  const hello = once(socket, "hello");
  socket.on("question", (n, cb) => cb(n + 1));
  socket.on("ignored", () => {}); // never acks: the server's timeout fires
  socket.on("bin-question", (bytes, cb) => cb(Buffer.from(Array.from(bytes).reverse())));
  const binBack = once(socket, "bin-back");
  socket.on("connect_error", (e) => fail("connect_error: " + e.message));
  await once(socket, "connect");
  out("connect", { transport: socket.io.engine.transport.name, id_len: socket.id.length });
  const [id, auth] = await hello;
  out("hello", { id_matches: id === socket.id, auth });
  if (mode === "upgrade") {
    if (socket.io.engine.transport.name !== "websocket") await once(socket.io.engine, "upgrade");
    out("upgrade", { transport: socket.io.engine.transport.name });
  }

  // client → server with a callback: every argument comes back.
  out("echo", { args: show(await ask(socket, "echo", 1, "2", { 3: [true] }, null, [1.5, -2], "é😀")) });
  out("echo-none", { args: show(await ask(socket, "echo")) });
  // server → client emit_with_ack, answered by the client's callback.
  out("ask", { args: show(await ask(socket, "ask", 41)) });
  // server → client emit_with_ack that is never answered: the server's timeout.
  out("ask-timeout", { args: show(await ask(socket, "ask-timeout")) });
  // client-side timeout on an event the server does not ack.
  const err = await new Promise((resolve) => socket.timeout(150).emit("unhandled", 1, (e) => resolve(e)));
  out("client-timeout", { message: err && err.message });

  // binary both ways: Buffers nested in objects, several attachments.
  const reply = await ask(
    socket,
    "bin",
    { id: 7, file: Buffer.from([1, 2, 3]), parts: [Buffer.from([4]), Buffer.from([5, 6])] },
    Buffer.from([9])
  );
  out("bin-ack", { args: show(reply) });
  out("bin-back", { args: show(await binBack) });
  // binary in a server → client ack request and in the client's answer.
  out("ask-bin", { args: show(await ask(socket, "ask-bin")) });

  const disconnected = once(socket, "disconnect");
  socket.disconnect();
  out("disconnect", { reason: (await disconnected)[0] });
  await sleep(100); // let the DISCONNECT (a POST on polling) reach the server
}

async function namespaces() {
  const { io, Manager } = v4();
  const manager = new Manager(url, { transports: transports(), reconnection: false });
  const root = manager.socket("/", { auth: { token: "abc" } });
  const admin = manager.socket("/admin", { auth: { token: "secret" } });
  const adminHello = once(admin, "hello");
  root.connect();
  admin.connect();
  await Promise.all([once(root, "connect"), once(admin, "connect")]);
  out("connected", {
    multiplexed: root.io.engine === admin.io.engine,
    distinct_ids: root.id !== admin.id,
  });
  out("admin-hello", { args: show(await adminHello) });
  out("admin-echo", { args: show(await ask(admin, "echo", "a", 1)) });

  // Middleware refusal: connect_error with the message and the data.
  const bad = io(url + "/admin", { transports: transports(), forceNew: true, reconnection: false, auth: { token: "wrong" } });
  const [e] = await once(bad, "connect_error");
  out("admin-refused", { message: e.message, data: e.data, active: bad.active });
  bad.close();

  // Unknown namespace.
  const nope = manager.socket("/nope");
  nope.connect();
  const [e2] = await once(nope, "connect_error");
  out("nope-refused", { message: e2.message, data: e2.data === undefined ? "<undefined>" : e2.data });

  // Server-side disconnect of `/`: the client does not reconnect, /admin stays.
  const gone = once(root, "disconnect");
  root.emit("kick");
  out("kicked", { reason: (await gone)[0], active: root.active });
  out("admin-still", { connected: admin.connected, args: show(await ask(admin, "echo", "still")) });
  manager.engine.close();
  await sleep(100);
}

async function rooms() {
  const { io } = v4();
  const mk = () => io(url, { transports: transports(), forceNew: true, reconnection: false });
  const clients = { A: mk(), B: mk(), C: mk() };
  const got = { A: [], B: [], C: [] };
  for (const [name, s] of Object.entries(clients)) {
    for (const ev of ["room-msg", "bc", "except-msg", "many"]) {
      s.on(ev, (...args) => got[name].push([ev, ...args]));
    }
  }
  await Promise.all(Object.values(clients).map((s) => once(s, "connect")));
  const { A, B, C } = clients;
  await ask(A, "join", ["r"]);
  await ask(B, "join", ["r", "x"]);
  await ask(C, "join", ["x"]);
  await ask(A, "to-room", "r", "m1"); // socket.to("r"): B (A is excluded)
  await ask(A, "broadcast", "m2"); // socket.broadcast: B, C
  await ask(B, "except", "r", "m3"); // socket.except("r"): C (B excluded, A in r)
  await ask(A, "io-except", "x", "m4"); // io.except("x"): A only
  await ask(A, "to-many", ["r", "x"], "m5"); // io.to(["r","x"]): A, B, C once each
  await sleep(200);
  out("received", got);
  for (const s of Object.values(clients)) s.disconnect();
  await sleep(100);
}

async function reconnect() {
  const { io } = v4();
  const socket = io(url, {
    transports: transports(),
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
  });
  let connects = 0;
  socket.on("connect", async () => {
    connects += 1;
    out("connect", { n: connects, transport: socket.io.engine.transport.name });
    if (connects === 1) {
      out("ack", { args: show(await ask(socket, "echo", "first")) });
    } else {
      out("ack", { args: show(await ask(socket, "echo", "second")) });
      socket.disconnect();
      await sleep(100);
      out("done");
      process.exit(0);
    }
  });
  socket.on("disconnect", (reason) => {
    out("disconnect", { reason, active: socket.active });
    // Buffered while disconnected, sent once reconnected.
    if (reason !== "io client disconnect") socket.emit("buffered", "while-down");
  });
  socket.io.on("reconnect_attempt", (n) => {
    if (n === 1) out("reconnecting");
  });
  await new Promise(() => {}); // ends through process.exit above
}

/** 1000 emits with acks in one tick: over polling they share POSTs, and
 * their acks queue on the server until the next GET. */
async function burst() {
  const { io } = v4();
  const socket = io(url, { transports: transports(), forceNew: true, reconnection: false });
  await once(socket, "connect");
  let closed = null;
  socket.on("disconnect", (reason) => (closed = reason));
  const acks = [];
  for (let i = 0; i < 1000; i++) acks.push(ask(socket, "echo", i));
  const all = await Promise.race([Promise.all(acks), sleep(10000).then(() => null)]);
  out("burst", {
    acked: all ? all.length : 0,
    in_order: !!all && all.every((a, i) => a.length === 1 && a[0] === i),
    closed,
  });
  socket.disconnect();
  await sleep(100);
}

async function v2() {
  const io2 = require("socket.io-client-v2");
  const opts = { transports: transports(), upgrade: mode === "upgrade", forceNew: true, reconnection: false };
  const root = io2(url, Object.assign({ query: { token: "q" } }, opts));
  const rootHello = once(root, "hello");
  root.on("question", (n, cb) => cb(n + 1));
  root.on("bin-question", (bytes, cb) => cb(Buffer.from(Array.from(bytes).reverse())));
  const binBack = once(root, "bin-back");
  root.on("error", (e) => fail("error: " + e));
  await once(root, "connect");
  const [id, auth] = await rootHello;
  out("connect", { id_is_engine_id: root.id === root.io.engine.id, hello_id_matches: id === root.id, auth });
  if (mode === "upgrade") {
    if (root.io.engine.transport.name !== "websocket") await once(root.io.engine, "upgrade");
    out("upgrade", { transport: root.io.engine.transport.name });
  }

  const custom = root.io.socket("/custom", { query: "token=v2" });
  const customHello = once(custom, "hello");
  const [cid, cauth] = await customHello;
  out("custom", { id: custom.id === "/custom#" + root.io.engine.id, hello_id_matches: cid === custom.id, auth: cauth });

  out("echo", { args: show(await ask(root, "echo", 1, "2", { 3: [true] })) });
  out("custom-echo", { args: show(await ask(custom, "echo", "c")) });
  out("ask", { args: show(await ask(root, "ask", 41)) });
  const reply = await ask(
    root,
    "bin",
    { id: 7, file: Buffer.from([1, 2, 3]), parts: [Buffer.from([4]), Buffer.from([5, 6])] },
    Buffer.from([9])
  );
  out("bin-ack", { args: show(reply) });
  out("bin-back", { args: show(await binBack) });
  out("ask-bin", { args: show(await ask(root, "ask-bin")) });

  const nope = root.io.socket("/nope");
  const [err] = await once(nope, "error");
  out("nope-refused", { err: show(err) });

  const gone = once(custom, "disconnect");
  custom.emit("kick");
  out("kicked", { reason: (await gone)[0] });
  const down = once(root, "disconnect");
  root.close();
  out("disconnect", { reason: (await down)[0] });
  await sleep(100);
}

// HTTP compression (issue 13): socket.io-client on its fetch() polling
// transport (Node's fetch sends `Accept-Encoding: gzip, deflate` and
// inflates; the default XHR transport of Node sends none) echoes a
// 5000-character string; every GET answer's Content-Encoding and Content-Length (the
// bytes on the wire) is recorded from the responses fetch() returned.
async function compression() {
  const { io } = v4();
  const { Fetch } = require("engine.io-client"); // the one socket.io-client uses
  const gets = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    if (init && init.method === "GET") {
      gets.push({
        encoding: res.headers.get("content-encoding") || "identity",
        length: Number(res.headers.get("content-length")),
      });
    }
    return res;
  };
  const socket = io(url, { transports: [Fetch], reconnection: false, forceNew: true, auth: { token: "abc" } });
  socket.on("connect_error", (e) => fail("connect_error: " + e.message));
  await once(socket, "connect");
  const big = "é".repeat(1000) + "x".repeat(4000);
  const [back] = await ask(socket, "echo", big);
  out("compression", {
    same: back === big,
    transport: socket.io.engine.transport.name,
    encodings: [...new Set(gets.map((g) => g.encoding))].sort(),
    gets,
  });
  socket.close();
  await sleep(100);
}

const scenarios = { basic, namespaces, rooms, reconnect, burst, v2, compression };
if (!scenarios[scenario]) fail("unknown scenario " + scenario);
scenarios[scenario]()
  .then(() => {
    out("done");
    process.exit(0);
  })
  .catch(fail);
