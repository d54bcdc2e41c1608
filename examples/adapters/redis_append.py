#!/usr/bin/python3
"""redis_append.py - a faultline adapter for the list-append workload
(Elle's; judged by the elle checker) on Redis, in Python with Debian's
python3-redis.

    faultline run ... --workload append \
        --client-exec "python3 examples/adapters/redis_append.py"

A transaction ([["append", 3, 1], ["r", 4, null]]) runs as one Lua script,
which Redis executes atomically: appends are RPUSH to fl:append:KEY, reads
LRANGE the whole list; the reply is the transaction with each read's list
filled in. Connection handling, opts.target and the setup hook (which
deletes every fl:append:* key) are redis_register.py's.

Completions: ok on Redis's answer; fail when it certainly did not happen
(connection refused, an error reply, or any error of a read-only
transaction except a timeout); info otherwise.
"""
import json

import redis

import faultline_adapter
from redis_register import RedisAdapter, Rejected

TXN = """
local out = {}
for i, mop in ipairs(cjson.decode(ARGV[1])) do
  local key = ARGV[2] .. tostring(mop[2])
  if mop[1] == 'append' then
    redis.call('RPUSH', key, tostring(mop[3]))
    out[i] = mop
  else
    local vals = {}
    for j, x in ipairs(redis.call('LRANGE', key, 0, -1)) do vals[j] = tonumber(x) end
    out[i] = {mop[1], mop[2], vals}
  end
end
return cjson.encode(out)
"""


class RedisAppend(RedisAdapter):
    prefix = "fl:append:"

    def invoke(self, op):
        txn = op.get("value") or []
        read_only = all(mop[0] == "r" for mop in txn)
        try:
            if op["f"] != "txn":
                return {"type": "fail", "error": "unknown op %r" % op["f"]}
            done = json.loads(self.call("EVAL", TXN, 0, json.dumps(txn), self.prefix))
            # Lua's cjson writes an empty list as {}.
            for mop in done:
                if mop[0] == "r" and mop[2] == {}:
                    mop[2] = []
            return {"type": "ok", "value": done}
        except Rejected as e:
            return {"type": "fail", "error": str(e)}
        except redis.TimeoutError:
            return {"type": "info", "error": "timeout"}
        except Exception as e:
            return {"type": "fail" if read_only else "info",
                    "error": "%s: %s" % (type(e).__name__, e)}


if __name__ == "__main__":
    faultline_adapter.serve(RedisAppend)
