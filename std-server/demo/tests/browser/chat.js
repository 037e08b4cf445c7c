// Drives the oxio demo page in headless Debian Chromium (playwright-core,
// no browser download) for tests/demo_browser.rs.
//
//   node chat.js <base-url> <chat-text> <rest-marker> <form-marker> <shot-dir>
//
// Two pages open the demo at /. Page A chats through #chat-form; the REST
// API (POST /api/login, then POST /api/update with the Bearer token) sends
// {"marker":<rest-marker>}; page B logs in through #login-form and sends
// <form-marker> through #update-form. Prints one JSON line with what both
// pages show, then exits 0; on any failure prints {"ok":false,"error",...}
// (with screenshots of both pages in <shot-dir>) and exits 1.
// Chromium: $OXIO_CHROMIUM, else /usr/bin/chromium.
//
// With $OXIO_CDN_FILE set (the server has no local client, so the page loads
// it from the official CDN with an integrity hash), requests to the CDN are
// answered with that file, as the CDN would (the test machine is offline),
// and a third page gets altered bytes: the browser must refuse them.
// Either way the result has the page's client <script> attributes.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const STEP_MS = 8000;
const WATCHDOG_MS = 40000;

const [base, chatText, restMarker, formMarker, shotDir] = process.argv.slice(2);
if (!base || !chatText || !restMarker || !formMarker || !shotDir) {
  console.error("usage: node chat.js <base-url> <chat-text> <rest-marker> <form-marker> <shot-dir>");
  process.exit(64);
}
const executablePath = process.env.OXIO_CHROMIUM || "/usr/bin/chromium";
const cdnFile = process.env.OXIO_CDN_FILE || "";
const CDN = "https://cdn.socket.io/";

let step = "start";
const result = { ok: false, step, page_errors: [], console_errors: [], http_errors: [], cdn_requests: [] };
let context = null;
let userDataDir = null;
const pages = {};

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// Never hang: the Rust side also kills this process, this only makes the
// message clearer.
const watchdog = setTimeout(() => {
  print({ ...result, ok: false, step, error: `watchdog: still at step "${step}" after ${WATCHDOG_MS} ms` });
  process.exit(3);
}, WATCHDOG_MS);

// Answers the page's CDN requests with `body` (CORS as the CDN does).
async function routeCdn(page, name, body) {
  await page.route(CDN + "**", (route) => {
    result.cdn_requests.push(`${name}: ${route.request().url()}`);
    return route.fulfill({
      status: 200,
      contentType: "application/javascript; charset=utf-8",
      headers: { "access-control-allow-origin": "*" },
      body,
    });
  });
}

// The page's Socket.IO client <script> tag.
function clientScript(page) {
  return page.$eval('script[src*="socket.io"]', (s) => ({
    src: s.getAttribute("src"),
    integrity: s.getAttribute("integrity"),
    crossorigin: s.getAttribute("crossorigin"),
  }));
}

async function openPage(name) {
  const page = await context.newPage();
  if (cdnFile) await routeCdn(page, name, fs.readFileSync(cdnFile));
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (err) => result.page_errors.push(`${name}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      const where = msg.location() && msg.location().url ? ` (${new URL(msg.location().url).pathname})` : "";
      result.console_errors.push(`${name}: ${msg.text()}${where}`);
    }
  });
  page.on("response", (res) => {
    if (res.status() >= 400) result.http_errors.push(`${name}: ${res.status()} ${new URL(res.url()).pathname}`);
  });
  page.on("requestfailed", (req) => result.http_errors.push(`${name}: failed ${req.url()}`));
  pages[name] = page;
  const response = await page.goto(base + "/");
  if (!response || response.status() !== 200) {
    throw new Error(`GET / on page ${name}: status ${response && response.status()}`);
  }
  return page;
}

// The chat log of a page: [{class, text}] in order.
function messages(page) {
  return page.$$eval("#messages li", (lis) => lis.map((li) => ({ class: li.className, text: li.textContent })));
}

// Waits until the page's #messages has an <li class=cls> whose text includes `needle`.
function waitMessage(page, cls, needle) {
  return page.waitForFunction(
    ([cls, needle]) =>
      [...document.querySelectorAll("#messages li")].some((li) => li.className === cls && li.textContent.includes(needle)),
    [cls, needle],
    { timeout: STEP_MS }
  );
}

async function api(method, route, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(base + route, { method, headers, body: JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (_) {
    json = text;
  }
  return { status: res.status, body: json };
}

async function main() {
  step = "launch";
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "oxio-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    timeout: 20000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  result.browser = context.browser() ? context.browser().version() : null;

  step = "open pages";
  const a = await openPage("a");
  const b = await openPage("b");

  step = "connect";
  await a.waitForSelector("#status[data-state=connected]");
  await b.waitForSelector("#status[data-state=connected]");
  result.ids = { a: await a.textContent("#socket-id"), b: await b.textContent("#socket-id") };
  result.client_script = await clientScript(a);
  result.welcome = { a: await a.textContent("#welcome"), b: await b.textContent("#welcome") };

  step = "chat";
  await a.fill("#chat-input", chatText);
  await a.click("#chat-send");
  await waitMessage(b, "chat", chatText);
  await waitMessage(a, "mine", chatText);
  result.chat_input_after = await a.inputValue("#chat-input");

  step = "rest";
  const login = await api("POST", "/api/login", { username: "rest-user", password: "pw" });
  const token = login.body && login.body.token;
  if (login.status !== 200 || typeof token !== "string") {
    throw new Error("POST /api/login: " + JSON.stringify(login));
  }
  const update = await api("POST", "/api/update", { marker: restMarker }, token);
  result.rest = { login_status: login.status, update: update };
  await waitMessage(a, "update", restMarker);
  await waitMessage(b, "update", restMarker);

  step = "page login";
  await b.fill("#login-username", "carol");
  await b.fill("#login-password", "secret");
  await b.click("#login-submit");
  await b.waitForFunction(() => document.getElementById("login-status").textContent.startsWith("logged in"));
  await b.waitForSelector("#update-send:not([disabled])");
  await b.waitForFunction(() => document.getElementById("admin-status").textContent !== "");
  result.login_status = await b.textContent("#login-status");
  result.admin_status = await b.textContent("#admin-status");

  step = "page update";
  await b.fill("#update-input", formMarker);
  await b.click("#update-send");
  await waitMessage(a, "update", formMarker);
  await waitMessage(b, "update", formMarker);
  result.error_text = { a: await a.textContent("#error"), b: await b.textContent("#error") };

  step = "collect";
  result.status = {
    a: await a.getAttribute("#status", "data-state"),
    b: await b.getAttribute("#status", "data-state"),
  };
  result.messages = { a: await messages(a), b: await messages(b) };

  if (cdnFile) {
    step = "altered CDN copy";
    const t = await context.newPage();
    t.setDefaultTimeout(STEP_MS);
    const errors = [];
    t.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
    const altered = Buffer.concat([fs.readFileSync(cdnFile), Buffer.from("\n/* altered */\n")]);
    await routeCdn(t, "altered", altered);
    await t.goto(base + "/");
    await t.waitForSelector("#status[data-state=client-missing]");
    result.altered = { io: await t.evaluate(() => typeof window.io), console_errors: errors };
    await t.close();
  }
  result.ok = true;
  result.step = "done";
}

async function screenshots() {
  const shots = [];
  for (const [name, page] of Object.entries(pages)) {
    const file = path.join(shotDir, `demo-browser-${name}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
      shots.push(file);
      result.messages = result.messages || {};
      result.messages[name] = await messages(page);
      result.page_state = result.page_state || {};
      result.page_state[name] = {
        status: await page.getAttribute("#status", "data-state", { timeout: 1000 }),
        status_text: await page.textContent("#status", { timeout: 1000 }),
        error: await page.textContent("#error", { timeout: 1000 }),
      };
    } catch (e) {
      shots.push(`${file}: not taken (${e.message})`);
    }
  }
  return shots;
}

(async () => {
  let code = 0;
  try {
    await main();
    print(result);
  } catch (err) {
    code = 1;
    result.ok = false;
    result.step = step;
    result.error = String(err && err.stack ? err.stack.split("\n").slice(0, 3).join(" | ") : err);
    result.screenshots = await screenshots();
    print(result);
  } finally {
    if (context) await context.close().catch(() => {});
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
  process.exit(code);
})();
