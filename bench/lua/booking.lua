-- POST /appointments/, every request a booking nobody made before.
-- Args: threads keys token sa_phone first_user users first_epoch_day
--   Request key k (0 <= k < keys) books user +1%010d of index first_user + k % users
--   on epoch day first_epoch_day + k // users. With users = keys every request is a
--   different user on one day (the booking scenario); with a few users it is a few
--   people booking day after day (the history scenario).
-- Threads take disjoint slices of the keys, so no two requests repeat a booking.

local report = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "report.lua")

setup = report.setup
response = report.response
done = report.done

local next_key, stop_key, headers, sa_phone, first_user, users, first_day

function init(args)
  local threads, keys = tonumber(args[1]), tonumber(args[2])
  local slice = math.floor(keys / threads)
  next_key = thread_index * slice
  stop_key = next_key + slice
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[3]}
  sa_phone = args[4]
  first_user, users, first_day = tonumber(args[5]), tonumber(args[6]), tonumber(args[7])
end

function request()
  local key = next_key
  if key + 1 < stop_key then
    next_key = key + 1
  else
    -- Out of fresh keys: repeat the last one (the server answers 400) and say so.
    exhausted = 1
  end
  local phone = string.format("+1%010d", first_user + key % users)
  local day = os.date("!%Y-%m-%d", (first_day + math.floor(key / users)) * 86400)
  local body = string.format(
    '{"user_phone":"%s","service_account_phone":"%s","appointment_date":"%sT10:30:00","duration_minutes":30}',
    phone, sa_phone, day)
  return wrk.format("POST", "/appointments/", headers, body)
end
