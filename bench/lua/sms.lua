-- Signed Twilio webhooks: POST /webhooks/twilio/sms, one precomputed line per request.
-- Args: threads payload_file path. Each line is "<X-Twilio-Signature>\t<form body>"; the
-- signatures were computed in Python with twilio's RequestValidator for the URL
-- the server sees. Threads take disjoint slices, so every MessageSid is fresh.

local report = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "report.lua")

setup = report.setup
response = report.response
done = report.done

local lines, path, next_line, stop_line = {}, nil, 1, 0

function init(args)
  local threads = tonumber(args[1])
  path = args[3]
  -- Keep only this thread's slice: the file holds one line per request of the run.
  local total = 0
  for _ in io.lines(args[2]) do total = total + 1 end
  local slice = math.floor(total / threads)
  local first, n = thread_index * slice + 1, 0
  for line in io.lines(args[2]) do
    n = n + 1
    if n >= first and n < first + slice then table.insert(lines, line) end
  end
  stop_line = #lines
end

function request()
  local line = lines[next_line]
  if next_line < stop_line then
    next_line = next_line + 1
  else
    exhausted = 1
  end
  local tab = string.find(line, "\t", 1, true)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = string.sub(line, 1, tab - 1),
  }
  return wrk.format("POST", path, headers, string.sub(line, tab + 1))
end
