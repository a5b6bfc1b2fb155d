#!/bin/sh
# Adds a file and its Kafka topic to the tail-to-kafka agent whose configuration lives in etcd or ZooKeeper; every
# agent watching the key or znode applies the change within a second, without a restart.
#
#   add-file.sh etcd      GROUP FILE TOPIC   # edits the key live: etcdctl get, then put
#   add-file.sh zookeeper GROUP FILE TOPIC   # edits ./logs.properties (keep it in version control), then sets the znode
#
#   add-file.sh etcd payments /var/log/payments/payments.log payments
#
# Environment: AGENT (logs), PREFIX (/flume: the key or znode is $PREFIX/$AGENT), ETCDCTL_ENDPOINTS (etcdctl's own,
# e.g. http://etcd1:2379), ZK (zk1:2181), CONF (./$AGENT.properties, the ZooKeeper master copy),
# ZKCLI (zkCli.sh; Debian: /usr/share/zookeeper/bin/zkCli.sh).
# FILE is a literal path here; a group can also match a regex on the file name (docs/sources.md).
set -eu
[ $# -eq 4 ] || { sed -n '2,14p' "$0" >&2; exit 64; }
store=$1 group=$2 file=$3 topic=$4
AGENT=${AGENT:-logs} PREFIX=${PREFIX:-/flume}
key=$PREFIX/$AGENT src=$AGENT.sources.tail
case $group in *[!A-Za-z0-9_-]*|'') echo "add-file.sh: GROUP must be a plain name" >&2; exit 64 ;; esac
# the file name becomes a regex (the last path component, Java syntax): escape its dots
regex="$(dirname "$file")/$(basename "$file" | sed 's/\./\\\\./g')"

# prints the configuration on stdin with the group added to filegroups and its two lines appended
add() {
  awk -v k="$src.filegroups" -v g="$group" '
    { line = $0; split(line, kv, /[ \t]*=[ \t]*/) }
    kv[1] == k { found = 1; if ((" " kv[2] " ") ~ (" " g " ")) { print "group " g " already exists" > "/dev/stderr"; exit 3 }
                 line = line " " g }
    { print line }
    END { if (!found) { print "no " k " line" > "/dev/stderr"; exit 3 } }'
  printf '%s.filegroups.%s = %s\n%s.headers.%s.topic = %s\n' "$src" "$group" "$regex" "$src" "$group" "$topic"
}

case $store in
  etcd)
    tmp=$(mktemp)
    trap 'rm -f "$tmp" "$tmp.new"' EXIT
    ETCDCTL_API=3 etcdctl get --print-value-only "$key" > "$tmp"
    [ -s "$tmp" ] || { echo "add-file.sh: $key is empty or missing in etcd" >&2; exit 1; }
    add < "$tmp" > "$tmp.new"
    ETCDCTL_API=3 etcdctl put "$key" < "$tmp.new" > /dev/null
    ;;
  zookeeper)
    conf=${CONF:-./$AGENT.properties}
    add < "$conf" > "$conf.new"
    mv "$conf.new" "$conf"
    "${ZKCLI:-zkCli.sh}" -server "${ZK:-zk1:2181}" set "$key" "$(cat "$conf")" > /dev/null
    ;;
  *) echo "add-file.sh: store is etcd or zookeeper" >&2; exit 64 ;;
esac
echo "added $file -> topic $topic to $key; watch the agent log for 'Configuration reloaded'" >&2
