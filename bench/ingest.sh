#!/usr/bin/env bash
# oncall's side of ../shared/bench/am-ingest.sh: the same routing, the same
# poster (ampost: ALERTS alerts, batches of 1,000 from 4 posters) against
# `oncall serve`, then its RSS. Run both in one session and quote the ratio.
#   bench/ingest.sh 100000 [MAX_ALERTS]      (MAX_ALERTS: the storm limit, default 100000)
set -eu
n=${1:-100000}
max=${2:-100000}
repo=$(cd "$(dirname "$0")/.." && pwd)
ampost=${AMPOST:-$repo/../shared/bench/ampost}
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
op=$(free_port); sp=$(free_port)
cat > "$dir/alertmanager.yml" <<YML
route: {receiver: sink, group_by: [alertname, service], group_wait: 1s, group_interval: 5s, repeat_interval: 1h}
receivers: [{name: sink, webhook_configs: [{url: 'http://127.0.0.1:$sp/hook'}]}]
YML
cat > "$dir/oncall.yaml" <<YML
state_dir: $dir/state
server: {listen: "127.0.0.1:$op"}
alerts: {alertmanager_config: alertmanager.yml, max_alerts: $max}
YML
python3 -c '
import http.server,sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length",0))); self.send_response(200); self.end_headers()
    def log_message(self,*a): pass
http.server.ThreadingHTTPServer(("127.0.0.1",int(sys.argv[1])),H).serve_forever()' "$sp" & s=$!
(cd "$repo" && go build -o "$dir/oncall" ./cmd/oncall)
(cd "$ampost" && go build -o "$dir/ampost" .)
"$dir/oncall" serve --config "$dir/oncall.yaml" >"$dir/oncall.log" 2>&1 & o=$!
trap 'kill $s $o 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for i in $(seq 100); do curl -sf "127.0.0.1:$op/-/ready" >/dev/null && break; sleep 0.2; done
out=$("$dir/ampost" -url "http://127.0.0.1:$op/api/v2/alerts" -n "$n" || true)
sleep 2
rss=$(ps -o rss= -p $o)
held=$(curl -sf "127.0.0.1:$op/api/v2/alerts" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "oncall: $out; RSS ${rss} KiB; $held alerts held"
