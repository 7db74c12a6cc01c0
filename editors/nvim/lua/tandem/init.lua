--- Tandem for Neovim: starts `tandem serve` on the built-in LSP client and adds the Tandem
--- commands (:TandemPlan, :TandemDraft, :TandemReview, :TandemEstimate, :TandemReport).
---
--- The server does the work; this plugin only asks the user for the change request, forwards
--- `workspace/executeCommand` and shows the results. Every finished command fires the autocmd
--- `User TandemCommandDone` with data `{ command, result, error }` (statuslines, tests).
local config = require("tandem.config")

local M = {}

M.client_name = "tandem"

local function notify(message, level)
  vim.notify("Tandem: " .. message, level or vim.log.levels.INFO)
end

local has_011 = vim.fn.has("nvim-0.11") == 1

--- `client.request` changed from a field to a method in 0.11.
local function client_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

-- Root detection ---------------------------------------------------------------------------

--- The workspace root for a buffer: the nearest directory holding the first marker found
--- (tandem.toml before pyproject.toml before .git), else the file's own directory.
---@param bufnr integer
---@return string|nil
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return nil
  end
  local path = vim.fs.normalize(vim.fn.fnamemodify(name, ":p"))
  -- A plan document lives in <root>/.tandem/tasks/<id>/plan.md: its root is above .tandem.
  local tandem_dir = path:match("^(.*)/%.tandem/")
  if tandem_dir then
    return tandem_dir
  end
  for _, marker in ipairs(config.options.root_markers) do
    local found = vim.fs.find(marker, { path = vim.fs.dirname(path), upward = true })[1]
    if found then
      return vim.fs.dirname(found)
    end
  end
  return vim.fs.dirname(path)
end

--- Whether the server should attach: a configured filetype, or a Tandem document (plan.md,
--- report.md) so that the server reads the plan as it stands in the buffer.
---@param bufnr integer
---@return boolean
function M.should_attach(bufnr)
  if vim.bo[bufnr].buftype ~= "" then
    return false
  end
  if vim.list_contains(config.options.filetypes, vim.bo[bufnr].filetype) then
    return true
  end
  return vim.api.nvim_buf_get_name(bufnr):find("/.tandem/", 1, true) ~= nil
end

-- Client configuration ---------------------------------------------------------------------

--- Documents the server opens (plans, the report) go into a split, so the code stays visible.
local function show_document_handler(err, result, ctx, cfg)
  local default = vim.lsp.handlers["window/showDocument"]
  local where = config.options.plan_window
  if result and not result.external and where ~= "current" then
    local bufnr = vim.uri_to_bufnr(result.uri)
    if #vim.fn.win_findbuf(bufnr) == 0 then
      vim.cmd(where == "split" and "belowright split" or "belowright vsplit")
    end
  end
  local answer = default(err, result, ctx, cfg)
  if result and not result.external then
    -- Plans and reports are prose: wrap at word boundaries.
    for _, win in ipairs(vim.fn.win_findbuf(vim.uri_to_bufnr(result.uri))) do
      vim.wo[win].linebreak = true
    end
  end
  return answer
end

-- Confirming edits ------------------------------------------------------------------------

M.APPLY = "Apply"
M.CANCEL = "Cancel"

local function count_label(n, word)
  return string.format("%d %s%s", n, word, n == 1 and "" or "s")
end

local function display_name(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  return ok and vim.fn.fnamemodify(fname, ":~:.") or uri
end

--- What a WorkspaceEdit would do, and whether any of its change annotations needs the user's
--- confirmation (LSP `ChangeAnnotation.needsConfirmation`, which Neovim's own handler ignores).
---@param edit table lsp.WorkspaceEdit
---@return table summary { needs_confirmation, files = { {name, edits} }, edits, annotations = { {label, description} } }
function M.edit_summary(edit)
  edit = edit or {}
  local annotations = edit.changeAnnotations or {}
  local by_file, order, used = {}, {}, {}
  local summary = { needs_confirmation = false, files = {}, edits = 0, annotations = {} }
  local function note(uri, edits, annotation_id)
    local name = display_name(uri)
    if not by_file[name] then
      by_file[name] = { name = name, edits = 0 }
      table.insert(order, name)
    end
    by_file[name].edits = by_file[name].edits + edits
    summary.edits = summary.edits + edits
    if annotation_id and not used[annotation_id] then
      used[annotation_id] = true
      local annotation = annotations[annotation_id] or {}
      if annotation.needsConfirmation then
        summary.needs_confirmation = true
      end
      table.insert(summary.annotations, {
        label = annotation.label or annotation_id,
        description = annotation.description,
      })
    end
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument then -- a TextDocumentEdit; each edit may carry its own annotation
      for _, text_edit in ipairs(change.edits or {}) do
        note(change.textDocument.uri, 1, text_edit.annotationId)
      end
    elseif change.kind == "create" then -- its content follows as a text edit
      note(change.uri, 0, change.annotationId)
    elseif change.kind then -- a rename or a deletion is one edit of its file
      note(change.uri or change.oldUri, 1, change.annotationId)
    end
  end
  for uri, text_edits in pairs(edit.changes or {}) do
    note(uri, #text_edits, nil)
  end
  for _, name in ipairs(order) do
    table.insert(summary.files, by_file[name])
  end
  return summary
end

--- The question shown before an edit that needs confirmation.
---@param params table lsp.ApplyWorkspaceEditParams
---@param summary table from `edit_summary`
---@return string
function M.confirm_prompt(params, summary)
  local lines = {
    string.format(
      "%s: %s in %s. Apply?",
      params.label or "Tandem: workspace edit",
      count_label(summary.edits, "edit"),
      count_label(#summary.files, "file")
    ),
  }
  for _, file in ipairs(summary.files) do
    table.insert(lines, string.format("  %s (%s)", file.name, count_label(file.edits, "edit")))
  end
  for _, annotation in ipairs(summary.annotations) do
    local text = annotation.description and (annotation.label .. ": " .. annotation.description)
      or annotation.label
    table.insert(lines, "  - " .. text)
  end
  return table.concat(lines, "\n")
end

--- Asks with `vim.ui.select` and returns the choice (nil when dismissed). Inside a coroutine (the
--- client runs server requests in one) an asynchronous picker is waited for by yielding;
--- elsewhere by `vim.wait`.
local function select(items, opts)
  local co = coroutine.running()
  local answered, answer, waiting = false, nil, false
  vim.ui.select(items, opts, function(choice)
    answered, answer = true, choice
    if waiting then
      waiting = false
      coroutine.resume(co)
    end
  end)
  if not answered then
    if co then
      waiting = true
      coroutine.yield()
    else
      vim.wait(10 * 60 * 1000, function()
        return answered
      end, 50)
    end
  end
  return answer
end

--- `workspace/applyEdit` for Tandem's client: an edit whose annotations need confirmation (a
--- draft) is summarised and applied only on "Apply"; anything else goes to Neovim's handler.
function M.apply_edit_handler(err, params, ctx, cfg)
  local default = vim.lsp.handlers["workspace/applyEdit"]
  if not config.options.confirm_edits or type(params) ~= "table" then
    return default(err, params, ctx, cfg)
  end
  local summary = M.edit_summary(params.edit)
  if not summary.needs_confirmation then
    return default(err, params, ctx, cfg)
  end
  local choice = select(
    { M.APPLY, M.CANCEL },
    { prompt = M.confirm_prompt(params, summary), kind = "tandem.applyEdit" }
  )
  if choice ~= M.APPLY then
    return { applied = false, failureReason = "cancelled by the user" }
  end
  return default(err, params, ctx, cfg)
end

--- Client capabilities: Neovim's, plus versioned document changes and change annotations, so
--- the server marks drafts as needing confirmation (`apply_edit_handler` asks).
local function client_capabilities()
  return vim.tbl_deep_extend("force", vim.lsp.protocol.make_client_capabilities(), {
    workspace = {
      workspaceEdit = {
        documentChanges = true,
        changeAnnotationSupport = { groupsOnLabel = false },
      },
    },
  })
end

--- The `vim.lsp.start` / `vim.lsp.config` table, without `root_dir`.
---@return table
function M.client_config()
  local options = config.options
  -- An empty Lua table would be sent as a JSON list; the server expects an object or nothing.
  local has_settings = not vim.tbl_isempty(options.settings)
  return {
    name = M.client_name,
    cmd = options.cmd,
    cmd_env = options.cmd_env,
    init_options = has_settings and options.settings or nil,
    settings = has_settings and { tandem = options.settings } or vim.empty_dict(),
    capabilities = client_capabilities(),
    handlers = {
      ["window/showDocument"] = show_document_handler,
      ["workspace/applyEdit"] = M.apply_edit_handler,
    },
    on_init = function(client, result)
      M.server_info[client.id] = result and result.serverInfo or nil
    end,
  }
end

--- serverInfo from each client's initialize result, by client id (for :checkhealth).
---@type table<integer, table>
M.server_info = {}

local warned_missing = false

--- Tells the user once, clearly, that the server cannot be started and how to fix it.
---@return boolean ok
local function check_executable()
  local path, reason = config.executable()
  if path then
    return true
  end
  if not warned_missing then
    warned_missing = true
    vim.schedule(function()
      notify("cannot start the server: " .. reason .. ". See :checkhealth tandem", vim.log.levels.ERROR)
    end)
  end
  return false
end

--- Starts (or reuses) the Tandem client for a buffer; Neovim 0.10 path and explicit starts.
---@param bufnr integer|nil
---@return integer|nil client_id
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not M.should_attach(bufnr) or not check_executable() then
    return nil
  end
  local root = M.root_dir(bufnr)
  if not root then
    return nil
  end
  local cfg = M.client_config()
  cfg.root_dir = root
  return vim.lsp.start(cfg, { bufnr = bufnr })
end

local function register_011()
  local cfg = M.client_config()
  cfg.filetypes = nil -- attachment is decided by root_dir below (plan.md included)
  cfg.root_dir = function(bufnr, on_dir)
    if M.should_attach(bufnr) and check_executable() then
      local root = M.root_dir(bufnr)
      if root then
        on_dir(root)
      end
    end
  end
  vim.lsp.config(M.client_name, cfg)
  vim.lsp.enable(M.client_name)
end

-- Finding the client and running commands -------------------------------------------------

---@param bufnr integer|nil
---@return table|nil client
function M.get_client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local attached = vim.lsp.get_clients({ name = M.client_name, bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  return vim.lsp.get_clients({ name = M.client_name })[1]
end

--- Whether the running server offers `command` (servers grow commands over releases).
---@param client table
---@param command string
---@return boolean
local function offers(client, command)
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  return type(provider) == "table" and vim.list_contains(provider.commands or {}, command)
end

local function done(command, result, err)
  vim.api.nvim_exec_autocmds("User", {
    pattern = "TandemCommandDone",
    data = { command = command, result = result, error = err },
  })
  if command ~= "tandem.status" then
    M.refresh_status()
  end
end

--- Sends `workspace/executeCommand` to the Tandem server and reports the outcome.
---@param command string e.g. "tandem.draft"
---@param argument table the single JSON object every Tandem command takes
---@param on_result fun(result: table)|nil what to show on success (default: nothing)
---@param bufnr integer|nil
function M.execute(command, argument, on_result, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.get_client(bufnr)
  if not client then
    local _, reason = config.executable()
    notify(
      "the server is not running for this buffer"
        .. (reason and (": " .. reason) or " (open a file of a configured filetype)")
        .. ". See :checkhealth tandem",
      vim.log.levels.ERROR
    )
    done(command, nil, "not running")
    return
  end
  local params = { command = command, arguments = { vim.empty_dict() } }
  if next(argument) ~= nil then
    params.arguments = { argument }
  end
  -- No bufnr: the client then sends the pending (debounced) changes of every buffer first, not
  -- only this one's. Tandem commands read several documents (the plan's buffer, every file a
  -- draft touched), and a late didChange would move or drop fresh review findings.
  client_request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      notify(command .. " failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      done(command, nil, err.message or vim.inspect(err))
      return
    end
    if on_result and type(result) == "table" then
      local shown, problem = pcall(on_result, result)
      if not shown then
        notify(command .. ": cannot show the result: " .. tostring(problem), vim.log.levels.ERROR)
      end
    end
    done(command, result, nil)
  end, nil)
end

-- Arguments from the editor state ---------------------------------------------------------

--- An LSP range: whole lines for a user-command range (end at the start of the next line, so
--- no character offsets are needed), else an empty range at the cursor in the client's encoding.
---@param opts table|nil user-command opts (range, line1, line2)
---@return table
local function lsp_range(opts)
  if opts and opts.range and opts.range > 0 then
    return {
      start = { line = opts.line1 - 1, character = 0 },
      ["end"] = { line = opts.line2, character = 0 },
    }
  end
  local client = M.get_client(0)
  local encoding = client and client.offset_encoding or "utf-16"
  return vim.lsp.util.make_range_params(0, encoding).range
end

local function has_range(opts)
  return opts and opts.range and opts.range > 0
end

--- Asks for the change request (vim.ui.input), then calls `then_(request)`; a blank answer
--- or <Esc> cancels with a message.
---@param given string|nil a request already typed after the command
---@param then_ fun(request: string)
function M.ask_request(given, then_)
  if given and vim.trim(given) ~= "" then
    then_(vim.trim(given))
    return
  end
  vim.ui.input({ prompt = "Tandem: what should change? " }, function(answer)
    if not answer or vim.trim(answer) == "" then
      notify("cancelled: no change request given", vim.log.levels.WARN)
      return
    end
    then_(vim.trim(answer))
  end)
end

-- The commands -------------------------------------------------------------------------------

local function show_plan_result(result)
  local cost = result.cost_usd and string.format(" ($%.4f)", result.cost_usd) or ""
  notify(
    string.format("planned task %s%s; edit the plan, then :TandemDraft", result.task_id or "?", cost)
  )
end

--- The client-side `tandem.plan` (code action "Plan this change…"): adds the request.
---@param command table lsp.Command
---@param ctx table { bufnr, client_id }
function M.plan_command_handler(command, ctx)
  local argument = vim.deepcopy((command.arguments or {})[1] or {})
  if argument.request then
    M.execute("tandem.plan", argument, show_plan_result, ctx.bufnr)
    return
  end
  M.ask_request(nil, function(request)
    argument.request = request
    M.execute("tandem.plan", argument, show_plan_result, ctx.bufnr)
  end)
end

--- :TandemPlan [request] — plan a change at the selection or the function at the cursor.
function M.plan(opts)
  opts = opts or {}
  local argument = { uri = vim.uri_from_bufnr(0), range = lsp_range(opts) }
  local bufnr = vim.api.nvim_get_current_buf()
  M.ask_request(opts.args, function(request)
    argument.request = request
    M.execute("tandem.plan", argument, show_plan_result, bufnr)
  end)
end

--- After a draft is applied or discarded, the server sets `ask_rating` the first time only; ask
--- (vim.ui.select, never blocking the draft) for a 1-5 rating, then cleanup minutes.
local function ask_rating(result)
  if not (config.options.ask_rating and result.ask_rating and result.task_id) then
    return
  end
  local prompt = "Tandem: how good was the draft of task " .. result.task_id .. "? (5 = ready to merge)"
  vim.ui.select({ "1", "2", "3", "4", "5" }, { prompt = prompt }, function(rating)
    if not rating then
      return
    end
    local minutes_prompt = "Tandem: minutes you spent cleaning it up?"
    vim.ui.select({ "0", "5", "15", "30", "60" }, { prompt = minutes_prompt }, function(minutes)
      local argument = { task_id = result.task_id, rating = tonumber(rating) }
      argument.cleanup_minutes = minutes and tonumber(minutes) or nil
      M.execute("tandem.rateTask", argument, function()
        notify("rating recorded for task " .. result.task_id)
      end)
    end)
  end)
end

local function show_draft_result(result)
  vim.schedule(function()
    ask_rating(result)
  end)
  if result.applied then
    notify(string.format("draft applied (%d edits); review with :TandemReview", result.edits or 0))
  else
    notify(
      "draft not applied: " .. (result.reason or "no reason given"),
      vim.log.levels.WARN
    )
  end
end

--- :TandemDraft [task_id] — draft from the (possibly edited) plan and apply the edits.
function M.draft(opts)
  opts = opts or {}
  local task_id = opts.args and vim.trim(opts.args) or ""
  M.execute("tandem.draft", task_id ~= "" and { task_id = task_id } or {}, show_draft_result)
end

local function show_review_result(result)
  local findings = result.findings or 0
  notify(
    string.format(
      "review: %s, %d finding%s%s",
      result.verdict or "?",
      findings,
      findings == 1 and "" or "s",
      findings > 0 and " (see diagnostics, e.g. :lua vim.diagnostic.setqflist())" or ""
    ),
    findings > 0 and vim.log.levels.WARN or vim.log.levels.INFO
  )
end

--- :TandemReview [task_id] — with a range: the selection; with a task id: that task's draft;
--- else the changes since HEAD. Findings become diagnostics.
function M.review(opts)
  opts = opts or {}
  local task_id = opts.args and vim.trim(opts.args) or ""
  local argument
  if task_id ~= "" then
    argument = { task_id = task_id }
  elseif has_range(opts) then
    argument = { uri = vim.uri_from_bufnr(0), range = lsp_range(opts) }
  else
    argument = { working_tree = true }
  end
  M.execute("tandem.review", argument, show_review_result)
end

--- The estimate's markdown in a floating window next to the cursor.
local function show_estimate(result)
  local markdown = result.markdown or vim.inspect(result.estimate)
  -- Markdown in floats needs the tree-sitter markdown parser, which some distributions'
  -- Neovim packages leave out: plain text then.
  local has_parser = pcall(vim.treesitter.language.add, "markdown")
  vim.lsp.util.open_floating_preview(vim.split(markdown, "\n"), has_parser and "markdown" or "", {
    border = "rounded",
    focus_id = "tandem-estimate",
    title = " Tandem estimate ",
  })
end

--- :TandemEstimate [request] — what plan → draft → review would cost; nothing is sent.
function M.estimate(opts)
  opts = opts or {}
  local argument = { uri = vim.uri_from_bufnr(0), range = lsp_range(opts) }
  local request = opts.args and vim.trim(opts.args) or ""
  if request ~= "" then
    argument.request = request
  end
  M.execute("tandem.estimate", argument, show_estimate)
end

--- :TandemReport — the scorecard, opened by the server as .tandem/report.md.
function M.report()
  local name = vim.api.nvim_buf_get_name(0)
  -- The buffer's uri picks its workspace folder when several are open.
  M.execute("tandem.showReport", name ~= "" and { uri = vim.uri_from_bufnr(0) } or {}, nil)
end

-- Spend for statuslines -----------------------------------------------------------------------

---@type table|nil the last `tandem.status` result
M.last_status = nil

--- Asks the server for today's spend and the current task (after every Tandem command, so a
--- statusline using `statusline()` stays current without polling).
function M.refresh_status()
  local client = M.get_client()
  if not client or not offers(client, "tandem.status") then
    return
  end
  client_request(client, "workspace/executeCommand", {
    command = "tandem.status",
    arguments = { vim.empty_dict() },
  }, function(err, result)
    if not err and type(result) == "table" then
      M.last_status = result
      vim.api.nvim_exec_autocmds("User", {
        pattern = "TandemCommandDone",
        data = { command = "tandem.status", result = result },
      })
    end
  end, nil)
end

--- Today's spend and the current task's spend against its budget, e.g.
--- "Tandem $0.0132 today · drafted $0.0132/$0.50"; "" before the first status.
---@return string
function M.statusline()
  local status = M.last_status
  if type(status) ~= "table" then
    return ""
  end
  local text = string.format("Tandem $%.4f today", tonumber(status.today_usd) or 0)
  local task = status.task
  if type(task) == "table" then
    text = text
      .. string.format(
        " · %s $%.4f/$%.2f",
        task.stage or "task",
        tonumber(task.spent_usd) or 0,
        tonumber(task.budget_usd) or 0
      )
  end
  return text
end

M.user_commands = {
  TandemPlan = {
    fn = M.plan,
    opts = { nargs = "*", range = true, desc = "Tandem: plan a change (asks what to change)" },
  },
  TandemDraft = {
    fn = M.draft,
    opts = { nargs = "?", desc = "Tandem: draft from the plan and apply the edits" },
  },
  TandemReview = {
    fn = M.review,
    opts = {
      nargs = "?",
      range = true,
      desc = "Tandem: review the selection, a task, or the changes since HEAD",
    },
  },
  TandemEstimate = {
    fn = M.estimate,
    opts = { nargs = "*", range = true, desc = "Tandem: estimate the cost (nothing is sent)" },
  },
  TandemReport = {
    fn = M.report,
    opts = { nargs = 0, desc = "Tandem: open the cost and quality report" },
  },
}

--- Configures the client, the commands and the `tandem.plan` client-side handler.
---@param opts tandem.Options|nil
function M.setup(opts)
  config.apply(opts)
  vim.lsp.commands["tandem.plan"] = M.plan_command_handler
  for name, spec in pairs(M.user_commands) do
    vim.api.nvim_create_user_command(name, spec.fn, spec.opts)
  end
  if has_011 then
    register_011()
  end
  local function on_buffer(bufnr)
    if not has_011 then
      M.start(bufnr)
    elseif M.should_attach(bufnr) then
      -- vim.lsp.enable skips a missing executable silently; say why nothing starts.
      check_executable()
    end
  end
  local group = vim.api.nvim_create_augroup("tandem", { clear = true })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == M.client_name and not M.last_status then
        M.refresh_status()
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "FileType", "BufReadPost" }, {
    group = group,
    callback = function(args)
      on_buffer(args.buf)
    end,
  })
  -- Buffers already open when setup() runs (lazy loading) attach too.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      on_buffer(bufnr)
    end
  end
end

return M
