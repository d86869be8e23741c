// What every browser module of the e2e run shares: fresh user ids, the codes an authenticator app
// or key fob shows, and the check that logs what passed.
import { createHmac, randomBytes } from "node:crypto";

export const fresh = () => `e2e-${randomBytes(4).toString("hex")}`;

function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of s) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// An HOTP code (RFC 4226); a TOTP code is the one of the time step (RFC 6238).
export function hotp(secret, count) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(count));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, "0");
}
export const totp = hotp;

// The time step of a TOTP code now.
export const stepNow = () => Math.floor(Date.now() / 1000 / 30);

export function check(ok, what) {
  if (!ok) throw new Error(`e2e: ${what}`);
  console.log(`e2e: ok: ${what}`);
}

// Chromium's virtual authenticator (DevTools protocol, WebAuthn domain), in the page's context:
// the security key of the journeys. `uv`: whether it verifies its user.
export async function virtualKey(context, page, uv) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "usb", hasResidentKey: false,
      hasUserVerification: uv, isUserVerified: uv,
    },
  });
  return { cdp, authenticatorId };
}

// Runs `act` (a click, a key) that loads another page; back once that page has loaded.
export async function loading(page, act) {
  // The wait's failure is taken at once: it may come while `act` still runs (or fails itself),
  // and must not go unheard then.
  const loaded = page.waitForEvent("load").then(() => null, (e) => e);
  await act();
  const failed = await loaded;
  if (failed) throw failed;
}
