/**
 * Arguments of the server commands (see LSP_CONTRACT.md), built from the editor state, and the
 * messages shown for their results. Pure: positions and URIs come in as plain values.
 */

import { formatUsd } from "./status";

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type CommandArgument = { [key: string]: unknown };

export const PLAN = "tandem.plan";
export const DRAFT = "tandem.draft";
export const REAPPLY_DRAFT = "tandem.reapplyDraft";
export const REVIEW = "tandem.review";
export const REDRAFT = "tandem.redraft";
export const ESTIMATE = "tandem.estimate";
export const SHOW_REPORT = "tandem.showReport";
export const STATUS = "tandem.status";

/** The anchor of plan, review-selection and estimate: the document and, if any, the selection. */
export function anchorArgument(uri: string, selection: Range | undefined): CommandArgument {
  if (selection === undefined) {
    return { uri };
  }
  return { uri, range: selection };
}

/** `.../.tandem/tasks/<id>/plan.md` → `<id>`; the draft then targets that task's plan. */
export function taskIdFromPlanPath(fsPath: string): string | undefined {
  const match = /[\\/]\.tandem[\\/]tasks[\\/]([^\\/]+)[\\/]plan\.md$/.exec(fsPath);
  return match === null ? undefined : match[1];
}

export function draftArgument(activeFsPath: string | undefined): CommandArgument {
  const taskId = activeFsPath === undefined ? undefined : taskIdFromPlanPath(activeFsPath);
  return taskId === undefined ? {} : { task_id: taskId };
}

/** `tandem.plan` needs a change request; a request already in the arguments is kept. */
export function needsRequest(command: string, args: unknown[]): boolean {
  if (command !== PLAN) {
    return false;
  }
  const first = args[0];
  if (typeof first !== "object" || first === null) {
    return true;
  }
  const request = (first as CommandArgument).request;
  return typeof request !== "string" || request.trim() === "";
}

/** The same arguments with `request` added to the first (object) argument. */
export function withRequest(args: unknown[], request: string): unknown[] {
  const first = args[0];
  const base = typeof first === "object" && first !== null ? (first as CommandArgument) : {};
  return [{ ...base, request: request.trim() }, ...args.slice(1)];
}

export interface ResultMessage {
  level: "info" | "warning";
  text: string;
  /** Follow-up action offered as a button: the server command and its argument. */
  action?: { title: string; command: string; argument: CommandArgument };
}

function field(result: unknown, name: string): unknown {
  return typeof result === "object" && result !== null
    ? (result as CommandArgument)[name]
    : undefined;
}

function usd(value: unknown): string {
  return typeof value === "number" ? ` (${formatUsd(value)})` : "";
}

/** What to tell the user after a server command; undefined when the editor already shows it. */
export function resultMessage(command: string, result: unknown): ResultMessage | undefined {
  const taskId = field(result, "task_id");
  const task = typeof taskId === "string" ? taskId : undefined;
  switch (command) {
    case PLAN:
      return {
        level: "info",
        text:
          `Tandem: plan ready${task ? ` for task ${task}` : ""}${usd(field(result, "cost_usd"))}. ` +
          "Edit it if you like, then run Draft from plan.",
        action: { title: "Draft from plan", command: DRAFT, argument: task ? { task_id: task } : {} },
      };
    case DRAFT:
    case REAPPLY_DRAFT:
    case REDRAFT: {
      if (field(result, "applied") === true) {
        return undefined;
      }
      const reason = field(result, "reason");
      const text = `Tandem: the draft was not applied${typeof reason === "string" ? `: ${reason}` : "."}`;
      if (task === undefined) {
        return { level: "warning", text };
      }
      return {
        level: "warning",
        text,
        action: { title: "Apply again", command: REAPPLY_DRAFT, argument: { task_id: task } },
      };
    }
    case REVIEW: {
      const verdict = field(result, "verdict");
      const findings = field(result, "findings");
      const count = typeof findings === "number" ? findings : 0;
      return {
        level: "info",
        text:
          `Tandem review: ${typeof verdict === "string" ? verdict.replace(/_/g, " ") : "done"}, ` +
          `${count} finding${count === 1 ? "" : "s"}` +
          (count > 0 ? " (in the Problems panel)." : "."),
      };
    }
    default:
      return undefined;
  }
}

/**
 * The task to ask a 1-5 rating and cleanup minutes for after a draft was applied or discarded:
 * only when the server says this is the first time (`ask_rating`), so never twice.
 */
export function ratingTask(command: string, result: unknown): string | undefined {
  if (command !== DRAFT && command !== REAPPLY_DRAFT && command !== REDRAFT) {
    return undefined;
  }
  const taskId = field(result, "task_id");
  return field(result, "ask_rating") === true && typeof taskId === "string" ? taskId : undefined;
}

export const RATINGS = ["1", "2", "3", "4", "5"];
export const CLEANUP_MINUTES = ["0", "5", "15", "30", "60"];
