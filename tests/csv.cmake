# The CSV reader's tests (included from tests/CMakeLists.txt).
add_executable(test_csv
  ${CMAKE_CURRENT_LIST_DIR}/test_csv.c)
target_include_directories(test_csv PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_csv PRIVATE sluice_core)
add_test(NAME csv COMMAND test_csv)
set_tests_properties(csv PROPERTIES TIMEOUT 300)
if(VALGRIND AND NOT SLUICE_SANITIZE)
  add_test(NAME valgrind_csv
    COMMAND ${VALGRIND} --quiet --error-exitcode=99 --leak-check=full
            --errors-for-leak-kinds=definite,indirect
            --show-leak-kinds=definite,indirect
            $<TARGET_FILE:test_csv>)
  set_tests_properties(valgrind_csv PROPERTIES TIMEOUT 600)
endif()
