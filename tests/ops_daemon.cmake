# newsclfd operations: metrics, health endpoints and systemd notification.
#
#   ops_metrics_unit               the registry's text format, the statistics
#                                  parser, readiness (cmocka)
#   ops_daemon_metrics             /metrics during an end-to-end run: counters
#                                  add up, the text parses; /healthz, /readyz
#   ops_daemon_notify              fake NOTIFY_SOCKET + WATCHDOG_USEC: READY,
#                                  STATUS, WATCHDOG, RELOADING/READY, STOPPING
#   ops_daemon_notify_brokerdown   READY and WATCHDOG while the broker is down
#   ops_daemon_startfail           unhealable start errors: exit 1, no READY
#   ops_daemon_check_config        --check-config's offline checks (model,
#                                  brokers, TLS files), all reported at once
#   ops_daemon_zero_series         every label and dead-letter reason at 0
#                                  before any input; process metrics
#   ops_daemon_openmetrics         /metrics in OpenMetrics or Prometheus text
#                                  by Accept, both parsed by prometheus_client
#   ops_daemon_reload_labels       a reload to a model with other labels: the
#                                  new labels' series appear
#
# The daemon tests run against newsclf-mockbroker and need a model
# (models/default or $NEWSCLF_TEST_MODEL); ops_daemon_metrics also needs a
# Prometheus text parser (promtool from Debian's prometheus, else
# python3-prometheus-client). Without them they are skipped.
add_executable(test_ops_metrics ${CMAKE_CURRENT_SOURCE_DIR}/ops_daemon/test_metrics.c
  ${CMAKE_SOURCE_DIR}/daemon/service/prom.c ${CMAKE_SOURCE_DIR}/daemon/service/metrics.c)
target_include_directories(test_ops_metrics PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
target_link_libraries(test_ops_metrics PRIVATE newsclf_core PkgConfig::JANSSON PkgConfig::CMOCKA
  Threads::Threads ${M_LIB})
add_test(NAME ops_metrics_unit COMMAND test_ops_metrics)
set_tests_properties(ops_metrics_unit PROPERTIES LABELS "daemon;ops;unit" TIMEOUT 30)

find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  foreach(t metrics notify notify_brokerdown startfail zero_series check_config openmetrics
           reload_labels)
    add_test(NAME ops_daemon_${t}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/ops_daemon/ops_daemon_test.py ${t}
              --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
    set_tests_properties(ops_daemon_${t} PROPERTIES
      SKIP_RETURN_CODE 77 TIMEOUT 180 LABELS "daemon;ops"
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()
endif()

# ops_logs_journal_json, ops_logs_ratelimit: newsclfd's log lines as journald
# (JOURNAL_STREAM priority prefixes) and log pipelines (logging.format json)
# read them, and the limit on repeated librdkafka lines (ops_daemon/logs_test.py).
if(Python3_FOUND)
  foreach(t journal_json ratelimit)
    add_test(NAME ops_logs_${t}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/ops_daemon/logs_test.py ${t}
              --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
    set_tests_properties(ops_logs_${t} PROPERTIES
      SKIP_RETURN_CODE 77 TIMEOUT 120 LABELS "daemon;ops"
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()
endif()
