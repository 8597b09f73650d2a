-- wrk script: every request registers a new user (one argon2id hash and one
-- insert). Names are unique per run: the thread's id, a run stamp from
-- $RUN_ID and a counter.
package.path = "bench/?.lua;" .. package.path
require "status"

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
