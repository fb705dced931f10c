# The fuzz targets' regression test (tests/fuzz/README.md): every input in
# tests/fuzz/regressions/<target>/ (once a crash) and tests/fuzz/corpus/<target>/
# (the seeds) replayed through the same harness code as the libFuzzer
# targets, built with the normal compiler (and ASan + UBSan in build/asan).
set(NC_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR}/fuzz)
get_filename_component(NC_FUZZ_SRC ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
add_executable(fuzz_regress
  ${NC_FUZZ_DIR}/regress.c
  ${NC_FUZZ_DIR}/common.c
  ${NC_FUZZ_DIR}/harness_article.c
  ${NC_FUZZ_DIR}/harness_article_diff.c
  ${NC_FUZZ_DIR}/harness_config.c
  ${NC_FUZZ_DIR}/harness_model.c
  ${NC_FUZZ_DIR}/harness_encode.c)
target_link_libraries(fuzz_regress PRIVATE newsclf_train newsclf_core newsclf_config Threads::Threads)
target_compile_definitions(fuzz_regress PRIVATE NC_FUZZ_SOURCE_DIR="${NC_FUZZ_SRC}")
add_test(NAME fuzz_regressions
  COMMAND fuzz_regress ${NC_FUZZ_DIR}/regressions ${NC_FUZZ_DIR}/corpus)
set_tests_properties(fuzz_regressions PROPERTIES LABELS "fuzz" TIMEOUT 300)
