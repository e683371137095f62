-- Shared by the scenario scripts: per-thread bookkeeping and a JSON summary line.
-- wrk runs one Lua state per thread; the main state reaches them only through
-- thread:get / thread:set, so each thread keeps plain counters the summary sums.

local M = {}
local threads = {}
local next_id = 0

-- Give every thread a distinct index so scripts can split their key space.
function M.setup(thread)
  thread:set("thread_index", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Count answers outside 2xx and keep the first one for the log.
function M.response(status, headers, body)
  if status < 200 or status > 299 then
    bad = (bad or 0) + 1
    if not bad_sample then
      bad_sample = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local function escape(text)
  text = string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return text
end

function M.done(summary, latency, requests)
  local non2xx, sample, exhausted = 0, "", 0
  for _, t in ipairs(threads) do
    non2xx = non2xx + (t:get("bad") or 0)
    if sample == "" and t:get("bad_sample") then sample = t:get("bad_sample") end
    exhausted = exhausted + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"status_errors":%d,"non2xx":%d,"exhausted":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"sample":"%s"}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status, non2xx, exhausted,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, escape(sample)))
end

return M
