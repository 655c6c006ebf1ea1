#!/usr/bin/env bash
# The CLI tour on Windows, under Wine: confine.exe (built for x86_64-pc-windows-gnu, the
# wasmtime host and the guest inside) sets, reads and increments a document, runs a plugin
# on it, reports the lock, refuses a name Windows cannot hold, 4 processes x 10
# increments of one key keep every acknowledged update, and several changes are made as
# one update. Usage: cli_tour.sh CONFINE_EXE PLUGIN_WASM
set -euo pipefail
exe=$(realpath "$1")
plugin=$(winepath -w "$2")
[[ -n $plugin ]] || { echo "winepath found no Windows path for $2"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The directory's Windows path, found once: winepath is a Wine process of its own, and one
# that Wine ends under load prints nothing, which would hand a racer an empty --dir.
windir=$(winepath -w "$dir")
[[ -n $windir ]] || { echo "winepath found no Windows path for $dir"; exit 1; }
passed=0
failed=0

confine() { wine "$exe" --dir "$windir" "$@"; }

# check WHAT WANT_STATUS WANT_OUTPUT COMMAND...: runs it, compares its exit status and output.
check() {
  local what=$1 want_status=$2 want=$3 status=0 got
  shift 3
  got=$("$@" 2>&1 | tr -d '\r') || status=$?
  if [[ $status == "$want_status" && $got == "$want" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $what: want status $want_status and [$want], got status $status and [$got]"
  fi
}

check "set" 0 "" confine set app.json server.port 8080
check "get" 0 "8080" confine get app.json server.port
check "incr creates" 0 "1" confine incr app.json hits
check "a plugin updates through the host" 0 "" confine run "$plugin" incr app.json plugged 5
check "the plugin's change is there" 0 "5" confine get app.json plugged
check "the lock is free after" 0 "app.json: free" confine lock-status app.json
check "a Windows device name is refused" 2 \
  'confine: "con.json": `con` is a device name on Windows, whatever the extension' confine set con.json a 1
# Each racer records the exit status of each of its incr processes. Under load Wine has
# been seen to SIGKILL its client processes from outside (bash then reports "Killed" and
# status 137): such an incr acknowledged nothing, and may or may not have committed. So the
# promise checked is the real one: every acknowledged update is there (acknowledged <=
# final <= attempted), and no incr failed with an error of its own.
for writer in 1 2 3 4; do
  (for _ in $(seq 10); do
    status=0
    confine incr app.json racers >/dev/null || status=$?
    echo "$status" >>"$dir/racer.$writer"
  done) &
done
wait
statuses=$(cat "$dir"/racer.*)
acknowledged=$(grep -cx 0 <<<"$statuses" || true)
errors=$(awk '$1 != 0 && $1 < 128' <<<"$statuses" | sort | uniq -c | tr -s ' \n' ' ')
killed=$(awk '$1 >= 128' <<<"$statuses" | wc -l)
final=$(confine get app.json racers 2>&1 | tr -d '\r')
if [[ -z $errors && $final =~ ^[0-9]+$ && $acknowledged -le $final && $final -le 40 ]]; then
  passed=$((passed + 1))
  ((killed == 0)) || echo "note: $killed of 40 incr processes were killed from outside (acknowledged $acknowledged, final $final)"
else
  failed=$((failed + 1))
  echo "FAILED: 4 processes x 10 incr: acknowledged $acknowledged, final $final, killed $killed, errors [$errors]"
fi
check "the file is whole JSON" 0 "8080" confine get app.json server.port
check "several keys, one update" 0 "" confine set app.json a 1 b 2
# apply's FILE is found from the current directory, as the user gave it.
cd "$dir"
printf '{"op":"incr","key":"a"}\n{"op":"incr","key":"b","by":5}\n' > changes.jsonl
check "apply: each incr's new value" 0 $'2\n7' confine apply app.json changes.jsonl
printf '{"op":"incr","key":"a"}\n{"op":"unset","key":"gone"}\n' > refused.jsonl
check "apply is refused as a whole" 3 \
  'confine: app.json: key `gone` not found (refused.jsonl line 2; none of the changes was made)' \
  confine apply app.json refused.jsonl
check "nothing of the refused update was made" 0 "2" confine get app.json a

echo "windows cli tour (under Wine): $passed passed, $failed failed"
[[ $failed == 0 ]]
