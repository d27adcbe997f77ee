# The project-file loader (included from tests/CMakeLists.txt); the test
# writes its projects and pipeline files into a temporary directory.
add_executable(test_project ${CMAKE_CURRENT_LIST_DIR}/test_project.c)
target_include_directories(test_project PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_project PRIVATE sluice_core)
add_test(NAME project COMMAND test_project)
set_tests_properties(project PROPERTIES TIMEOUT 300)
sluice_valgrind_test(project)
