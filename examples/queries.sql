-- Example queries over a pyspy database (docs/schema.md).
--
-- Run one with the sqlite3 shell or with pyspy-analyze:
--     sqlite3 -header -column pyspy.db < examples/queries.sql
--     pyspy-analyze sql -f examples/queries.sql pyspy.db
--     pyspy-analyze sql run.pyspy 'SELECT * FROM thread_summary'
-- Each query starts with a "-- name:" line (tests/examples/run.sh runs
-- every one of them against test captures and checks that it returns rows).
-- "idle" and "active" follow py-spy's rule: the kernel said the thread was
-- not running, or its innermost frame is a known wait (threading wait,
-- selectors select, asyncore/zmq/gevent/tornado poll).

-- name: hottest_functions_per_thread
-- The 5 functions most often running (innermost frame, idle left out) in
-- each thread, with their share of that thread's active samples.
SELECT host, pid, tid, thread_name, function, file, samples, pct
FROM (
  SELECT host, pid, tid, thread, thread_name, function, file,
         count(*) AS samples,
         round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY thread), 2) AS pct,
         row_number() OVER (PARTITION BY thread ORDER BY count(*) DESC, function, file) AS rank
  FROM sample_leaf
  WHERE active AND function IS NOT NULL
  GROUP BY thread, function, file
)
WHERE rank <= 5
ORDER BY host, pid, tid, rank;

-- name: hottest_functions_inclusive
-- Functions by total (inclusive) time: samples with the function anywhere
-- on the stack, each sample counted once even when the function recurses.
-- Walks only the stacks that were sampled, each weighted by its samples.
WITH RECURSIVE per_stack AS (
  SELECT stack, count(*) AS n FROM sample_leaf WHERE active AND stack != 0 GROUP BY stack
), walk(stack, cur) AS (
  SELECT stack, stack FROM per_stack
  UNION ALL
  SELECT w.stack, s.parent FROM walk w JOIN stacks s ON s.id = w.cur WHERE s.parent != 0
), fn AS (
  SELECT DISTINCT w.stack, fi.name AS function, fi.file
  FROM walk w JOIN stacks s ON s.id = w.cur JOIN frame_info fi ON fi.frame = s.frame
)
SELECT fn.function, fn.file, sum(ps.n) AS samples,
       round(100.0 * sum(ps.n) / (SELECT sum(n) FROM per_stack), 2) AS pct
FROM fn JOIN per_stack ps ON ps.stack = fn.stack
GROUP BY fn.function, fn.file
ORDER BY samples DESC, fn.function
LIMIT 20;

-- name: gil_contention_over_time
-- Per second of each capture: how many samples held the GIL, and how many
-- were running Python code (active) without it - contention for the GIL.
SELECT host, CAST(seconds AS INTEGER) AS second, count(*) AS samples,
       sum(gil) AS holding_gil, sum(gil_wait) AS waiting_for_gil,
       sum(active AND NOT gil) AS active_without_gil,
       round(100.0 * sum(active AND NOT gil) / count(*), 1) AS contention_pct
FROM sample_leaf
GROUP BY capture, second
ORDER BY host, second;

-- name: idle_share_per_thread
-- How much of its time each thread was idle, active, and holding the GIL.
SELECT host, pid, tid, thread_name, samples,
       round(100.0 * idle / samples, 1) AS idle_pct,
       active_pct, gil_pct
FROM thread_summary
WHERE samples > 0
ORDER BY host, pid, idle_pct DESC, tid;

-- name: compare_two_hosts
-- The same functions on the first two hosts loaded: share of each host's
-- active samples, side by side, biggest difference first.
WITH hosts AS (
  SELECT host, row_number() OVER (ORDER BY min(id)) AS n FROM captures GROUP BY host
), per AS (
  SELECT h.n, s.function, count(*) AS samples
  FROM sample_leaf s JOIN hosts h ON h.host IS s.host
  WHERE s.active AND s.function IS NOT NULL AND h.n <= 2
  GROUP BY h.n, s.function
), tot AS (
  SELECT n, sum(samples) AS total FROM per GROUP BY n
)
SELECT per.function,
       (SELECT host FROM hosts WHERE n = 1) AS host_a,
       round(100.0 * coalesce(sum(CASE WHEN per.n = 1 THEN per.samples END), 0)
             / (SELECT total FROM tot WHERE n = 1), 2) AS pct_a,
       (SELECT host FROM hosts WHERE n = 2) AS host_b,
       round(100.0 * coalesce(sum(CASE WHEN per.n = 2 THEN per.samples END), 0)
             / (SELECT total FROM tot WHERE n = 2), 2) AS pct_b
FROM per
GROUP BY per.function
ORDER BY abs(coalesce(pct_a, 0) - coalesce(pct_b, 0)) DESC, per.function
LIMIT 20;

-- name: activity_per_second
-- Time-bucketed activity: per second, threads seen, active and idle
-- samples, and the function seen running most often in that second.
-- One pass over the samples, then joins of per-second summaries (a
-- subquery per second would rescan the samples for every second).
WITH b AS (
  SELECT capture, host, CAST(seconds AS INTEGER) AS second, thread, active, function
  FROM sample_leaf
), per_second AS (
  SELECT capture, host, second, count(DISTINCT thread) AS threads,
         sum(active) AS active, sum(NOT active) AS idle
  FROM b GROUP BY capture, second
), per_function AS (
  SELECT capture, second, function,
         row_number() OVER (PARTITION BY capture, second ORDER BY count(*) DESC, function) AS r
  FROM b WHERE active AND function IS NOT NULL
  GROUP BY capture, second, function
)
SELECT s.host, s.second, s.threads, s.active, s.idle, f.function AS busiest_function
FROM per_second s
LEFT JOIN per_function f ON f.capture = s.capture AND f.second = s.second AND f.r = 1
ORDER BY s.host, s.second;

-- name: deepest_stacks
-- The 10 deepest stacks that were sampled, with how often and what they
-- are (root first).  Only these 10 are walked (not the whole stack trie).
WITH RECURSIVE used AS (
  SELECT stack, count(*) AS samples FROM samples WHERE stack != 0 GROUP BY stack
), deepest AS (
  SELECT u.stack, s.depth, u.samples FROM used u JOIN stacks s ON s.id = u.stack
  ORDER BY s.depth DESC, u.samples DESC, u.stack LIMIT 10
), walk(stack, cur, level) AS (
  SELECT stack, stack, depth - 1 FROM deepest
  UNION ALL
  SELECT w.stack, s.parent, w.level - 1 FROM walk w JOIN stacks s ON s.id = w.cur WHERE s.parent != 0
), labels AS (
  SELECT w.stack, w.level,
         fi.name || coalesce(' (' || fi.file || coalesce(':' || s.line, '') || ')', '') AS label
  FROM walk w JOIN stacks s ON s.id = w.cur JOIN frame_info fi ON fi.frame = s.frame
)
SELECT d.depth, d.samples,
       (SELECT group_concat(label, ';') FROM (SELECT label FROM labels l WHERE l.stack = d.stack
                                              ORDER BY l.level)) AS stack
FROM deepest d
ORDER BY d.depth DESC, d.samples DESC, d.stack;

-- name: cpu_per_process
-- Per process: samples, active samples, and an estimate of the CPU time
-- its Python threads used: the wall time its active samples stand for
-- (their weights, docs/schema.md "Weights"; not samples / rate, which
-- undercounts when the sampler missed ticks).
SELECT s.host, p.pid, p.ppid, p.cmdline, count(*) AS samples,
       sum(s.active) AS active,
       round(sum(CASE WHEN s.active THEN s.weight_s ELSE 0 END), 3) AS cpu_seconds,
       round(100.0 * sum(s.active) / count(*), 1) AS active_pct
FROM sample_leaf s
JOIN processes p ON p.id = s.process
GROUP BY s.process
ORDER BY cpu_seconds DESC, s.host, p.pid;

-- name: sample_quality
-- Per capture: partial samples (incomplete stacks), sampling errors,
-- missed ticks and achieved rate - how far to trust the profile.
SELECT host, file, samples, partial,
       round(100.0 * partial / max(samples, 1), 3) AS partial_pct,
       errors, round(100.0 * errors / max(ticks, 1), 3) AS error_pct,
       ticks, missed, rate_hz,
       round(ticks / max(end_ns / 1e9, 1e-9), 1) AS achieved_hz,
       complete, damage
FROM captures
ORDER BY host, start_wall_ns;

-- name: errors_by_kind
-- Sampling errors per capture and kind.
SELECT c.host, coalesce(k.name, 'kind ' || e.kind) AS kind, sum(e.count) AS errors,
       round(min(e.t) / 1e9, 3) AS first_s, round(max(e.t) / 1e9, 3) AS last_s
FROM errors e
JOIN captures c ON c.id = e.capture
LEFT JOIN codes k ON k.domain = 'error_kind' AND k.code = e.kind
GROUP BY e.capture, e.kind
ORDER BY c.host, errors DESC;

-- name: sampler_lag
-- The sampler's lateness over time (LAG records): mean and worst tick
-- lateness and missed ticks per interval.
SELECT c.host, round(l.t / 1e9, 3) AS at_s, l.ticks, l.missed,
       round(l.sum_late_ns / 1e6 / max(l.ticks, 1), 3) AS mean_late_ms,
       round(l.max_late_ns / 1e6, 3) AS max_late_ms
FROM lag l JOIN captures c ON c.id = l.capture
ORDER BY c.host, l.t;

-- name: hottest_lines
-- Where inside the 3 hottest functions the time goes: samples per line.
-- The samples are counted per stack once; the rest works on those counts.
WITH per_stack AS (
  SELECT stack, count(*) AS n FROM sample_leaf WHERE active AND function IS NOT NULL GROUP BY stack
), per_line AS (
  SELECT fi.name AS function, fi.file AS file, st.line AS line, sum(p.n) AS samples
  FROM per_stack p JOIN stacks st ON st.id = p.stack JOIN frame_info fi ON fi.frame = st.frame
  GROUP BY fi.name, fi.file, st.line
), hot AS (
  SELECT function, file FROM per_line
  GROUP BY function, file ORDER BY sum(samples) DESC, function LIMIT 3
)
SELECT l.function, l.file, l.line, l.samples
FROM per_line l JOIN hot h ON h.function = l.function AND h.file = l.file
ORDER BY l.function, l.samples DESC, l.line;

-- name: callers_of_hottest_function
-- Who calls the hottest function: the frame just above it, with counts
-- (over the sampled stacks, each weighted by its active samples).
WITH RECURSIVE hot AS (
  SELECT function, file FROM sample_leaf
  WHERE active AND function IS NOT NULL
  GROUP BY function, file ORDER BY count(*) DESC, function LIMIT 1
), per_stack AS (
  SELECT stack, count(*) AS n FROM sample_leaf WHERE active AND stack != 0 GROUP BY stack
), walk(stack, cur) AS (
  SELECT stack, stack FROM per_stack
  UNION ALL
  SELECT w.stack, s.parent FROM walk w JOIN stacks s ON s.id = w.cur WHERE s.parent != 0
), calls AS (
  -- cur is a stack whose innermost frame is the hot function; its parent's
  -- innermost frame is the caller
  SELECT ps.n, p.frame AS caller_frame, p.line AS caller_line
  FROM walk w
  JOIN per_stack ps ON ps.stack = w.stack
  JOIN stacks c ON c.id = w.cur
  JOIN frame_info cf ON cf.frame = c.frame
  JOIN hot h ON h.function = cf.name AND h.file = cf.file
  LEFT JOIN stacks p ON p.id = c.parent
)
SELECT (SELECT function FROM hot) AS function, coalesce(fi.name, '(root)') AS caller,
       fi.file AS caller_file, calls.caller_line, sum(calls.n) AS samples
FROM calls LEFT JOIN frame_info fi ON fi.frame = calls.caller_frame
GROUP BY calls.caller_frame, calls.caller_line
ORDER BY samples DESC, caller
LIMIT 20;
