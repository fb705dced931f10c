#!/usr/bin/env bash
# tests/kafka/smoke.sh: checks scripts/kafka, the real-Kafka tooling, end to
# end with kcat (librdkafka 2.0.2, the daemon's client library):
#   1. one broker: a 6-partition topic, 100 messages in, all 100 back through
#      a consumer group, and the group's committed offsets add up to 100;
#   2. three brokers: a replication-factor-3 topic keeps taking and serving
#      messages while one broker is SIGKILLed; it comes back into every ISR;
#      a SIGTERM stop and restart works too;
#   3. SASL_SSL (PLAIN, a test CA, client certificates required): the right
#      client gets through, a wrong password and a missing CA do not.
# Every cluster lives in a temporary folder and is stopped on exit. Prints
# the time of each step and ends with "N passed, N failed"; exits 1 on any
# failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
k=scripts/kafka
# shellcheck source=../lib/checks.sh
. tests/lib/checks.sh

on_exit() { # every cluster still running
    local d
    for d in "$tmp"/c?; do
        if [ -d "$d" ]; then "$k" stop "$d" >/dev/null 2>&1 || true; fi
    done
}

now_ms() { date +%s%3N; }
# run a step, print its time; a failed step ends the test (what follows
# would only fail for the same reason)
step() { # DESCRIPTION COMMAND...
    local what=$1 t0 d
    shift
    t0=$(now_ms)
    if "$@"; then
        d=$(($(now_ms) - t0))
        printf 'time  %3d.%d s  %s\n' $((d / 1000)) $((d % 1000 / 100)) "$what"
    else
        bad "$what"
        if [ -s "$tmp/kcat.log" ]; then
            echo "---- kcat's messages (last 20):"
            tail -n 20 "$tmp/kcat.log"
        fi
        summary tests/kafka/smoke.sh || true
        exit 1
    fi
}

start() { # DIR OPTIONS... -> sources DIR/env
    local d=$1
    shift
    # (in step's `if`, errexit is off: every failure must return itself)
    "$k" start --dir "$d" --owner $$ "$@" >/dev/null || return 1
    set -a
    # shellcheck disable=SC1091
    . "$d/env"
    set +a
}

# consume N messages of TOPIC in consumer group GROUP into FILE
consume() { # N TOPIC GROUP FILE [kcat options]
    local n=$1 topic=$2 group=$3 file=$4
    shift 4
    timeout 90 kcat -C -b "$KAFKA_BOOTSTRAP" "$@" -G "$group" -X auto.offset.reset=earliest \
        -c "$n" -q -f '%s\n' "$topic" >"$file" 2>>"$tmp/kcat.log"
}

produce() { # TOPIC FIRST LAST [kcat options]: messages FIRST..LAST, acks=all
    local topic=$1 first=$2 last=$3
    shift 3
    seq "$first" "$last" |
        timeout 90 kcat -P -b "$KAFKA_BOOTSTRAP" "$@" -X acks=all -t "$topic" 2>>"$tmp/kcat.log"
}

same_numbers() { # FILE FIRST LAST: FILE holds exactly FIRST..LAST, once each
    [ "$(sort -n "$1")" = "$(seq "$2" "$3")" ]
}

partitions_of() { # TOPIC: "partition N, leader L, replicas: ..., isrs: ..." lines
    kcat -b "$KAFKA_BOOTSTRAP_PLAIN" -L -t "$1" -m 5 2>/dev/null | grep '^    partition '
}

# every partition of TOPIC has WANT in-sync replicas
isr_full() { # TOPIC WANT
    local lines
    lines=$(partitions_of "$1") || return 1
    [ -n "$lines" ] || return 1
    ! awk -v want="$2" '{ n = split($NF, a, ","); if (n != want) bad = 1 } END { exit !bad }' <<<"$lines"
}

committed_total() { # GROUP: sum of the group's committed offsets
    "$k" tool "$KAFKA_DIR" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
        --bootstrap-server "$KAFKA_BOOTSTRAP_PLAIN" --describe --group "$1" 2>/dev/null |
        awk -v g="$1" '$1 == g && $4 ~ /^[0-9]+$/ { s += $4 } END { print s + 0 }'
}

stopped_and_removed() { # DIR PIDS...
    local d=$1 p
    shift
    [ ! -e "$d" ] || return 1
    for p in "$@"; do
        [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && return 1
    done
    return 0
}

san_has_loopback_ip() {
    openssl x509 -in "$KAFKA_DIR/tls/server.crt" -noout -ext subjectAltName |
        grep -q "IP Address:127.0.0.1"
}

# metadata over SASL_SSL as user KAFKA_SASL_USERNAME with the given -X
# options; succeeds when the broker answers. kcat's messages: $tmp/last.err
sasl_ssl_metadata() { # [kcat -X options]
    kcat -b "$KAFKA_BOOTSTRAP" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
        -X sasl.username="$KAFKA_SASL_USERNAME" "$@" -L -m 2 >/dev/null 2>"$tmp/last.err"
}
with_everything() {
    sasl_ssl_metadata -X sasl.password="$KAFKA_SASL_PASSWORD" -X ssl.ca.location="$KAFKA_SSL_CA_LOCATION" \
        -X ssl.certificate.location="$KAFKA_SSL_CERTIFICATE_LOCATION" \
        -X ssl.key.location="$KAFKA_SSL_KEY_LOCATION"
}
# a refusal counts only with its own reason, not as any failure or time-out
refused_wrong_password() {
    ! sasl_ssl_metadata -X sasl.password=wrong -X ssl.ca.location="$KAFKA_SSL_CA_LOCATION" \
        -X ssl.certificate.location="$KAFKA_SSL_CERTIFICATE_LOCATION" \
        -X ssl.key.location="$KAFKA_SSL_KEY_LOCATION" &&
        grep -q 'Authentication failed' "$tmp/last.err"
}
refused_without_ca() {
    ! sasl_ssl_metadata -X sasl.password="$KAFKA_SASL_PASSWORD" \
        -X ssl.certificate.location="$KAFKA_SSL_CERTIFICATE_LOCATION" \
        -X ssl.key.location="$KAFKA_SSL_KEY_LOCATION" &&
        grep -q 'certificate verify failed' "$tmp/last.err"
}
refused_without_client_cert() {
    ! sasl_ssl_metadata -X sasl.password="$KAFKA_SASL_PASSWORD" \
        -X ssl.ca.location="$KAFKA_SSL_CA_LOCATION" &&
        grep -Eqi 'alert.*certificate|certificate required' "$tmp/last.err"
}

pids_in_env() { # DIR: how many broker pids DIR/env lists
    (
        # shellcheck disable=SC1091
        . "$1/env"
        echo "$KAFKA_PIDS" | wc -w
    )
}


t_all=$(now_ms)
echo "== fetch"
step "scripts/kafka fetch" "$k" fetch

echo "== one broker"
c1=$tmp/c1
step "start, 1 broker" start "$c1"
check "env file: bootstrap on loopback" grep -q '^KAFKA_BOOTSTRAP=127\.0\.0\.1:[0-9]*$' "$c1/env"
step "topic smoke, 6 partitions" "$k" topic "$c1" smoke 6
check "topic smoke has 6 partitions" test "$(partitions_of smoke | wc -l)" -eq 6
step "produce 100 messages (kcat)" produce smoke 1 100
step "consume 100 in group g1 (kcat -G)" consume 100 smoke g1 "$tmp/got1"
check "all 100 messages back, once each" same_numbers "$tmp/got1" 1 100
check "committed offsets of g1 add up to 100" test "$(committed_total g1)" -eq 100
pids=$KAFKA_PIDS
step "stop" "$k" stop "$c1"
# shellcheck disable=SC2086
check "stop ends the broker and removes its folder" stopped_and_removed "$c1" $pids

echo "== three brokers"
c3=$tmp/c3
step "start, 3 brokers" start "$c3" --brokers 3
check "3 brokers in the metadata" test \
    "$(kcat -b "$KAFKA_BOOTSTRAP" -L -m 5 2>/dev/null | grep -c '^  broker ')" -eq 3
step "topic rf3, 3 partitions, replication factor 3" "$k" topic "$c3" rf3 3 3
check "every partition of rf3 has 3 in-sync replicas" isr_full rf3 3
step "produce 1..50" produce rf3 1 50
step "SIGKILL broker 2" "$k" stop-broker "$c3" 2 --kill
check "env lists 2 broker pids" test "$(pids_in_env "$c3")" -eq 2
step "produce 51..100 with broker 2 down" produce rf3 51 100
step "consume 100 in group g3 with broker 2 down" consume 100 rf3 g3 "$tmp/got3"
check "all 100 messages back with a broker down" same_numbers "$tmp/got3" 1 100
step "restart broker 2" "$k" start-broker "$c3" 2
step "broker 2 back in every ISR" wait_for 60 isr_full rf3 3
step "SIGTERM broker 3 (controlled shutdown)" "$k" stop-broker "$c3" 3
step "restart broker 3" "$k" start-broker "$c3" 3
step "produce 101..150 after the restarts" produce rf3 101 150
step "consume 150 in a new group g4" consume 150 rf3 g4 "$tmp/got4"
check "all 150 messages back after the restarts" same_numbers "$tmp/got4" 1 150
check "status: 3 brokers running" test "$("$k" status "$c3" | grep -c running)" -eq 3
step "stop" "$k" stop "$c3"

echo "== SASL_SSL: PLAIN, test CA, client certificates"
cs=$tmp/c5
step "start, 1 broker, --sasl-plain --tls --tls-client-auth required" \
    start "$cs" --sasl-plain tester:t3st-pw --tls --tls-client-auth required
check "KAFKA_SECURITY_PROTOCOL is SASL_SSL" test "$KAFKA_SECURITY_PROTOCOL" = SASL_SSL
check "server certificate names IP 127.0.0.1" san_has_loopback_ip
check "a client with password, CA and certificate gets in" with_everything
step "topic sec, 2 partitions" "$k" topic "$cs" sec 2
step "produce 1..20 over SASL_SSL" produce sec 1 20 -F "$KAFKA_KCAT_CONF"
step "consume 20 over SASL_SSL in group gs" consume 20 sec gs "$tmp/gots" -F "$KAFKA_KCAT_CONF"
check "all 20 messages back over SASL_SSL" same_numbers "$tmp/gots" 1 20
check "a wrong password is refused" refused_wrong_password
check "a client without the test CA is refused" refused_without_ca
check "a client without a certificate is refused" refused_without_client_cert
step "stop" "$k" stop "$cs"

d=$(($(now_ms) - t_all))
printf 'time  %3d.%d s  all of tests/kafka/smoke.sh\n' $((d / 1000)) $((d % 1000 / 100))
summary tests/kafka/smoke.sh
