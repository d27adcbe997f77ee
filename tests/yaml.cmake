# YAML reading and configuration trees (included from tests/CMakeLists.txt).
add_executable(test_yaml ${CMAKE_CURRENT_LIST_DIR}/test_yaml.c)
target_include_directories(test_yaml PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_yaml PRIVATE sluice_core)
add_test(NAME yaml COMMAND test_yaml)
set_tests_properties(yaml PROPERTIES TIMEOUT 300)
sluice_valgrind_test(yaml)
