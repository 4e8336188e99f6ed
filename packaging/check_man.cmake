# Fails when docs/man/<page> differs from the page generated from the built program's
# --help (run `cmake --build <dir> --target update-man` to refresh the committed copy).
#   cmake -DGENERATED=... -DCOMMITTED=... -P check_man.cmake
if(NOT EXISTS "${COMMITTED}")
  message(FATAL_ERROR "${COMMITTED} is missing: run the update-man target")
endif()
file(READ "${GENERATED}" _g)
file(READ "${COMMITTED}" _c)
if(NOT _g STREQUAL _c)
  message(FATAL_ERROR "${COMMITTED} is stale (the program's --help changed): run the update-man target")
endif()
message(STATUS "${COMMITTED} matches the program's --help")
