-- Drives a headless Neovim through Tandem scenarios and writes what it saw as JSON to
-- $TANDEM_TEST_OUT. Run after minimal_init.lua, with the file to edit on the command line:
--
--   nvim --headless -u editors/nvim/tests/minimal_init.lua app/handlers.py \
--     -c "luafile editors/nvim/tests/driver.lua"
--
-- $TANDEM_TEST_SCENARIO picks the scenario: "startup", "missing", "flow", "confirm", "kinds", ...
-- $TANDEM_TEST_SELECT is what the stubbed vim.ui.select picks (default "Apply").
-- $TANDEM_TEST_ASK_RATING=true turns the rating prompt on (minimal_init.lua; off otherwise).
-- $TANDEM_TEST_REQUEST is what the stubbed vim.ui.input "types" when asked for a request.
-- $TANDEM_TEST_READY, if set, is a file written when the scenario is done; the editor then
-- stays open (the screenshot test captures the screen and quits it).
local tandem = require("tandem")

local out = { notifications = {}, prompts = {}, events = {} }

-- $TANDEM_TEST_WAIT_UI: wait for a UI to attach (nvim --remote-ui) so the layout has its size.
if vim.env.TANDEM_TEST_WAIT_UI then
  vim.wait(20000, function()
    return #vim.api.nvim_list_uis() > 0
  end, 50)
end

-- Record what the user would see. With a UI attached (the screenshot), the last message is
-- shown at the end: several at once would stack up into a hit-enter prompt.
local real_notify = vim.notify
vim.notify = function(message, level)
  table.insert(out.notifications, { message = message, level = level })
end

-- The user "types" the change request when asked; a scenario may queue other answers first
-- (false = the user pressed <Esc>).
local answers = {}
vim.ui.input = function(opts, on_confirm)
  table.insert(out.prompts, opts.prompt)
  local answer = table.remove(answers, 1)
  if answer == nil then
    answer = vim.env.TANDEM_TEST_REQUEST
  end
  on_confirm(answer or nil)
end

-- The user picks from vim.ui.select (the confirmation of a draft): the scenario's queued
-- choices first, then $TANDEM_TEST_SELECT, else "Apply". Each question is recorded.
out.selects = {}
local choices = {}
vim.ui.select = function(items, opts, on_choice)
  local choice = table.remove(choices, 1) or vim.env.TANDEM_TEST_SELECT or "Apply"
  table.insert(out.selects, { items = items, prompt = opts.prompt, kind = opts.kind, choice = choice })
  -- As a real picker does: the answer comes later, from the event loop.
  vim.schedule(function()
    on_choice(vim.list_contains(items, choice) and choice or nil)
  end)
end

vim.api.nvim_create_autocmd("User", {
  pattern = "TandemCommandDone",
  callback = function(args)
    table.insert(out.events, args.data)
  end,
})

local function wait_for(what, timeout_ms, condition)
  if not vim.wait(timeout_ms, condition, 50) then
    error("timed out after " .. timeout_ms .. " ms waiting for " .. what)
  end
end

--- Runs `action` and waits for the TandemCommandDone event of `command`.
local function run_command(command, timeout_ms, action)
  local before = #out.events
  action()
  local event
  wait_for(command, timeout_ms, function()
    for i = before + 1, #out.events do
      if out.events[i].command == command then
        event = out.events[i]
        return true
      end
    end
    return false
  end)
  return event
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

local function wait_for_client()
  local client
  wait_for("the tandem client to initialize", 30000, function()
    client = tandem.get_client()
    return client ~= nil and client.initialized == true
  end)
  return client
end

local function health_text()
  vim.cmd("checkhealth tandem")
  local text = buffer_text(0)
  vim.cmd("bwipeout")
  return text
end

local function user_commands()
  local names = {}
  for name, _ in pairs(vim.api.nvim_get_commands({})) do
    if name:match("^Tandem") then
      table.insert(names, name)
    end
  end
  table.sort(names)
  return names
end

--- Builds the help tags from a copy of doc/ (the checkout stays clean) and opens each tag.
local function help_tags()
  local doc = vim.api.nvim_get_runtime_file("doc/tandem.txt", false)[1]
  local copy = vim.fn.tempname()
  vim.fn.mkdir(copy .. "/doc", "p")
  vim.fn.writefile(vim.fn.readfile(doc), copy .. "/doc/tandem.txt")
  vim.cmd("helptags " .. copy .. "/doc")
  vim.opt.runtimepath:prepend(copy)
  local found = {}
  for _, tag in ipairs({
    "tandem",
    "tandem-setup",
    ":TandemPlan",
    ":TandemDraft",
    ":TandemReview",
    ":TandemEstimate",
    ":TandemReport",
    "tandem.statusline()",
    "TandemCommandDone",
    "tandem-health",
    "tandem-confirm_edits",
  }) do
    found[tag] = pcall(vim.cmd, "help " .. tag)
    pcall(vim.cmd, "helpclose")
  end
  return found
end

local scenarios = {}

function scenarios.startup()
  local code_buf = vim.api.nvim_get_current_buf()
  local client = wait_for_client()
  local provider = client.server_capabilities.executeCommandProvider
  out.root_dir = client.root_dir
  out.server_commands = type(provider) == "table" and provider.commands or {}
  out.attached = vim.lsp.buf_is_attached(code_buf, client.id)
  out.user_commands = user_commands()
  out.plan_handler = type(vim.lsp.commands["tandem.plan"]) == "function"
  out.health = health_text()
  out.help = help_tags()
end

function scenarios.missing()
  -- The server could not start: no client, a clear message, an error in the health check,
  -- and the commands say why instead of failing silently.
  vim.wait(500)
  out.clients = #vim.lsp.get_clients({ name = tandem.client_name })
  out.user_commands = user_commands()
  vim.cmd("TandemDraft")
  out.health = health_text()
end

function scenarios.options()
  -- Bad options fail setup() with a message naming the option.
  out.errors = {}
  for _, bad in ipairs({
    { cmd = "tandem serve" },
    { cmd = {} },
    { plan_window = "tab" },
    { confirm_edits = "yes" },
  }) do
    local ok, err = pcall(tandem.setup, bad)
    table.insert(out.errors, ok and "accepted" or tostring(err))
  end
  tandem.setup({ cmd = vim.json.decode(vim.env.TANDEM_TEST_CMD) })
  -- Root detection: tandem.toml beats pyproject.toml beats .git; plans belong above .tandem/.
  out.roots = {}
  for _, file in ipairs({
    "app/handlers.py",
    "service/app/main.py",
    "lib/pkg/mod.py",
    ".tandem/tasks/t1/plan.md",
  }) do
    vim.cmd("edit " .. file)
    out.roots[file] = tandem.root_dir(vim.api.nvim_get_current_buf())
  end
end

function scenarios.code_action()
  -- "Plan this change…" from the server's code actions: the plugin's client-side tandem.plan
  -- asks for the request (first <Esc>: nothing is sent), then forwards it.
  wait_for_client()
  vim.fn.cursor(vim.fn.search("def get_projects", "n") + 1, 1)
  local function plan_action()
    vim.lsp.buf.code_action({
      apply = true,
      filter = function(action)
        return action.title:match("^Plan this change") ~= nil
      end,
    })
  end
  answers = { false }
  plan_action()
  wait_for("the cancelled prompt", 20000, function()
    return #out.prompts == 1
  end)
  vim.wait(300)
  out.plans_after_cancel = #vim.tbl_filter(function(event)
    return event.command == "tandem.plan"
  end, out.events)
  out.plan = run_command("tandem.plan", 60000, plan_action)
end

function scenarios.preview()
  -- :TandemEstimate (a float, nothing sent to a model), :TandemReport, the statusline.
  local client = wait_for_client()
  local provider = client.server_capabilities.executeCommandProvider
  out.server_commands = type(provider) == "table" and provider.commands or {}
  if not vim.list_contains(out.server_commands, "tandem.estimate") then
    return
  end
  vim.fn.cursor(vim.fn.search("def get_projects", "n") + 1, 1)
  out.estimate = run_command("tandem.estimate", 60000, function()
    vim.cmd("TandemEstimate " .. vim.env.TANDEM_TEST_REQUEST)
  end)
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      out.float_text = buffer_text(vim.api.nvim_win_get_buf(win))
      vim.api.nvim_win_close(win, true)
    end
  end
  out.report = run_command("tandem.showReport", 60000, function()
    vim.cmd("TandemReport")
  end)
  if out.report.result then
    local report_buf = vim.uri_to_bufnr(out.report.result.uri)
    wait_for("the report to be shown", 10000, function()
      return #vim.fn.win_findbuf(report_buf) > 0
    end)
    out.report_text = buffer_text(report_buf)
  end
  wait_for("a status", 10000, function()
    return tandem.statusline() ~= ""
  end)
  out.statusline = tandem.statusline()
end

function scenarios.flow()
  local code_buf = vim.api.nvim_get_current_buf()
  local client = wait_for_client()
  out.root_dir = client.root_dir
  out.before = buffer_text(code_buf)

  -- Plan: put the cursor in get_projects and run :TandemPlan; the user is asked the request.
  vim.fn.cursor(vim.fn.search("def get_projects", "n") + 1, 1)
  local plan = run_command("tandem.plan", 60000, function()
    vim.cmd("TandemPlan")
  end)
  out.plan = plan
  if plan.error then
    return
  end
  local plan_buf = vim.uri_to_bufnr(plan.result.plan_uri)
  wait_for("the plan document to be shown", 10000, function()
    return #vim.fn.win_findbuf(plan_buf) > 0
  end)
  out.plan_text = buffer_text(plan_buf)
  out.code_visible_beside_plan = #vim.fn.win_findbuf(code_buf) > 0
  out.plan_buffer_attached = vim.lsp.buf_is_attached(plan_buf, client.id)

  -- Draft: the server applies the edit to the open buffer.
  local draft = run_command("tandem.draft", 60000, function()
    vim.cmd("TandemDraft")
  end)
  out.draft = draft
  out.after_draft = buffer_text(code_buf)
  -- Every file the draft touched, as its buffer reads now (applyEdit loads the buffers).
  out.drafted_buffers = {}
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local name = vim.api.nvim_buf_get_name(bufnr)
    if vim.api.nvim_buf_is_loaded(bufnr) and name:match("%.py$") then
      out.drafted_buffers[vim.fs.normalize(name)] = buffer_text(bufnr)
    end
  end
  if draft.error then
    return
  end

  -- Review the changes since HEAD (saved first, as a user would).
  vim.cmd("silent wall")
  local review = run_command("tandem.review", 60000, function()
    vim.cmd("TandemReview")
  end)
  out.review = review
  if review.error then
    return
  end
  local expected = review.result.findings or 0
  local function tandem_diagnostics()
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(nil)) do
      if d.source == "tandem" then
        table.insert(found, {
          file = vim.api.nvim_buf_get_name(d.bufnr),
          lnum = d.lnum,
          severity = d.severity,
          code = d.code,
          message = d.message,
        })
      end
    end
    return found
  end
  local arrived = vim.wait(30000, function()
    return #tandem_diagnostics() >= expected
  end, 50)
  out.diagnostics = tandem_diagnostics()
  if not arrived then
    error(string.format("%d of %d tandem diagnostics after 30 s: %s", #out.diagnostics, expected, vim.inspect(out.diagnostics)))
  end
  if vim.env.TANDEM_TEST_READY then
    -- For the screenshot: the code beside the plan, the first finding opened.
    vim.api.nvim_set_current_win(vim.fn.win_findbuf(code_buf)[1] or 0)
    vim.wo.number = true
    vim.cmd("vertical resize 100")
    -- The regex markdown syntax flags every `_` inside a word (get_projects) as an error.
    vim.cmd("highlight link markdownError NONE")
    local first = vim.diagnostic.get(code_buf)[1]
    if first then
      vim.api.nvim_win_set_cursor(0, { first.lnum + 1, first.col })
      out.show_float = true
    end
  end
end

--- Waits for the client, puts the cursor in get_projects and plans there (:TandemPlan);
--- returns the code buffer and whether the plan succeeded (out.plan holds the answer).
local function plan_get_projects()
  local code_buf = vim.api.nvim_get_current_buf()
  wait_for_client()
  out.before = buffer_text(code_buf)
  vim.fn.cursor(vim.fn.search("def get_projects", "n") + 1, 1)
  out.plan = run_command("tandem.plan", 60000, function()
    vim.cmd("TandemPlan")
  end)
  return code_buf, not out.plan.error
end

function scenarios.confirm()
  -- A draft is applied only after "Apply": first "Cancel" (nothing changes, the draft is kept),
  -- then tandem.reapplyDraft with "Apply".
  local code_buf, planned = plan_get_projects()
  if not planned then
    return
  end
  choices = { "Cancel" }
  out.cancelled = run_command("tandem.draft", 60000, function()
    vim.cmd("TandemDraft")
  end)
  out.after_cancel = buffer_text(code_buf)
  out.modified_after_cancel = vim.bo[code_buf].modified
  choices = { "Apply" }
  out.applied = run_command("tandem.reapplyDraft", 60000, function()
    tandem.execute("tandem.reapplyDraft", { task_id = out.plan.result.task_id })
  end)
  out.after_apply = buffer_text(code_buf)
end

function scenarios.kinds()
  -- A draft that patches a unit, renames a file and deletes one, applied after "Apply".
  local code_buf, planned = plan_get_projects()
  if not planned then
    return
  end
  out.draft = run_command("tandem.draft", 60000, function()
    vim.cmd("TandemDraft")
  end)
  out.after_draft = buffer_text(code_buf)
  out.exists = {}
  for _, path in ipairs({ "app/db.py", "app/store.py", "README.md" }) do
    out.exists[path] = vim.fn.filereadable(path) == 1
  end
end

function scenarios.rating()
  -- The rating prompt: the draft is confirmed or discarded with the queued choices
  -- ($TANDEM_TEST_CHOICES, comma-separated: the confirmation, then the rating and the minutes);
  -- a discarded draft is then applied with tandem.reapplyDraft, which must not ask again.
  local code_buf, planned = plan_get_projects()
  if not planned then
    return
  end
  out.task_id = out.plan.result.task_id
  choices = vim.split(vim.env.TANDEM_TEST_CHOICES or "", ",", { trimempty = true })
  local function rated()
    for _, event in ipairs(out.events) do
      if event.command == "tandem.rateTask" then
        return event
      end
    end
  end
  out.draft = run_command("tandem.draft", 60000, function()
    vim.cmd("TandemDraft")
  end)
  if vim.env.TANDEM_TEST_ASK_RATING == "true" then
    wait_for("the rating to be recorded", 30000, function()
      return rated() ~= nil
    end)
  end
  if not out.draft.result.applied then
    out.reapplied = run_command("tandem.reapplyDraft", 60000, function()
      tandem.execute("tandem.reapplyDraft", { task_id = out.task_id })
    end)
  end
  -- A prompt that should not come would come from the event loop: give it the chance.
  vim.wait(1500)
  out.rated = rated()
  out.after = buffer_text(code_buf)
end

local function finish()
  local path = vim.env.TANDEM_TEST_OUT
  if path then
    vim.fn.writefile({ vim.json.encode(out) }, path)
  end
  if vim.env.TANDEM_TEST_READY then
    local last = out.notifications[#out.notifications]
    vim.cmd("redraw!")
    if last then
      real_notify(last.message, last.level)
    end
    -- Later: the CursorMoved of the cursor placed above would close the float at once.
    vim.defer_fn(function()
      if out.show_float then
        vim.diagnostic.open_float({ scope = "line", border = "rounded" })
      end
      vim.defer_fn(function()
        vim.fn.writefile({ "ready" }, vim.env.TANDEM_TEST_READY)
      end, 300)
    end, 300)
  else
    vim.cmd("qa!")
  end
end

local function main()
  local scenario = scenarios[vim.env.TANDEM_TEST_SCENARIO or "startup"]
  local ok, err = xpcall(scenario, debug.traceback)
  if not ok then
    out.failure = err
  end
  finish()
end

if vim.env.TANDEM_TEST_READY and vim.v.vim_did_enter == 0 then
  -- With a UI (the screenshot), let start-up finish first so the screen is drawn promptly.
  vim.api.nvim_create_autocmd("VimEnter", { once = true, callback = vim.schedule_wrap(main) })
else
  main()
end
