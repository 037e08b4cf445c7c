// Acts as the admin UI on node A of a two-node cluster (Redis adapter)
// while the application client is on node B; prints what it saw as one
// JSON line for tests/demo_admin_ui.rs.
// Usage: node cluster.js <url A> <url B> <namespace> <user> <password> <server id of B>
"use strict";
const { io } = require("socket.io-client");

const [urlA, urlB, namespace, username, password, idB] = process.argv.slice(2);
const out = { ok: false, step: "start", events: [] };
const step = (s) => (out.step = s);
const done = (ok, error) => {
  out.ok = ok;
  if (error) out.error = String(error && error.stack ? error.stack : error);
  delete out.events;
  console.log(JSON.stringify(out));
  process.exit(ok ? 0 : 1);
};
setTimeout(() => done(false, "timed out at step " + out.step), 25000);
const wait = (pred, what) =>
  new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const found = pred();
      if (found) return resolve(found);
      if (Date.now() - t0 > 8000) return reject(new Error("no " + what));
      setTimeout(tick, 20);
    };
    tick();
  });
const event = (name, test = () => true) =>
  wait(() => out.events.find(([ev, args]) => ev === name && test(args)), name);

(async () => {
  step("application client on B");
  const app = io(urlB + "/", { forceNew: true, reconnection: false, transports: ["websocket"] });
  const received = [];
  app.onAny((ev, ...args) => received.push([ev, args]));
  await new Promise((resolve) => app.on("welcome", resolve));
  app.emit("join-room", "lobby");
  await new Promise((resolve) => app.on("room-joined", resolve));
  out.app_id = app.id;

  step("UI on A");
  const ui = io(urlA + namespace, { forceNew: true, reconnection: false, auth: { username, password } });
  ui.onAny((ev, ...args) => out.events.push([ev, args]));
  await new Promise((resolve, reject) => {
    ui.on("connect", resolve);
    ui.on("connect_error", reject);
  });
  const all = (await event("all_sockets"))[1][0];
  out.app_in_all_sockets = all.find((s) => s.id === app.id) || null;
  out.stats_of_b = (await event("server_stats", (a) => a[0].serverId === idB))[1][0];
  out.server_ids = [...new Set(out.events.filter(([ev]) => ev === "server_stats").map(([, a]) => a[0].serverId))].sort();

  step("events of B reach the UI on A");
  app.emit("join-room", "second");
  out.event_received = (await event("event_received", (a) => a[1] === app.id && a[2][1] === "second"))[1];
  out.room_joined = (await event("room_joined", (a) => a[2] === app.id && a[1] === "room:second"))[1];

  step("commands from A reach B");
  ui.emit("join", "/", "picked", app.id);
  await new Promise((r) => setTimeout(r, 300));
  ui.emit("emit", "/", "picked", "to-picked", 7);
  out.app_got = (await wait(() => received.find(([ev]) => ev === "to-picked"), "to-picked on B"))[1];
  const reason = new Promise((resolve) => app.on("disconnect", resolve));
  ui.emit("_disconnect", "/", false, app.id);
  out.app_disconnect = await reason;
  out.socket_disconnected = (await event("socket_disconnected", (a) => a[1] === out.app_id))[1];
  ui.close();
  done(true);
})().catch((e) => done(false, e));
