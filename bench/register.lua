-- wrk script: every request registers a new user (one argon2id hash and one
-- insert). Names are unique per run: a per-thread prefix, a run stamp from
-- $RUN_ID and a counter.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  n = 0
  run = os.getenv("RUN_ID") or tostring(os.time())
end

function request()
  n = n + 1
  local name = string.format("b%s_%d_%d", run, id, n)
  local body = string.format(
    '{"username":"%s","email":"%s@bench.example","password":"wrk-load-Pass-9"}', name, name)
  return wrk.format("POST", "/api/auth/register", { ["Content-Type"] = "application/json" }, body)
end
