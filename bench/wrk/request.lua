-- One fixed request, configured from the environment, for bench/api.sh:
--
--   WRK_METHOD   GET (default) or POST
--   WRK_BODY     the request body (POST); sent byte for byte
--   WRK_HEADERS  extra headers, "Name: value" separated by "|"
--                (e.g. the precomputed X-Karajo-Sign of WRK_BODY)
--   WRK_PATH2, WRK_BODY2, WRK_HEADERS2
--                when WRK_PATH2 is set, each wrk thread alternates between
--                the first request (the URL's path, WRK_BODY, WRK_HEADERS)
--                and this second one (e.g. pause, then resume)
--   WRK_DELAY_MS when set, each connection waits this many milliseconds
--                before each request: C connections then send at most
--                C * 1000 / WRK_DELAY_MS requests/s (a paced load, whose
--                latency is measured without the wait)
--   WRK_EXPECT   when set, every response must have this status: a
--                response() hook counts the others (it costs wrk a Lua
--                call per response, so GET latency runs leave it unset
--                and rely on wrk's own "Non-2xx" count instead)
--
-- done() prints one machine-readable line that api.sh parses:
--   RESULT requests=N seconds=S rps=R p50_us=.. p90_us=.. p99_us=.. max_us=..
--          non2xx=N unexpected=N first_unexpected=STATUS errors=N
-- ("non2xx" is wrk's count of non-2xx/3xx statuses, "errors" its
-- connect/read/write/timeout errors.)

wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
   wrk.body = body
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local function add_headers(into, spec)
   for pair in string.gmatch(spec or "", "[^|]+") do
      local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
      if name then into[name] = value end
   end
   return into
end
add_headers(wrk.headers, os.getenv("WRK_HEADERS"))

local path2 = os.getenv("WRK_PATH2")
if path2 and path2 ~= "" then
   local requests, turn = {}, 0
   function init(args)
      requests[1] = wrk.format(nil, nil, nil, nil)
      local h2 = add_headers({}, os.getenv("WRK_HEADERS2"))
      if wrk.headers["Content-Type"] then h2["Content-Type"] = wrk.headers["Content-Type"] end
      requests[2] = wrk.format(wrk.method, path2, h2, os.getenv("WRK_BODY2"))
   end
   function request()
      turn = turn % 2 + 1
      return requests[turn]
   end
end

local pause_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pause_ms then
   function delay()
      return pause_ms
   end
end

local threads = {}
function setup(thread)
   table.insert(threads, thread)
end

local expect = tonumber(os.getenv("WRK_EXPECT") or "")
unexpected = 0
first_unexpected = 0
if expect then
   function response(status, headers, body)
      if status ~= expect then
         unexpected = unexpected + 1
         if first_unexpected == 0 then first_unexpected = status end
      end
   end
end

function done(summary, latency, requests)
   local bad, first = 0, 0
   for _, t in ipairs(threads) do
      bad = bad + t:get("unexpected")
      local f = t:get("first_unexpected")
      if first == 0 and f ~= 0 then first = f end
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "non2xx=%d unexpected=%d first_unexpected=%d errors=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, bad, first, e.connect + e.read + e.write + e.timeout))
end
