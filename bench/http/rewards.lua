-- POST /v1/rewards for decisions listed in $DECISIONS (one id per line), each once.
-- With $BATCH > 1 each request carries that many rewards ({"rewards": [...]}).
local ids = {}
for line in io.lines(os.getenv("DECISIONS")) do ids[#ids + 1] = line end
local batch = tonumber(os.getenv("BATCH") or "1")
local thread_count = tonumber(os.getenv("THREADS") or "2")
local next_thread = 0
function setup(thread)
  thread:set("offset", next_thread)
  next_thread = next_thread + 1
end
local position = nil
function request()
  position = position or (offset + 1)
  local items = {}
  for i = 1, batch do
    local id = ids[position]
    if id == nil then position = offset + 1; id = ids[position] end
    items[#items + 1] = string.format('{"decision_id": "%s", "reward": %d}', id, position % 2)
    position = position + thread_count
  end
  local body
  if batch == 1 then body = items[1] else body = '{"rewards": [' .. table.concat(items, ",") .. ']}' end
  return wrk.format("POST", "/v1/rewards", {["Content-Type"] = "application/json"}, body)
end
