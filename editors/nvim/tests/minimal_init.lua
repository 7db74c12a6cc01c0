-- Minimal configuration for the headless tests: no user config, only this plugin on the
-- runtimepath. The tests set TANDEM_TEST_CMD (a JSON list) and TANDEM_TEST_ENV (a JSON object)
-- so the server starts from the checkout; without them the plugin's defaults apply.
local plugin_root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h")
vim.opt.runtimepath:prepend(plugin_root)
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"

local opts = {}
if vim.env.TANDEM_TEST_CMD then
  opts.cmd = vim.json.decode(vim.env.TANDEM_TEST_CMD)
end
if vim.env.TANDEM_TEST_ENV then
  opts.cmd_env = vim.json.decode(vim.env.TANDEM_TEST_ENV)
end
if vim.env.TANDEM_TEST_SETTINGS then
  opts.settings = vim.json.decode(vim.env.TANDEM_TEST_SETTINGS)
end
if vim.env.TANDEM_TEST_CONFIRM_EDITS then
  opts.confirm_edits = vim.env.TANDEM_TEST_CONFIRM_EDITS == "true"
end
-- The rating prompt asks with vim.ui.select too; scenarios that count the questions turn it off.
opts.ask_rating = vim.env.TANDEM_TEST_ASK_RATING == "true"
require("tandem").setup(opts)
