// Connection state recovery with the real npm socket.io-client 4.8
// (socketio/tests/recovery_node.rs), run against oxio and against Node's
// server (csr_server.js), which must give the same lines.
//
// Usage: node csr_client.js <http://host:port> <scenario> [wait ms] [json|msgpack]
// Scenarios:
//   server-close  the server closes the transport (socket.conn.close())
//   client-close  the client closes its engine (socket.io.engine.close())
//   expired       server-close, then the client stays away <wait ms>
//   no-offset     server-close before the client received any event
// While the client is away the control client sends, in this order:
//   to r1 e(1); to <id> e(2); on the kept socket object e(3); to all e(4);
//   to r9 e("not mine"); volatile to <id> v(5); with ack to <id> ask;
//   binary to r1 b(<01 02 03>).
// Output lines (JSON): {"step":"first", ...}, {"step":"back", recovered,
// same_id, events: [[name, ...args without the offset]], offsets_ok,
// rooms, data}, then {"step":"done"}; a failure is {"error":"..."}.
"use strict";

const [, , url, scenario, waitArg] = process.argv;
const WAIT = Number(waitArg || 0);
const PARSER = process.argv[5] === "msgpack" ? { parser: require("socket.io-msgpack-parser") } : {};

function out(step, data) {
  console.log(JSON.stringify(Object.assign({ step }, data || {})));
}
function fail(e) {
  console.log(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
  process.exit(1);
}
setTimeout(() => fail("timed out in scenario " + scenario), 15000).unref();
process.on("unhandledRejection", fail);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const once = (emitter, ev) => new Promise((resolve) => emitter.once(ev, (...args) => resolve(args)));

function show(v) {
  if (Buffer.isBuffer(v)) return { bin: Array.from(v) };
  if (v instanceof ArrayBuffer) return { bin: Array.from(new Uint8Array(v)) };
  return v;
}

async function main() {
  const { io } = require("socket.io-client");
  const opts = Object.assign({ forceNew: true, transports: ["websocket"], reconnection: false }, PARSER);
  const control = io(url, opts);
  await once(control, "connect");
  const ctl = (ev, arg) => control.timeout(2000).emitWithAck(ev, arg);

  const client = io(url, Object.assign({}, opts, { auth: { rooms: ["r1"], user: "ada" } }));
  const events = [];
  client.onAny((ev, ...args) => events.push([ev, ...args]));
  await once(client, "connect");
  const firstId = client.id;
  if (scenario !== "no-offset") {
    await ctl("send", { to: "r1", ev: "e", args: [0] });
    while (events.length < 1) await sleep(5);
  }
  const before = await client.timeout(2000).emitWithAck("whoami");
  out("first", { events: events.length, rooms: before.rooms.length, recovered: client.recovered });

  const gone = once(client, "disconnect");
  if (scenario === "client-close") client.io.engine.close();
  else await ctl("kill", firstId);
  const [reason] = await gone;
  await sleep(50);

  events.length = 0;
  await ctl("send", { to: "r1", ev: "e", args: [1] });
  await ctl("send", { to: firstId, ev: "e", args: [2] });
  await ctl("sendSocket", { sid: firstId, ev: "e", args: [3] });
  await ctl("send", { to: [], ev: "e", args: [4] });
  await ctl("send", { to: "r9", ev: "e", args: ["not mine"] });
  await ctl("volatile", { to: firstId, ev: "v", args: [5] });
  await ctl("ask", { to: firstId, ev: "ask" });
  await ctl("sendBin", { to: "r1", ev: "b" });
  if (WAIT) await sleep(WAIT);

  client.connect();
  await once(client, "connect");
  await sleep(100);
  const me = await client.timeout(2000).emitWithAck("whoami");
  const received = events.slice();
  const offsets = received.map((e) => e[e.length - 1]);
  out("back", {
    reason,
    recovered: client.recovered,
    same_id: client.id === firstId,
    server_recovered: me.recovered,
    events: received.map((e) => e.slice(0, -1).map(show)),
    offsets_ok: offsets.every((o) => typeof o === "string") && new Set(offsets).size === offsets.length,
    rooms: me.rooms.map((r) => (r === client.id ? "<id>" : r)).sort(),
    data: me.data,
  });
  client.close();
  control.close();
  out("done");
  process.exit(0);
}

main().catch(fail);
