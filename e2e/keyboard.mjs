// A keyboard-only journey: enroll an authenticator app and sign in with it using Tab, Shift+Tab,
// Enter and typing alone, no click. At each step the focus must be on the expected control
// (else the journey stops: the next key would act on the wrong one), and that control must show
// where the focus is (an outline or a box shadow; a finding when it does not). JavaScript is on
// and the page's CSP applies, as for most people. The links come from the demo relying party as
// in the other states (e2e/reach.mjs).
import { check, fresh, loading, stepNow, totp } from "./common.mjs";
import { Steps } from "./reach.mjs";

export async function keyboardJourney(browser, env) {
  const findings = [];
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  const go = new Steps(page, { env });
  const kb = page.keyboard;

  // The focused element is `expected`, with a visible focus indicator.
  const at = async (expected, what, state) => {
    const seen = await expected.evaluate((el) => {
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
      const describe = (e) => e ? e.outerHTML.slice(0, 120) : "nothing";
      return { focused: el === document.activeElement, shown: outline || style.boxShadow !== "none",
               active: describe(document.activeElement) };
    });
    check(seen.focused, `keyboard: [${state}] the focus is on ${what}${seen.focused ? "" : ` (not on ${seen.active})`}`);
    if (!seen.shown) {
      findings.push({ state: `keyboard: ${state}`, width: 375,
                      what: `focus: ${what} has the focus and shows no outline or box shadow`, more: [] });
    }
  };
  const key = async (k, expected, what, state) => {
    await kb.press(k);
    await at(expected, what, state);
  };
  // A key that loads another page.
  const leave = (k) => loading(page, () => kb.press(k));
  const button = (name) => page.getByRole("button", { name, exact: true });
  const code = page.getByLabel("Code", { exact: true });

  try {
    const user = fresh();
    await go.goto(await go.link("enroll", user));
    // The security-key option comes first once the page's script has shown it.
    await page.locator("#key-form").waitFor();
    let state = "enroll: choice";
    await key("Tab", button("Security key"), "the security-key button", state);
    await key("Tab", button("Authenticator app"), "the authenticator-app button", state);
    await key("Tab", page.getByLabel("Mobile number", { exact: true }), "the phone field", state);
    await key("Shift+Tab", button("Authenticator app"), "the authenticator-app button, back", state);
    await leave("Enter");

    // No autofocus here: the focus starts at the top, so the steps are read first.
    state = "enroll: QR (app)";
    await key("Tab", page.getByRole("link", { name: "On this phone? Open it in your app" }), "the otpauth link", state);
    await key("Tab", code, "the code field", state);
    const secret = (await page.locator("#secret").textContent()).replace(/\s/g, "");
    const step = stepNow();
    await kb.type(totp(secret, step));
    await leave("Enter");

    // A first device: the recovery codes are on show; Continue needs the box ticked.
    state = "enroll: recovery codes";
    await key("Tab", page.getByRole("link", { name: "Download the codes (.txt)" }), "the download link", state);
    const saved = page.getByLabel("I have saved these codes", { exact: true });
    await key("Tab", saved, "the saved-codes box", state);
    await kb.press("Space");
    check(await saved.isChecked(), "keyboard: Space ticks the saved-codes box");
    await key("Tab", button("Continue"), "the Continue button", state);
    await leave("Enter");
    check(await page.locator("#verified").textContent() === "Verified", "keyboard: enrolled, back at the relying party");

    await go.goto(await go.link("verify", user));
    state = "verify: code form";
    await at(code, "the code field (autofocus)", state);
    await key("Tab", button("Continue"), "the Continue button", state);
    await key("Tab", page.getByRole("link", { name: "Use a recovery code instead" }), "the recovery-code link", state);
    await key("Shift+Tab", button("Continue"), "the Continue button, back", state);
    await key("Shift+Tab", code, "the code field, back", state);
    // The confirming step is used up: the next one, which the window still accepts.
    await kb.type(totp(secret, step + 1));
    await leave("Enter");
    check(await page.locator("#verified").textContent() === "Verified", "keyboard: signed in with the app's code");
    check(await page.locator("#sub").textContent() === user, "keyboard: the assertion names the user");
  } finally {
    await context.close();
  }
  return findings;
}
