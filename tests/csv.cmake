# The CSV reader's tests (included from tests/CMakeLists.txt).
add_executable(test_csv
  ${CMAKE_CURRENT_LIST_DIR}/test_csv.c)
target_include_directories(test_csv PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_csv PRIVATE sluice_core)
add_test(NAME csv COMMAND test_csv)
set_tests_properties(csv PROPERTIES TIMEOUT 300)
sluice_valgrind_test(csv)

# Differential test against libcsv (Debian libcsv-dev, test-only; no
# pkg-config file; skipped without it).
find_library(CSV_LIB csv)
find_path(CSV_INCLUDE_DIR csv.h)
if(NOT CSV_LIB OR NOT CSV_INCLUDE_DIR)
  sluice_skip_test(csv_diff "libcsv is not installed (package libcsv-dev)" SETUP)
  return()
endif()
add_executable(test_csv_diff ${CMAKE_CURRENT_LIST_DIR}/test_csv_diff.c)
target_include_directories(test_csv_diff PRIVATE ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_CURRENT_LIST_DIR} ${CSV_INCLUDE_DIR})
target_link_libraries(test_csv_diff PRIVATE sluice_core ${CSV_LIB})
add_test(NAME csv_diff COMMAND test_csv_diff)
set_tests_properties(csv_diff PROPERTIES TIMEOUT 300)
sluice_valgrind_test(csv_diff)
