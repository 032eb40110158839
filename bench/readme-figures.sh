#!/usr/bin/env bash
# bench/readme-figures.sh: regenerate every figure of the README's
# performance table, one benchmark after another (never two at once, so they
# do not measure each other), and print the machine's fsync latency beside
# them: every fsync'd figure scales with it.
#
# Usage: bench/readme-figures.sh            (root for the sshd rows, which
#                                             skip otherwise)
# Environment: FANOUT_REPS (bench/fanout.sh rounds, 5; 0 skips it).
#
# It prints, per row, the command and the benchmark's own output lines
# (each metric named by its unit, ratios included), then the fsync latency
# measured two ways: BenchmarkFsync (a journal append + fsync, as the engine
# does) and dd oflag=dsync (512-byte synchronous writes).
set -uo pipefail
cd "$(dirname "$0")/.."

FANOUT_REPS=${FANOUT_REPS:-5}
failed=0

row() { # title, then the command
	local title=$1
	shift
	echo
	echo "## $title"
	echo "\$ $*"
	local out
	if ! out=$("$@" 2>&1); then
		echo "$out" | tail -20
		echo "FAILED"
		failed=1
		return
	fi
	# Benchmark result lines, and the benchmarks' own b.Log lines.
	echo "$out" | grep -E '^(Benchmark|\s+[a-z_]+\.go:[0-9]+:)' | sed 's/\t\+/ /g'
}

fsync_latency() {
	echo
	echo "## fsync latency of this machine (the journal's disk: $(df -P "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $1 }'))"
	row "journal append + fsync" go test ./journal -run '^$' -bench '^BenchmarkFsync$' -benchtime 200x -count 1
	local f
	f=$(mktemp "${TMPDIR:-/tmp}/drbook-dsync.XXXXXX")
	echo "\$ dd if=/dev/zero of=$f bs=512 count=500 oflag=dsync"
	dd if=/dev/zero of="$f" bs=512 count=500 oflag=dsync 2>&1 | tail -1 |
		awk '{ for (i = 1; i <= NF; i++) if ($i == "s,") t = $(i - 1); printf "%s  (%.0f us per synchronous write)\n", $0, t / 500 * 1e6 }'
	rm -f "$f"
}

echo "# drbook README figures, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(go version); commit $(git rev-parse --short HEAD 2>/dev/null)"
fsync_latency

row "loading as the runbook grows (1,000 / 5,000 / 10,000 steps)" \
	go test ./runbooks -run '^$' -bench LoadSteps -benchtime 3x -count 1
echo
echo "## drbook validate of 10,000 steps against a site, whole process (CPU and wall per sample)"
echo "\$ BASE= bench/validate.sh 5"
BASE= bench/validate.sh 5 2>&1 | sed -n '/^runbook:/,$p' || failed=1
row "lab start-up, fresh vs cached host keys" \
	go test ./lab -run '^$' -bench LabStart -benchtime 3x -count 1
row "engine overhead per step (fsync, nosync, whole run with load and reports; interleaved)" \
	go test ./engine -run '^$' -bench EngineOverhead -benchtime 3x -count 1
row "500 trivial fan-out items, concurrency 50 vs 1 (journal group commit; interleaved)" \
	go test ./engine -run '^$' -bench FanOutJournal -benchtime 3x -count 1
row "HA restart detection lag per batch vs a 5 s polling loop" \
	go test ./steps/vcenter -run '^$' -bench DetectionLag -benchtime 10x -count 1
row "render a 10,000-step journal to HTML: rendering alone, and read-verify-build-render" \
	go test ./reports -run '^$' -bench 'RenderHTML10kSteps$' -benchmem -count 1
row "a report's history: 1-step run next to 10 runs of 2,000 steps of another runbook" \
	go test ./reports -run '^$' -bench HistoryOfSmallRun -benchtime 20x -count 1
if [ "$(id -u)" = 0 ]; then
	row "256 MiB guest-to-guest transfer vs the ssh|ssh pipe, whole job (sshd rig)" \
		go test ./steps/ssh -run '^$' -bench Transfer -benchtime 9x -count 1 -timeout 60m
	row "ssh.exec on 50 sshd, 10 at a time, vs parallel OpenSSH, in one process (sshd rig)" \
		go test ./steps/ssh -run '^$' -bench FanOut -benchtime 3x -count 1 -timeout 30m
	if [ "$FANOUT_REPS" != 0 ]; then
		echo
		echo "## fan-out whole process: drbook's binary vs OpenSSH, Ansible, Ansible -m raw"
		echo "\$ bench/fanout.sh $FANOUT_REPS"
		bench/fanout.sh "$FANOUT_REPS" 2>&1 | sed -n '/^== [0-9]* rounds/,$p' || failed=1
	fi
else
	echo
	echo "## sshd rows skipped: they need root (sshd in chroots on loopback)"
fi
fsync_latency
exit $failed
