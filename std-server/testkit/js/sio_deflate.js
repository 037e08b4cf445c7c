// Drives npm socket.io-client 4.8.x (Node, WebSocket only; its `ws`
// offers permessage-deflate) against an oxio server with
// per_message_deflate on (tests/sio_deflate.rs), and prints what it saw,
// one JSON object per line: the negotiated extension, then the echo of
// messages below and above the 1024-byte threshold; last {"step":"done"}.
//
// Usage: node sio_deflate.js <http://host:port>
"use strict";

const [, , url] = process.argv;

function out(step, data) {
  console.log(JSON.stringify(Object.assign({ step }, data || {})));
}

function fail(e) {
  console.log(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
  process.exit(1);
}

setTimeout(() => fail("timed out"), 20000).unref();
process.on("unhandledRejection", fail);

const { io } = require("socket.io-client");
const socket = io(url, { transports: ["websocket"], reconnection: false });
socket.on("connect_error", fail);
socket.on("connect", async () => {
  const ws = socket.io.engine.transport.ws;
  out("connect", { extensions: ws.extensions });
  for (const n of [10, 1000, 1100, 5000, 200000]) {
    const text = "é".repeat(n / 2) + "x".repeat(n - n / 2);
    const reply = await new Promise((resolve) => socket.emit("echo", text, n, (...r) => resolve(r)));
    out("echo", { n, same: reply.length === 2 && reply[0] === text && reply[1] === n });
  }
  socket.disconnect();
  out("done");
  process.exit(0);
});
