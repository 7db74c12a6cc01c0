import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  anchorArgument,
  draftArgument,
  needsRequest,
  ratingTask,
  resultMessage,
  taskIdFromPlanPath,
  withRequest,
} from "../src/commandArgs";

const range = { start: { line: 9, character: 0 }, end: { line: 13, character: 4 } };

describe("server command arguments", () => {
  it("anchors plan, review and estimate at the document and selection", () => {
    assert.deepEqual(anchorArgument("file:///a.py", range), { uri: "file:///a.py", range });
    assert.deepEqual(anchorArgument("file:///a.py", undefined), { uri: "file:///a.py" });
  });

  it("drafts the task whose plan.md is open, else the latest planned task", () => {
    assert.equal(taskIdFromPlanPath("/ws/.tandem/tasks/20261130-abc/plan.md"), "20261130-abc");
    assert.equal(taskIdFromPlanPath("C:\\ws\\.tandem\\tasks\\t1\\plan.md"), "t1");
    assert.equal(taskIdFromPlanPath("/ws/docs/plan.md"), undefined);
    assert.deepEqual(draftArgument("/ws/.tandem/tasks/t1/plan.md"), { task_id: "t1" });
    assert.deepEqual(draftArgument("/ws/app/handlers.py"), {});
    assert.deepEqual(draftArgument(undefined), {});
  });
});

describe("the change request added to tandem.plan", () => {
  it("is asked for only when tandem.plan has none", () => {
    assert.equal(needsRequest("tandem.plan", [{ uri: "file:///a.py" }]), true);
    assert.equal(needsRequest("tandem.plan", [{ uri: "file:///a.py", request: "  " }]), true);
    assert.equal(needsRequest("tandem.plan", []), true);
    assert.equal(needsRequest("tandem.plan", [{ uri: "file:///a.py", request: "add a filter" }]), false);
    assert.equal(needsRequest("tandem.review", [{ uri: "file:///a.py" }]), false);
  });

  it("is added to the code action's argument, keeping uri and range", () => {
    const args = withRequest([{ uri: "file:///a.py", range }], "  add a filter ");
    assert.deepEqual(args, [{ uri: "file:///a.py", range, request: "add a filter" }]);
  });
});

describe("messages after a command", () => {
  it("offers to draft once the plan is ready", () => {
    const message = resultMessage("tandem.plan", { task_id: "t1", plan_uri: "file:///p", cost_usd: 0.0042 });
    assert.match(message?.text ?? "", /plan ready for task t1 \(\$0\.0042\)/);
    assert.deepEqual(message?.action, { title: "Draft from plan", command: "tandem.draft", argument: { task_id: "t1" } });
  });

  it("stays quiet when the draft reached the refactor preview", () => {
    assert.equal(resultMessage("tandem.draft", { task_id: "t1", applied: true, edits: 3 }), undefined);
  });

  it("explains a refused draft and offers to apply it again", () => {
    const message = resultMessage("tandem.draft", {
      task_id: "t1",
      applied: false,
      reason: "app/handlers.py changed since the snapshot",
      edits: 2,
    });
    assert.equal(message?.level, "warning");
    assert.match(message?.text ?? "", /not applied: app\/handlers\.py changed/);
    assert.equal(message?.action?.command, "tandem.reapplyDraft");
  });

  it("counts review findings and points at the Problems panel", () => {
    assert.equal(
      resultMessage("tandem.review", { task_id: "t", verdict: "request_changes", findings: 2 })?.text,
      "Tandem review: request changes, 2 findings (in the Problems panel).",
    );
    assert.equal(resultMessage("tandem.review", { task_id: "t", verdict: "approve", findings: 0 })?.text, "Tandem review: approve, 0 findings.");
  });
});

describe("the rating prompt", () => {
  it("asks after a draft was applied or discarded, only when the server says it is the first time", () => {
    assert.equal(ratingTask("tandem.draft", { task_id: "t1", applied: true, ask_rating: true }), "t1");
    assert.equal(ratingTask("tandem.reapplyDraft", { task_id: "t1", applied: false, ask_rating: true }), "t1");
    assert.equal(ratingTask("tandem.draft", { task_id: "t1", applied: true, ask_rating: false }), undefined);
    assert.equal(ratingTask("tandem.draft", { task_id: "t1", applied: true }), undefined);
    assert.equal(ratingTask("tandem.review", { task_id: "t1", ask_rating: true }), undefined);
  });
});
