# Operating newsclf: the Debian package, the systemd units, the retrain /
# deploy workflow and the Kafka subcommands of `newsclf` (tests/ops/).
#   ops_package     builds the .deb (own Release build + cpack), checks files,
#                   conffiles, Depends, maintainer scripts; leaves the
#                   unpacked root in <build>/ops-package for ops_units
#   ops_units       systemd-analyze verify + security on the unpacked root
#   ops_retrain     scripts/retrain against a scratch store and a fake daemon
#   ops_subscribe, ops_reclassify   against newsclf-mockbroker, with kcat
#   ops_retrain_daemon  scripts/retrain against the real newsclfd (mock
#                   broker) under a stream of articles: deploy, refusal,
#                   rollback, no message dropped
find_package(Python3 COMPONENTS Interpreter)
set(NC_OPS_ENV
  "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

add_test(NAME ops_package
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/package.sh ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/ops-package)
set_tests_properties(ops_package PROPERTIES TIMEOUT 900 LABELS ops FIXTURES_SETUP ops_pkg)

add_test(NAME ops_units
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/units.sh ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/ops-package)
set_tests_properties(ops_units PROPERTIES TIMEOUT 900 LABELS ops FIXTURES_REQUIRED ops_pkg)

add_test(NAME ops_retrain
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/retrain.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(ops_retrain PROPERTIES TIMEOUT 300 LABELS ops ENVIRONMENT "${NC_OPS_ENV}")

if(Python3_FOUND)
  foreach(t subscribe reclassify)
    add_test(NAME ops_${t}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/ops/kafka_cli.py ${t}
              --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
    set_tests_properties(ops_${t} PROPERTIES TIMEOUT 300 LABELS ops SKIP_RETURN_CODE 77
      ENVIRONMENT "${NC_OPS_ENV}")
  endforeach()
endif()

if(Python3_FOUND)
  add_test(NAME ops_retrain_daemon
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/ops/retrain_daemon.py
            --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
  set_tests_properties(ops_retrain_daemon PROPERTIES TIMEOUT 300 LABELS "ops;daemon"
    SKIP_RETURN_CODE 77 ENVIRONMENT "${NC_OPS_ENV}")
endif()

# ops_lintian: lintian and Debian policy on the .deb ops_package leaves (tests/ops/lintian.sh).
add_test(NAME ops_lintian COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/lintian.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/ops-package)
set_tests_properties(ops_lintian PROPERTIES TIMEOUT 900 LABELS ops FIXTURES_REQUIRED ops_pkg SKIP_RETURN_CODE 77)
