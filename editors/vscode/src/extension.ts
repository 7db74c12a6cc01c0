/**
 * The VS Code extension: starts `tandem serve`, passes settings, asks for the change request,
 * puts the commands in the palette and shows the spend in the status bar.
 *
 * Everything else is the language server's job and arrives through standard LSP: the plan opens
 * with `window/showDocument`, the draft lands in the refactor preview (change annotations that
 * need confirmation), review findings are diagnostics. This file only translates; the wording
 * and argument shapes live in the pure modules next to it.
 */

import * as fs from "fs";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import {
  anchorArgument,
  CLEANUP_MINUTES,
  type CommandArgument,
  DRAFT,
  draftArgument,
  ESTIMATE,
  needsRequest,
  PLAN,
  RATINGS,
  ratingTask,
  resultMessage,
  REVIEW,
  SHOW_REPORT,
  STATUS,
  withRequest,
} from "./commandArgs";
import { resolveServer } from "./serverCommand";
import { SECTION } from "./settingsSchema";
import { explicitValue, settingsTree, type SettingsTree } from "./settingsTree";
import { parseStatus, statusBarView } from "./status";

const LANGUAGES = [
  "python",
  "javascript",
  "javascriptreact",
  "typescript",
  "typescriptreact",
  "go",
  "rust",
  "java",
];

const PROGRESS_TITLES: { [command: string]: string } = {
  "tandem.plan": "Tandem: planning",
  "tandem.draft": "Tandem: drafting",
  "tandem.reapplyDraft": "Tandem: applying the draft",
  "tandem.redraft": "Tandem: drafting again",
  "tandem.review": "Tandem: reviewing",
  "tandem.estimate": "Tandem: estimating",
};

type Send = (command: string, args: unknown[]) => Promise<unknown>;

class TandemExtension {
  private client: LanguageClient | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly output = vscode.window.createOutputChannel("Tandem", { log: true });
  private readonly statusItem = vscode.window.createStatusBarItem(
    vscode.StatusBarAlignment.Right,
    100,
  );

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem.command = "tandem.editor.showReport";
    context.subscriptions.push(this.output, this.statusItem);
  }

  async start(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
    const resolution = resolveServer(
      { path: config.get<string>("server.path", ""), venv: config.get<string>("server.venv", "") },
      {
        platform: process.platform,
        searchPath: process.env.PATH ?? "",
        workspaceFolder: folder?.uri.fsPath,
        isExecutable: isExecutableFile,
      },
    );
    if (!resolution.found) {
      this.showStatus("$(warning) Tandem not installed", resolution.message);
      void this.explainMissingServer(resolution.message, resolution.installCommand);
      return;
    }
    this.output.appendLine(`starting ${resolution.command} serve (from ${resolution.source})`);
    const serverOptions: ServerOptions = {
      command: resolution.command,
      args: resolution.args,
      options: { cwd: folder?.uri.fsPath },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        ...LANGUAGES.map((language) => ({ scheme: "file", language })),
        { scheme: "file", pattern: "**/.tandem/tasks/*/plan.md" },
      ],
      initializationOptions: this.serverSettings(),
      outputChannel: this.output,
      middleware: {
        executeCommand: (command, args, next) =>
          this.run(command, args, (name, values) => Promise.resolve(next(name, values) as unknown)),
      },
    };
    const client = new LanguageClient("tandem", "Tandem", serverOptions, clientOptions);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      const message = `Tandem: could not start ${resolution.command} serve: ${String(error)}`;
      this.showStatus("$(error) Tandem", message);
      void vscode.window.showErrorMessage(message, "Show server log").then((choice) => {
        if (choice !== undefined) {
          this.output.show();
        }
      });
      return;
    }
    this.startPolling();
  }

  async stop(): Promise<void> {
    this.stopPolling();
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      await client.stop();
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The settings tree of the values the user set (see settingsTree.ts). */
  serverSettings(): SettingsTree {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
    const declared = Object.keys(
      (this.context.extension.packageJSON as {
        contributes: { configuration: { properties: { [key: string]: unknown } } };
      }).contributes.configuration.properties,
    );
    const prefix = `${SECTION}.`;
    const entries: [string, unknown][] = declared
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length))
      .map((key) => [key, explicitValue(config.inspect(key))]);
    return settingsTree(entries);
  }

  async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (event.affectsConfiguration(`${SECTION}.server`)) {
      const choice = await vscode.window.showInformationMessage(
        "Tandem: the server settings changed; restart the server to use them.",
        "Restart",
      );
      if (choice === "Restart") {
        await this.restart();
      }
      return;
    }
    if (event.affectsConfiguration(`${SECTION}.statusBar`)) {
      this.startPolling();
    }
    if (event.affectsConfiguration(SECTION) && this.client?.isRunning()) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: this.serverSettings() },
      });
    }
  }

  /**
   * Every server command goes through here, from the palette or from a code action (via the
   * client's executeCommand middleware): ask for the change request when `tandem.plan` has none,
   * show progress, then say what happened.
   */
  async run(command: string, args: unknown[], send: Send): Promise<unknown> {
    let values = args;
    if (needsRequest(command, args)) {
      const request = await vscode.window.showInputBox({
        title: "Tandem: plan this change",
        prompt: "What should change? The plan opens for your approval before anything is drafted.",
        placeHolder: "e.g. add an optional `archived` filter to GET /projects, with tests",
        ignoreFocusOut: true,
      });
      if (request === undefined || request.trim() === "") {
        return undefined;
      }
      values = withRequest(args, request);
    }
    let result: unknown;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: PROGRESS_TITLES[command] },
        () => send(command, values),
      );
    } catch (error) {
      void vscode.window.showErrorMessage(`Tandem: ${command} failed: ${errorText(error)}`);
      return undefined;
    } finally {
      void this.pollStatus();
    }
    void this.report(command, result);
    return result;
  }

  private async report(command: string, result: unknown): Promise<void> {
    if (command === ESTIMATE) {
      const markdown = (result as { markdown?: unknown } | undefined)?.markdown;
      if (typeof markdown === "string") {
        const doc = await vscode.workspace.openTextDocument({ content: markdown, language: "markdown" });
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
      }
      return;
    }
    const rate = ratingTask(command, result);
    if (rate !== undefined && vscode.workspace.getConfiguration(SECTION).get<boolean>("ratingPrompt.enabled", true)) {
      void this.askRating(rate);
    }
    const message = resultMessage(command, result);
    if (message === undefined) {
      return;
    }
    const show =
      message.level === "warning" ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const buttons = message.action === undefined ? [] : [message.action.title];
    const choice = await show(message.text, ...buttons);
    if (choice !== undefined && message.action !== undefined) {
      await this.runOnServer(message.action.command, message.action.argument);
    }
  }

  /** A non-modal notification asking for the task's rating, then its cleanup minutes. */
  private async askRating(taskId: string): Promise<void> {
    const rating = await vscode.window.showInformationMessage(
      `Tandem: how good was the draft of task ${taskId}? (1 poor, 5 ready to merge)`,
      ...RATINGS,
    );
    if (rating === undefined) {
      return;
    }
    const minutes = await vscode.window.showInformationMessage(
      "Tandem: minutes you spent cleaning it up?",
      ...CLEANUP_MINUTES,
    );
    const argument: CommandArgument = { task_id: taskId, rating: Number(rating) };
    if (minutes !== undefined) {
      argument.cleanup_minutes = Number(minutes);
    }
    try {
      await this.client?.sendRequest(ExecuteCommandRequest.type, {
        command: "tandem.rateTask",
        arguments: [argument],
      });
    } catch (error) {
      void vscode.window.showWarningMessage(`Tandem: the rating was not recorded: ${errorText(error)}`);
    }
  }

  /** A server command from the palette: sent straight to the running server, through run(). */
  async runOnServer(command: string, argument: CommandArgument): Promise<unknown> {
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      const choice = await vscode.window.showWarningMessage(
        "Tandem: the server is not running.",
        "Start it",
        "Show server log",
      );
      if (choice === "Start it") {
        await this.restart();
      } else if (choice === "Show server log") {
        this.output.show();
      }
      return undefined;
    }
    return this.run(command, [argument], (name, values) =>
      client.sendRequest(ExecuteCommandRequest.type, { command: name, arguments: values }),
    );
  }

  /** The anchor for plan, review-selection and estimate: the active file and its selection. */
  anchor(): CommandArgument | undefined {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || editor.document.uri.scheme !== "file") {
      void vscode.window.showWarningMessage("Tandem: open a file and put the cursor in the code to change.");
      return undefined;
    }
    const selection = editor.selection;
    const range = selection.isEmpty
      ? { start: selection.active, end: selection.active }
      : { start: selection.start, end: selection.end };
    return anchorArgument(editor.document.uri.toString(), {
      start: { line: range.start.line, character: range.start.character },
      end: { line: range.end.line, character: range.end.character },
    });
  }

  registerCommands(): void {
    const register = (id: string, handler: () => unknown): void => {
      this.context.subscriptions.push(vscode.commands.registerCommand(id, handler));
    };
    const withAnchor = (command: string) => async () => {
      const anchor = this.anchor();
      return anchor === undefined ? undefined : this.runOnServer(command, anchor);
    };
    register("tandem.editor.plan", withAnchor(PLAN));
    register("tandem.editor.reviewSelection", withAnchor(REVIEW));
    register("tandem.editor.estimate", withAnchor(ESTIMATE));
    register("tandem.editor.draft", () =>
      this.runOnServer(DRAFT, draftArgument(vscode.window.activeTextEditor?.document.uri.fsPath)),
    );
    register("tandem.editor.reviewChanges", () => this.runOnServer(REVIEW, { working_tree: true }));
    register("tandem.editor.showReport", () => this.runOnServer(SHOW_REPORT, {}));
    register("tandem.editor.restart", () => this.restart());
    register("tandem.editor.showOutput", () => this.output.show());
    this.context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
    );
  }

  private startPolling(): void {
    this.stopPolling();
    const seconds = vscode.workspace.getConfiguration(SECTION).get<number>("statusBar.pollSeconds", 5);
    if (seconds <= 0) {
      this.statusItem.hide();
      return;
    }
    this.showStatus(statusBarView(undefined).text, statusBarView(undefined).tooltip);
    void this.pollStatus();
    this.pollTimer = setInterval(() => void this.pollStatus(), seconds * 1000);
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** Asks `tandem.status` directly (not through run(): no progress, no messages). */
  private async pollStatus(): Promise<void> {
    const client = this.client;
    if (this.polling || client === undefined || !client.isRunning() || this.pollTimer === undefined) {
      return;
    }
    const commands = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (!commands.includes(STATUS)) {
      // An older server without tandem.status: say so once instead of asking every few seconds.
      this.stopPolling();
      this.showStatus("$(pulse) Tandem", "Tandem: this server does not report spend (no tandem.status)");
      return;
    }
    this.polling = true;
    try {
      const raw: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
        command: STATUS,
        arguments: [{}],
      });
      const view = statusBarView(parseStatus(raw));
      this.showStatus(view.text, view.tooltip);
    } catch (error) {
      const view = statusBarView(undefined);
      this.showStatus(view.text, `${view.tooltip} (${errorText(error)})`);
    } finally {
      this.polling = false;
    }
  }

  private showStatus(text: string, tooltip: string): void {
    this.statusItem.text = text;
    this.statusItem.tooltip = tooltip;
    this.statusItem.show();
  }

  private async explainMissingServer(message: string, installCommand: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      message,
      "Copy install command",
      "Open settings",
    );
    if (choice === "Copy install command") {
      await vscode.env.clipboard.writeText(installCommand);
      void vscode.window.showInformationMessage(
        `Copied \`${installCommand}\`. Run it in a terminal, then run "Tandem: Restart server".`,
      );
    } else if (choice === "Open settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "tandem.server");
    }
  }
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let extension: TandemExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extension = new TandemExtension(context);
  extension.registerCommands();
  await extension.start();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
