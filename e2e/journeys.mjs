// Both hosted-page journeys in a real browser (Debian Chromium, driven by playwright-core):
// enroll an authenticator app from the demo relying party, then sign in with it. Reads the secret
// off the enroll page and computes codes the way an authenticator app does (RFC 6238).
// Env: RP_URL (the demo relying party), SHOTS (where the screenshots go).
import { chromium } from "playwright-core";
import { createHmac, randomBytes } from "node:crypto";

const rp = process.env.RP_URL;
const shots = process.env.SHOTS;
const user = `e2e-${randomBytes(4).toString("hex")}`;

function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of s) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, "0");
}

function check(ok, what) {
  if (!ok) throw new Error(`e2e: ${what}`);
  console.log(`e2e: ok: ${what}`);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  // A phone-sized window: the pages are meant for one.
  const page = await browser.newPage({ viewport: { width: 420, height: 860 }, javaScriptEnabled: false });

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
  await page.getByRole("button", { name: "Authenticator app" }).click();
  await page.locator("#secret").waitFor();
  check(await page.locator(".qr svg").count() === 1, "the enroll page shows a QR code");
  await page.screenshot({ path: `${shots}/enroll.png`, fullPage: true });
  const secret = (await page.locator("#secret").textContent()).replace(/\s/g, "");
  check(/^[A-Z2-7]{32}$/.test(secret), "the manual key is a 160-bit base32 secret");
  await page.getByLabel("Code").fill("000000");
  await page.getByRole("button", { name: "Continue" }).click();
  check(await page.getByRole("alert").textContent() !== "", "a wrong code gets a message");
  const step = Math.floor(Date.now() / 1000 / 30);
  await page.getByLabel("Code").fill(totp(secret, step));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByText("You're all set").waitFor();
  await page.getByRole("button", { name: "Show me recovery codes" }).click();
  check(await page.locator("ul.codes li").count() === 10, "ten recovery codes are offered");
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
  await page.getByLabel("Code").fill(totp(secret, step + 1));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/back\?/);
  check(await page.locator("#verified").textContent() === "Verified", "signed in with the app's code");
  check(await page.locator("#sub").textContent() === user, "the assertion names the user");
} finally {
  await browser.close();
}
