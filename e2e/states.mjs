// Every page state the accessibility pass checks: a name, and how to get there (e2e/reach.mjs).
// A new state is one more line. Each recipe runs on a fresh page; `go.shared` holds the users
// that several states share.
import { fresh } from "./common.mjs";
import { LOCK_AFTER, late, tampered } from "./reach.mjs";

// A phone number the enroll page takes (its hint's), and one it cannot.
const PHONE = "+33 6 12 34 56 78";
const NOT_A_PHONE = "12";

export const states = [
  // The enroll page.
  ["enroll: choice", (go) => go.enroll()],
  ["enroll: QR (app)", async (go) => { await go.enroll(); await go.press("Authenticator app"); }],
  ["enroll: wrong code on the QR page", async (go) => { await go.enroll(); await go.press("Authenticator app"); await go.wrongCodes(1); }],
  ["enroll: phone number entered wrong", async (go) => { await go.enroll(); await go.fill("Mobile number", NOT_A_PHONE); await go.press("Text message"); }],
  ["enroll: texted-code page", async (go) => { await go.enroll(); await go.fill("Mobile number", PHONE); await go.press("Text message"); }],
  ["enroll: success with recovery codes", (go) => go.enrollApp()],
  ["enroll: recovery codes, box not ticked", async (go) => { await go.enrollApp(); await go.press("Continue"); }],
  ["enroll: step-up for another device", async (go) => go.enroll((await go.shared.appUser()).user)],

  // The verify page.
  ["verify: code form", async (go) => go.verify((await go.shared.appUser()).user)],
  ["verify: security-key option", async (go) => go.verify(await go.shared.keyUser())],
  ["verify: recovery form", async (go) => { await go.verify((await go.shared.appUser()).user); await go.follow("Use a recovery code instead"); }],
  ["verify: wrong code", async (go) => { await go.verify((await go.shared.newAppUser()).user); await go.wrongCodes(1); }],
  // 3 tries left: the page is to say so.
  ["verify: few tries left", async (go) => { await go.verify((await go.shared.newAppUser()).user); await go.wrongCodes(LOCK_AFTER - 3); }],
  ["verify: locked", async (go) => { await go.verify((await go.shared.newAppUser()).user); await go.lockOut(); }],

  // Links that open no flow.
  ["link: used", async (go) => { const url = await go.link("verify", fresh()); await go.elsewhere(url); await go.goto(url); }],
  ["link: invalid", async (go) => go.goto(tampered(await go.link("verify", fresh())))],
  ["link: expired", async (go) => go.goto(late(await go.link("verify", fresh()), go.env.lateTwofold))],

  // The console.
  ["console: sign-in page", (go) => go.goto("/admin/login")],
  ["console: sign-in error", async (go) => { await go.goto("/admin/login"); await go.fill("Admin API key", "tfk_not-a-key"); await go.press("Sign in"); }],
  ["console: users", async (go) => { await go.signIn(); await go.follow("Users"); }],
  ["console: user", async (go) => { await go.signIn(); await go.consoleUser(await go.shared.lockedUser()); }],
  ["console: audit", async (go) => { await go.signIn(); await go.follow("Audit"); }],
  ["console: API keys", async (go) => { await go.signIn(); await go.follow("API keys"); }],
  ["console: tokens", async (go) => { await go.signIn(); await go.follow("Tokens"); }],
  // The confirmations a revocation asks for (where there is none yet, the page after revoking).
  ["console: confirm revoking a device", async (go) => { const { user } = await go.shared.newAppUser(); await go.signIn(); await go.consoleUser(user); await go.press(/^Revoke device /); }],
  ["console: confirm revoking all devices", async (go) => { const { user } = await go.shared.newAppUser(); await go.signIn(); await go.consoleUser(user); await go.press(/^Revoke all devices/); }],
  ["console: confirm revoking an API key", async (go) => { await go.signIn(); await go.follow("API keys"); await go.press(/^Revoke key e2e-spare/); }],
  ["console: confirm revoking the session's own key", async (go) => { await go.signIn(go.env.ownKey); await go.follow("API keys"); await go.press(/^Revoke key e2e-own/); }],
];
