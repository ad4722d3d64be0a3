-- wrk script of bench/api: MODE (env) picks what each request is.
--   read     GET /api/v1/bookings?limit=20
--   booking  POST /api/v1/bookings, a new stay (and its confirmation, sent by the dispatcher)
--   channel  POST /channel/v1/reservations, a new confirmed reservation per request
--   health   GET /healthz (the server's floor: no database)
-- done() prints one JSON line: requests, rps, p50/p99/max in ms, errors.
local mode = os.getenv("MODE")
local key = os.getenv("KEY")
local property = os.getenv("PROPERTY")
local threads = {}
local counter = 0
local id = 0

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    id = wrk.thread:get("id")
end

function request()
    counter = counter + 1
    local headers = {
        ["Authorization"] = "Bearer " .. key,
        ["Content-Type"] = "application/json",
    }
    if mode == "read" then
        return wrk.format("GET", "/api/v1/bookings?limit=20", headers)
    elseif mode == "health" then
        return wrk.format("GET", "/healthz")
    elseif mode == "booking" then
        local body = string.format(
            '{"property_id":"%s","kind":"stay","status":"confirmed","arrival":"2027-05-01","departure":"2027-05-03",' ..
            '"contact":{"first_name":"Gast %d","email":"gast-%d-%d@example.com","language":"de"}}',
            property, counter, id, counter)
        return wrk.format("POST", "/api/v1/bookings", headers, body)
    else
        local body = string.format(
            '{"external_id":"W-%d-%d","status":"confirmed","revision":1,"voucher":"V-%d-%d",' ..
            '"arrival":"2027-06-10","departure":"2027-06-13","language":"de",' ..
            '"guest":{"first_name":"Jana","last_name":"Kanal","email":"kanal-%d-%d@example.cz"}}',
            id, counter, id, counter, id, counter)
        return wrk.format("POST", "/channel/v1/reservations", headers, body)
    end
end

function done(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write
        + summary.errors.status + summary.errors.timeout
    io.write(string.format(
        '{"requests":%d,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"errors":%d,"non_2xx":%d}\n',
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
        errors, summary.errors.status))
end
