-- Drives Neovim's built-in LSP client against tblsp: open a crashed program's source,
-- wait for the dump's diagnostics, hover a name the way a user does (K), write what
-- Neovim got as JSON to $TBLSP_OUT, and quit.
local out_path = os.getenv("TBLSP_OUT")
local prog = os.getenv("TBLSP_PROG")
local hover_line = tonumber(os.getenv("TBLSP_HOVER_LINE"))
local hover_col = tonumber(os.getenv("TBLSP_HOVER_COL"))
local result = { diagnostics = {}, hover_float = {}, log = {} }

local function finish()
  local f = assert(io.open(out_path, "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(prog))
  local root = vim.fn.fnamemodify(prog, ":h")
  local client_id = vim.lsp.start_client({
    name = "tblsp",
    cmd = vim.fn.json_decode(os.getenv("TBLSP_CMD")),
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = "ws" } },
    handlers = {
      ["window/showMessage"] = function(_, params)
        table.insert(result.log, params.message)
      end,
    },
  })
  result.client_started = client_id ~= nil
  vim.lsp.buf_attach_client(0, client_id)

  result.got_diagnostics = vim.wait(20000, function()
    return #vim.diagnostic.get(0) > 0
  end, 50)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(result.diagnostics, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      severity = d.severity, message = d.message, source = d.source,
    })
  end

  -- Hover as a user does: cursor on the name, then vim.lsp.buf.hover() (what K maps to).
  vim.api.nvim_win_set_cursor(0, { hover_line + 1, hover_col })
  local main_win = vim.api.nvim_get_current_win()
  vim.lsp.buf.hover()
  result.got_hover = vim.wait(10000, function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if win ~= main_win and vim.api.nvim_win_get_config(win).relative ~= "" then
        result.hover_float = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
        return true
      end
    end
    return false
  end, 50)
end)
if not ok then
  result.error = tostring(err)
end
finish()
