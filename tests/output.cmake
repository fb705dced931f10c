# kafka/output.c, the output path newsclfd and `newsclf reclassify` share
# (tests/output/):
#
#   output_routing  the routing decision (cmocka): aggregate, label topics,
#                   routes with min_probability (a route to a label's own topic
#                   keeps the label's threshold), dead-letter topic, reclassify's
#                   options, passthrough; needs models/default
#   output_e2e      against the mock cluster: the records' key, timestamp and
#                   headers, the dead letter; then newsclfd and `newsclf
#                   reclassify` as processes on the same input, with a route to
#                   a label's own topic below its threshold: both label topics
#                   carry exactly the articles with the label
set(NC_OUTPUT_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/output)

add_executable(test_output_routing ${NC_OUTPUT_TESTS}/test_routing.c)
target_include_directories(test_output_routing PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
target_link_libraries(test_output_routing PRIVATE newsclf_kafka PkgConfig::CMOCKA)
target_compile_definitions(test_output_routing PRIVATE
  NC_TEST_MODEL="${CMAKE_SOURCE_DIR}/models/default")
add_test(NAME output_routing COMMAND test_output_routing)
set_tests_properties(output_routing PROPERTIES LABELS "kafka;unit" TIMEOUT 60)

add_executable(test_output_e2e ${NC_OUTPUT_TESTS}/test_output_e2e.c)
target_include_directories(test_output_e2e PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
target_link_libraries(test_output_e2e PRIVATE newsclf_kafka PkgConfig::CMOCKA)
add_test(NAME output_e2e
  COMMAND test_output_e2e $<TARGET_FILE:newsclfd> $<TARGET_FILE:newsclf>
          ${CMAKE_SOURCE_DIR}/models/default ${CMAKE_SOURCE_DIR}/models/corpus/dev.jsonl)
set_tests_properties(output_e2e PROPERTIES LABELS "kafka;daemon;ops" TIMEOUT 300
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
