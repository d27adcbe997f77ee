# Expression interpreters (included from tests/CMakeLists.txt).
add_executable(test_jmespath ${CMAKE_CURRENT_LIST_DIR}/test_jmespath.c)
target_include_directories(test_jmespath PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_jmespath PRIVATE sluice_core)
add_test(NAME jmespath COMMAND test_jmespath)
set_tests_properties(jmespath PROPERTIES TIMEOUT 300)
sluice_valgrind_test(jmespath)

# The interpreting steps, each run through a real pipeline
# (interp_harness.h).
foreach(t interp pyval transform schema)
  add_executable(test_${t} test_${t}.c)
  target_include_directories(test_${t} PRIVATE ${CMAKE_SOURCE_DIR}/src
    ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_${t} PRIVATE sluice_core)
  add_test(NAME ${t} COMMAND test_${t})
  set_tests_properties(${t} PROPERTIES TIMEOUT 300)
  sluice_valgrind_test(${t})
endforeach()
