/*
 * The oxio demo page: plain JavaScript on the official Socket.IO client
 * (window.io, from /socket.io/socket.io.min.js, or the official CDN when the
 * npm package is not installed).
 *
 * Stable element ids (tests rely on them; keep them):
 *   #status              connection state; its data-state attribute is one of
 *                        connecting | connected | disconnected | error | client-missing
 *   #socket-id           the socket id on "/" while connected
 *   #welcome             the text of the server's `welcome` event
 *   #error               the last `error` event's message (e.g. "Rate limit exceeded")
 *   #messages            the chat log: one <li> per entry; class "mine" (sent
 *                        here), "chat" (from others), "system", "room", "update", "file"
 *   #chat-form #chat-input #chat-send                       chat to everyone
 *   #room-form #room-input #room-join #room-leave           join / leave a room
 *   #rooms               joined rooms, one <li data-room="name"> each
 *   #room-message-form #room-message-input #room-send       message the room in #room-input
 *   #echo-form #echo-input #echo-send #echo-output          `echo` / `echo-response` (JSON of the args)
 *   #time-button #time-output                              `get-time` (the ISO string)
 *   #file-form #file-input #file-send #file-output          `file` (shows the ack)
 *   #login-form #login-username #login-password #login-submit #login-status
 *   #admin-status        "admin: <user>" once /admin says hello, or why it refused
 *   #admin-stats-button #admin-stats                       `stats` on /admin (shows "connected: N")
 *   #update-form #update-input #update-send                 POST /api/update (needs login)
 *   #devices-empty       shown when no device is connected
 *   #devices-body        one <tr data-device="name"> per device, with cells
 *                        .device-name .device-temp .device-uptime .device-ack and
 *                        a button.led-toggle[data-device] that POSTs
 *                        /api/devices/<name>/led (first click: {"on":true}) and
 *                        writes the device's ack (JSON) or the error into .device-ack
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const state = { token: null, user: null, admin: null, rooms: new Set(), leds: new Map() };

  function setStatus(s, text) {
    const el = $("status");
    el.dataset.state = s;
    el.textContent = text || s;
  }

  function addMessage(kind, text) {
    const list = $("messages");
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    return li;
  }

  function show(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  if (typeof window.io !== "function") {
    setStatus("client-missing", "Socket.IO client missing");
    $("error").textContent =
      "The Socket.IO client did not load (no local copy, and the CDN is out of reach?): install it with `npm ci --prefix std-server/demo/web`, restart the server and reload this page.";
    return;
  }

  const socket = window.io();

  // ---- connection ----
  socket.on("connect", () => {
    setStatus("connected");
    $("socket-id").textContent = socket.id;
    state.rooms.clear();
    renderRooms();
    socket.emit("watch-devices", (devices) => renderDevices(devices));
  });
  socket.on("disconnect", (reason) => {
    setStatus("disconnected", "disconnected (" + reason + ")");
    $("socket-id").textContent = "";
  });
  socket.on("connect_error", (err) => setStatus("error", "cannot connect: " + err.message));
  socket.on("welcome", (text) => {
    $("welcome").textContent = show(text);
  });
  socket.on("error", (err) => {
    $("error").textContent = err && err.message ? err.message : show(err);
  });

  // ---- chat ----
  socket.on("chat:message", (msg) => addMessage("chat", msg.from + ": " + show(msg.text)));
  socket.on("system", (text) => addMessage("system", show(text)));
  socket.on("dataUpdated", (data) => addMessage("update", "dataUpdated " + show(data)));
  socket.on("profileUpdated", (data) => addMessage("update", "profileUpdated " + show(data)));

  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("chat-input");
    const text = input.value;
    if (!text) return;
    const li = addMessage("mine", "me: " + text);
    socket.emit("chat:message", text, (ack) => {
      if (!ack || !ack.ok) li.textContent += " (not sent: " + (ack && ack.error) + ")";
    });
    input.value = "";
  });

  // ---- rooms ----
  function renderRooms() {
    const list = $("rooms");
    list.replaceChildren();
    for (const room of state.rooms) {
      const li = document.createElement("li");
      li.dataset.room = room;
      li.textContent = room;
      list.appendChild(li);
    }
  }

  socket.on("room-joined", (room) => {
    state.rooms.add(room);
    renderRooms();
  });
  socket.on("room-message-received", (msg) =>
    addMessage("room", "[room] " + msg.from + ": " + show(msg.message))
  );

  $("room-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const room = $("room-input").value.trim();
    if (room) socket.emit("join-room", room);
  });
  $("room-leave").addEventListener("click", () => {
    const room = $("room-input").value.trim();
    if (!room) return;
    socket.emit("leave-room", room);
    state.rooms.delete(room);
    renderRooms();
  });
  $("room-message-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const room = $("room-input").value.trim();
    const input = $("room-message-input");
    if (!room || !input.value) return;
    socket.emit("room-message", { room, message: input.value });
    addMessage("mine", "[" + room + "] me: " + input.value);
    input.value = "";
  });

  // ---- tools ----
  socket.on("echo-response", (...args) => {
    $("echo-output").textContent = JSON.stringify(args);
  });
  $("echo-form").addEventListener("submit", (e) => {
    e.preventDefault();
    socket.emit("echo", $("echo-input").value);
  });

  socket.on("current-time", (iso) => {
    $("time-output").textContent = iso;
  });
  $("time-button").addEventListener("click", () => socket.emit("get-time"));

  socket.on("file", (name, data) => {
    const size = data && data.byteLength !== undefined ? data.byteLength : 0;
    const li = addMessage("file", "file " + name + " (" + size + " bytes) ");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([data]));
    a.download = name;
    a.textContent = "download";
    li.appendChild(a);
  });
  $("file-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("file-input").files[0];
    if (!file) return;
    const data = await file.arrayBuffer();
    socket.emit("file", file.name, data, (ack) => {
      $("file-output").textContent = JSON.stringify(ack);
    });
  });

  // ---- login, REST and /admin ----
  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const res = await fetch(path, { method, headers, body: JSON.stringify(body) });
    let json = null;
    try {
      json = await res.json();
    } catch (_) {
      json = null;
    }
    return { status: res.status, json };
  }

  function connectAdmin() {
    if (state.admin) state.admin.disconnect();
    const admin = window.io("/admin", { auth: { token: state.token } });
    state.admin = admin;
    admin.on("hello", (msg) => {
      $("admin-status").textContent = "admin: " + msg.user;
      $("admin-stats-button").disabled = false;
    });
    admin.on("connect_error", (err) => {
      $("admin-status").textContent = "admin refused: " + err.message;
      $("admin-stats-button").disabled = true;
    });
    admin.on("disconnect", () => {
      $("admin-stats-button").disabled = true;
    });
  }

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const username = $("login-username").value;
    const password = $("login-password").value;
    try {
      const { status, json } = await api("POST", "/api/login", { username, password });
      if (status !== 200 || !json || !json.token) {
        $("login-status").textContent = "login failed: " + (json && json.error ? json.error : status);
        return;
      }
      state.token = json.token;
      state.user = username;
      $("login-status").textContent = "logged in as " + username;
      $("update-send").disabled = false;
      connectAdmin();
    } catch (err) {
      $("login-status").textContent = "login failed: " + err.message;
    }
  });

  $("admin-stats-button").addEventListener("click", () => {
    if (!state.admin) return;
    state.admin.emit("stats", (stats) => {
      $("admin-stats").textContent = "connected: " + stats.connected;
    });
  });

  $("update-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { status, json } = await api("POST", "/api/update", { text: $("update-input").value });
    if (status !== 200) $("error").textContent = "update failed: " + (json && json.error ? json.error : status);
  });

  // ---- devices ----
  function deviceRow(name) {
    const body = $("devices-body");
    for (const tr of body.children) {
      if (tr.dataset.device === name) return tr;
    }
    const tr = document.createElement("tr");
    tr.dataset.device = name;
    for (const cls of ["device-name", "device-temp", "device-uptime", "device-led", "device-ack"]) {
      const td = document.createElement("td");
      td.className = cls;
      tr.appendChild(td);
    }
    tr.querySelector(".device-name").textContent = name;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "led-toggle";
    button.dataset.device = name;
    button.textContent = "LED on";
    button.addEventListener("click", () => toggleLed(name, button, tr.querySelector(".device-ack")));
    tr.querySelector(".device-led").appendChild(button);
    body.appendChild(tr);
    return tr;
  }

  function updateDevice(d) {
    if (!d.connected) {
      const tr = [...$("devices-body").children].find((r) => r.dataset.device === d.device);
      if (tr) tr.remove();
    } else {
      const tr = deviceRow(d.device);
      tr.querySelector(".device-temp").textContent = d.temp_c == null ? "–" : d.temp_c.toFixed(1) + " °C";
      tr.querySelector(".device-uptime").textContent =
        d.uptime_ms == null ? "–" : Math.round(d.uptime_ms / 1000) + " s";
    }
    $("devices-empty").hidden = $("devices-body").children.length > 0;
  }

  function renderDevices(devices) {
    $("devices-body").replaceChildren();
    (devices || []).forEach(updateDevice);
    $("devices-empty").hidden = $("devices-body").children.length > 0;
  }

  async function toggleLed(name, button, out) {
    if (!state.token) {
      out.textContent = "log in first";
      return;
    }
    const on = !state.leds.get(name);
    button.disabled = true;
    out.textContent = "…";
    try {
      const { status, json } = await api("POST", "/api/devices/" + encodeURIComponent(name) + "/led", { on });
      if (status === 200) {
        state.leds.set(name, on);
        button.textContent = on ? "LED off" : "LED on";
        out.textContent = JSON.stringify(json);
      } else {
        out.textContent = "error " + status + ": " + (json && json.error ? json.error : "");
      }
    } catch (err) {
      out.textContent = "error: " + err.message;
    } finally {
      button.disabled = false;
    }
  }

  socket.on("device-update", updateDevice);
})();
