// Signs in to /admin with the key in TWOFOLD_KEY and photographs the user page of `alice`, the
// page of `carol` (locked) at 375 px as a phone shows it, and the audit trail.
import { chromium } from "playwright-core";

const base = process.env.TWOFOLD_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
await page.goto(`${base}/admin`);
await page.getByLabel("Admin API key").fill(process.env.TWOFOLD_KEY);
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL("**/admin/users");
await page.goto(`${base}/admin/user?tenant=default&user=alice`);
await page.screenshot({ path: `${process.env.OUT}/admin-user.png`, fullPage: true });
await page.setViewportSize({ width: 375, height: 800 });
await page.goto(`${base}/admin/user?tenant=default&user=carol`);
await page.screenshot({ path: `${process.env.OUT}/admin-user-375.png`, fullPage: true });
await page.setViewportSize({ width: 1280, height: 1000 });
await page.goto(`${base}/admin/audit?tenant=default`);
await page.screenshot({ path: `${process.env.OUT}/admin-audit.png`, fullPage: true });
await browser.close();
