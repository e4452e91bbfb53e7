#!/usr/bin/env bash
# Manual check of the SLURM path on one machine (Debian 12, root): a single-node SLURM (munge + slurmctld + slurmd,
# no accounting database) runs the synthetic demo through Snakemake's SLURM executor plugin.
#   bash workflow/profiles/slurm/selftest.sh [target]   (from the project root, after `make setup`)
# target: a file of the demo run to build (default: everything, results/demo_slurm/MANIFEST.json).
# It installs slurm-wlm and munge with apt, writes /etc/slurm/slurm.conf, starts the daemons, installs the plugin
# into .venv, runs the demo with workflow/profiles/slurm and checks that the jobs went through sbatch.
set -euo pipefail
cd "$(dirname "$0")/../../.."
target=${1:-results/demo_slurm/MANIFEST.json}
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))

command -v slurmctld >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge

# munge: one key, one daemon
if ! pgrep -x munged >/dev/null; then
  [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
fi

# slurm: controller and one compute node on this host; job states kept 10 min for squeue-based status checks
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=cityres
SlurmctldHost=${host}
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=${host} CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
for _ in $(seq 30); do sinfo -h -o %t 2>/dev/null | grep -qE "idle|mix" && break; sleep 1; done
sinfo

.venv/bin/pip install -q snakemake-executor-plugin-slurm
.venv/bin/python -m scripts.cluster check workflow/profiles/slurm
rm -rf results/demo_slurm
printf 'run: demo_slurm\n' > /tmp/cityres_demo_slurm.yaml
# --forceall: the demo's shared stages (results/shared) may already exist from a local run; every job the target
# needs still goes through sbatch.
.venv/bin/snakemake --profile workflow/profiles/slurm --configfile workflow/demo.yaml /tmp/cityres_demo_slurm.yaml \
  --slurm-no-account --slurm-status-command squeue --jobs 4 --forceall "$target"
test -s "$target"
echo "SLURM self-test passed: $target built through sbatch on $(sinfo -h -o %N)."
