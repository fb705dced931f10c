# newsclfd against real Apache Kafka (scripts/kafka: KRaft on loopback).
# One cluster per test file, started and stopped by the file itself:
#   crash       exactly-once and at-least-once under repeated SIGKILL, streaming
#               and from a backlog, invalid inputs mixed in; duplicates bounded
#   e2e         the daemon suite's end-to-end test, both delivery modes
#   scaleout    three instances in one group; SIGTERM and SIGKILL mid-stream
#   brokerfail  3 brokers (RF 3, min.insync 2): the leader killed mid-stream
#   security    SASL/PLAIN over TLS, password from ${VAR}; wrong password, no CA
#   shutdown    SIGTERM at random moments of start-up and rebalance, both modes
#   slowbroker  a 5 MB/s client quota and 860 KiB articles: RSS under the
#               README ceiling, SIGTERM mid-stream exits 0, all delivered
#   eos_poison  outputs the broker refuses for good (too large for the topic):
#               dead-lettered after a few aborts, never an endless rewind;
#               a topic limit below batch.size is warned about at start
# They need java 17+, kcat and a model (models/default or
# $NEWSCLF_TEST_MODEL); without them they are skipped (77).
# NEWSCLF_TEST_FULL=1 runs the longer variants (more kills, more articles).
# Serial: each starts JVMs and daemons that would compete for 2 cores.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  set(NC_KAFKA_DAEMON_TESTS crash e2e scaleout brokerfail security eos_poison shutdown
      slowbroker)
  foreach(t ${NC_KAFKA_DAEMON_TESTS})
    add_test(NAME kafka_daemon_${t}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/kafka/test_${t}.py
              --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
    set_tests_properties(kafka_daemon_${t} PROPERTIES
      SKIP_RETURN_CODE 77 TIMEOUT 900 RUN_SERIAL TRUE LABELS kafka
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()
endif()
