"""A report rendered as a text table, markdown, JSON or CSV (the HTML page is :mod:`.html`)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from tandem.reports.tables import Cell, Report, ReportFormat


def cell_text(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:.4f}" if value < 1000 else f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _json_cell(value: Cell) -> object:
    # Dollars stay exact: Decimal as a string.
    return str(value) if isinstance(value, Decimal) else value


def report_heading(report: Report) -> str:
    scope = f"since {report.since:%Y-%m-%d %H:%M} UTC" if report.since else "all time"
    if report.task_id:
        scope += f", task {report.task_id}"
    if report.trial_id:
        scope = f"trial {report.trial_id}"
    return f"Tandem report ({scope})"


def render_table(report: Report) -> str:
    out = [report_heading(report), ""]
    for table in report.tables:
        out.append(table.title)
        if not table.rows:
            out += ["  (nothing recorded)", ""]
            continue
        cells = [list(table.columns)] + [[cell_text(c) for c in row] for row in table.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(table.columns))]
        for index, line in enumerate(cells):
            padded = "  ".join(text.ljust(widths[i]) for i, text in enumerate(line))
            out.append(("  " + padded).rstrip())
            if index == 0:
                out.append("  " + "  ".join("-" * width for width in widths))
        if table.note:
            out.append(f"  ({table.note})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_markdown(report: Report) -> str:
    out = [f"# {report_heading(report)}", ""]
    for table in report.tables:
        out += [f"## {table.title}", ""]
        if not table.rows:
            out += ["_Nothing recorded._", ""]
            continue
        out.append("| " + " | ".join(table.columns) + " |")
        out.append("| " + " | ".join("---" for _ in table.columns) + " |")
        for row in table.rows:
            texts = [cell_text(c).replace("|", "\\|") for c in row]
            out.append("| " + " | ".join(texts) + " |")
        if table.note:
            out += ["", f"_{table.note}_"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_json(report: Report) -> str:
    data = {
        "generated_at": report.generated_at.isoformat(),
        "since": report.since.isoformat() if report.since else None,
        "task": report.task_id,
        "trial": report.trial_id,
        "tables": {
            table.name: [
                {key: _json_cell(value) for key, value in record.items()}
                for record in table.records()
            ]
            for table in report.tables
        },
    }
    return json.dumps(data, indent=2) + "\n"


def render_csv(report: Report) -> str:
    """Every table stacked; the first column names the table so a spreadsheet can filter it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for table in report.tables:
        writer.writerow(["table", *table.columns])
        for row in table.rows:
            writer.writerow([table.name, *("" if c is None else _json_cell(c) for c in row)])
    return buffer.getvalue()


def render(report: Report, fmt: ReportFormat) -> str:
    renderers = {
        "table": render_table,
        "markdown": render_markdown,
        "json": render_json,
        "csv": render_csv,
    }
    return renderers[fmt](report)
