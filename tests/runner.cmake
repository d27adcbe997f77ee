# The pipeline runner's tests (included from tests/CMakeLists.txt).
add_executable(test_pipeline ${CMAKE_CURRENT_LIST_DIR}/test_pipeline.c)
target_include_directories(test_pipeline PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_pipeline PRIVATE sluice_core)
add_test(NAME pipeline COMMAND test_pipeline)
set_tests_properties(pipeline PROPERTIES TIMEOUT 300)
sluice_valgrind_test(pipeline)

# File globs of the FileExtractor.
add_executable(test_glob ${CMAKE_CURRENT_LIST_DIR}/test_glob.c)
target_include_directories(test_glob PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_glob PRIVATE sluice_core)
add_test(NAME glob COMMAND test_glob)
set_tests_properties(glob PROPERTIES TIMEOUT 120)
sluice_valgrind_test(glob)

# `sluice run` and `sluice validate` end to end (bash, python3 for JSON).
add_test(NAME cli COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh $<TARGET_FILE:sluice>)
set_tests_properties(cli PROPERTIES TIMEOUT 300)
