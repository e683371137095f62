-- GET /s/<token>: the status pages of the people waiting, each request a page picked at
-- random. Args: threads first count (tokens are "benchstatus" and 11 digits, as
-- bench/screens.py seeds them).

local report = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "report.lua")

setup = report.setup
response = report.response
done = report.done

local first, count

function init(args)
  first, count = tonumber(args[2]), tonumber(args[3])
  math.randomseed(os.time() + (thread_index or 0))
end

function request()
  local n = first + math.random(0, count - 1)
  return wrk.format("GET", string.format("/s/benchstatus%011d", n))
end
