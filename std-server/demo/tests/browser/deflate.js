// permessage-deflate in headless Debian Chromium (playwright-core) for
// tests/demo_browser.rs: opens the demo page of a server started with
// --per-message-deflate, connects a WebSocket-only Socket.IO client with the
// page's socket.io.min.js, and echoes ("echo" -> "echo-response") texts
// below and above the 1024-byte threshold.
//
//   node deflate.js <base-url>
//
// Prints one JSON line {"ok":true,"extensions":...,"echoes":[{n,same}]}
// and exits 0; on failure {"ok":false,"error":...} and exits 1.
// Chromium: $OXIO_CHROMIUM, else /usr/bin/chromium.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const [base] = process.argv.slice(2);
const executablePath = process.env.OXIO_CHROMIUM || "/usr/bin/chromium";
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

setTimeout(() => {
  print({ ok: false, error: "watchdog: no result after 30 s" });
  process.exit(3);
}, 30000).unref();

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "oxio-chromium-"));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: 20000,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    const res = await page.goto(base + "/");
    if (!res || res.status() !== 200) throw new Error(`GET /: ${res && res.status()}`);
    const result = await page.evaluate(async () => {
      // `io` comes from the page's socket.io.min.js.
      const socket = io({ transports: ["websocket"], reconnection: false });
      await new Promise((resolve, reject) => {
        socket.on("connect", resolve);
        socket.on("connect_error", reject);
      });
      const extensions = socket.io.engine.transport.ws.extensions;
      const echoes = [];
      for (const n of [10, 1000, 1100, 5000, 100000]) {
        const text = "é".repeat(n / 2) + "z".repeat(n / 2);
        const back = await new Promise((resolve) => {
          socket.once("echo-response", (...args) => resolve(args));
          socket.emit("echo", text);
        });
        echoes.push({ n, same: back.length === 1 && back[0] === text });
      }
      socket.disconnect();
      return { extensions, echoes };
    });
    print({ ok: true, ...result });
  } finally {
    if (context) await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    print({ ok: false, error: String(e && e.stack ? e.stack : e) });
    process.exit(1);
  }
);
