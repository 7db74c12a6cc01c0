/**
 * Finds the `tandem` executable the extension starts as `tandem serve`, or explains how to
 * install it. Pure: the file system check and the environment are passed in.
 */

import * as path from "path";

export const INSTALL_COMMAND = "python3 -m pip install tandem-lsp";
export const PIPX_INSTALL_COMMAND = "pipx install tandem-lsp";

export interface ServerSettings {
  /** `tandem.server.path` ("" when unset). */
  path: string;
  /** `tandem.server.venv` ("" when unset). */
  venv: string;
}

export interface Environment {
  platform: NodeJS.Platform;
  /** The PATH variable. */
  searchPath: string;
  /** The first workspace folder, if any. */
  workspaceFolder?: string;
  isExecutable(file: string): boolean;
}

export type Resolution =
  | { found: true; command: string; args: string[]; source: string }
  | { found: false; message: string; installCommand: string };

const WORKSPACE_VENVS = [".venv", "venv"];

/** Path rules of the platform the server runs on (testable from any platform). */
function paths(env: Environment): path.PlatformPath {
  return env.platform === "win32" ? path.win32 : path.posix;
}

function executableName(env: Environment): string {
  return env.platform === "win32" ? "tandem.exe" : "tandem";
}

function venvExecutable(venv: string, env: Environment): string {
  const bin = env.platform === "win32" ? "Scripts" : "bin";
  return paths(env).join(venv, bin, executableName(env));
}

function absolute(file: string, env: Environment): string {
  if (paths(env).isAbsolute(file) || env.workspaceFolder === undefined) {
    return file;
  }
  return paths(env).join(env.workspaceFolder, file);
}

function serve(command: string, source: string): Resolution {
  return { found: true, command, args: ["serve"], source };
}

/** Order: `tandem.server.path`, `tandem.server.venv`, a workspace `.venv`/`venv`, then PATH. */
export function resolveServer(settings: ServerSettings, env: Environment): Resolution {
  const configuredPath = settings.path.trim();
  if (configuredPath !== "") {
    const file = absolute(configuredPath, env);
    if (env.isExecutable(file)) {
      return serve(file, "tandem.server.path");
    }
    return {
      found: false,
      message: `Tandem: tandem.server.path is ${file}, which is not an executable file.`,
      installCommand: INSTALL_COMMAND,
    };
  }
  const configuredVenv = settings.venv.trim();
  if (configuredVenv !== "") {
    const venv = absolute(configuredVenv, env);
    const file = venvExecutable(venv, env);
    if (env.isExecutable(file)) {
      return serve(file, "tandem.server.venv");
    }
    const pip = paths(env).join(venv, env.platform === "win32" ? "Scripts" : "bin", "pip");
    return {
      found: false,
      message: `Tandem is not installed in the virtual environment ${venv} (tandem.server.venv).`,
      installCommand: `${pip} install tandem-lsp`,
    };
  }
  if (env.workspaceFolder !== undefined) {
    for (const name of WORKSPACE_VENVS) {
      const file = venvExecutable(paths(env).join(env.workspaceFolder, name), env);
      if (env.isExecutable(file)) {
        return serve(file, `the workspace's ${name}`);
      }
    }
  }
  const separator = env.platform === "win32" ? ";" : ":";
  for (const dir of env.searchPath.split(separator)) {
    if (dir === "") {
      continue;
    }
    const file = paths(env).join(dir, executableName(env));
    if (env.isExecutable(file)) {
      return serve(file, "PATH");
    }
  }
  return {
    found: false,
    message:
      "Tandem is not installed: no `tandem` on PATH or in the workspace's .venv. Install it " +
      `(\`${INSTALL_COMMAND}\` or \`${PIPX_INSTALL_COMMAND}\`), or set tandem.server.path or ` +
      "tandem.server.venv.",
    installCommand: INSTALL_COMMAND,
  };
}
