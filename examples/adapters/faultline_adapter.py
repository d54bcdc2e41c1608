"""faultline_adapter.py - the adapter side of faultline's protocol 1 (see
docs/ADAPTERS.md), so that a Python adapter is only its database calls.

    import faultline_adapter

    class Register:
        def __init__(self, init):    # the init message: node, host, nodes,
            ...                      # port, workload, db_opts, opts, op_timeout
        def invoke(self, op):        # {"f": "read", "key": "3", "value": None, ...}
            return {"type": "ok", "value": 2}
        def setup(self): ...         # optional: once per test, before the workers
        def teardown(self): ...      # optional: once per test, at the end

    faultline_adapter.serve(Register)

serve() answers init with init_ok, calls the methods, echoes each request's
id, and flushes every reply. An exception in invoke() becomes an info reply
(nobody knows what happened); in setup() or teardown() a fail, which stops
the run. While it runs, print() goes to stderr (faultline's log), so a stray
debug print can never be taken for a reply. Only the Python standard library.
"""
import json
import sys

PROTOCOL = 1


def serve(factory):
    replies = sys.stdout
    sys.stdout = sys.stderr
    adapter = None
    for line in sys.stdin:
        req = json.loads(line)
        kind = req.get("type")
        if kind == "init":
            adapter = factory(req)
            reply = {"type": "init_ok", "protocol": PROTOCOL}
        elif kind in ("setup", "teardown"):
            try:
                hook = getattr(adapter, kind, None)
                if hook:
                    hook()
                reply = {"type": "ok"}
            except Exception as e:  # the run stops: say why
                reply = {"type": "fail", "error": "%s: %s" % (type(e).__name__, e)}
        elif kind == "invoke":
            try:
                reply = adapter.invoke(req)
            except Exception as e:  # unknown outcome: never claim fail
                reply = {"type": "info", "error": "%s: %s" % (type(e).__name__, e)}
        else:
            reply = {"type": "fail", "error": "unknown request type %r" % kind}
        reply["id"] = req.get("id")
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
