# Hardening tests (tests/hardening/): hostile input against a real broker,
# memcheck, secrets, the root warning. Label `hardening`; the ones that start
# Apache Kafka (scripts/kafka) also carry `kafka` and run serially, as does
# the valgrind run (CPU-heavy and timing-sensitive). They need a model
# (models/default or $NEWSCLF_TEST_MODEL) and skip (77) without one.
#   ctest -L hardening                 all of them
#   NEWSCLF_TEST_FULL=1 ctest -L hardening   the 100,000-message soak
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  # Any key, value and header bytes to any partition (bench/pipeline_load
  # reads lines or whole files and cannot).
  add_executable(hostile_produce ${CMAKE_CURRENT_SOURCE_DIR}/tools/hostile_produce.c)
  target_link_libraries(hostile_produce PRIVATE PkgConfig::RDKAFKA)

  set(NC_HARD ${CMAKE_CURRENT_SOURCE_DIR}/hardening)
  set(NC_HARD_ARGS --bin-dir ${CMAKE_BINARY_DIR} --source-dir ${CMAKE_SOURCE_DIR})
  set(NC_HARD_ENV "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

  add_test(NAME hardening_soak
    COMMAND ${Python3_EXECUTABLE} ${NC_HARD}/soak.py ${NC_HARD_ARGS}
            --producer $<TARGET_FILE:hostile_produce>)
  add_test(NAME hardening_poison
    COMMAND ${Python3_EXECUTABLE} ${NC_HARD}/poison.py ${NC_HARD_ARGS}
            --producer $<TARGET_FILE:hostile_produce>)
  add_test(NAME hardening_secrets_leak
    COMMAND ${Python3_EXECUTABLE} ${NC_HARD}/secret_leaks.py leak ${NC_HARD_ARGS})
  add_test(NAME hardening_secrets_wrongpw
    COMMAND ${Python3_EXECUTABLE} ${NC_HARD}/secret_leaks.py wrongpw ${NC_HARD_ARGS})
  set_tests_properties(hardening_soak hardening_poison hardening_secrets_leak
                       hardening_secrets_wrongpw PROPERTIES LABELS "hardening;kafka" RUN_SERIAL TRUE SKIP_RETURN_CODE 77
               ENVIRONMENT "${NC_HARD_ENV}")
  set_tests_properties(hardening_soak PROPERTIES TIMEOUT 900)
  set_tests_properties(hardening_poison hardening_secrets_leak hardening_secrets_wrongpw
    PROPERTIES TIMEOUT 300)

  # valgrind cannot run a sanitized build: valgrind.py then configures and
  # builds an unsanitized RelWithDebInfo one in <build>/valgrind (kept).
  add_test(NAME hardening_valgrind
    COMMAND ${Python3_EXECUTABLE} ${NC_HARD}/valgrind.py ${NC_HARD_ARGS})
  set_tests_properties(hardening_valgrind PROPERTIES
    LABELS hardening RUN_SERIAL TRUE SKIP_RETURN_CODE 77 TIMEOUT 1500)

  add_test(NAME hardening_root_warning
    COMMAND ${Python3_EXECUTABLE} ${NC_HARD}/root_warning.py ${NC_HARD_ARGS})
  set_tests_properties(hardening_root_warning PROPERTIES
    LABELS hardening SKIP_RETURN_CODE 77 TIMEOUT 180 ENVIRONMENT "${NC_HARD_ENV}")
endif()
