-- wrk script: each request rotates a live refresh token (seed 000 style,
-- token as Bearer) and keeps the new one from the response. Each thread
-- reads its own pool of tokens from $TOKENS_DIR/tokens-<n>.txt, one per
-- connection (plus one that wrk's pre-run check of request() uses up), so no
-- two requests in flight share a token and every request is a real rotation.
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  local path = os.getenv("TOKENS_DIR") .. "/tokens-" .. id .. ".txt"
  for line in io.lines(path) do
    if #line > 0 then table.insert(tokens, line) end
  end
  failures = 0
end

function request()
  local t = table.remove(tokens, 1)
  if t == nil then
    -- Pool exhausted by failures: send an obviously bad token (counted as non-2xx).
    t = "exhausted"
  end
  return wrk.format("POST", "/api/auth/refresh", { ["Authorization"] = "Bearer " .. t }, "")
end

function response(status, headers, body)
  if status == 200 then
    local t = string.match(body, '"refresh_token":"([^"]+)"')
    if t then table.insert(tokens, t) end
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + (t:get("failures") or 0) end
  io.write(string.format("refresh-failures: %d\n", failed))
end
