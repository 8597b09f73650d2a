-- wrk script: every request is a successful login (one argon2id verification).
package.path = "bench/?.lua;" .. package.path
require "status"
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"wrk-load-Pass-9"}'
wrk.headers["Content-Type"] = "application/json"
