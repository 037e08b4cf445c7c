// Drives the official admin UI (@socket.io/admin-ui ui/dist, served by the
// server under test at /admin-ui/) in headless Debian Chromium, for
// tests/demo_admin_ui.rs; the same run against oxio's demo and Node's
// instrument() must show the same views.
//
//   node ui.js <server-url> <namespace> <user> <password> <shot-dir>
//
// Two application clients (socket.io-client, namespace "/") connect first;
// A joins "room:lobby" ("join-room"). The UI then: logs in with a wrong
// password (refused), then the right one; shows the namespaces, the server
// (Servers page), the sockets and rooms; joins B to room "picked" from B's
// details page; disconnects A from A's details page. Prints one JSON line;
// on failure {"ok":false,...} with screenshots in <shot-dir>.
// Chromium: $OXIO_CHROMIUM, else /usr/bin/chromium. Requests to other
// hosts (the UI's web fonts) are refused: the test machine is offline.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");
const { io } = require("socket.io-client");

const STEP_MS = 8000;
const [base, namespace, username, password, shotDir] = process.argv.slice(2);
if (!shotDir) {
  console.error("usage: node ui.js <server-url> <namespace> <user> <password> <shot-dir>");
  process.exit(64);
}
const result = { ok: false, step: "start", page_errors: [] };
let browser = null;
let page = null;
const clients = [];

const print = (o) => process.stdout.write(JSON.stringify(o) + "\n");
setTimeout(() => {
  print({ ...result, ok: false, error: `watchdog at step ${result.step}` });
  process.exit(3);
}, 60000);

function connectApp() {
  return new Promise((resolve, reject) => {
    const s = io(base + "/", { forceNew: true, reconnection: false });
    clients.push(s);
    s.on("welcome", () => resolve(s));
    s.on("connect_error", reject);
  });
}

// The text of each row of the first table under the card titled `title`
// (or of the page's first table when no title is given).
function rows(scope) {
  return scope.locator("tbody tr").filter({ visible: true }).allInnerTexts();
}

async function nav(name) {
  await page.locator("nav").getByText(name, { exact: true }).click();
}

async function main() {
  result.step = "application clients";
  const a = await connectApp();
  const b = await connectApp();
  a.emit("join-room", "lobby");
  await new Promise((resolve) => a.on("room-joined", resolve));
  result.ids = { a: a.id, b: b.id };
  const aDisconnect = new Promise((resolve) => a.on("disconnect", resolve));

  result.step = "launch";
  browser = await chromium.launch({
    executablePath: process.env.OXIO_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => result.page_errors.push(e.message));
  const host = new URL(base).host;
  await page.route((url) => url.host !== host, (r) => r.abort());
  let refusals = 0;
  page.on("websocket", (ws) =>
    ws.on("framereceived", (f) => {
      if (String(f.payload).includes("invalid credentials")) refusals++;
    })
  );
  page.on("response", async (res) => {
    if (!res.url().includes("/socket.io/")) return;
    const body = await res.text().catch(() => "");
    if (body.includes("invalid credentials")) refusals++;
  });
  await page.addInitScript(
    ([url, nsp]) => {
      if (!sessionStorage.getItem("oxio-init")) {
        sessionStorage.setItem("oxio-init", "1");
        localStorage.clear();
        localStorage.setItem("server_url", url);
        localStorage.setItem("namespace", nsp);
      }
    },
    [base, namespace]
  );

  result.step = "open the UI";
  const res = await page.goto(base + "/admin-ui/");
  result.index_status = res && res.status();
  await page.getByLabel("Username").waitFor();

  result.step = "wrong password";
  // The UI tries once on load (no credentials); wait for that refusal.
  await page.getByText("Invalid credentials").waitFor();
  const before = refusals;
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password + "-wrong");
  await page.getByRole("button", { name: "Connect" }).click();
  const t0 = Date.now();
  while (refusals === before && Date.now() - t0 < STEP_MS) await page.waitForTimeout(50);
  result.wrong_password_refused = refusals > before;
  result.wrong_password_message = await page.getByText("Invalid credentials").isVisible();

  result.step = "right password";
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Connect" }).click();
  await page.locator("header").getByText(/^\s*connected\s*$/i).first().waitFor();
  result.status = "connected";
  result.session_saved = await page.evaluate(() => JSON.stringify(localStorage));

  result.step = "dashboard";
  const nsCard = page.locator(".v-card", { hasText: "Namespaces" });
  await nsCard.getByText(namespace, { exact: true }).waitFor();
  result.namespaces = (await rows(nsCard)).map((r) => r.split(/\s+/).filter(Boolean));

  result.step = "servers";
  await nav("Servers");
  await page.waitForFunction(() => document.querySelectorAll("tbody tr td").length > 1);
  result.servers = (await rows(page.locator("main"))).map((r) => r.split("\t").map((c) => c.trim()));

  result.step = "sockets";
  await nav("Sockets");
  await page.getByText(b.id, { exact: true }).waitFor();
  await page.getByText(a.id, { exact: true }).waitFor();
  result.sockets = (await rows(page.locator("main"))).map((r) => r.split("\t")[0].trim()).sort();

  result.step = "rooms";
  await nav("Rooms");
  await page.getByText("room:lobby", { exact: true }).waitFor();
  result.rooms = (await rows(page.locator("main"))).map((r) => r.split("\t")[0].trim()).sort();

  result.step = "join B to a room from the UI";
  await nav("Sockets");
  await page.getByText(b.id, { exact: true }).click();
  const roomsCard = page.locator(".v-card", { hasText: "Join a room" });
  await page.getByLabel("Join a room").fill("picked");
  await page.keyboard.press("Escape");
  await roomsCard.locator("button[type=submit]").click();
  await roomsCard.getByText("picked", { exact: true }).waitFor();
  result.b_rooms = (await rows(roomsCard)).map((r) => r.trim()).sort();

  result.step = "disconnect A from the UI";
  await nav("Sockets");
  await page.getByText(a.id, { exact: true }).click();
  await page.getByText("Socket details").waitFor();
  const statusRows = page.locator("tr", { hasText: "Status" });
  await statusRows.nth(1).locator("button").click();
  result.a_disconnect_reason = await Promise.race([
    aDisconnect,
    new Promise((resolve) => setTimeout(() => resolve("not disconnected"), STEP_MS)),
  ]);
  await statusRows.nth(1).getByText(/^\s*disconnected\s*$/i).first().waitFor();
  result.a_status_shown = "disconnected";
  result.b_connected = b.connected;

  result.ok = true;
}

main()
  .catch(async (e) => {
    result.error = String(e && e.stack ? e.stack : e);
    if (page) {
      fs.mkdirSync(shotDir, { recursive: true });
      await page.screenshot({ path: path.join(shotDir, "admin-ui.png"), fullPage: true }).catch(() => {});
    }
  })
  .finally(async () => {
    for (const c of clients) c.close();
    if (browser) await browser.close().catch(() => {});
    print(result);
    process.exit(result.ok ? 0 : 1);
  });
