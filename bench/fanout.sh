#!/usr/bin/env bash
# bench/fanout.sh: one command on N sshd endpoints, LIMIT at a time, whole
# process against whole process:
#
#   drbook       drbook's binary running a for_each ssh.exec runbook (its
#                journal fsync'd, its report written), built from this tree
#   openssh      a shell loop of parallel ssh(1) clients (xargs -P)
#   ansible      Debian's ansible, ad-hoc -m command (pipelining on, host key
#                checking on, known_hosts prepared, interpreter given)
#   ansible-raw  the same with -m raw (no Python module, one ssh per host)
#
# Every peer is forced to the algorithms drbook's client negotiates with
# OpenSSH 9.2 (curve25519-sha256, aes128-gcm@openssh.com, whose MAC is the
# cipher's own), so the comparison is of the clients, not of the key
# exchange. The variants run REPS times in alternating order (the first
# variant of each round rotates); each sample's wall time, client CPU
# (user+sys of the process and its children, bash's time) and sshd CPU (the
# daemon's own and its reaped sessions', /proc/PID/stat, after every session
# ended) are printed, then min/median/max and the ratios of the medians.
#
# Each sshd runs under tini -s, a subreaper, because sshd's own cutime
# misses part of some clients' sessions: for a user other than root, the
# per-connection sshd (the privilege-separation monitor) exits without
# reaping the session process when the client sends SSH_MSG_DISCONNECT,
# as ssh(1) and Ansible do and Go's x/crypto client does not. That process,
# which has reaped the shell and the command, is reparented, and its CPU
# (about 5 ms of a 24 ms connection for echo ok) would be left out of
# OpenSSH's figure only. Under tini it is reparented to tini, which reaps
# it; the sshd figure is the daemon's (own and reaped) plus what tini
# reaped, not tini's own CPU.
#
# Usage (root, Debian 12; installs openssh-server and ansible with apt-get):
#   bench/fanout.sh [REPS]          REPS defaults to 5
# Environment: N (endpoints, 50), LIMIT (concurrency, 10), NET (127.0.78),
# KEEP=1 keeps the work directory.
#
# The clients log in as a user the script creates (drbook-bench, removed at
# the end) whose home is a copy of /etc/skel: bash sources ~/.bashrc for
# every command run over SSH, so root's own (pyenv, cargo, … on a developer
# machine) would be timed instead of the clients.
#
# CI runs it on demand only: DRBOOK_BENCH=1 .ci/run
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${1:-5}
N=${N:-50}
LIMIT=${LIMIT:-10}
NET=${NET:-127.0.78}
PORT=2222
KEX=curve25519-sha256
CIPHER=aes128-gcm@openssh.com

if [ "$(id -u)" != 0 ]; then
	echo "bench/fanout.sh: needs root (it runs sshd on $NET.1-$N:$PORT and installs packages); run it as root" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v ansible >/dev/null 2>&1 || need+=(ansible)
[ -x /usr/bin/tini ] || need+=(tini)
[ -x /usr/bin/python3 ] || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -q >/dev/null
	apt-get install -y -q "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd

W=$(mktemp -d /var/tmp/drbook-fanout.XXXXXX)
TINI_PIDS=()
BENCH_USER=drbook-bench
made_user=
cleanup() {
	for p in "${TINI_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$made_user" ] && userdel "$BENCH_USER" 2>/dev/null
	if [ "${KEEP:-}" = 1 ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

if ! id "$BENCH_USER" >/dev/null 2>&1; then
	useradd --system --create-home --home-dir "$W/home" --skel /etc/skel --shell /bin/bash "$BENCH_USER"
	# "*": no password, but not locked ("!"), which sshd without PAM refuses.
	usermod -p "*" "$BENCH_USER"
	made_user=1
fi
chmod 755 "$W"

echo "== building drbook"
go build -o "$W/drbook" ./cmd/drbook

ssh-keygen -q -t ed25519 -N '' -f "$W/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$W/client_key"
cp "$W/client_key.pub" "$W/authorized_keys"
hostpub=$(cut -d' ' -f1,2 "$W/host_key.pub")

# One sshd per endpoint, as on N machines (sshd listens on at most 16
# addresses anyway).
hosts=()
for i in $(seq 1 "$N"); do
	h=$(printf 'g%02d' "$i")
	hosts+=("$h")
	echo "[$NET.$i]:$PORT $hostpub" >>"$W/known_hosts"
	cat >"$W/sshd_config.$i" <<EOF
ListenAddress $NET.$i:$PORT
HostKey $W/host_key
PidFile $W/sshd.$i.pid
AuthorizedKeysFile $W/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 100
LogLevel ERROR
EOF
	tini -s -- /usr/sbin/sshd -D -f "$W/sshd_config.$i" -E "$W/sshd.$i.log" &
	TINI_PIDS+=($!)
done
for i in $(seq 1 "$N"); do
	for k in $(seq 1 101); do
		[ "$k" = 101 ] && { echo "sshd on $NET.$i:$PORT did not start:"; cat "$W/sshd.$i.log"; exit 1; }
		(exec 3<>"/dev/tcp/$NET.$i/$PORT") 2>/dev/null && break
		sleep 0.1
	done
done

# The site, the runbook, the inventory.
{
	echo "name: fanout-bench"
	echo "guests:"
	for i in $(seq 1 "$N"); do
		printf '  g%02d: {address: %s.%d, port: %d, user: %s, key_file: %s, host_keys: ["%s"]}\n' "$i" "$NET" "$i" "$PORT" "$BENCH_USER" "$W/client_key" "$hostpub"
	done
} >"$W/site.yaml"
{
	echo "name: fanout-bench"
	echo "steps:"
	echo "  - id: fan"
	echo "    for_each: [$(IFS=,; echo "${hosts[*]}" | sed 's/,/, /g')]"
	echo "    concurrency: $LIMIT"
	echo '    ssh.exec: {host: "${{ item }}", command: echo ok}'
} >"$W/fanout.yaml"
{
	echo "[bench]"
	for i in $(seq 1 "$N"); do
		printf 'g%02d ansible_host=%s.%d ansible_port=%d\n' "$i" "$NET" "$i" "$PORT"
	done
	echo "[bench:vars]"
	echo "ansible_user=$BENCH_USER"
	echo "ansible_ssh_private_key_file=$W/client_key"
	echo "ansible_python_interpreter=/usr/bin/python3"
} >"$W/inventory"
cat >"$W/ansible.cfg" <<EOF
[defaults]
inventory = $W/inventory
host_key_checking = True
forks = $LIMIT
stdout_callback = minimal
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=no -o UserKnownHostsFile=$W/known_hosts -o StrictHostKeyChecking=yes -o KexAlgorithms=$KEX -c $CIPHER
EOF
export ANSIBLE_CONFIG=$W/ansible.cfg ANSIBLE_LOCAL_TEMP=$W/ansible-tmp ANSIBLE_HOME=$W/ansible-home

SSH_OPTS=(-i "$W/client_key" -p "$PORT" -o BatchMode=yes -o "UserKnownHostsFile=$W/known_hosts" -o StrictHostKeyChecking=yes
	-o IdentitiesOnly=yes -o "KexAlgorithms=$KEX" -c "$CIPHER")

# Each variant prints its output; the check counts the N answers.
run_drbook() {
	"$W/drbook" run "$W/fanout.yaml" --site "$W/site.yaml" --runs-dir "$W/runs" --known-hosts "$W/known_hosts" --yes --mode drill >"$W/out" 2>&1 ||
		{ echo "drbook failed:"; cat "$W/out"; return 1; }
	local j
	j=$(ls -d "$W"/runs/*/ | tail -1)/journal.jsonl
	[ "$(grep -c '"type":"step.finish".*"status":"ok"' "$j")" -eq $((N + 1)) ] || { echo "drbook: $j has not $N+1 ok steps"; return 1; }
}
run_openssh() {
	for i in $(seq 1 "$N"); do echo "$NET.$i"; done |
		xargs -P "$LIMIT" -I{} ssh "${SSH_OPTS[@]}" "$BENCH_USER@{}" 'echo ok' >"$W/out" 2>&1
	[ "$(grep -cx ok "$W/out")" -eq "$N" ] || { echo "openssh:"; cat "$W/out"; return 1; }
}
run_ansible() {
	ansible bench -m "$1" -a 'echo ok' >"$W/out" 2>&1 || { echo "ansible -m $1 failed:"; cat "$W/out"; return 1; }
	[ "$(grep -c '| CHANGED |' "$W/out")" -eq "$N" ] || { echo "ansible -m $1:"; cat "$W/out"; return 1; }
}
variant() {
	case $1 in
	drbook) run_drbook ;;
	openssh) run_openssh ;;
	ansible) run_ansible command ;;
	ansible-raw) run_ansible raw ;;
	esac
}

# sshd_cpu prints the daemons' CPU in seconds once every session process
# is gone: each sshd's own and its reaped sessions', plus the orphaned
# sessions its tini reaped (tini's children and cutime; not tini's own).
sshd_cpu() {
	local k tinis daemons
	tinis=$(IFS=,; echo "${TINI_PIDS[*]}")
	daemons=$(ps -o pid= --ppid "$tinis" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
	for k in $(seq 1 500); do
		# Below tini only sshd itself; below sshd nothing.
		[ "$(ps -o pid= --ppid "$tinis" | wc -l)" -eq "$N" ] && [ -z "$(ps -o pid= --ppid "$daemons")" ] && break
		sleep 0.02
	done
	{
		for p in "${TINI_PIDS[@]}"; do echo "tini $(cat "/proc/$p/stat")"; done
		for p in ${daemons//,/ }; do echo "sshd $(cat "/proc/$p/stat")"; done
	} | awk '{ who = $1; sub(/.*\) /, ""); t += $14 + $15; if (who == "sshd") t += $12 + $13 } END { print t / 100 }'
}

echo "== warm-up (page cache, ansible's first run)"
for v in drbook openssh ansible ansible-raw; do variant "$v" || exit 1; done

variants=(drbook openssh ansible ansible-raw)
TIMEFORMAT='%R %U %S'
: >"$W/samples"
echo "== $REPS rounds, $N endpoints, $LIMIT at a time; peers forced to -o KexAlgorithms=$KEX -c $CIPHER"
printf '%-12s %5s %9s %10s %9s\n' variant round wall_s client_cpu sshd_cpu
for r in $(seq 1 "$REPS"); do
	for k in $(seq 0 $((${#variants[@]} - 1))); do
		v=${variants[$(((k + r) % ${#variants[@]}))]}
		s0=$(sshd_cpu)
		t=$({ time variant "$v" >"$W/err" 2>&1; } 2>&1) || { cat "$W/err"; exit 1; }
		s1=$(sshd_cpu)
		read -r wall u s <<<"$t"
		cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
		sc=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')
		printf '%-12s %5d %9s %10s %9s\n' "$v" "$r" "$wall" "$cpu" "$sc"
		echo "$v $wall $cpu $sc" >>"$W/samples"
	done
done

echo "== summary (min / median / max; ratios of medians, drbook over the peer)"
stat() { # variant column
	awk -v v="$1" -v c="$2" '$1 == v { print $c }' "$W/samples" | sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%s %s %s\n", a[1], m, a[NR] }'
}
med() { stat "$1" "$2" | cut -d' ' -f2; }
printf '%-12s %-26s %-12s %-10s\n' variant "wall s (min/med/max)" "client cpu" "sshd cpu"
for v in "${variants[@]}"; do
	printf '%-12s %-26s %-12s %-10s\n' "$v" "$(stat "$v" 2 | tr ' ' /)" "$(med "$v" 3)" "$(med "$v" 4)"
done
for p in openssh ansible ansible-raw; do
	awk -v p="$p" -v w1="$(med drbook 2)" -v w2="$(med "$p" 2)" -v c1="$(med drbook 3)" -v c2="$(med "$p" 3)" -v s1="$(med drbook 4)" -v s2="$(med "$p" 4)" \
		'BEGIN { printf "drbook / %-12s time %.2fx  client cpu %.2fx  sshd cpu %.2fx\n", p, w1 / w2, c1 / c2, (s2 > 0 ? s1 / s2 : 0) }'
done
echo "versions: $("$W/drbook" version 2>/dev/null | sed -n 1p); $(ssh -V 2>&1); $(ansible --version 2>/dev/null | sed -n 1p)"
