-- SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
-- wrk -s tests/e2e/wrk-json.lua: at the end, one JSON line with the
-- counts the end-to-end tests check (requests, errors by kind, bytes,
-- latency in microseconds).
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
		'"connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
		'"status_errors": %d, "timeouts": %d, ' ..
		'"latency_p50_us": %d, "latency_p99_us": %d, "latency_max_us": %d}\n',
		summary.requests, summary.duration, summary.bytes,
		e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end
