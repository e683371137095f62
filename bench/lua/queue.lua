-- GET /appointments/ (the queue) for one provider and day. Args: threads path token

local report = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "report.lua")

setup = report.setup
response = report.response
done = report.done

local req

function init(args)
  req = wrk.format("GET", args[2], {["Authorization"] = "Bearer " .. args[3]})
end

function request()
  return req
end
