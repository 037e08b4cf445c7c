// Many real socket.io-client 4.8.x clients sending binary events at once
// (socketio/tests/sio_concurrent_node.rs, issue 10): every packet a client
// receives is checked here, and each client reports one JSON line:
//   {"step":"client","i":<n>,"received":<events>,"bad":<count>,"first_bad":...,
//    "in_order":<bool>,"acked":<acks>,"ack_bad":<count>,"disconnect":<reason|null>}
// then {"step":"done"}; a failure is {"error":"..."}.
//
// Usage: node sio_concurrent.js <http://host:port> <scenario> <clients> <count>
// Scenarios:
//   files  every client emits <count> `file` events (name "<i>/<seq>", a
//          Buffer that encodes i and seq) with an ack; the server
//          broadcasts each to every other socket and acks {ok, size}.
//   acks   every client emits <count> `echo-bin` events (seq, Buffer) with
//          an ack; the server answers each with (seq, the same Buffer).
// Clients send round-robin (seq 0 of every client, then seq 1, ...) so
// the server handles every connection's events at the same time.
"use strict";

const [, , url, scenario, clientsArg, countArg] = process.argv;
const CLIENTS = Number(clientsArg);
const COUNT = Number(countArg);

function out(step, data) {
  console.log(JSON.stringify(Object.assign({ step }, data || {})));
}

function fail(e) {
  console.log(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
  process.exit(1);
}

setTimeout(() => fail("timed out in scenario " + scenario), 20000).unref();
process.on("unhandledRejection", fail);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const once = (emitter, ev) => new Promise((resolve) => emitter.once(ev, (...args) => resolve(args)));

/** The bytes client `i` sends as event `seq`: i and seq (u16 BE), then a
 * filler of 0..199 bytes that differs per (i, seq). */
function payload(i, seq) {
  const len = 4 + ((i * 37 + seq * 11) % 200);
  const b = Buffer.alloc(len);
  b.writeUInt16BE(i, 0);
  b.writeUInt16BE(seq, 2);
  for (let k = 4; k < len; k++) b[k] = (i * 31 + seq * 7 + k) & 255;
  return b;
}

function toBuffer(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

function describe(v) {
  const b = toBuffer(v);
  return b ? { bin: Array.from(b.subarray(0, 16)), len: b.length } : v;
}

async function main() {
  const { io } = require("socket.io-client");
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    const c = {
      i,
      socket,
      received: 0,
      bad: 0,
      firstBad: null,
      next: new Array(CLIENTS).fill(0), // next seq expected from each sender
      inOrder: true,
      acked: 0,
      ackBad: 0,
      disconnect: null,
    };
    const bad = (what) => {
      c.bad += 1;
      if (c.firstBad === null) c.firstBad = what;
    };
    socket.on("file", (name, data) => {
      const m = /^(\d+)\/(\d+)$/.exec(name);
      const buf = toBuffer(data);
      if (!m || !buf) return bad({ name, data: describe(data) });
      const [from, seq] = [Number(m[1]), Number(m[2])];
      if (from === i || from >= CLIENTS || !buf.equals(payload(from, seq))) {
        return bad({ name, data: describe(data) });
      }
      if (seq !== c.next[from]) c.inOrder = false;
      c.next[from] = seq + 1;
      c.received += 1;
    });
    socket.on("disconnect", (reason) => {
      c.disconnect = reason;
    });
    socket.on("connect_error", (e) => fail("connect_error: " + e.message));
    clients.push(c);
  }
  await Promise.all(clients.map((c) => once(c.socket, "connect")));

  let wantReceived = 0;
  for (let seq = 0; seq < COUNT; seq++) {
    for (const c of clients) {
      const sent = payload(c.i, seq);
      if (scenario === "files") {
        c.socket.emit("file", `${c.i}/${seq}`, sent, (r) => {
          if (r && r.ok === true && r.size === sent.length) c.acked += 1;
          else c.ackBad += 1;
        });
      } else if (scenario === "acks") {
        c.socket.emit("echo-bin", seq, sent, (s, data) => {
          const buf = toBuffer(data);
          if (s === seq && buf && buf.equals(sent)) c.acked += 1;
          else c.ackBad += 1;
        });
      } else {
        fail("unknown scenario " + scenario);
      }
    }
  }
  if (scenario === "files") wantReceived = (CLIENTS - 1) * COUNT;

  // Wait until everything arrived, something went wrong, or 15 s passed.
  const deadline = Date.now() + 15000;
  const finished = (c) => c.received >= wantReceived && c.acked + c.ackBad >= COUNT;
  while (Date.now() < deadline) {
    if (clients.every(finished)) break;
    if (clients.some((c) => c.disconnect !== null)) break;
    await sleep(20);
  }
  await sleep(100); // anything extra (duplicates) would show now
  for (const c of clients) {
    out("client", {
      i: c.i,
      received: c.received,
      bad: c.bad,
      first_bad: c.firstBad,
      in_order: c.inOrder,
      acked: c.acked,
      ack_bad: c.ackBad,
      disconnect: c.disconnect,
    });
  }
  for (const c of clients) c.socket.disconnect();
  await sleep(100);
}

main()
  .then(() => {
    out("done");
    process.exit(0);
  })
  .catch(fail);
