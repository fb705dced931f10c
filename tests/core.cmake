# Tests of the classifier core (newsclf_core) and the `newsclf` CLI; all named
# core_* (run them with `ctest -R core`).
#
# Unit tests (cmocka) need nothing but the sources. The model tests share
# small models trained once per ctest run by the core_fixtures test
# (tests/core/make_fixtures.sh, 400 articles, no cross-validation) into
# ${CMAKE_BINARY_DIR}/core-fixtures/{compact,fullsv,tiny}.
#
#   core_tokenize core_html core_article   text in: tokens, markup, messages
#   core_svmfile core_evaluate core_platt  strict libsvm reader, metrics, calibration
#   core_combine                           the learned combiner: fit, inputs, manifest form,
#                                          nested cross-validation with a rare label
#   core_model_load                        every way a model directory can be broken; format 1
#   core_parity                            collapsed weights == libsvm on dev.jsonl
#   core_encode                            output records == a jansson-built reference
#   core_determinism                       two trainings, byte-identical models
#   core_cli                               `newsclf` exit codes and outputs (python3)
#   core_regressions                       fixed core bugs (checked-file loading, finite weights, encoding, title weight)

set(NC_CORE_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/core)
set(NC_CORE_FIXTURES ${CMAKE_BINARY_DIR}/core-fixtures)
set(NC_CORE_CORPUS ${CMAKE_SOURCE_DIR}/models/corpus)

# nc_core_test(<name> [FIXTURE] [DISABLED] [TIMEOUT s] [LABEL l]):
# tests/core/test_<name>.c -> executable test_core_<name>, ctest core_<name>.
function(nc_core_test name)
  cmake_parse_arguments(T "FIXTURE;DISABLED" "TIMEOUT;LABEL" "" ${ARGN})
  add_executable(test_core_${name} ${NC_CORE_TESTS}/test_${name}.c)
  target_include_directories(test_core_${name} PRIVATE ${NC_CORE_TESTS})
  target_link_libraries(test_core_${name} PRIVATE newsclf_train newsclf_core PkgConfig::CMOCKA)
  target_compile_definitions(test_core_${name} PRIVATE
    NC_TEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    NC_TEST_CORPUS="${NC_CORE_CORPUS}"
    NC_TEST_FIXTURES="${NC_CORE_FIXTURES}")
  add_test(NAME core_${name} COMMAND test_core_${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  set_tests_properties(core_${name} PROPERTIES LABELS "core;${T_LABEL}" TIMEOUT ${T_TIMEOUT})
  if(T_FIXTURE)
    set_tests_properties(core_${name} PROPERTIES FIXTURES_REQUIRED core_models)
  endif()
  if(T_DISABLED)
    set_tests_properties(core_${name} PROPERTIES DISABLED TRUE)
  endif()
endfunction()

nc_core_test(tokenize)
nc_core_test(html)
nc_core_test(article)
nc_core_test(svmfile)
nc_core_test(evaluate)
nc_core_test(platt)
nc_core_test(combine TIMEOUT 120)

# The shared fixture models (see make_fixtures.sh).
add_test(NAME core_fixtures
  COMMAND sh ${NC_CORE_TESTS}/make_fixtures.sh $<TARGET_FILE:newsclf> ${NC_CORE_CORPUS}
          ${NC_CORE_FIXTURES})
set_tests_properties(core_fixtures PROPERTIES FIXTURES_SETUP core_models LABELS "core;model"
  TIMEOUT 300)

nc_core_test(model_load FIXTURE LABEL model)
nc_core_test(parity FIXTURE LABEL model TIMEOUT 300)
nc_core_test(encode TIMEOUT 120)
nc_core_test(determinism LABEL model TIMEOUT 300)

# CLI round trips (exit codes, output records, eval, explain, train).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME core_cli
    COMMAND ${Python3_EXECUTABLE} ${NC_CORE_TESTS}/test_cli.py $<TARGET_FILE:newsclf>
            ${NC_CORE_CORPUS} ${NC_CORE_FIXTURES}/compact)
  set_tests_properties(core_cli PROPERTIES FIXTURES_REQUIRED core_models LABELS "core;cli"
    TIMEOUT 300)
else()
  message(WARNING "python3 not found: the core_cli test is not registered")
endif()

# Regression tests of fixed core bugs (see the comment at the top of the file).
nc_core_test(regressions FIXTURE)
