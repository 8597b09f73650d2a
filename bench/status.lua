-- Shared by the bench scripts: counts answers by status per thread and
-- prints "statuses: 200=N 503=M ..." when the run ends.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function count_status(status)
  statuses = statuses or {}
  statuses[status] = (statuses[status] or 0) + 1
end

function response(status, headers, body)
  count_status(status)
  if status >= 400 and not sample then sample = status .. " " .. body end
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, k .. "=" .. v) end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
  for _, t in ipairs(threads) do
    local s = t:get("sample")
    if s then io.write("first refusal: " .. s .. "\n") break end
  end
end
