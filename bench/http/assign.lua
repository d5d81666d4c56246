-- POST /v1/experiments/<key>/assign with a new unit each request (so adaptive policies
-- exercise stickiness writes) and a keep-alive connection.
local counter = 0
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function request()
  counter = counter + 1
  local body = string.format('{"unit": "wrk-%d-%d"}', id or 0, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
