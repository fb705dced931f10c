#!/usr/bin/env python3
"""A stand-in for newsclfd's reload behaviour, for tests/ops/retrain.sh.

    fake_daemon.py --store DIR --port-file FILE --pid-file FILE [--ignore-hup-file FILE]

Serves http://127.0.0.1:<free port>/metrics (the port goes to --port-file)
with newsclf_model_info{name="...",version="..."} 1 for the model that
<store>/current pointed to at start and at each SIGHUP, like the daemon's
reload. While --ignore-hup-file exists a SIGHUP changes nothing: a reload
whose effect never shows.
"""
import argparse
import http.server
import json
import os
import signal
import socketserver

a = argparse.ArgumentParser()
a.add_argument("--store", required=True)
a.add_argument("--port-file", required=True)
a.add_argument("--pid-file", required=True)
a.add_argument("--ignore-hup-file", default="")
args = a.parse_args()
state = {"text": ""}


def load():
    try:
        with open(os.path.join(args.store, "current", "manifest.json")) as f:
            m = json.load(f)
        state["text"] = ('# TYPE newsclf_model_info gauge\n'
                         'newsclf_model_info{name="%s",version="%s"} 1\n' % (m["name"], m["version"]))
    except (OSError, ValueError, KeyError):
        state["text"] = ""


def on_hup(sig, frame):
    if args.ignore_hup_file and os.path.exists(args.ignore_hup_file):
        return
    load()


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = ("# HELP newsclf_up fake\nnewsclf_up 1\n" + state["text"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


load()
signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGTERM, lambda s, f: os._exit(0))
srv = socketserver.TCPServer(("127.0.0.1", 0), H)
with open(args.pid_file + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(args.pid_file + ".tmp", args.pid_file)
with open(args.port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever(poll_interval=0.2)
