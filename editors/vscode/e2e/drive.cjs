// Drives code-server with playwright-core and Debian's chromium: "Tandem: Plan this change" on
// get_projects, then waits for the plan document and takes the README screenshot.
// Run by run.sh (which sets the E2E_* variables and puts playwright-core under VSCODE_E2E_HOME).
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const home = process.env.VSCODE_E2E_HOME;
const { chromium } = createRequire(path.join(home, "tools", "package.json"))("playwright-core");

const REQUEST =
  "add an optional `archived` filter to GET /projects: keep the default behaviour, accept " +
  "true/false, reject other values, filter in the query, with tests";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function step(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`  [${seconds} s] ${message}`);
}

const started = Date.now();

/** Opens the quick input with F1 and replaces its ">" prefix with `text` (file or :line). */
async function quickInput(page, text) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input.input");
  await input.waitFor({ state: "visible" });
  await input.fill(text);
  return input;
}

/** Runs a palette command by its exact title. */
async function runCommand(page, title) {
  const input = await quickInput(page, `>${title}`);
  await page
    .locator(".quick-input-list .monaco-list-row", { hasText: title })
    .first()
    .waitFor({ timeout: 30_000 });
  await input.press("Enter");
}

async function main() {
  const context = await chromium.launchPersistentContext(process.env.E2E_BROWSER_PROFILE, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await page.goto(process.env.E2E_URL);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    step("workbench loaded");

    // Open the handler through Quick Open and put the cursor inside get_projects.
    let input = await quickInput(page, "app/handlers.py");
    await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 30_000 });
    await input.press("Enter");
    await page.locator('.tab[aria-label^="handlers.py"]').waitFor({ timeout: 30_000 });
    await page.locator(".monaco-editor .view-lines").first().waitFor();
    input = await quickInput(page, ":12");
    await input.press("Enter");
    step("app/handlers.py open at line 12");

    // The extension activates on Python and shows the spend once the server answers.
    const statusBar = page.locator("#status\\.extensionItems .statusbar-item, .statusbar-item", {
      hasText: "Tandem",
    });
    await statusBar.first().waitFor({ timeout: 60_000 });
    await page
      .locator(".statusbar-item", { hasText: /Tandem \$[0-9.]+ today/ })
      .first()
      .waitFor({ timeout: 60_000 });
    step(`status bar: ${(await statusBar.first().innerText()).trim()}`);

    // The palette command, then the change request in the extension's input box.
    input = await quickInput(page, ">Tandem: Plan this change");
    await page
      .locator(".quick-input-list .monaco-list-row", { hasText: "Tandem: Plan this change" })
      .first()
      .waitFor({ timeout: 30_000 });
    await input.press("Enter");
    await page
      .locator(".quick-input-widget", { hasText: "What should change?" })
      .waitFor({ timeout: 30_000 });
    input = page.locator(".quick-input-widget input.input");
    await input.fill(REQUEST);
    await input.press("Enter");
    step("asked for a plan");

    // The server opens the plan with window/showDocument.
    await page.locator('.tab[aria-label^="plan.md"]').waitFor({ timeout: 120_000 });
    await page
      .locator(".monaco-editor .view-lines", { hasText: "archived" })
      .first()
      .waitFor({ timeout: 30_000 });
    step("plan.md open in the editor");
    await page
      .locator(".notification-toast", { hasText: "plan ready" })
      .waitFor({ timeout: 30_000 })
      .catch(() => step("(no plan-ready notification seen)"));
    await page
      .locator(".statusbar-item", { hasText: /task \$/ })
      .first()
      .waitFor({ timeout: 30_000 });
    step(`status bar: ${(await statusBar.first().innerText()).trim()}`);
    await page.screenshot({ path: process.env.E2E_SCREENSHOT });
    step(`screenshot ${process.env.E2E_SCREENSHOT}`);

    // Draft from the plan: the edits arrive in the refactor preview; apply them there.
    await page.keyboard.press("Escape");
    input = await quickInput(page, ">Tandem: Draft from plan");
    await page
      .locator(".quick-input-list .monaco-list-row", { hasText: "Tandem: Draft from plan" })
      .first()
      .waitFor({ timeout: 30_000 });
    await input.press("Enter");
    const preview = page.locator(".bulk-edit-panel", { hasText: "handlers.py" });
    await preview.first().waitFor({ timeout: 120_000 });
    await preview.first().locator(".monaco-tl-contents.textedit").first().waitFor();
    step("draft shown in the refactor preview");
    await page.screenshot({ path: process.env.E2E_DRAFT_SCREENSHOT });
    step(`screenshot ${process.env.E2E_DRAFT_SCREENSHOT}`);
    // Collapse every file so all of them fit in the panel (the tree renders only visible rows),
    // then see the patch of README.md, the rename and the delete listed beside the code.
    const open = preview.first().locator(".monaco-tl-twistie.collapsible:not(.collapsed)");
    for (let tries = 0; (await open.count()) > 0 && tries < 20; tries += 1) {
      await open.first().click();
    }
    for (const name of ["README.md", "notes.md", "stale.md"]) {
      await preview.first().locator(".monaco-tl-contents", { hasText: name }).first().waitFor();
    }
    step("the preview lists the patch of README.md, the rename and the delete");
    // Edits that need confirmation start unchecked: tick each file, as a user accepting them.
    const files = preview.first().locator(".monaco-tl-contents:not(.textedit) .edit-checkbox");
    const count = await files.count();
    for (let index = 0; index < count; index += 1) {
      await files.nth(index).click();
    }
    step(`ticked ${count} files in the preview`);
    await preview.first().getByRole("button", { name: "Apply", exact: true }).click();
    await page
      .locator('.tab[aria-label^="handlers.py"]')
      .click();
    await page
      .locator(".monaco-editor .view-lines", { hasText: "archived" })
      .first()
      .waitFor({ timeout: 30_000 });
    step("draft applied: app/handlers.py reads the archived parameter");
    // The file-level kinds went through the same preview: rename and delete on disk.
    const ws = process.env.E2E_WORKSPACE;
    const onDisk = () =>
      fs.existsSync(path.join(ws, "docs", "notes.md")) &&
      !fs.existsSync(path.join(ws, "docs", "old_notes.md")) &&
      !fs.existsSync(path.join(ws, "docs", "stale.md"));
    for (let tries = 0; !onDisk(); tries += 1) {
      if (tries > 300) throw new Error("the draft's rename or delete did not reach the disk");
      await page.waitForTimeout(100);
    }
    step("docs/old_notes.md renamed to docs/notes.md, docs/stale.md deleted");

    // Save, then review the working tree against HEAD: findings arrive as diagnostics.
    await runCommand(page, "File: Save All");
    // The review reads the files on disk: wait until no editor tab is left unsaved.
    await page.waitForFunction(() => !document.querySelector(".tab.dirty"), undefined, {
      timeout: 30_000,
    });
    // The patch of README.md (a file Tandem does not slice) is saved with the rest; it has no
    // tab to watch, so wait for the disk.
    const patched = () =>
      fs.readFileSync(path.join(ws, "README.md"), "utf8").includes("patched by the e2e draft");
    for (let tries = 0; !patched(); tries += 1) {
      if (tries > 300) throw new Error("the draft's patch of README.md is not on disk after Save All");
      await page.waitForTimeout(100);
    }
    step("README.md patched");
    await runCommand(page, "Tandem: Review changes since HEAD");
    const verdict = page.locator(".notification-toast", { hasText: "Tandem review:" });
    await verdict.first().waitFor({ timeout: 120_000 });
    step(`review: ${(await verdict.first().innerText()).split("\n").find((line) => line.includes("Tandem review:"))}`);
    const problems = page.locator("#status\\.problems");
    await page.waitForFunction(
      () => /[1-9]/.test(document.querySelector("#status\\.problems")?.textContent ?? ""),
      undefined,
      { timeout: 30_000 },
    );
    step(`problems in the status bar: ${(await problems.innerText()).replace(/\s+/g, " ").trim()}`);
    step(`status bar: ${(await statusBar.first().innerText()).trim()}`);

    // The report: the server writes .tandem/report.md and opens it.
    await runCommand(page, "Tandem: Show report");
    await page.locator('.tab[aria-label^="report.md"]').waitFor({ timeout: 60_000 });
    step("report.md open");

    // An estimate for the handler (nothing sent to a model) opens as a markdown tab.
    await page.locator('.tab[aria-label^="handlers.py"]').click();
    await runCommand(page, "Tandem: Estimate cost");
    await page
      .locator(".monaco-editor .view-lines", { hasText: "Tandem preview" })
      .filter({ hasText: "nothing is sent" })
      .first()
      .waitFor({ timeout: 60_000 });
    step("estimate open beside the code");
  } catch (error) {
    await page.screenshot({ path: process.env.E2E_FAILURE_SHOT }).catch(() => undefined);
    throw error;
  } finally {
    await context.close();
  }
}

main().catch((error) => {
  console.error(`e2e: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
