#!/usr/bin/python3
"""redis_register.py - a faultline adapter for the register workload on
Redis, in Python with Debian's python3-redis.

    read  -> GET fl:register:KEY            (null when missing)
    write -> SET fl:register:KEY VALUE
    cas   -> a Lua script: SET only if GET equals the expected value

opts.target says which node an adapter talks to: "node" (default: the node
faultline gave it, FAULTLINE_HOST) or "first" (every adapter uses the first
node: a primary with replicas on the others, as in examples/custom-db.json).
The port is FAULTLINE_PORT (db_opts.port or client.port), default 6379.
The setup hook deletes every fl:register:* key, so a long-lived server
(db none) starts each test empty.

Completions: ok on Redis's answer; fail when it certainly did not happen
(connection refused before sending, an error reply such as READONLY, a cas
whose compare failed, any error of a read except a timeout); info
otherwise (a timeout or a connection lost mid-request).
"""
import os
import time

import redis

import faultline_adapter

PREFIX = "fl:register:"
CAS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class Rejected(Exception):
    """The request certainly had no effect."""


class RedisAdapter:
    """One connection to the adapter's Redis node, and the setup hook; the
    workloads' adapters (RedisRegister here, redis_append.py) add invoke."""
    prefix = PREFIX

    def __init__(self, init):
        opts = init.get("opts") or {}
        host = init["host"]
        if opts.get("target") == "first":
            host = init["nodes"][0]["host"]
        port = int(os.environ.get("FAULTLINE_PORT") or 6379)
        timeout = max(0.1, float(init.get("op_timeout", 5)) * 0.8)
        # One connection, used directly: connecting (where "refused" means
        # nothing was sent) is kept apart from the request itself.
        self.conn = redis.Connection(host=host, port=port, socket_timeout=timeout,
                                     socket_connect_timeout=timeout)
        self.retry_at = 0.0

    def call(self, *args):
        # A node that refuses connections is not hammered: the next attempt
        # waits (inside its op).
        wait = self.retry_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            self.conn.connect()  # no-op while connected
        except redis.ConnectionError as e:
            if "refused" in str(e).lower():
                self.retry_at = time.monotonic() + 0.1
                raise Rejected(str(e)) from e
            raise
        try:
            self.conn.send_command(*args)
            return self.conn.read_response()
        except redis.ResponseError as e:  # Redis answered: an error, nothing done
            raise Rejected(str(e)) from e
        except Exception:
            self.conn.disconnect()
            raise

    def setup(self):
        for key in self.scan(self.prefix + "*"):
            self.call("DEL", key)

    def scan(self, pattern):
        cursor, keys = b"0", []
        while True:
            cursor, batch = self.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            keys.extend(batch)
            if cursor in (b"0", 0):
                return keys


class RedisRegister(RedisAdapter):
    def invoke(self, op):
        f, key, value = op["f"], PREFIX + op.get("key", ""), op.get("value")
        try:
            if f == "read":
                v = self.call("GET", key)
                return {"type": "ok", "value": None if v is None else int(v)}
            if f == "write":
                self.call("SET", key, value)
                return {"type": "ok"}
            if f == "cas":
                if self.call("EVAL", CAS, 1, key, value[0], value[1]) == 1:
                    return {"type": "ok"}
                return {"type": "fail", "error": "compare failed"}
            return {"type": "fail", "error": "unknown op %r" % f}
        except Rejected as e:
            return {"type": "fail", "error": str(e)}
        except redis.TimeoutError:
            return {"type": "info", "error": "timeout"}
        except Exception as e:
            return {"type": "fail" if f == "read" else "info",
                    "error": "%s: %s" % (type(e).__name__, e)}


if __name__ == "__main__":
    faultline_adapter.serve(RedisRegister)
