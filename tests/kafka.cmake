# Real Apache Kafka (scripts/kafka): the tooling's own smoke test.
add_test(NAME kafka_smoke COMMAND ${CMAKE_SOURCE_DIR}/tests/kafka/smoke.sh)
set_tests_properties(kafka_smoke PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE LABELS kafka)
