#!/usr/bin/env bash
# Check the deployment examples with the real tools: `nginx -t` on nginx.conf inside a
# minimal nginx.conf of its own, `systemd-analyze verify` on waitlist.service. Exits
# non-zero when either refuses its file. Needs Debian's nginx (nginx-light) and systemd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# nginx: the snippet as written, but with a throwaway certificate where it names the
# real one (nginx -t opens the files), and every path under the temporary directory.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=waitlist.example.com \
  -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null
sed -e "s#/etc/letsencrypt/live/waitlist.example.com/#$work/#" \
  "$here/nginx.conf" > "$work/waitlist.conf"
cat > "$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    include $work/waitlist.conf;
}
CONF
nginx -t -q -p "$work" -c "$work/nginx.conf"
echo "nginx -t: examples/deploy/nginx.conf is valid"

# systemd: the unit as written; it names /opt/waitlist/.venv/bin/waitlist, which must
# exist and be executable for verify, so a stand-in is made when it is missing.
standin=""
if [ ! -x /opt/waitlist/.venv/bin/waitlist ]; then
  standin=/opt/waitlist/.venv/bin/waitlist
  mkdir -p "$(dirname "$standin")"
  printf '#!/bin/sh\nexit 0\n' > "$standin" && chmod +x "$standin"
fi
status=0
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$here/waitlist.service" 2>&1) || status=$?
[ -n "$standin" ] && rm -f "$standin" && rmdir -p --ignore-fail-on-non-empty "$(dirname "$standin")"
if [ "$status" -ne 0 ] || grep -q waitlist.service <<<"$out"; then
  echo "$out" >&2
  echo "systemd-analyze verify: examples/deploy/waitlist.service has problems" >&2
  exit 1
fi
echo "systemd-analyze verify: examples/deploy/waitlist.service is valid"
