-- wrk script of the alert-storm case (benchmarks/storm.py): every request carries BATCH new
-- alerts, each with an id of its own, spread over SERVICES services, in the body one system
-- takes:
--   alertmanager  POST /api/v2/alerts: a JSON array of postable alerts
--   webhook       POST /webhooks/alertmanager: Alertmanager's v4 webhook (what it sends us)
--   events        POST /events: the same alerts as ops.alert CloudEvents (an array if BATCH > 1)
-- Arguments (after --): MODE BATCH SERVICES STARTS_AT TOKEN. The alerts' text is the same in
-- all three modes; the summary is printed as one line "storm-result {json}" at the end.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local LABELS = '{"alertname":"HighErrorRate","service":"svc-%d","severity":"critical",' ..
  '"instance":"%s","team":"payments"}'
local SUMMARY = "error rate above 5% for 2 minutes"
local GENERATOR = "http://prometheus.local/graph?g0.expr=errors"

local mode, batch, services, starts, counter, prefix, path, make

local function postable(n)
  local alert_id = prefix .. n
  local labels = string.format(LABELS, n % services, alert_id)
  return string.format('{"labels":%s,"annotations":{"summary":"%s"},"startsAt":"%s",' ..
    '"generatorURL":"%s"}', labels, SUMMARY, starts, GENERATOR)
end

local function webhook_alert(n)
  local alert_id = prefix .. n
  local labels = string.format(LABELS, n % services, alert_id)
  return string.format('{"status":"firing","labels":%s,"annotations":{"summary":"%s"},' ..
    '"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z","generatorURL":"%s","fingerprint":"%s"}',
    labels, SUMMARY, starts, GENERATOR, alert_id)
end

local function cloudevent(n)
  local alert_id = prefix .. n
  local service = n % services
  local labels = string.format(LABELS, service, alert_id)
  return string.format('{"specversion":"1.0","id":"%s","source":"storm","type":"ops.alert",' ..
    '"time":"%s","subject":"HighErrorRate","data":{"alertname":"HighErrorRate",' ..
    '"service":"svc-%d","status":"firing","severity":"critical","labels":%s,"summary":"%s"}}',
    alert_id, starts, service, labels, SUMMARY)
end

local function alerts(one)
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = one(counter)
  end
  return table.concat(parts, ",")
end

local BODIES = {
  alertmanager = function() return "[" .. alerts(postable) .. "]" end,
  webhook = function()
    return '{"version":"4","status":"firing","receiver":"orchestrator","groupKey":' ..
      '"{}:{alertname=\\"HighErrorRate\\"}","groupLabels":{"alertname":"HighErrorRate"},' ..
      '"commonLabels":{"alertname":"HighErrorRate"},"commonAnnotations":{},' ..
      '"externalURL":"http://alertmanager.local","truncatedAlerts":0,"alerts":[' ..
      alerts(webhook_alert) .. "]}"
  end,
  events = function()
    local body = alerts(cloudevent)
    if batch > 1 then return "[" .. body .. "]" end
    return body
  end,
}
local PATHS = {
  alertmanager = "/api/v2/alerts", webhook = "/webhooks/alertmanager", events = "/events",
}

function init(args)
  mode, batch, services, starts = args[1], tonumber(args[2]), tonumber(args[3]), args[4]
  counter, prefix = 0, string.format("t%d-", id)
  path, make = PATHS[mode], BODIES[mode]
  wrk.headers["Content-Type"] = "application/json"
  if args[5] and args[5] ~= "" then wrk.headers["Authorization"] = "Bearer " .. args[5] end
end

function request()
  return wrk.format("POST", path, nil, make())
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('storm-result {"requests":%d,"seconds":%.6f,"non_2xx":%d,' ..
    '"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n', summary.requests,
    summary.duration / 1e6, errors.status, errors.connect + errors.read + errors.write +
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
