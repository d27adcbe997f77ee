# Replay of the fuzz corpora (included from tests/CMakeLists.txt): each
# libFuzzer target is linked with fuzz/replay.c instead of libFuzzer and run
# over its checked-in corpus fuzz/corpus/NAME/ on every test run.
foreach(t csv json yaml jmespath pyfmt interp pgtype)
  add_executable(test_replay_${t}
    ${CMAKE_SOURCE_DIR}/fuzz/replay.c ${CMAKE_SOURCE_DIR}/fuzz/fuzz_${t}.c)
  target_include_directories(test_replay_${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}
    ${CMAKE_SOURCE_DIR}/src)
  target_compile_definitions(test_replay_${t} PRIVATE
    FUZZ_CORPUS_DIR="${CMAKE_SOURCE_DIR}/fuzz/corpus/${t}")
  target_link_libraries(test_replay_${t} PRIVATE sluice_core)
  add_test(NAME replay_${t} COMMAND test_replay_${t})
  set_tests_properties(replay_${t} PROPERTIES TIMEOUT 300)
  sluice_valgrind_test(replay_${t})
endforeach()
