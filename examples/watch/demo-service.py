#!/usr/bin/env python3
"""The demo's service and its restart command (scripts/demo, examples/watch/demo.json).

  demo-service.py serve PORT PIDFILE   serve 200 on 127.0.0.1:PORT, writing the pid first
  demo-service.py start                start it in its own session; wait until it answers
  demo-service.py notify               append the alert osmoda-watch hands over to alerts.jsonl

The directory and port come from OSMODA_DEMO_DIR and OSMODA_DEMO_PORT, which scripts/demo
sets, so that the rules file can stay the same on every machine.
"""
import http.server, os, socket, subprocess, sys, time

def serve(port, pidfile):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello from the osmoda demo\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pidfile + ".tmp", pidfile)
    server.serve_forever()

def start(directory, port):
    with open(os.path.join(directory, "restarts.log"), "a") as f:
        f.write(time.strftime("%H:%M:%S") + " start\n")
    subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", str(port), os.path.join(directory, "service.pid")],
                     start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return 0
        except OSError:
            time.sleep(0.05)
    print("the demo service did not come up on port %d" % port, file=sys.stderr)
    return 1

def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
        return 0
    directory = os.environ.get("OSMODA_DEMO_DIR")
    port = os.environ.get("OSMODA_DEMO_PORT")
    if not directory or not port:
        print("demo-service.py: OSMODA_DEMO_DIR and OSMODA_DEMO_PORT must be set (scripts/demo sets them)", file=sys.stderr)
        return 64
    if sys.argv[1:] == ["start"]:
        return start(directory, int(port))
    if sys.argv[1:] == ["notify"]:
        with open(os.path.join(directory, "alerts.jsonl"), "a") as f:
            f.write(os.environ.get("OSMODA_WATCH_ALERT", "{}") + "\n")
        return 0
    print("usage: demo-service.py serve PORT PIDFILE | start | notify", file=sys.stderr)
    return 64

sys.exit(main())
