--- `:checkhealth tandem`: Neovim version, the Tandem executable and its version, the result
--- of `tandem doctor` for the current workspace, and the running client.
local config = require("tandem.config")

local M = {}

local health = vim.health

local TIMEOUT_MS = 20000

---@param args string[]
---@return vim.SystemCompleted|nil result, string|nil error
local function run(args, cwd)
  local ok, process = pcall(vim.system, args, {
    text = true,
    cwd = cwd,
    env = config.options.cmd_env,
  })
  if not ok then
    return nil, tostring(process)
  end
  local result = process:wait(TIMEOUT_MS)
  if result.code == 124 then -- vim.system's exit code for a timeout
    return nil, string.format("timed out after %d ms", TIMEOUT_MS)
  end
  return result, nil
end

local function check_neovim()
  local version = vim.version()
  local text = string.format("Neovim %d.%d.%d", version.major, version.minor, version.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(text .. (vim.fn.has("nvim-0.11") == 1 and " (vim.lsp.config/enable)" or " (vim.lsp.start)"))
  else
    health.error(text .. " is too old", { "Tandem needs Neovim 0.10 or later" })
  end
end

--- The running client's root (the health buffer itself has none), else the current directory.
local function workspace()
  local client = vim.lsp.get_clients({ name = require("tandem").client_name })[1]
  return client and client.root_dir or vim.fn.getcwd()
end

--- One health line per `tandem doctor` line: "ok " → ok, "-- " → warn, "!! " → error; a
--- following "fix:" line becomes the advice.
---@param output string
local function report_doctor(output)
  local lines = vim.split(output, "\n", { trimempty = true })
  local i = 1
  while i <= #lines do
    local line = lines[i]
    local advice = nil
    local next_line = lines[i + 1]
    if next_line and next_line:match("^%s+fix: ") then
      advice = { (next_line:gsub("^%s+fix: ", "")) }
      i = i + 1
    end
    local mark, text = line:sub(1, 3), line:sub(4)
    if mark == "ok " then
      health.ok(text)
    elseif mark == "-- " then
      health.warn(text, advice)
    elseif mark == "!! " then
      health.error(text, advice)
    else
      health.info(line)
    end
    i = i + 1
  end
end

local function check_executable()
  local cmd = config.options.cmd
  local path, reason = config.executable(cmd)
  if not path then
    health.error("Tandem not found: " .. reason)
    return false
  end
  health.ok(string.format("server command: %s (%s)", table.concat(cmd, " "), path))
  local base = config.base_cmd(cmd)
  local result, err = run(vim.list_extend(vim.deepcopy(base), { "version" }))
  if not result then
    health.error("`" .. table.concat(base, " ") .. " version` did not run: " .. err)
    return false
  end
  if result.code ~= 0 then
    health.error(
      "`" .. table.concat(base, " ") .. " version` failed (exit " .. result.code .. ")",
      { vim.trim(result.stderr or "") }
    )
    return false
  end
  health.ok("version: " .. vim.trim(result.stdout))
  return true
end

local function check_doctor()
  local root = workspace()
  local base = config.base_cmd()
  local args = vim.list_extend(vim.deepcopy(base), { "doctor", "--workspace", root })
  health.info("`" .. table.concat(args, " ") .. "`:")
  local result, err = run(args, root)
  if not result then
    health.error("`tandem doctor` did not run: " .. err)
    return
  end
  report_doctor(result.stdout or "")
  if result.code ~= 0 and (result.stdout or "") == "" then
    health.error("`tandem doctor` failed (exit " .. result.code .. ")", { vim.trim(result.stderr or "") })
  end
end

local function check_client()
  local clients = vim.lsp.get_clients({ name = require("tandem").client_name })
  if #clients == 0 then
    health.info("no Tandem client is running (open a file of a configured filetype)")
    return
  end
  for _, client in ipairs(clients) do
    local info = require("tandem").server_info[client.id] or {}
    local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
    local commands = type(provider) == "table" and provider.commands or {}
    health.ok(
      string.format(
        "client %d running: %s %s, root %s, commands: %s",
        client.id,
        info.name or "?",
        info.version or "?",
        client.root_dir or client.config.root_dir or "?",
        #commands > 0 and table.concat(commands, ", ") or "(none)"
      )
    )
  end
end

function M.check()
  health.start("Neovim")
  check_neovim()
  health.start("Tandem")
  if not config.is_setup then
    health.warn("require('tandem').setup() has not been called; checking the defaults", {
      "add require('tandem').setup({}) to your configuration",
    })
  end
  if check_executable() then
    health.start("tandem doctor")
    check_doctor()
  end
  health.start("Client")
  check_client()
end

return M
