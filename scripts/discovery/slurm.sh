#!/bin/sh
# slurm.sh [PORT] — the nodes of the current Slurm allocation
# ($SLURM_JOB_NODELIST, expanded with scontrol), each running a worker on PORT.
#   GADGETRON_REMOTE_WORKER_COMMAND="/path/to/slurm.sh 9002"
. "$(dirname "$0")/common.sh"
[ $# -le 1 ] || die "usage: slurm.sh [PORT]"
port=${1:-9002}
check_port "$port"
[ -n "${SLURM_JOB_NODELIST:-}" ] || die "SLURM_JOB_NODELIST is not set (not inside a Slurm job?)"
command -v scontrol >/dev/null 2>&1 || die "scontrol is not installed"
hosts=$(scontrol show hostnames "$SLURM_JOB_NODELIST") || die "scontrol failed"
printf '%s\n' "$hosts" | to_json "$port" || die "no nodes in '$SLURM_JOB_NODELIST'"
