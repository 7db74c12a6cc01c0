/**
 * The status bar text for `tandem.status`: today's spend and the current task's budget.
 * Pure, so the wording is unit-tested.
 */

export interface TaskStatus {
  task_id: string;
  spent_usd: number;
  budget_usd: number | null;
  stage: string;
}

export interface ServerStatus {
  today_usd: number;
  task: TaskStatus | null;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
}

/** Cents for ordinary amounts; four decimals below a cent so cheap calls do not read as $0.00. */
export function formatUsd(amount: number): string {
  if (amount > 0 && amount < 0.01) {
    return `$${amount.toFixed(4)}`;
  }
  return `$${amount.toFixed(2)}`;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** Checks the shape the contract promises; anything else is treated as "no status". */
export function parseStatus(raw: unknown): ServerStatus | undefined {
  if (typeof raw !== "object" || raw === null) {
    return undefined;
  }
  const record = raw as { [key: string]: unknown };
  if (!isNumber(record.today_usd)) {
    return undefined;
  }
  const task = record.task;
  if (task === null || task === undefined) {
    return { today_usd: record.today_usd, task: null };
  }
  if (typeof task !== "object") {
    return undefined;
  }
  const fields = task as { [key: string]: unknown };
  if (!isNumber(fields.spent_usd)) {
    return undefined;
  }
  return {
    today_usd: record.today_usd,
    task: {
      task_id: typeof fields.task_id === "string" ? fields.task_id : "",
      spent_usd: fields.spent_usd,
      budget_usd: isNumber(fields.budget_usd) ? fields.budget_usd : null,
      stage: typeof fields.stage === "string" ? fields.stage : "",
    },
  };
}

export function statusBarView(status: ServerStatus | undefined): StatusBarView {
  if (status === undefined) {
    return { text: "$(pulse) Tandem", tooltip: "Tandem: spend not available yet" };
  }
  let text = `$(pulse) Tandem ${formatUsd(status.today_usd)} today`;
  const tooltip = [`Spent today: ${formatUsd(status.today_usd)}`];
  const task = status.task;
  if (task !== null) {
    const budget = task.budget_usd === null ? "" : ` / ${formatUsd(task.budget_usd)}`;
    text += ` · task ${formatUsd(task.spent_usd)}${budget}`;
    tooltip.push(
      `Task ${task.task_id} (${task.stage}): ${formatUsd(task.spent_usd)} spent` +
        (task.budget_usd === null ? "" : ` of a ${formatUsd(task.budget_usd)} budget`),
    );
  }
  tooltip.push("Click for the report");
  return { text, tooltip: tooltip.join("\n") };
}
