# The CSV reader's tests (included from tests/CMakeLists.txt).
add_executable(test_csv
  ${CMAKE_CURRENT_LIST_DIR}/test_csv.c)
target_include_directories(test_csv PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_csv PRIVATE sluice_core)
add_test(NAME csv COMMAND test_csv)
set_tests_properties(csv PROPERTIES TIMEOUT 300)
sluice_valgrind_test(csv)
