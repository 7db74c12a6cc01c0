// Opens a `tandem report --html` page in headless chromium (playwright-core, no browser download)
// and prints what a person would see as JSON: each chart's bars with their figures and drawn
// sizes, the advice list, and any page errors. Usage: node report_page.cjs PAGE.html
const path = require("path");
const { createRequire } = require("module");

const home = process.env.VSCODE_E2E_HOME;
const { chromium } = createRequire(path.join(home, "tools", "package.json"))("playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1400 } });
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto("file://" + path.resolve(process.argv[2]));
    const seen = await page.evaluate(() => {
      const charts = {};
      for (const svg of document.querySelectorAll("svg[data-chart]")) {
        const box = svg.getBoundingClientRect();
        charts[svg.dataset.chart] = {
          width: box.width,
          height: box.height,
          bars: [...svg.querySelectorAll("rect.bar")].map((bar) => ({
            ...bar.dataset,
            drawn: bar.getBoundingClientRect().width,
            visible: bar.getBoundingClientRect().height > 0,
            tip: bar.querySelector("title").textContent,
          })),
        };
      }
      const advice = [...document.querySelectorAll("ul.advice li")].map((li) => ({
        setting: li.dataset.setting,
        kind: li.className,
        text: li.textContent,
      }));
      return { title: document.title, charts, advice };
    });
    if (process.env.E2E_SCREENSHOT) {
      await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });
    }
    console.log(JSON.stringify({ ...seen, errors }));
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(String(error));
  process.exit(1);
});
