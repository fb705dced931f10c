# Tests of the YAML configuration part (daemon/config/).
add_executable(test_config ${CMAKE_CURRENT_SOURCE_DIR}/test_config.c)
target_link_libraries(test_config PRIVATE newsclf_config PkgConfig::CMOCKA)
target_compile_definitions(test_config PRIVATE
  NC_TEST_CONFIG_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data/config"
  NC_SHIPPED_CONFIG="${PROJECT_SOURCE_DIR}/config/newsclf.yaml")
add_test(NAME config COMMAND test_config)
set_tests_properties(config PROPERTIES LABELS "config;unit" TIMEOUT 120)
