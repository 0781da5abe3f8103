-- test_aggregate.lua — aggregated metrics (meanrank, borda, zmean, minmax; weights), the
-- `recommended` recipe, the top-k picks and regret@3. Expected values are computed by hand here
-- (ranks counted pair by pair, z-scores from their definition), never by pedlab.aggregate.
local T = require "harness"
local pl = require "pedlab"
local agg = require "pedlab.aggregate"
local rank = require "pedlab.commands.rank"
local rank_report = require "pedlab.rank_report"

local ZOO = T.source .. "/data/demo"
local function always_higher() return true end

T.case("aggregate: metric lists split at top-level commas only", function()
  local s = agg.split("logme,meanrank(parc,ped+logme*2),gbc:type=spherical")
  T.eq(#s, 3) T.eq(s[2], "meanrank(parc,ped+logme*2)") T.eq(s[3], "gbc:type=spherical")
  T.raises("'(' without ')'", agg.split, "meanrank(logme,parc")
  T.raises("')' without '('", agg.split, "logme),parc")
end)

T.case("aggregate: specs are parsed and checked", function()
  local a = agg.parse("zmean(logme*2,ped+sfda)")
  T.eq(a.method, "zmean") T.eq(#a.members, 2)
  T.eq(a.members[1].key, "logme") T.eq(a.members[1].weight, 2)
  T.eq(a.members[2].key, "ped+sfda") T.eq(a.members[2].weight, 1)
  local r = agg.parse("recommended")
  T.eq(r.label, "recommended") T.eq(r.radius, "auto") T.eq(r.method, "meanrank")
  T.raises("unknown aggregation 'median'", agg.parse, "median(logme,parc)")
  T.raises("at least two members", agg.parse, "meanrank(logme)")
  T.raises("must be a positive number", agg.parse, "meanrank(logme*0,parc)")
  T.raises("must be a positive number", agg.parse, "meanrank(logme*x,parc)")
  T.raises("listed twice", agg.parse, "meanrank(logme,logme)")
  T.raises("is an aggregate", agg.parse, "meanrank(logme,recommended)")
end)

-- Four models, two members; a: d > c > b = a (a tie), b: a > c > b > d.
local MODELS = { "a", "b", "c", "d" }
local SCORES = { m1 = { a = 1, b = 1, c = 2, d = 5 }, m2 = { a = 0.9, b = 0.2, c = 0.5, d = 0.1 } }

T.case("aggregate: mean rank and Borda by hand, ties broken by the mean z-score", function()
  -- average ranks (4 = best): m1 a 1.5 b 1.5 c 3 d 4; m2 a 4 b 2 c 3 d 1
  -- mean ranks: a 2.75, b 1.75, c 3, d 2.5
  local s, pos = agg.combine(agg.parse("meanrank(m1,m2)"), SCORES, always_higher, MODELS)
  local expect = { a = 2.75, b = 1.75, c = 3, d = 2.5 }
  for _, m in ipairs(MODELS) do
    -- the tie-break moves a score by less than 0.4 of the half-rank step / 2 members
    assert(math.abs(s[m] - expect[m]) < 0.1 + 1e-12, m .. ": " .. s[m])
  end
  assert(s.c > s.a and s.a > s.d and s.d > s.b, "order c a d b")
  T.eq(pos.m1.d, 1) T.eq(pos.m1.c, 2) T.eq(pos.m2.a, 1) T.eq(pos.m2.d, 4)
  local b = agg.combine(agg.parse("borda(m1,m2)"), SCORES, always_higher, MODELS)
  -- Borda points: sum of (rank - 1): a 0.5 + 3 = 3.5, b 0.5 + 1 = 1.5, c 2 + 2 = 4, d 3 + 0 = 3
  local bexp = { a = 3.5, b = 1.5, c = 4, d = 3 }
  for _, m in ipairs(MODELS) do
    assert(math.abs(b[m] - bexp[m]) < 0.2 + 1e-12, m .. ": " .. b[m])
  end
end)

T.case("aggregate: a tie of mean ranks goes to the larger mean z-score", function()
  -- m1: x > y, m2: y > x: mean ranks tie; m1's gap is larger in z (three models)
  local sc = { m1 = { x = 10, y = 0, z = -0.1 }, m2 = { x = 0, y = 1, z = -100 } }
  -- z of m1 (mean 3.3, sd 4.738): x 1.414, y -0.70, z -0.72; m2 (mean -33, sd 47.4): x 0.70,
  -- y 0.72, z -1.414. Mean z: x 1.06 > y 0.01: x first.
  local s = agg.combine(agg.parse("meanrank(m1,m2)"), sc, always_higher, { "x", "y", "z" })
  assert(s.x > s.y, "x above y")
end)

T.case("aggregate: zmean, minmax and weights by hand", function()
  -- m1 mean 2.25, population sd sqrt(((1.25)^2*2 + 0.25^2 + 2.75^2) / 4) = sqrt(2.6875)
  local sd1 = math.sqrt(2.6875)
  local mean2 = (0.9 + 0.2 + 0.5 + 0.1) / 4
  local sd2 = math.sqrt(((0.9 - mean2) ^ 2 + (0.2 - mean2) ^ 2 + (0.5 - mean2) ^ 2
                         + (0.1 - mean2) ^ 2) / 4)
  local z = agg.combine(agg.parse("zmean(m1*3,m2)"), SCORES, always_higher, MODELS)
  for _, m in ipairs(MODELS) do
    local want = (3 * (SCORES.m1[m] - 2.25) / sd1 + (SCORES.m2[m] - mean2) / sd2) / 4
    T.close(z[m], want, 1e-14, "zmean " .. m)
  end
  local mm = agg.combine(agg.parse("minmax(m1,m2)"), SCORES, always_higher, MODELS)
  for _, m in ipairs(MODELS) do
    local want = ((SCORES.m1[m] - 1) / 4 + (SCORES.m2[m] - 0.1) / 0.8) / 2
    T.close(mm[m], want, 1e-14, "minmax " .. m)
  end
  -- a lower-is-better member is ranked by its negation
  local low = agg.combine(agg.parse("zmean(m1,m2)"), SCORES, function(k) return k ~= "m2" end,
    MODELS)
  for _, m in ipairs(MODELS) do
    T.close(low[m], ((SCORES.m1[m] - 2.25) / sd1 - (SCORES.m2[m] - mean2) / sd2) / 2, 1e-14,
      "lower " .. m)
  end
  T.raises("every model has the same score", agg.combine, agg.parse("zmean(m1,m3)"),
    { m1 = SCORES.m1, m3 = { a = 1, b = 1, c = 1, d = 1 } }, always_higher, MODELS)
  T.raises("no finite score for model 'b'", agg.combine, agg.parse("meanrank(m1,m2)"),
    { m1 = SCORES.m1, m2 = { a = 1, b = 0 / 0, c = 1, d = 2 } }, always_higher, MODELS)
end)

-- ranks 1..n (1 = best) counted pair by pair, ties by name: the oracle for rank positions
local function positions(scores)
  local out = {}
  for m, v in pairs(scores) do
    local p = 1
    for m2, v2 in pairs(scores) do if v2 > v or (v2 == v and m2 < m) then p = p + 1 end end
    out[m] = p
  end
  return out
end

T.case("rank: an aggregate over listed metrics, its top picks, regret@3 by hand", function()
  local R = rank.rank_zoo({ zoo = ZOO, task = "digits",
    metric = { "logme,meanrank(logme,sfda),sfda" } }, "rank")
  T.eq(R.metrics[1], "logme") T.eq(R.metrics[2], "meanrank(logme,sfda)") T.eq(R.metrics[3], "sfda")
  local res = R.results.digits
  local a, l, s = res["meanrank(logme,sfda)"], res.logme.scores, res.sfda.scores
  local pl_, ps = positions(l), positions(s)
  local n = 0
  for _ in pairs(l) do n = n + 1 end
  for m in pairs(l) do
    -- mean of average ranks (n = best); the demo's scores have no ties
    local want = ((n + 1 - pl_[m]) + (n + 1 - ps[m])) / 2
    assert(math.abs(a.scores[m] - want) < 0.1 + 1e-12, m)
    T.eq(a.aggregate.members[1].rank[m], pl_[m], "logme rank " .. m)
    T.eq(a.aggregate.members[2].rank[m], ps[m], "sfda rank " .. m)
  end
  -- regret@3: best accuracy minus the best accuracy among the top three by score
  local acc = R.zoo.gt.digits
  local order = positions(a.scores)
  local best, best3 = -math.huge, -math.huge
  for m, v in pairs(acc) do
    best = math.max(best, v)
    if order[m] and order[m] <= 3 then best3 = math.max(best3, v) end
  end
  T.close(a.regret_at_3, best - best3, 1e-12, "regret@3")
  assert(a.regret_at_3 <= a.regret_at_1, "regret@3 <= regret@1")
  local json = rank_report.rank_json(R)
  local top = json.tasks.digits["meanrank(logme,sfda)"].top
  T.eq(#top, 3)
  for i, e in ipairs(top) do
    T.eq(order[e.model], i, "top " .. i)
    T.eq(e.member_ranks.logme, pl_[e.model]) T.eq(e.member_ranks.sfda, ps[e.model])
  end
  T.eq(#json.tasks.digits.logme.top, 3)
end)

T.case("rank: recommended is the default, runs PED at radius auto, "
  .. "hides unlisted members", function()
  local R = rank.rank_zoo({ zoo = ZOO, task = "digits", top = "5" }, "rank")
  T.eq(#R.metrics, 1) T.eq(R.metrics[1], "recommended")
  T.eq(R.settings.ped.radius, "auto:gated")
  T.eq(R.settings.aggregates.recommended.spec, "meanrank(parc,hscore_reg,ped+logme)")
  local res = R.results.digits
  T.eq(res.parc, nil) T.eq(res["ped+logme"], nil)
  local r = res.recommended
  T.eq(#r.aggregate.members, 3)
  T.eq(r.aggregate.members[3].metric, "ped+logme")
  assert(type(r.aggregate.members[3].radius) == "table", "the radius ped+logme used is recorded")
  T.eq(#rank_report.rank_json(R).tasks.digits.recommended.top, 5)
  T.raises("recommended uses PED with --radius auto", rank.rank_zoo,
    { zoo = ZOO, task = "digits", radius = "0.5" }, "rank")
  T.raises("--ped with an aggregate", rank.rank_zoo,
    { zoo = ZOO, task = "digits", metric = { "meanrank(logme,sfda)" }, ped = true }, "rank")
  T.raises("unknown metric 'nosuch'", rank.rank_zoo,
    { zoo = ZOO, task = "digits", metric = { "meanrank(logme,nosuch)" } }, "rank")
  T.raises("--top 0: expected a whole number >= 1", rank.rank_zoo,
    { zoo = ZOO, task = "digits", metric = { "logme" }, top = "0" }, "rank")
end)

T.case("aggregate: a model a member is undefined on is undefined "
  .. "for the aggregate, with why", function()
  local R = { tasks = { "t" }, metrics = { "m1", "m2" }, results = { t = {
    m1 = { scores = { a = 1, b = 2, c = 3 } },
    m2 = { scores = { a = 3, c = 1 }, undefined = { b = "too few rows" } } } } }
  agg.apply(R, { agg.parse("meanrank(m1,m2)") }, nil, always_higher, pl.zoo.evaluate)
  local r = R.results.t["meanrank(m1,m2)"]
  T.eq(r.scores.b, nil)
  T.eq(r.undefined.b, "m2 is undefined: too few rows")
  -- a and c: ranks (m1: a 1, c 2; m2: a 2, c 1) tie at 1.5; mean z breaks it toward neither
  -- (their z-scores mirror): both within the tie-break of 1.5
  assert(math.abs(r.scores.a - 1.5) < 0.1 and math.abs(r.scores.c - 1.5) < 0.1)
end)

T.done()
