// The hosted-page journeys in a real browser (Debian Chromium, driven by playwright-core):
// enroll an authenticator app from the demo relying party, then sign in with it (JavaScript off:
// the pages work without it), reading the secret off the enroll page and computing codes the way
// an authenticator app does (RFC 6238); then, JavaScript on, enroll a security key and sign in
// with it, twice: with an authenticator that verifies its user and with one that cannot. The
// security key is Chromium's virtual authenticator (DevTools protocol, WebAuthn domain). Last, a
// hardware HOTP token from the inventory (scripts/e2e.sh imports tests/data/pskc/pypskc-plain.xml
// first) is claimed on the enroll page, then, pressed too often, brought back in step on the
// verify page. Then the accessibility checks (e2e/a11y.mjs, which says what it needs besides).
// Env: RP_URL (the demo relying party), TWOFOLD_URL (twofold's public URL), SHOTS (where the
// screenshots go).
import { chromium } from "playwright-core";
import { check, fresh, hotp, stepNow, totp, virtualKey } from "./common.mjs";
import { accessibility } from "./a11y.mjs";

const rp = process.env.RP_URL;
const twofold = process.env.TWOFOLD_URL;
const shots = process.env.SHOTS;
const user = fresh();

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// A phone-sized window: the pages are meant for one.
const viewport = { width: 420, height: 860 };

// The HTML of a hosted page as served: its CSP must allow only twofold's own script, and the
// page must have no inline script (which that CSP would block).
async function checkScriptPolicy(res, what) {
  const csp = res.headers()["content-security-policy"] ?? "";
  check(csp.includes("script-src 'self'"), `${what} is served with CSP script-src 'self'`);
  const scripts = (await res.text()).match(/<script\b[^>]*>/gi) ?? [];
  check(scripts.length > 0 && scripts.every((t) => /\bsrc=/i.test(t)), `${what} has no inline script`);
}

// Journeys 3 and 4 (5 and 6): a security key, enrolled from the relying party through the hosted
// enroll page, then used at the next sign-in. `uv`: whether the authenticator verifies its user
// (with the default policy, UV preferred, one that cannot is accepted too).
async function keyJourneys(uv, takeShots) {
  const kind = uv ? "a key with user verification" : "a key without user verification";
  const who = fresh();
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  // (twofold has no /favicon.ico: the browser's 404 for it is no error of the pages.)
  page.on("console", (m) => {
    if (m.type() === "error" && !m.location().url?.endsWith("/favicon.ico")) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // twofold's pages as served (the first opening of a link is a refresh that sets the flow
  // cookie: the page itself is the last).
  const served = [];
  page.on("response", (r) => {
    if (!r.url().startsWith(twofold)) return;
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) problems.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    if (r.request().resourceType() === "document" && r.request().method() === "GET") served.push(r);
  });
  // The page's script shows only a generic message when the browser refuses a ceremony: log the
  // browser's own reason, so a failure says why.
  await context.addInitScript(() => {
    for (const name of ["create", "get"]) {
      const run = navigator.credentials[name].bind(navigator.credentials);
      navigator.credentials[name] = (options) => run(options).catch((e) => {
        console.error(`navigator.credentials.${name}: ${e.name}: ${e.message}`);
        throw e;
      });
    }
  });
  // After a click on the key's button: the next page, or the error the script shows.
  const settled = async (next, what) => {
    const refused = page.locator("#key-error:visible");
    await next.or(refused).first().waitFor();
    if (await refused.count()) {
      throw new Error(`e2e: ${what}: the page says "${await refused.textContent()}"; the browser ` +
                      `saw: ${problems.join("; ") || "nothing"}`);
    }
  };
  try {
    const { cdp, authenticatorId } = await virtualKey(context, page, uv);

    await page.goto(rp);
    await page.locator("form", { hasText: "Set up" }).getByLabel("User").fill(who);
    await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
    await page.waitForURL(/\/enroll\//);
    const choose = page.getByRole("button", { name: "Security key" });
    await choose.waitFor();
    await checkScriptPolicy(served.at(-1), "the enroll page offering a security key");
    check(await page.locator("#key-form").isVisible(), "the script reveals the security-key option");
    if (takeShots) await page.screenshot({ path: `${shots}/enroll-key.png`, fullPage: true });
    await choose.click();
    await settled(page.getByText("You're all set"), `enrolling ${kind}`);
    const made = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    check(made.length === 1 && made[0].rpId === new URL(twofold).hostname,
          `${kind} holds one credential, for twofold's host`);
    check(await page.locator("ul.codes li").count() === 10,
          "a first set of recovery codes is shown after a security key");
    await page.getByLabel("I have saved these codes").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/\/back\?/);
    check(await page.locator("#verified").textContent() === "Verified", `${kind} enrolled: back at the relying party, verified`);
    check(await page.locator("#sub").textContent() === who, "the assertion names the user");

    await page.goto(rp);
    await page.locator("form", { hasText: "Sign in" }).getByLabel("User").fill(who);
    await page.getByRole("button", { name: "Sign in with a second factor" }).click();
    await page.waitForURL(/\/verify\//);
    const use = page.getByRole("button", { name: "Use your security key" });
    await use.waitFor();
    await checkScriptPolicy(served.at(-1), "the verify page offering a security key");
    const keyBox = await page.locator("#key-form").boundingBox();
    const codeBox = await page.locator("form", { has: page.getByLabel("Code", { exact: true }) }).boundingBox();
    check(keyBox.y < codeBox.y, "the security key comes before the code form");
    if (takeShots) await page.screenshot({ path: `${shots}/verify-key.png`, fullPage: true });
    await use.click();
    await settled(page.locator("#verified"), `signing in with ${kind}`);
    check(await page.locator("#verified").textContent() === "Verified", `signed in with ${kind}`);
    check(await page.locator("#sub").textContent() === who, "the assertion names the user");
    const said = await page.locator("main").textContent();
    check(said.includes('"hwk"') && said.includes('"user"') === uv,
          `the assertion's amr is ${uv ? "hwk, user, pin" : "hwk alone"}`);
    const used = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    check(used.length === 1 && used[0].signCount > made[0].signCount, "the key signed the sign-in");
    check(problems.length === 0, `no errors in the browser (${problems.join("; ") || "none"})`);
  } finally {
    await context.close();
  }
}

// Journey 7: a hardware HOTP token of the inventory (serial PP-0001, the RFC 4226 test seed,
// next counter 7, in tests/data/pskc/pypskc-plain.xml), claimed by its user on the enroll page
// (JavaScript off); then, its button pressed far beyond the look-ahead window, brought back in
// step with two consecutive codes on the verify page, and used to sign in.
async function tokenJourney() {
  const who = fresh();
  const seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  const context = await browser.newContext({ viewport, javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await page.goto(rp);
    await page.locator("form", { hasText: "Set up" }).getByLabel("User").fill(who);
    await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
    await page.waitForURL(/\/enroll\//);
    const card = page.locator("form#token");
    await card.waitFor();
    check(await card.getByRole("button", { name: "Use this token" }).count() === 1,
          "the enroll page offers a hardware token");
    await card.getByLabel("Serial number (printed on the back)").fill("PP-0001");
    await card.getByLabel("A code it shows now").fill(hotp(seed, 7));
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/enroll-token.png` });
    await card.getByRole("button", { name: "Use this token" }).click();
    await page.getByText("You're all set").waitFor();
    await page.getByLabel("I have saved these codes").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/\/back\?/);
    check(await page.locator("#verified").textContent() === "Verified", "a hardware token claimed: back at the relying party, verified");
    check(await page.locator("#sub").textContent() === who, "the assertion names the user");

    await page.goto(rp);
    await page.locator("form", { hasText: "Sign in" }).getByLabel("User").fill(who);
    await page.getByRole("button", { name: "Sign in with a second factor" }).click();
    await page.waitForURL(/\/verify\//);
    const code = page.getByLabel("Code", { exact: true });
    await code.waitFor();
    check(await page.locator("#resync").count() === 0, "no resynchronisation form before a failure");
    // The button pressed many times since: counter 600, past the look-ahead window.
    await code.fill(hotp(seed, 600));
    await page.getByRole("button", { name: "Continue" }).click();
    const resync = page.locator("form#resync");
    await resync.waitFor();
    check((await page.getByRole("alert").textContent()).includes("That code is not right"),
          "a code far ahead of the token's counter is refused");
    check(await resync.getByRole("heading", { name: "Code not accepted from your key fob?" }).count() === 1,
          "the verify page offers to bring the token back in step");
    await resync.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/verify-resync.png` });
    await resync.getByLabel("First code").fill(hotp(seed, 600));
    await resync.getByLabel("Next code").fill(hotp(seed, 601));
    await resync.getByRole("button", { name: "Bring my token back in step" }).click();
    await page.getByText("Your token is back in step.").waitFor();
    check(await page.getByRole("status").textContent()
          === "Your token is back in step. Press it once more and enter the new code.",
          "two consecutive codes bring the token back in step");
    await page.getByLabel("Code", { exact: true }).fill(hotp(seed, 602));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/\/back\?/);
    check(await page.locator("#verified").textContent() === "Verified", "signed in with the token's next code");
    check(await page.locator("#sub").textContent() === who, "the assertion names the user");
    const said = await page.locator("main").textContent();
    const amr = JSON.parse(said.match(/method (\[[^\]]*\])/)?.[1] ?? "null");
    check(JSON.stringify(amr?.toSorted()) === JSON.stringify(["hwk", "otp"]),
          `the assertion's amr is hwk, otp (${JSON.stringify(amr)})`);
  } finally {
    await context.close();
  }
}

// Journey 3: a browser asking for French gets the pages in French, through enroll and verify.
async function frenchJourney() {
  const context = await browser.newContext({ viewport, locale: "fr-FR", javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    const who = `${user}-fr`;
    await page.goto(rp);
    await page.locator("form", { hasText: "Set up" }).getByLabel("User").fill(who);
    await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
    await page.waitForURL(/\/enroll\//);
    await page.getByRole("button", { name: "Application d'authentification" }).click();
    check(await page.locator("html").getAttribute("lang") === "fr", "a French browser gets <html lang=fr>");
    check((await page.title()).startsWith("Activer la validation en deux étapes pour "), "the title is French and names the site");
    const secret = (await page.locator("#secret").textContent()).replace(/\s/g, "");
    const step = stepNow();
    await page.getByLabel("Code", { exact: true }).fill(totp(secret, step));
    await page.getByRole("button", { name: "Continuer" }).click();
    await page.getByText("C'est prêt").waitFor();
    await page.getByLabel("J'ai enregistré ces codes").check();
    await page.getByRole("button", { name: "Continuer" }).click();
    await page.waitForURL(/\/back\?/);
    check(await page.locator("#sub").textContent() === who, "French enroll: back at the relying party");

    await page.goto(rp);
    await page.locator("form", { hasText: "Sign in" }).getByLabel("User").fill(who);
    await page.getByRole("button", { name: "Sign in with a second factor" }).click();
    await page.waitForURL(/\/verify\//);
    check((await page.locator("h1").textContent()).startsWith("Connexion à "), "the verify page is French");
    check((await page.locator("main").textContent()).includes("Application d'authentification, ajoutée le"),
          "the device made on a French page has a French name");
    await page.getByLabel("Code", { exact: true }).fill("000000");
    await page.getByRole("button", { name: "Continuer" }).click();
    check((await page.getByRole("alert").textContent()).includes("Ce code n'est pas le bon"), "a wrong code is said in French");
    await page.getByLabel("Code", { exact: true }).fill(totp(secret, step + 1));
    await page.getByRole("button", { name: "Continuer" }).click();
    await page.waitForURL(/\/back\?/);
    check(await page.locator("#verified").textContent() === "Verified", "French verify: signed in");
  } finally {
    await context.close();
  }
}

try {
  const page = await browser.newPage({ viewport, javaScriptEnabled: false });

  // Journey 1: the relying party sends its user to enroll an authenticator app.
  await page.goto(rp);
  await page.locator("form", { hasText: "Set up" }).getByLabel("User").fill(user);
  await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
  await page.waitForURL(/\/enroll\//);
  await page.getByRole("button", { name: "Authenticator app" }).waitFor();
  // A phone reloading the tab (while its user is in the authenticator app) keeps the flow.
  await page.reload();
  check(await page.getByRole("button", { name: "Authenticator app" }).count() === 1,
        "a reload of the page reached from the relying party keeps the flow");
  // (Playwright turns scripts off through the DevTools protocol, under which Chromium still
  // parses <noscript> as if they ran: its paragraph is in the page, not drawn.)
  check(!(await page.locator("#key-form").isVisible())
        && (await page.locator("noscript").textContent()).includes("Security keys need JavaScript"),
        "without JavaScript, the security-key option stays hidden and a <noscript> says why");
  await page.getByRole("button", { name: "Authenticator app" }).click();
  await page.locator("#secret").waitFor();
  check(await page.locator(".qr svg").count() === 1, "the enroll page shows a QR code");
  await page.screenshot({ path: `${shots}/enroll.png`, fullPage: true });
  const secret = (await page.locator("#secret").textContent()).replace(/\s/g, "");
  check(/^[A-Z2-7]{32}$/.test(secret), "the manual key is a 160-bit base32 secret");
  await page.getByLabel("Code", { exact: true }).fill("000000");
  await page.getByRole("button", { name: "Continue" }).click();
  check(await page.getByRole("alert").textContent() !== "", "a wrong code gets a message");
  const step = stepNow();
  await page.getByLabel("Code", { exact: true }).fill(totp(secret, step));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByText("You're all set").waitFor();
  check(await page.locator("ul.codes li").count() === 10, "a new user is shown ten recovery codes");
  const download = await page.getByRole("link", { name: "Download the codes (.txt)" }).getAttribute("href");
  check(download.startsWith("data:text/plain") && decodeURIComponent(download).includes(await page.locator("ul.codes li").first().textContent()),
        "the codes download as a text file");
  await page.getByRole("button", { name: "Continue" }).click();
  check((await page.getByRole("alert").textContent()).includes("Tick the box"),
        "Continue without ticking the box says why, and stays");
  await page.getByLabel("I have saved these codes").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/back\?/);
  check(await page.locator("#sub").textContent() === user, "back at the relying party, verified");

  // Journey 2: at the next sign-in, the relying party asks for a code.
  await page.goto(rp);
  await page.locator("form", { hasText: "Sign in" }).getByLabel("User").fill(user);
  await page.getByRole("button", { name: "Sign in with a second factor" }).click();
  await page.waitForURL(/\/verify\//);
  await page.screenshot({ path: `${shots}/verify.png`, fullPage: true });
  // The confirming step is used up: the next one, which the window still accepts.
  await page.getByLabel("Code", { exact: true }).fill(totp(secret, step + 1));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/back\?/);
  check(await page.locator("#verified").textContent() === "Verified", "signed in with the app's code");
  check(await page.locator("#sub").textContent() === user, "the assertion names the user");

  // Journey 2b: wrong codes until the lock; the page says when it ends and turns the form off.
  await page.goto(rp);
  await page.locator("form", { hasText: "Sign in" }).getByLabel("User").fill(user);
  await page.getByRole("button", { name: "Sign in with a second factor" }).click();
  await page.waitForURL(/\/verify\//);
  for (let i = 0; i < 10; i++) {
    await page.getByLabel("Code", { exact: true }).fill("000000");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator(".error-summary").waitFor();
  }
  const lock = await page.getByRole("alert").textContent();
  check(/Try again at \d\d:\d\d \(UTC\), in 15 minutes/.test(lock), `the lock says when it ends (${lock.trim()})`);
  check(await page.getByRole("button", { name: "Continue" }).isDisabled(), "a locked user's form is off");
  await page.screenshot({ path: `${shots}/verify-locked.png`, fullPage: true });
  // The way back: the relying party is told the user cancelled.
  await page.getByRole("link", { name: /^Cancel and return to / }).click();
  await page.waitForURL(/\/back\?/);
  check(new URL(page.url()).searchParams.get("error") === "cancelled", "Cancel returns error=cancelled");
  check(await page.locator("#cancelled").count() === 1, "the relying party shows its own page");
  await page.close();

  await frenchJourney();

  await keyJourneys(true, true);
  await keyJourneys(false, false);
  await tokenJourney();
  await accessibility(browser);
} finally {
  await browser.close();
}
