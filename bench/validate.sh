#!/usr/bin/env bash
# bench/validate.sh: `drbook validate` of an N-step runbook as a whole
# process, this tree's binary against a baseline's (another git ref), so
# that a loader change is measured beside its predecessor in the same run.
#
# The runbook is shaped like runbooks/load_bench_test.go's bigRunbook
# (steps reading earlier steps' results in when: and in interpolations, a
# for_each now and then, registered results, site.guests.* references) and
# validated against runbooks/testdata/sites/lab.site.yaml, so every
# reference is checked against a site.
#
# The variants run REPS times in alternating order (the first variant of
# each round rotates). Each sample prints wall time, CPU time (user+sys)
# and peak RSS; then min/median/max per variant and the ratios of the
# medians. On a loaded machine wall time waits for a core: compare CPU.
# With CALLGRIND=1 each binary also runs once under valgrind's callgrind
# (GODEBUG=asyncpreemptoff=1, which callgrind needs) and its instruction
# count is printed: that figure does not move with the machine's load.
#
# Usage: bench/validate.sh [REPS]     REPS defaults to 5
# Environment: N (steps, 10000), BASE (git ref of the baseline, main;
# empty skips it), CALLGRIND (1 to count instructions), KEEP=1 keeps the
# work directory.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${1:-5}
N=${N:-10000}
BASE=${BASE-main}
work=$(mktemp -d)
trap '[ "${KEEP:-}" = 1 ] && echo "kept $work" || rm -rf "$work"' EXIT

command -v /usr/bin/time >/dev/null || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 1; }

variants=(new)
go build -o "$work/new" ./cmd/drbook
if [ -n "$BASE" ]; then
	mkdir "$work/base-src"
	git archive "$BASE" | tar -x -C "$work/base-src"
	(cd "$work/base-src" && go build -o "$work/base" ./cmd/drbook)
	variants=(base new)
	echo "base: $BASE $(git rev-parse --short "$BASE")"
fi
echo "new:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' + uncommitted changes')"

rb=$work/big.yaml
{
	printf 'name: big\nparams:\n  host: {type: host, default: esx-68}\n  guests: [ap01, ap02]\nsteps:\n'
	for ((i = 0; i < N; i++)); do
		if ((i == 0)); then
			printf '  - id: s%d\n    vcenter.host.shutdown: {host: "${{ params.host }}"}\n' $i
		elif ((i % 10 == 0)); then
			printf '  - id: s%d\n    for_each: ${{ params.guests }}\n    ssh.exec: {guest: "${{ item }}", command: "echo ${{ steps.s%d.status }}"}\n' $i $((i - 1))
		elif ((i % 7 == 0)); then
			printf '  - id: s%d\n    register: r%d\n    check.http: {url: "http://${{ site.guests.ap01.address }}/", status: 200}\n' $i $i
		else
			printf '  - id: s%d\n    when: steps.s%d.status == "ok"\n    log: "step %d after ${{ steps.s%d.status }}"\n' $i $((i - 1)) $i $((i - 1))
		fi
	done
} >"$rb"
site=runbooks/testdata/sites/lab.site.yaml
echo "runbook: $N steps, $(wc -c <"$rb") bytes; site: $site; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

for v in "${variants[@]}"; do
	"$work/$v" validate --site "$site" "$rb" >/dev/null # warm the page cache; must pass
done

declare -A wall cpu
for ((r = 0; r < REPS; r++)); do
	order=("${variants[@]}")
	if ((${#order[@]} == 2 && r % 2 == 1)); then order=("${order[1]}" "${order[0]}"); fi
	for v in "${order[@]}"; do
		out=$(/usr/bin/time -f '%e %U %S %M' "$work/$v" validate --site "$site" "$rb" 2>&1 >/dev/null | tail -1)
		read -r w u s m <<<"$out"
		c=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')
		printf '%-4s round %d: wall %5.2f s  cpu %5.2f s (user %.2f sys %.2f)  rss %d MB\n' "$v" $r "$w" "$c" "$u" "$s" $((m / 1024))
		wall[$v]+="$w "
		cpu[$v]+="$c "
	done
done

stats() { # min median max of the numbers given
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f %.2f %.2f", a[1], m, a[NR]}'
}
declare -A med
echo
for v in "${variants[@]}"; do
	read -r wmin wmed wmax <<<"$(stats ${wall[$v]})"
	read -r cmin cmed cmax <<<"$(stats ${cpu[$v]})"
	printf '%-4s wall min/median/max %s/%s/%s s   cpu %s/%s/%s s\n' "$v" "$wmin" "$wmed" "$wmax" "$cmin" "$cmed" "$cmax"
	med[$v-wall]=$wmed
	med[$v-cpu]=$cmed
done
if [ -n "$BASE" ]; then
	awk -v nw="${med[new-wall]}" -v bw="${med[base-wall]}" -v nc="${med[new-cpu]}" -v bc="${med[base-cpu]}" \
		'BEGIN {printf "new/base (medians): wall %.2fx  cpu %.2fx\n", nw / bw, nc / bc}'
fi

if [ "${CALLGRIND:-}" = 1 ]; then
	echo
	declare -A ir
	for v in "${variants[@]}"; do
		ir[$v]=$(GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/$v" validate --site "$site" "$rb" 2>&1 >/dev/null |
			sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
		printf '%-4s instructions (callgrind Ir): %s\n' "$v" "${ir[$v]}"
	done
	if [ -n "$BASE" ]; then
		awk -v n="${ir[new]}" -v b="${ir[base]}" 'BEGIN {printf "new/base instructions: %.2fx\n", n / b}'
	fi
fi
