-- POST /v1/experiments/<key>/predict: one Iris row, a new unit each request.
local counter = 0
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function request()
  counter = counter + 1
  local body = string.format('{"unit": "wrk-%d-%d", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.5, 5.0, 1.9]}]}', id or 0, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
