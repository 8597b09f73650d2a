-- wrk script: every request is a successful login (one argon2id verification),
-- each from its own address (X-Forwarded-For; bench/run.sh trusts 127.0.0.1):
-- one password check per (account, address) is in flight at a time.
package.path = "bench/?.lua;" .. package.path
require "status"
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"wrk-load-Pass-9"}'
wrk.headers["Content-Type"] = "application/json"

local n = 0
function request()
  n = n + 1
  -- 10.<thread>.<n / 256 mod 256>.<n mod 256> (wrk's Lua is 5.1: no bit operators)
  local thread = (id or 0) % 256
  local xff = string.format("10.%d.%d.%d", thread, math.floor(n / 256) % 256, n % 256)
  wrk.headers["X-Forwarded-For"] = xff
  return wrk.format()
end
