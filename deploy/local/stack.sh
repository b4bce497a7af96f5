#!/usr/bin/env bash
# The local stack without Docker: PostgreSQL from Debian's packages, Kafka from Maven Central jars,
# the mailsink SMTP sink and the three services. Every subcommand is idempotent.
# See deploy/local/README.md.
#
#   stack.sh up | down | status | logs
#   stack.sh bench-deps      (what `make bench` needs: PostgreSQL, the Kafka jars, vegeta)
#   stack.sh kafka-cluster up [NODE...] | down [NODE...] | status
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$ROOT/.local"
LOGS="$STATE/logs"
RUN="$STATE/run"
# uv finds the workspace from the working directory.
cd "$ROOT"

PG_PORT="${STACK_PG_PORT:-5432}"
KAFKA_PORT="${STACK_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${STACK_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${STACK_KAFKA_HEAP:-512m}"
SMTP_PORT="${STACK_SMTP_PORT:-1025}"
MAILSINK_HTTP_PORT="${STACK_MAILSINK_HTTP_PORT:-8025}"
PROJECTS_PORT="${STACK_PROJECTS_PORT:-8001}"
INDICATORS_PORT="${STACK_INDICATORS_PORT:-8002}"
NOTIFICATIONS_PORT="${STACK_NOTIFICATIONS_PORT:-8003}"
SERVICES="${STACK_SERVICES-projects indicators notifications}"
# Cluster node N listens on BASE+2(N-1) (broker) and BASE+2(N-1)+1 (controller).
CLUSTER_BASE_PORT="${STACK_KAFKA_CLUSTER_BASE_PORT:-19092}"
CLUSTER_NODES=(1 2 3)
CLUSTER_HEAP="${STACK_KAFKA_CLUSTER_HEAP:-384m}"
READY_TIMEOUT="${STACK_READY_TIMEOUT:-120}"
# The Makefile exports UV, which is `python3 -m uv` on a machine whose shell has not seen uv yet.
read -r -a UV_CMD <<<"${UV:-uv}"
UV_RUN=("${UV_CMD[@]}" run --frozen --quiet)

DB_USER=strategy
DB_PASSWORD=strategy
ADMIN_EMAIL="${STRATEGY_ADMIN_EMAIL:-admin@strategy.example.ru}"
ADMIN_PASSWORD="${STRATEGY_ADMIN_PASSWORD:-development-admin-password}"
DATABASES=(projects indicators notifications)
KAFKA_LIBS="$STATE/kafka/libs"

say() { printf 'stack: %s\n' "$*"; }
die() {
    printf 'stack: ERROR: %s\n' "$*" >&2
    exit 1
}

# fail COMPONENT MESSAGE: report a failed component with the end of its log, then exit 1.
fail() {
    local log="$LOGS/$1.log"
    printf 'stack: ERROR: %s: %s\n' "$1" "$2" >&2
    if [[ -s $log ]]; then
        printf -- '--- last lines of %s ---\n' "$log" >&2
        tail -n 40 "$log" >&2
        printf -- '--- end of %s ---\n' "$log" >&2
    fi
    exit 1
}

as_root() {
    if [[ $(id -u) == 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) for: $*"
    fi
}

as_postgres() {
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres -- "$@"
    fi
}

APT_UPDATED=
apt_install() {
    mkdir -p "$LOGS"
    say "installing from Debian's packages: $* (log: $LOGS/apt.log)"
    if [[ -z $APT_UPDATED ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOGS/apt.log" 2>&1 9>&- ||
            fail apt "apt-get update failed"
        APT_UPDATED=1
    fi
    # Package scripts may start PostgreSQL: like every daemon, it must not inherit the lock (fd 9).
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
        >>"$LOGS/apt.log" 2>&1 9>&- || fail apt "apt-get install $* failed"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- background processes
# Each component runs in its own session and process group, recorded in $RUN/NAME.pid as
# "PID STARTTIME". The start time (from /proc) tells our process from a later one that got the
# same PID, so a stale pid file never makes us signal a stranger.

proc_starttime() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    # shellcheck disable=SC2086 # split the fields on purpose
    set -- $stat
    printf '%s\n' "${20}"
}

# running NAME: succeeds when the component's leader process is alive; prints its PID.
running() {
    local file="$RUN/$1.pid" pid started now
    [[ -s $file ]] || return 1
    read -r pid started <"$file" || return 1
    now="$(proc_starttime "$pid")" || return 1
    [[ $now == "$started" ]] || return 1
    printf '%s\n' "$pid"
}

# launch NAME COMMAND...: start COMMAND in the background, log to $LOGS/NAME.log.
launch() {
    local name=$1 file="$RUN/$1.pid" pid="" tries=0
    shift
    mkdir -p "$LOGS" "$RUN"
    rm -f "$file"
    printf '\n=== %s stack.sh starting: %s\n' "$(date -Is)" "$*" >>"$LOGS/$name.log"
    # fd 9 is the stack lock: the component must not keep holding it.
    # shellcheck disable=SC2016 # expanded by the inner shell, which records its own PID
    setsid bash -c 'echo $$ >"$0.tmp"; exec "$@"' "$file" "$@" \
        </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
    while [[ -z $pid ]]; do
        [[ -s $file.tmp ]] && read -r pid <"$file.tmp"
        ((++tries < 100)) || fail "$name" "did not start"
        [[ -n $pid ]] || sleep 0.05
    done
    printf '%s %s\n' "$pid" "$(proc_starttime "$pid" || echo gone)" >"$file"
    rm -f "$file.tmp"
}

# stop NAME [GRACE]: SIGTERM the component, SIGKILL its whole process group after GRACE seconds.
stop() {
    local name=$1 grace=${2:-30} file="$RUN/$1.pid" pid waited=0
    [[ -s $file ]] || return 0
    read -r pid _ <"$file" || true
    # A group whose leader is gone can still hold children (e.g. uvicorn under uv): the kernel
    # does not reuse a PID while a process group of that number exists, so it is still ours.
    if running "$name" >/dev/null || { ! kill -0 "$pid" 2>/dev/null && kill -0 -- "-$pid" 2>/dev/null; }; then
        say "$name: stopping (pid $pid)"
        # The leader alone: uv forwards SIGTERM to its child, which must get it only once.
        kill -TERM "$pid" 2>/dev/null || kill -TERM -- "-$pid" 2>/dev/null || true
        while kill -0 -- "-$pid" 2>/dev/null && ((waited < grace * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 -- "-$pid" 2>/dev/null; then
            say "$name: still running after ${grace}s, killing it"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

# await NAME PROBE-ARGS...: wait until probe.py answers, fail with the log if it never does.
await() {
    local name=$1 pid
    shift
    pid="$(running "$name")" || fail "$name" "exited during start-up"
    if ! "${UV_RUN[@]}" python "$HERE/probe.py" "$@" --wait "$READY_TIMEOUT" --pid "$pid" \
        2>>"$LOGS/$name.log"; then
        fail "$name" "not ready (see the probe's last line in the log below)"
    fi
}

# ensure_port_free NAME PORT: a port held by something we did not start is a clear error.
ensure_port_free() {
    if port_open "$2"; then
        die "$1: port $2 is already in use by a process this script did not start"
    fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_installed() { command -v pg_lsclusters >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }

# pg_cluster: print "VERSION NAME STATUS DATADIR" of the cluster on $PG_PORT, if any.
pg_cluster() {
    pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2, $4, $6; exit }'
}

postgres_up() {
    local cluster version name status newest
    if ! pg_installed; then
        apt_install postgresql
        # A cluster we installed is ours to stop, even if the package's scripts started it.
        mkdir -p "$RUN"
        touch "$RUN/postgres.installed"
    fi
    cluster="$(pg_cluster)"
    if [[ -z $cluster ]]; then
        newest="$(basename "$(compgen -G '/usr/lib/postgresql/*' | sort -V | tail -n 1)")"
        name=main
        pg_lsclusters -h | awk '{ print $1, $2 }' | grep -qx "$newest main" && name=stack
        say "postgres: creating cluster $newest/$name on port $PG_PORT"
        mkdir -p "$LOGS"
        as_root pg_createcluster --port "$PG_PORT" "$newest" "$name" >>"$LOGS/postgres.log" 2>&1 9>&- ||
            fail postgres "pg_createcluster failed"
        cluster="$(pg_cluster)"
    fi
    read -r version name status _ <<<"$cluster"
    if [[ $status != online* ]]; then
        say "postgres: starting cluster $version/$name"
        mkdir -p "$RUN" "$LOGS"
        as_root pg_ctlcluster "$version" "$name" start >>"$LOGS/postgres.log" 2>&1 9>&- ||
            fail postgres "pg_ctlcluster $version $name start failed; its own log: $(pg_lsclusters -h | awk -v p="$PG_PORT" '$3 == p { print $7 }')"
        printf '%s %s\n' "$version" "$name" >"$RUN/postgres.owned"
    elif [[ -f $RUN/postgres.installed && ! -f $RUN/postgres.owned ]]; then
        printf '%s %s\n' "$version" "$name" >"$RUN/postgres.owned"
    else
        say "postgres: cluster $version/$name already running"
    fi
    local waited=0
    until pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; do
        ((++waited < READY_TIMEOUT * 2)) || fail postgres "not accepting connections on 127.0.0.1:$PG_PORT"
        sleep 0.5
    done
    postgres_provision
}

# The role and the databases, created or corrected on every run (cheap and idempotent).
# TLS is off: every client is on the loopback interface, where encryption protects nothing and
# costs each round trip CPU on both ends (as the compose stack's postgres image, which has none).
postgres_provision() {
    local list
    list="$(printf "'%s'," "${DATABASES[@]}")"
    as_postgres psql -X -q -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 >>"$LOGS/postgres.log" 2>&1 <<SQL ||
SELECT format('CREATE ROLE %I', '$DB_USER')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') \gexec
ALTER ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', db, '$DB_USER')
FROM unnest(ARRAY[${list%,}]) AS db
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = db) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', db, '$DB_USER')
FROM unnest(ARRAY[${list%,}]) AS db \gexec
ALTER SYSTEM SET ssl = off;
SELECT pg_reload_conf();
SQL
        fail postgres "creating the role $DB_USER and the databases failed"
    PGPASSWORD="$DB_PASSWORD" psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "${DATABASES[0]}" \
        -c 'SELECT 1' >/dev/null 2>>"$LOGS/postgres.log" ||
        fail postgres "cannot log in as $DB_USER over TCP on 127.0.0.1:$PG_PORT"
    say "postgres: ready on 127.0.0.1:$PG_PORT (role $DB_USER, databases ${DATABASES[*]})"
}

postgres_down() {
    local version name
    if [[ -f $RUN/postgres.owned ]]; then
        read -r version name <"$RUN/postgres.owned"
        say "postgres: stopping cluster $version/$name"
        as_root pg_ctlcluster "$version" "$name" stop >>"$LOGS/postgres.log" 2>&1 ||
            say "postgres: pg_ctlcluster stop reported an error (already stopped?)"
        rm -f "$RUN/postgres.owned" "$RUN/postgres.installed"
    elif pg_installed && [[ $(pg_cluster | cut -d ' ' -f 3) == online* ]]; then
        say "postgres: left running (it was running before stack.sh up started it)"
    fi
}

postgres_status() {
    local cluster version name status datadir pid=""
    if ! pg_installed; then
        printf '%-16s %-8s\n' postgres "not installed"
        return
    fi
    cluster="$(pg_cluster)"
    if [[ -z $cluster ]]; then
        printf '%-16s %-8s %-10s %s\n' postgres stopped "" "no cluster on port $PG_PORT"
        return
    fi
    read -r version name status datadir <<<"$cluster"
    [[ -r $datadir/postmaster.pid ]] && pid="pid $(head -n 1 "$datadir/postmaster.pid")"
    [[ $status == online* ]] && status=running || status=stopped
    printf '%-16s %-8s %-10s %s\n' postgres "$status" "$pid" \
        "127.0.0.1:$PG_PORT (cluster $version/$name$([[ -f $RUN/postgres.owned ]] && echo ', started by stack.sh'))"
}

# ---------------------------------------------------------------- Kafka

java_major() { java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print v[1]; exit }'; }

ensure_kafka_libs() {
    local pom="$HERE/kafka/pom.xml" want started
    want="$(sha256sum "$pom" | cut -d ' ' -f 1)"
    [[ -f $KAFKA_LIBS/.pom.sha256 && $(cat "$KAFKA_LIBS/.pom.sha256") == "$want" ]] && return 0
    if ! command -v java >/dev/null || ! command -v mvn >/dev/null || (($(java_major) < 17)); then
        apt_install openjdk-17-jdk-headless maven
    fi
    mkdir -p "$LOGS" "$STATE/kafka"
    say "kafka: resolving the broker's jars from Maven Central (log: $LOGS/maven.log)"
    started=$SECONDS
    rm -rf "$KAFKA_LIBS.tmp"
    mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$KAFKA_LIBS.tmp" >>"$LOGS/maven.log" 2>&1 ||
        fail maven "resolving the Kafka jars failed"
    printf '%s\n' "$want" >"$KAFKA_LIBS.tmp/.pom.sha256"
    rm -rf "$KAFKA_LIBS"
    mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
    say "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
}

# kafka_tool MAIN-CLASS ARGS... and kafka_broker HEAP PROPERTIES-FILE print a java command line
# NUL-separated, for mapfile -d ''. Tools keep log4j2's default (errors only) so their output is
# just their answer.
kafka_tool() {
    printf '%s\0' java -Xmx128m -cp "$KAFKA_LIBS/*" "$@"
}

kafka_broker() {
    printf '%s\0' java -Xms64m "-Xmx$1" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        "-Dlog4j2.configurationFile=$HERE/kafka/log4j2.properties" -cp "$KAFKA_LIBS/*" \
        kafka.Kafka "$2"
}

# kafka_prepare DIR NODE BROKER CONTROLLER QUORUM-LINE REPLICATION MIN-ISR STANDALONE:
# render DIR/server.properties and format DIR/data once (the cluster id is kept in DIR).
kafka_prepare() {
    local dir=$1 node=$2 broker=$3 controller=$4 quorum=$5 replication=$6 min_isr=$7 standalone=$8
    local cluster_id_file=$9 cluster_id args=()
    mkdir -p "$dir/data" "$LOGS"
    if [[ ! -s $cluster_id_file ]]; then
        # The data of an earlier run must keep its id, even if the id file was lost.
        if [[ -s $dir/data/meta.properties ]]; then
            sed -n 's/^cluster.id=//p' "$dir/data/meta.properties" >"$cluster_id_file"
        else
            mapfile -d '' args < <(kafka_tool kafka.tools.StorageTool random-uuid)
            cluster_id="$("${args[@]}" 2>&1)" || true
            [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] ||
                { printf '%s\n' "$cluster_id" >>"$LOGS/kafka-format.log" &&
                    fail kafka-format "could not generate a cluster id"; }
            printf '%s\n' "$cluster_id" >"$cluster_id_file"
        fi
    fi
    cluster_id="$(tr -d '[:space:]' <"$cluster_id_file")"
    sed -e "s|@NODE_ID@|$node|" -e "s|@BROKER_PORT@|$broker|g" -e "s|@CONTROLLER_PORT@|$controller|g" \
        -e "s|@QUORUM@|$quorum|" -e "s|@LOG_DIR@|$dir/data|" -e "s|@REPLICATION@|$replication|g" \
        -e "s|@MIN_ISR@|$min_isr|g" "$HERE/kafka/server.properties.template" >"$dir/server.properties"
    mapfile -d '' args < <(kafka_tool kafka.tools.StorageTool format --ignore-formatted \
        --cluster-id "$cluster_id" --config "$dir/server.properties" ${standalone:+"$standalone"})
    "${args[@]}" >>"$LOGS/kafka-format.log" 2>&1 ||
        fail kafka-format "formatting $dir/data failed"
}

kafka_up() {
    local pid args=()
    if pid="$(running kafka)" && port_open "$KAFKA_PORT"; then
        say "kafka: already running (pid $pid)"
        return
    fi
    stop kafka 5
    ensure_port_free kafka "$KAFKA_PORT"
    ensure_port_free kafka "$KAFKA_CONTROLLER_PORT"
    ensure_kafka_libs
    kafka_prepare "$STATE/kafka" 1 "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" \
        "controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT" 1 1 --standalone \
        "$STATE/kafka/cluster.id"
    mapfile -d '' args < <(kafka_broker "$KAFKA_HEAP" "$STATE/kafka/server.properties")
    launch kafka "${args[@]}"
    await kafka kafka "127.0.0.1:$KAFKA_PORT" --brokers 1
    say "kafka: ready on 127.0.0.1:$KAFKA_PORT"
}

cluster_ports() { # NODE -> "BROKER CONTROLLER"
    local base=$((CLUSTER_BASE_PORT + 2 * ($1 - 1)))
    printf '%s %s\n' "$base" "$((base + 1))"
}

cluster_bootstrap() {
    local node list=()
    for node in "${CLUSTER_NODES[@]}"; do list+=("127.0.0.1:$(cluster_ports "$node" | cut -d ' ' -f 1)"); done
    (IFS=,; printf '%s\n' "${list[*]}")
}

kafka_cluster_up() {
    local nodes=("$@") node broker controller voters=() pid args=() alive=0 leader=""
    ((${#nodes[@]})) || nodes=("${CLUSTER_NODES[@]}")
    ensure_kafka_libs
    for node in "${CLUSTER_NODES[@]}"; do
        read -r broker controller < <(cluster_ports "$node")
        voters+=("$node@127.0.0.1:$controller")
    done
    for node in "${nodes[@]}"; do
        [[ " ${CLUSTER_NODES[*]} " == *" $node "* ]] || die "kafka-cluster: no node $node (nodes: ${CLUSTER_NODES[*]})"
        read -r broker controller < <(cluster_ports "$node")
        if pid="$(running "kafka-cluster-$node")"; then
            say "kafka-cluster-$node: already running (pid $pid)"
            continue
        fi
        stop "kafka-cluster-$node" 5
        ensure_port_free "kafka-cluster-$node" "$broker"
        ensure_port_free "kafka-cluster-$node" "$controller"
        # Static voters, so every node is formatted the same way, without --standalone.
        kafka_prepare "$STATE/kafka-cluster/node-$node" "$node" "$broker" "$controller" \
            "controller.quorum.voters=$(IFS=,; echo "${voters[*]}")" 3 2 "" \
            "$STATE/kafka-cluster/cluster.id"
        mapfile -d '' args < <(kafka_broker "$CLUSTER_HEAP" \
            "$STATE/kafka-cluster/node-$node/server.properties")
        launch "kafka-cluster-$node" "${args[@]}"
    done
    for node in "${CLUSTER_NODES[@]}"; do
        if running "kafka-cluster-$node" >/dev/null; then
            alive=$((alive + 1))
            leader=${leader:-kafka-cluster-$node}
        fi
    done
    ((alive)) || die "kafka-cluster: no node is running"
    # A majority of the three controllers must be up before any broker can register.
    await "$leader" kafka "$(cluster_bootstrap)" --brokers "$alive"
    say "kafka-cluster: $alive of ${#CLUSTER_NODES[@]} brokers ready at $(cluster_bootstrap)"
}

kafka_cluster_down() {
    local nodes=("$@") node
    ((${#nodes[@]})) || nodes=("${CLUSTER_NODES[@]}")
    # All nodes are signalled at once: stopped one by one, the last ones would lose their
    # controller quorum and wait for it until killed.
    for node in "${nodes[@]}"; do stop "kafka-cluster-$node" 60 & done
    wait
}

component_status() { # NAME ADDRESS
    local pid
    if pid="$(running "$1")"; then
        printf '%-16s %-8s %-10s %s\n' "$1" running "pid $pid" "$2"
    else
        printf '%-16s %-8s %-10s %s\n' "$1" stopped "" "$2"
    fi
}

kafka_cluster_status() {
    local node
    for node in "${CLUSTER_NODES[@]}"; do
        component_status "kafka-cluster-$node" \
            "127.0.0.1:$(cluster_ports "$node" | cut -d ' ' -f 1) (controller $(cluster_ports "$node" | cut -d ' ' -f 2))"
    done
}

# ---------------------------------------------------------------- SMTP sink

mailsink_up() {
    local pid
    if pid="$(running mailsink)" && port_open "$SMTP_PORT"; then
        say "mailsink: already running (pid $pid)"
        return
    fi
    stop mailsink 5
    ensure_port_free mailsink "$SMTP_PORT"
    ensure_port_free mailsink "$MAILSINK_HTTP_PORT"
    launch mailsink env PYTHONPATH="$HERE" "${UV_RUN[@]}" python -m mailsink \
        --smtp-port "$SMTP_PORT" --http-port "$MAILSINK_HTTP_PORT" --data-dir "$STATE/mailsink"
    await mailsink http "http://127.0.0.1:$MAILSINK_HTTP_PORT/readyz"
    say "mailsink: SMTP on 127.0.0.1:$SMTP_PORT, API on http://127.0.0.1:$MAILSINK_HTTP_PORT"
}

# ---------------------------------------------------------------- services

service_port() {
    case $1 in
    projects) echo "$PROJECTS_PORT" ;;
    indicators) echo "$INDICATORS_PORT" ;;
    notifications) echo "$NOTIFICATIONS_PORT" ;;
    *) die "unknown service $1" ;;
    esac
}

# Development mode: the services sign and verify access tokens with the committed development
# keypair (libs/common/src/common/dev_keys). The projects service's prestart creates the admin the
# tools sign in as (STRATEGY_ADMIN_EMAIL / STRATEGY_ADMIN_PASSWORD, development defaults).
service_env() {
    printf '%s\0' env "SERVICE_NAME=$1" \
        "DATABASE_URL=postgresql+asyncpg://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$1" \
        "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT" SMTP_HOST=127.0.0.1 "SMTP_PORT=$SMTP_PORT" \
        ENVIRONMENT=development
    if [[ $1 == projects ]]; then
        printf '%s\0' "BOOTSTRAP_ADMIN_EMAIL=$ADMIN_EMAIL" "BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD"
    fi
}

services_up() {
    local svc port pid envs=() started=()
    for svc in $SERVICES; do
        port="$(service_port "$svc")"
        if [[ ! -f $ROOT/services/$svc/src/$svc/main.py ]]; then
            say "$svc: skipped (services/$svc/src/$svc/main.py does not exist yet)"
            continue
        fi
        if pid="$(running "$svc")" && port_open "$port"; then
            say "$svc: already running (pid $pid)"
            continue
        fi
        stop "$svc" 10
        ensure_port_free "$svc" "$port"
        mapfile -d '' envs < <(service_env "$svc")
        launch "$svc" "${envs[@]}" "$HERE/stack.sh" _service "$svc" "$port"
        started+=("$svc")
    done
    # Launched together, awaited in turn: migrations and start-ups run in parallel.
    for svc in "${started[@]}"; do
        port="$(service_port "$svc")"
        await "$svc" http "http://127.0.0.1:$port/health/ready"
        say "$svc: ready on http://127.0.0.1:$port"
    done
}

# service_exec SVC PORT: the body of a service's process (see services_up): migrate, then serve.
service_exec() {
    local svc=$1 port=$2
    if [[ -f $ROOT/services/$svc/src/$svc/prestart.py ]]; then
        printf '%s stack.sh: migrating with %s.prestart\n' "$(date -Is)" "$svc"
        "${UV_RUN[@]}" python -m "$svc.prestart" || {
            printf 'stack.sh: %s.prestart (migrations) failed\n' "$svc"
            exit 1
        }
    fi
    exec "${UV_RUN[@]}" uvicorn "$svc.main:app" --host 127.0.0.1 --port "$port"
}

services_down() {
    local svc
    for svc in notifications indicators projects; do stop "$svc" 20; done
}

# ---------------------------------------------------------------- benchmarks

VEGETA_MODULE=github.com/tsenart/vegeta/v12
VEGETA_VERSION=v12.13.0
BIN="$STATE/bin"

# The benches' open-loop HTTP load generator, built from the Go module proxy into .local/bin.
ensure_vegeta() {
    [[ -x $BIN/vegeta && -f $BIN/.vegeta-version && $(cat "$BIN/.vegeta-version") == "$VEGETA_VERSION" ]] &&
        return 0
    command -v go >/dev/null || apt_install golang-go
    mkdir -p "$BIN" "$LOGS"
    say "vegeta: building $VEGETA_MODULE@$VEGETA_VERSION (log: $LOGS/go.log)"
    GOBIN="$BIN" go install "$VEGETA_MODULE@$VEGETA_VERSION" >>"$LOGS/go.log" 2>&1 ||
        fail go "go install $VEGETA_MODULE@$VEGETA_VERSION failed"
    printf '%s\n' "$VEGETA_VERSION" >"$BIN/.vegeta-version"
}

# ---------------------------------------------------------------- subcommands

lock() {
    mkdir -p "$RUN" "$LOGS"
    exec 9>"$RUN/stack.lock"
    if ! flock -n 9; then
        say "waiting for another stack.sh to finish (lock: $RUN/stack.lock)"
        flock -w 900 9 || die "another stack.sh is still busy after 15 minutes"
    fi
}

cmd_up() {
    lock
    "${UV_CMD[@]}" --version >/dev/null 2>&1 ||
        die "uv is not installed (make install sets it up): ${UV:-uv} --version failed"
    postgres_up
    kafka_up
    mailsink_up
    services_up
    say "up: done ($(basename "$0") status shows the details)"
}

# The benches start their own brokers, services and mail servers: a running stack's services
# would only compete with them for the CPUs.
cmd_bench_deps() {
    lock
    postgres_up
    ensure_kafka_libs
    ensure_vegeta
    say "bench-deps: done ($BIN/vegeta)"
}

cmd_down() {
    lock
    services_down
    stop mailsink 10
    kafka_cluster_down
    stop kafka 60
    postgres_down
    say "down: done"
}

cmd_status() {
    local svc
    postgres_status
    component_status kafka "127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
    component_status mailsink "smtp 127.0.0.1:$SMTP_PORT, api http://127.0.0.1:$MAILSINK_HTTP_PORT"
    for svc in $SERVICES; do
        if [[ -f $ROOT/services/$svc/src/$svc/main.py ]]; then
            component_status "$svc" "http://127.0.0.1:$(service_port "$svc")"
        else
            printf '%-16s %-8s %-10s %s\n' "$svc" absent "" "no code yet"
        fi
    done
    kafka_cluster_status
}

cmd_logs() {
    mkdir -p "$LOGS"
    compgen -G "$LOGS/*.log" >/dev/null || die "no logs yet in $LOGS"
    exec tail -n 20 -F "$LOGS"/*.log
}

usage() {
    sed -n '2,8s/^# \{0,1\}//p' "$0"
    exit 2
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
logs) cmd_logs ;;
bench-deps) cmd_bench_deps ;;
_service) service_exec "$2" "$3" ;;
kafka-cluster)
    case "${2:-}" in
    up) lock && kafka_cluster_up "${@:3}" ;;
    down) lock && kafka_cluster_down "${@:3}" ;;
    status) kafka_cluster_status ;;
    *) usage ;;
    esac
    ;;
*) usage ;;
esac
