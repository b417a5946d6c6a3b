#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for testing the SLURM profile for real.
#   tests/slurm/cluster.sh install        install munge + slurmctld + slurmd + client (Debian, root)
#   tests/slurm/cluster.sh start DIR      configure in DIR, start munged, slurmctld, slurmd
#   tests/slurm/cluster.sh stop DIR       stop the daemons started in DIR (by PID)
# Clients use the cluster with: export SLURM_CONF=DIR/slurm.conf
# Facts this relies on (measured here): no systemd, so the daemons are started by hand;
# the node line comes from `slurmd -C` with RealMemory about 1 GiB below the detected value
# (else the node drains); localhost/127.0.0.1 avoid name resolution; without slurmdbd, sacct
# fails, so the profile's tests use `squeue` for status.
set -euo pipefail

cmd=${1:?usage: cluster.sh install|start DIR|stop DIR}

install_packages() {
    local need=()
    command -v munged >/dev/null || need+=(munge)
    command -v slurmctld >/dev/null || need+=(slurmctld)
    command -v slurmd >/dev/null || need+=(slurmd)
    command -v sbatch >/dev/null || need+=(slurm-client)
    if ((${#need[@]})); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
}

alive() {   # a PID counts as alive only if it is not a zombie
    local pid=$1
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && [ "$(awk '{print $3}' "/proc/$pid/stat")" != "Z" ]
}

start() {
    local dir; dir=$(realpath -m "$1")
    mkdir -p "$dir"/{state,spool,log}
    # munge: a key, its run directory, the daemon as user munge
    mkdir -p /run/munge /etc/munge /var/lib/munge /var/log/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge /var/lib/munge /var/log/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge
    if ! alive "$(cat /run/munge/munged.pid 2>/dev/null || true)"; then
        rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
        runuser -u munge -- /usr/sbin/munged --force
        touch "$dir/munged.started"
    fi
    local node cpus mem
    node=$(slurmd -C | awk '/^NodeName/ {for (i=1;i<=NF;i++) if ($i ~ /^NodeName=/) {sub("NodeName=","",$i); print $i}}')
    cpus=$(slurmd -C | awk '/^NodeName/ {for (i=1;i<=NF;i++) if ($i ~ /^CPUs=/) {sub("CPUs=","",$i); print $i}}')
    mem=$(slurmd -C | awk '/^NodeName/ {for (i=1;i<=NF;i++) if ($i ~ /^RealMemory=/) {sub("RealMemory=","",$i); print $i}}')
    mem=$((mem - 1024))
    cat > "$dir/slurm.conf" <<CONF
# mapmatters-test-cluster (written by tests/slurm/cluster.sh)
ClusterName=mapmatters-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=60
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    # Job steps (srun inside a job) drop SLURM_* variables, SLURM_CONF included (the Snakemake
    # jobstep plugin does this), so the config must also be where SLURM looks by default.
    # Never overwrite a real site's config.
    mkdir -p /etc/slurm
    if [ -e /etc/slurm/slurm.conf ] && ! grep -q mapmatters-test-cluster /etc/slurm/slurm.conf; then
        echo "/etc/slurm/slurm.conf exists and is not ours: refusing to replace a site configuration" >&2
        return 1
    fi
    cp "$dir/slurm.conf" /etc/slurm/slurm.conf
    export SLURM_CONF="$dir/slurm.conf"
    /usr/sbin/slurmctld -f "$SLURM_CONF"
    /usr/sbin/slurmd -f "$SLURM_CONF" -N "$node"
    for _ in $(seq 60); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            echo "SLURM up: node $node, $cpus CPUs, ${mem} MB; SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        sleep 1
    done
    echo "SLURM did not come up; logs in $dir/log" >&2
    sinfo -N -l >&2 || true
    return 1
}

stop() {
    local dir; dir=$(realpath -m "$1")
    for f in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
        local pid; pid=$(cat "$f" 2>/dev/null || true)
        if alive "$pid"; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 20); do alive "$pid" || break; sleep 0.5; done
            alive "$pid" && kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if grep -qs mapmatters-test-cluster /etc/slurm/slurm.conf; then rm -f /etc/slurm/slurm.conf; fi
    if [ -e "$dir/munged.started" ]; then       # only a munged that start() launched
        local mpid; mpid=$(cat /run/munge/munged.pid 2>/dev/null || true)
        alive "$mpid" && kill "$mpid" 2>/dev/null || true
        rm -f "$dir/munged.started"
    fi
    echo "SLURM daemons stopped"
}

case "$cmd" in
    install) install_packages ;;
    start) install_packages; start "${2:?DIR}" ;;
    stop) stop "${2:?DIR}" ;;
    *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
