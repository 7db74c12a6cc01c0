import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatUsd, parseStatus, statusBarView } from "../src/status";

describe("the status bar", () => {
  it("shows today's spend when no task is current", () => {
    const view = statusBarView(parseStatus({ today_usd: 0.5, task: null }));
    assert.equal(view.text, "$(pulse) Tandem $0.50 today");
  });

  it("adds the current task's spend against its budget, with the stage in the tooltip", () => {
    const view = statusBarView(
      parseStatus({
        today_usd: 1.234,
        task: { task_id: "t-7", spent_usd: 0.0042, budget_usd: 1.5, stage: "planned" },
      }),
    );
    assert.equal(view.text, "$(pulse) Tandem $1.23 today · task $0.0042 / $1.50");
    assert.match(view.tooltip, /Task t-7 \(planned\): \$0\.0042 spent of a \$1\.50 budget/);
  });

  it("leaves the budget out when the task has none", () => {
    const view = statusBarView(
      parseStatus({ today_usd: 0, task: { task_id: "t", spent_usd: 0.2, budget_usd: null, stage: "drafted" } }),
    );
    assert.equal(view.text, "$(pulse) Tandem $0.00 today · task $0.20");
  });

  it("shows amounts below a cent with four decimals so cheap calls are visible", () => {
    assert.equal(formatUsd(0.00123), "$0.0012");
    assert.equal(formatUsd(0), "$0.00");
    assert.equal(formatUsd(12.345), "$12.35");
  });

  it("treats an answer of the wrong shape as no status, never as $0", () => {
    assert.equal(parseStatus(undefined), undefined);
    assert.equal(parseStatus({ today_usd: "3" }), undefined);
    assert.equal(parseStatus({ today_usd: 1, task: { spent_usd: "x" } }), undefined);
    assert.equal(statusBarView(undefined).text, "$(pulse) Tandem");
  });
});
