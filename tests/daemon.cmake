# newsclfd end-to-end tests against the mock cluster (a separate
# newsclf-mockbroker process per test). They need a model: models/default,
# or the directory in $NEWSCLF_TEST_MODEL; without one they are skipped.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  set(NC_DAEMON_TESTS e2e badinput restart_term restart_kill reload brokerdown
      shutdown_brokergone signals checkconfig pidfile compressed
      retrylog)
  foreach(t ${NC_DAEMON_TESTS})
    add_test(NAME daemon_${t}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/daemon/daemon_test.py ${t}
              --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
    set_tests_properties(daemon_${t} PROPERTIES
      SKIP_RETURN_CODE 77 TIMEOUT 150 LABELS daemon
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()
endif()
