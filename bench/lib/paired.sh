# Sourced by bench/*/measure. Needs: $work (scratch folder), $server (the server's pid),
# $seconds (per wrk run), $base (server URL), $rounds (pairs per target).
#
# These machines are shared and noisy: the same binary's ratio to /healthz moves by ±10
# points between runs. So every target is measured in `rounds` pairs, /healthz right
# before the target each time, and the median of the pairs' ratios is reported with the
# range, rather than one ratio against one baseline taken minutes earlier.

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }   # utime + stime
ticks_per_second=$(getconf CLK_TCK)

# wrk_run NAME [wrk arguments...]: one run; leaves $work/NAME.txt and prints one line.
wrk_run() {
    local name=$1; shift
    local before after rps p50 p99 cpus errors
    before=$(cpu_ticks)
    wrk -t2 -c64 -d"${seconds}s" --latency "$@" >"$work/$name.txt"
    after=$(cpu_ticks)
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
    cpus=$(python3 -c "print(round(($after - $before) / $ticks_per_second, 2))")
    errors=$(grep -E 'Non-2xx|Socket errors' "$work/$name.txt" | tr '\n' ' ' || true)
    printf '%-22s %10s req/s  p50 %8s  p99 %8s  server CPU %6ss  %6s req/CPU-s %s\n' "$name" "$rps" "$p50" "$p99" "$cpus" \
        "$(python3 -c "print(round($rps * $seconds / max($cpus, 0.01)))")" "$errors"
    echo "$rps $p99" >"$work/$name.last"
}

# paired NAME [wrk arguments...]: `rounds` pairs of /healthz then NAME; appends the
# median ratio, its range and the worst p99 to $work/summary.
paired() {
    local name=$1; shift
    local i
    : >"$work/$name.pairs"
    for i in $(seq 1 "$rounds"); do
        wrk_run "healthz" "$base/healthz"
        wrk_run "$name" "$@"
        echo "$(cat "$work/healthz.last") $(cat "$work/$name.last")" >>"$work/$name.pairs"
    done
    python3 - "$name" "$work/$name.pairs" >>"$work/summary" <<'PY'
import statistics, sys
name, path = sys.argv[1], sys.argv[2]
def ms(text):
    return float(text[:-2]) if text.endswith("ms") else float(text[:-2]) / 1000 if text.endswith("us") else float(text[:-1]) * 1000
pairs = [line.split() for line in open(path) if line.strip()]
ratios = [float(t) / float(h) for h, _, t, _ in pairs]
rps = [float(t) for _, _, t, _ in pairs]
p99 = max(ms(p) for _, _, _, p in pairs)
print(f"{name:22s} median {statistics.median(ratios):6.1%} of /healthz (pairs {', '.join(f'{r:.1%}' for r in ratios)}), "
      f"median {statistics.median(rps):,.0f} req/s, worst p99 {p99:.2f} ms")
PY
}
