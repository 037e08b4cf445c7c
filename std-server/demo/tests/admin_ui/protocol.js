// Acts as the admin UI (socket.io-client, as the UI connects) against a
// server with the admin UI installed, plus one application client, and
// prints what it saw as one JSON line for tests/demo_admin_ui.rs.
// Usage: node protocol.js <url> <namespace> <user> <password> [full|readonly|production]
// "readonly": the UI's commands must do nothing; "production": no
// development events (all_sockets, socket_connected...) may come.
"use strict";
const { io } = require("socket.io-client");

const [url, namespace, username, password, mode = "full"] = process.argv.slice(2);
const out = { ok: false, step: "start", events: [] };
let step = (s) => (out.step = s);
const done = (ok, error) => {
  out.ok = ok;
  if (error) out.error = String(error && error.stack ? error.stack : error);
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
const opts = (auth) => ({ forceNew: true, reconnection: false, withCredentials: true, auth });

(async () => {
  step("wrong password");
  out.wrong = await new Promise((resolve) => {
    const bad = io(url + namespace, opts({ username, password: password + "x" }));
    bad.on("connect", () => resolve("connected"));
    bad.on("connect_error", (e) => resolve(e.message));
  });

  step("login");
  const ui = io(url + namespace, opts({ username, password }));
  ui.onAny((ev, ...args) => out.events.push([ev, args]));
  await new Promise((resolve, reject) => {
    ui.on("connect", resolve);
    ui.on("connect_error", reject);
  });
  out.session = (await event("session"))[1][0];
  out.config = (await event("config"))[1][0];
  out.first_stats = (await event("server_stats"))[1][0];
  if (mode !== "full") return limited(ui);
  out.all_sockets = (await event("all_sockets"))[1][0];

  step("application client");
  const app = io(url + "/", { forceNew: true, reconnection: false });
  const received = [];
  app.onAny((ev, ...args) => received.push([ev, args]));
  await new Promise((resolve) => app.on("welcome", resolve));
  out.app_id = app.id;
  out.socket_connected = (await event("socket_connected", (a) => a[0].id === app.id))[1];

  step("events and rooms");
  app.emit("join-room", "lobby");
  out.room_joined = (await event("room_joined", (a) => a[2] === app.id && a[1] === "room:lobby"))[1];
  out.event_received = (await event("event_received", (a) => a[1] === app.id))[1];
  out.event_sent = (await event("event_sent", (a) => a[1] === app.id && a[2][0] === "room-joined"))[1];

  step("join from the UI");
  ui.emit("join", "/", "picked", app.id);
  out.ui_join = (await event("room_joined", (a) => a[2] === app.id && a[1] === "picked"))[1];
  step("emit from the UI");
  ui.emit("emit", "/", app.id, "from-ui", 1, "two");
  out.app_got = await wait(() => received.find(([ev]) => ev === "from-ui"), "from-ui on the app client");
  step("leave from the UI");
  ui.emit("leave", "/", "picked", app.id);
  out.ui_leave = (await event("room_left", (a) => a[2] === app.id && a[1] === "picked"))[1];

  step("stats");
  const n = out.events.filter(([ev]) => ev === "server_stats").length;
  out.stats = (await wait(() => out.events.filter(([ev]) => ev === "server_stats")[n], "a later server_stats"))[1][0];

  step("disconnect from the UI");
  const reason = new Promise((resolve) => app.on("disconnect", resolve));
  ui.emit("_disconnect", "/", false, app.id);
  out.app_disconnect = await reason;
  out.socket_disconnected = (await event("socket_disconnected", (a) => a[1] === out.app_id))[1];
  app.close();

  step("session id");
  out.with_session = await new Promise((resolve) => {
    const again = io(url + namespace, opts({ sessionId: out.session }));
    again.on("connect", () => {
      resolve("connected");
      again.close();
    });
    again.on("connect_error", (e) => resolve(e.message));
  });
  ui.close();
  done(true);
})().catch((e) => done(false, e));

// Read-only or production: the commands change nothing, and only config
// and server_stats come.
async function limited(ui) {
  step("application client");
  const app = io(url + "/", { forceNew: true, reconnection: false });
  const received = [];
  app.onAny((ev, ...args) => received.push([ev, args]));
  await new Promise((resolve) => app.on("welcome", resolve));
  out.app_id = app.id;
  step("commands");
  ui.emit("join", "/", "picked", app.id);
  ui.emit("emit", "/", app.id, "from-ui", 1);
  ui.emit("_disconnect", "/", false, app.id);
  const n = out.events.filter(([ev]) => ev === "server_stats").length;
  await wait(() => out.events.filter(([ev]) => ev === "server_stats")[n], "a later server_stats");
  out.app_connected = app.connected;
  out.app_got = received.map(([ev]) => ev);
  out.event_names = [...new Set(out.events.map(([ev]) => ev))].sort();
  app.close();
  ui.close();
  done(true);
}
