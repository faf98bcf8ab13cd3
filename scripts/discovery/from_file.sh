#!/bin/sh
# from_file.sh FILE — print a prepared worker list, e.g. ~/.gadgetron/workers.json
# containing ["192.168.1.84:9002", "192.168.1.86:9002"], after checking it.
#   GADGETRON_REMOTE_WORKER_COMMAND="/path/to/from_file.sh /home/me/.gadgetron/workers.json"
. "$(dirname "$0")/common.sh"
[ $# -eq 1 ] || die "usage: from_file.sh FILE"
[ -r "$1" ] || die "cannot read $1"
validate_list <"$1" || die "$1 is not a worker list"
cat "$1"
