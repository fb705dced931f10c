# The source tree's shape (daemon/README.md): include edges between the parts,
# folder READMEs naming every file, docs/architecture.md naming every part,
# file and function sizes.
#   layout            tests/layout/check_layout.py on this tree
#   layout_selftest   the check fails, naming each mistake, on a broken tree
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME layout COMMAND ${Python3_EXECUTABLE}
  ${CMAKE_CURRENT_SOURCE_DIR}/layout/check_layout.py ${CMAKE_SOURCE_DIR})
add_test(NAME layout_selftest COMMAND ${Python3_EXECUTABLE}
  ${CMAKE_CURRENT_SOURCE_DIR}/layout/test_check_layout.py)
set_tests_properties(layout layout_selftest PROPERTIES LABELS "layout;unit" TIMEOUT 60)
