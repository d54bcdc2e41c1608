#!/usr/bin/python3
"""etcd_register.py - a faultline adapter for the register workload on
etcd's v3 JSON gateway, in Python with the standard library only: the same
requests and the same honesty rules as faultline's built-in etcd client
(src/db/etcd_client.c), so both must reach the same verdicts.

    faultline run --db etcd --workload register \
        --client-exec "python3 examples/adapters/etcd_register.py"

    read  -> POST /v3/kv/range {key}  (+ "serializable": true with
             db_opts.read_mode serializable, or opts.read_mode)
    write -> POST /v3/kv/put   {key, value}
    cas   -> POST /v3/kv/txn   compare VALUE == old, then put new

Completions: ok only on an answer proving the op happened; fail only when
it certainly did not (connection refused before anything was sent, HTTP
4xx, a txn whose compare failed; any error of a read, which changes
nothing, except a timeout); info otherwise. One keep-alive connection per
adapter (= per worker process), bound to the local cluster's bridge when
faultline says so (FAULTLINE_BIND_DEVICE).
"""
import base64
import http.client
import json
import os
import socket
import time

import faultline_adapter


def b64(s):
    return base64.b64encode(str(s).encode()).decode()


class Rejected(Exception):
    """The request certainly had no effect."""


class Connection(http.client.HTTPConnection):
    def __init__(self, host, port, timeout, device):
        super().__init__(host, port, timeout=timeout)
        self.device = device

    def connect(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            if self.device:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.device.encode())
            s.settimeout(self.timeout)
            s.connect((self.host, self.port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except ConnectionRefusedError as e:
            s.close()
            raise Rejected("connection refused") from e
        except OSError:
            s.close()
            raise
        self.sock = s


class EtcdRegister:
    def __init__(self, init):
        opts = init.get("opts") or {}
        mode = opts.get("read_mode") or (init.get("db_opts") or {}).get("read_mode")
        self.serializable = mode == "serializable"
        port = init.get("port") or 2379
        # Answer before faultline's own op timeout would kill us.
        timeout = max(0.1, float(init.get("op_timeout", 5)) * 0.8)
        self.conn = Connection(init["host"], port, timeout, os.environ.get("FAULTLINE_BIND_DEVICE"))
        self.retry_at = 0.0

    def post(self, path, body):
        """The gateway's JSON answer; Rejected if it certainly did nothing;
        any other exception: unknown."""
        # A node that refuses connections is not hammered: the next
        # attempt waits (inside its op) as the built-in client does.
        wait = self.retry_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            if self.conn.sock is None:
                try:
                    self.conn.connect()  # refused here: nothing was sent
                except Rejected:
                    self.retry_at = time.monotonic() + 0.1
                    raise
            self.conn.request("POST", path, json.dumps(body),
                              {"Content-Type": "application/json"})
            resp = self.conn.getresponse()
            data = resp.read()
        except Exception:
            self.conn.close()
            raise
        if resp.status != 200:
            msg = "http %d: %s" % (resp.status, data[:200].decode(errors="replace"))
            # 408: the gateway gave up waiting; the proposal may still apply.
            if 400 <= resp.status < 500 and resp.status != 408:
                raise Rejected(msg)
            raise RuntimeError(msg)
        return json.loads(data)

    def invoke(self, op):
        f, key, value = op["f"], op.get("key", ""), op.get("value")
        try:
            if f == "read":
                body = {"key": b64(key)}
                if self.serializable:
                    body["serializable"] = True
                kvs = self.post("/v3/kv/range", body).get("kvs") or []
                v = int(base64.b64decode(kvs[0]["value"])) if kvs else None
                return {"type": "ok", "value": v}
            if f == "write":
                self.post("/v3/kv/put", {"key": b64(key), "value": b64(value)})
                return {"type": "ok"}
            if f == "cas":
                old, new = value
                r = self.post("/v3/kv/txn", {
                    "compare": [{"key": b64(key), "target": "VALUE", "result": "EQUAL",
                                 "value": b64(old)}],
                    "success": [{"request_put": {"key": b64(key), "value": b64(new)}}]})
                # proto3 JSON leaves out false booleans.
                if r.get("succeeded"):
                    return {"type": "ok"}
                return {"type": "fail", "error": "compare failed"}
            return {"type": "fail", "error": "unknown op %r" % f}
        except Rejected as e:
            return {"type": "fail", "error": str(e)}
        except socket.timeout:
            return {"type": "info", "error": "timeout"}
        except Exception as e:
            # A read changes nothing: whatever went wrong, it did not happen.
            return {"type": "fail" if f == "read" else "info",
                    "error": "%s: %s" % (type(e).__name__, e)}


if __name__ == "__main__":
    faultline_adapter.serve(EtcdRegister)
