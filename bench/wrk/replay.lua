-- Replays pre-signed requests, each once: Slack signs every request over its exact body, and a
-- retried trigger_id or event_id would be deduplicated rather than acknowledged like a new one.
-- wrk -s replay.lua URL -- FILE CONTENT_TYPE THREADS
-- FILE: first line the X-Slack-Request-Timestamp, then one "signature<TAB>body" per line.
-- Thread i of n sends lines i, i+n, i+2n, ...; running out starts over and is counted as a wrap.

local threads = {}
local created = 0

function setup(thread)
   thread:set("id", created)
   created = created + 1
   table.insert(threads, thread)
end

function init(args)
   local path, content_type, nthreads = args[1], args[2], tonumber(args[3])
   local file = assert(io.open(path, "r"))
   local timestamp = file:read("*l")
   requests, wraps, next_index = {}, 0, 1
   local line_no = 0
   for line in file:lines() do
      if line_no % nthreads == id then
         local tab = line:find("\t", 1, true)
         local headers = {
            ["Content-Type"] = content_type,
            ["X-Slack-Request-Timestamp"] = timestamp,
            ["X-Slack-Signature"] = line:sub(1, tab - 1),
         }
         table.insert(requests, wrk.format("POST", nil, headers, line:sub(tab + 1)))
      end
      line_no = line_no + 1
   end
   file:close()
end

function request()
   if next_index > #requests then
      next_index = 1
      wraps = wraps + 1
   end
   local r = requests[next_index]
   next_index = next_index + 1
   return r
end

function done(summary, latency, requests)
   local wrapped = 0
   for _, t in ipairs(threads) do
      wrapped = wrapped + (t:get("wraps") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_2xx": %d, "socket_errors": %d, "wraps": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      e.status, e.connect + e.read + e.write + e.timeout, wrapped))
end
