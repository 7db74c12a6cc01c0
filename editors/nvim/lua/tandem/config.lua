--- Tandem for Neovim: the options `setup()` accepts, their defaults, and helpers on them.
local M = {}

---@class tandem.Options
---@field cmd string[] how to start the server, e.g. { "tandem", "serve" } or { "/venv/bin/tandem", "serve" }
---@field cmd_env table<string, string>|nil extra environment for the server process
---@field filetypes string[] filetypes the server attaches to (plan documents under .tandem/ always attach)
---@field root_markers string[] files that mark the workspace root, in order of preference
---@field settings table Tandem settings (the same tree as tandem.toml), sent as initializationOptions and settings
---@field plan_window "vsplit"|"split"|"current" where documents the server opens (plans, reports) are shown
---@field confirm_edits boolean ask (vim.ui.select) before applying a workspace edit whose change annotations need confirmation (drafts)
---@field ask_rating boolean after a draft is applied or discarded, ask once (vim.ui.select) for a 1-5 rating and cleanup minutes
M.defaults = {
  cmd = { "tandem", "serve" },
  cmd_env = nil,
  filetypes = {
    "python",
    "javascript",
    "javascriptreact",
    "typescript",
    "typescriptreact",
    "go",
    "rust",
    "java",
  },
  root_markers = { "tandem.toml", "pyproject.toml", ".git" },
  settings = {},
  plan_window = "vsplit",
  confirm_edits = true,
  ask_rating = true,
}

---@type tandem.Options
M.options = vim.deepcopy(M.defaults)
M.is_setup = false

---@param opts table|nil
---@return tandem.Options
function M.apply(opts)
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  -- Lists replace the default instead of merging index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts and opts[key] ~= nil then
      merged[key] = vim.deepcopy(opts[key])
    end
  end
  for _, spec in ipairs({
    { "cmd", "table" },
    { "filetypes", "table" },
    { "root_markers", "table" },
    { "settings", "table" },
    { "cmd_env", "table", true },
    { "plan_window", "string" },
    { "confirm_edits", "boolean" },
    { "ask_rating", "boolean" },
  }) do
    local name, expected, optional = spec[1], spec[2], spec[3]
    local value = merged[name]
    if not (type(value) == expected or (optional and value == nil)) then
      error(string.format("tandem: option `%s` must be a %s, got %s", name, expected, type(value)))
    end
  end
  if not vim.list_contains({ "vsplit", "split", "current" }, merged.plan_window) then
    error("tandem: option `plan_window` must be \"vsplit\", \"split\" or \"current\"")
  end
  if #merged.cmd == 0 or type(merged.cmd[1]) ~= "string" then
    error("tandem: `cmd` must be a non-empty list of strings, e.g. { 'tandem', 'serve' }")
  end
  M.options = merged
  M.is_setup = true
  return merged
end

--- The command without its `serve ...` tail: the prefix that runs other Tandem subcommands
--- (`tandem version`, `tandem doctor`) the same way the server is started.
---@param cmd string[]|nil
---@return string[]
function M.base_cmd(cmd)
  cmd = cmd or M.options.cmd
  local base = {}
  for _, part in ipairs(cmd) do
    if part == "serve" then
      break
    end
    base[#base + 1] = part
  end
  return base
end

--- The executable's full path, or nil with the reason it cannot be run.
---@param cmd string[]|nil
---@return string|nil path, string|nil reason
function M.executable(cmd)
  cmd = cmd or M.options.cmd
  local program = cmd[1]
  local path = vim.fn.exepath(program)
  if path ~= "" then
    return path, nil
  end
  local reason
  if program:find("/", 1, true) then
    reason = string.format("`%s` does not exist or is not executable", program)
  else
    reason = string.format("`%s` is not on $PATH", program)
  end
  return nil,
    reason
      .. ". Install Tandem (`pip install tandem-lsp`, or `pip install -e .` in a checkout) "
      .. "or point `cmd` at it, e.g. require('tandem').setup({ cmd = { '/path/to/venv/bin/tandem', 'serve' } })"
end

return M
