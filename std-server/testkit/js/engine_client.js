// Drives a real Engine.IO client against an oxio server and prints one line:
//   RESULT {"ok":true|false,"steps":[...],"error":...}
// Usage: node engine_client.js <http://host:port> <v4|v3> <polling|websocket|upgrade>
// v4 is the npm engine.io-client 6.6.x, v3 the npm engine.io-client 3.5.x.
"use strict";

const [, , url, lib, mode] = process.argv;
const steps = [];
let socket;

function finish(ok, error) {
  console.log("RESULT " + JSON.stringify({ ok, steps, error: error ? String(error) : undefined }));
  process.exit(ok ? 0 : 1);
}

setTimeout(() => finish(false, "timed out"), 15000).unref();

function makeSocket() {
  const opts = {
    path: "/engine.io/",
    transports: mode === "polling" ? ["polling"] : mode === "websocket" ? ["websocket"] : ["polling", "websocket"],
    upgrade: mode === "upgrade",
  };
  if (lib === "v3") {
    const eio = require("engine.io-client-v3");
    return eio(url, opts);
  }
  const { Socket } = require("engine.io-client");
  return new Socket(url, opts);
}

function nextMessage() {
  return new Promise((resolve) => socket.once("message", resolve));
}

function bytesOf(data) {
  if (typeof data === "string") return null;
  return Array.from(Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  socket = makeSocket();
  let closedEarly = null;
  socket.on("close", (reason) => {
    if (!closedEarly) closedEarly = reason;
  });
  socket.on("error", (e) => finish(false, "error: " + e));
  await new Promise((resolve) => socket.once("open", resolve));
  steps.push("open:" + socket.transport.name);

  if (mode === "upgrade") {
    if (socket.transport.name !== "websocket") {
      await new Promise((resolve) => socket.once("upgrade", resolve));
    }
    steps.push("upgrade:" + socket.transport.name);
  }

  let m = nextMessage();
  socket.send("hello");
  steps.push("text:" + (await m));

  m = nextMessage();
  socket.send(new Uint8Array([1, 2, 3, 4]));
  const bin = await m;
  steps.push("binary:" + JSON.stringify(bytesOf(bin)));

  const got = [];
  const three = new Promise((resolve) => {
    const on = (d) => {
      got.push(d);
      if (got.length === 3) {
        socket.off ? socket.off("message", on) : socket.removeListener("message", on);
        resolve();
      }
    };
    socket.on("message", on);
  });
  socket.send("a");
  socket.send("b");
  socket.send("c");
  await three;
  steps.push("batch:" + got.join(","));

  m = nextMessage();
  socket.send("€😀");
  steps.push("unicode:" + (await m));

  // Longer than pingInterval + pingTimeout: the heartbeat must keep it open.
  await sleep(900);
  if (closedEarly) return finish(false, "closed during heartbeat: " + closedEarly);
  steps.push("alive:" + socket.transport.name);

  socket.close();
  // Let the close packet (a POST on polling) reach the server before exiting.
  await sleep(300);
  finish(true);
}

run().catch((e) => finish(false, e && e.stack ? e.stack : e));
