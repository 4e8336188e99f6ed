# Runs `edictctl conformance DIR` and checks its exit status and its last line,
# "N passed, M failed". Used by ctest (tests/conformance/CMakeLists.txt and
# tests/cli/CMakeLists.txt).
#
#   cmake -DEDICTCTL=path -DDIR=dir [-DMIN_PASSED=n] [-DEXPECT_PASSED=n]
#         [-DEXPECT_FAILED=m] [-DEXPECT_EXIT=zero|nonzero] [-DEMULATOR=wine] -P check.cmake
foreach(_v EDICTCTL DIR)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "check.cmake: ${_v} is not set")
  endif()
endforeach()
if(NOT DEFINED EXPECT_FAILED)
  set(EXPECT_FAILED 0)
endif()
if(NOT DEFINED EXPECT_EXIT)
  set(EXPECT_EXIT zero)
endif()

execute_process(COMMAND ${EMULATOR} ${EDICTCTL} conformance ${DIR}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message("${_out}")
if(_err)
  message("stderr: ${_err}")
endif()

string(STRIP "${_out}" _stripped)
string(REGEX MATCH "[^\n]*$" _last "${_stripped}")
if(NOT _last MATCHES "^([0-9]+) passed, ([0-9]+) failed$")
  message(FATAL_ERROR "last line is not 'N passed, M failed': '${_last}'")
endif()
set(_passed ${CMAKE_MATCH_1})
set(_failed ${CMAKE_MATCH_2})

if(NOT _failed EQUAL EXPECT_FAILED)
  message(FATAL_ERROR "${_failed} vectors failed, expected ${EXPECT_FAILED}")
endif()
if(DEFINED MIN_PASSED AND _passed LESS MIN_PASSED)
  message(FATAL_ERROR "only ${_passed} vectors passed, at least ${MIN_PASSED} required")
endif()
if(DEFINED EXPECT_PASSED AND NOT _passed EQUAL EXPECT_PASSED)
  message(FATAL_ERROR "${_passed} vectors passed, expected ${EXPECT_PASSED}")
endif()
if(EXPECT_EXIT STREQUAL "zero" AND NOT _rc EQUAL 0)
  message(FATAL_ERROR "edictctl conformance exited with '${_rc}', expected 0")
endif()
if(EXPECT_EXIT STREQUAL "nonzero" AND (_rc EQUAL 0 OR NOT _rc MATCHES "^[0-9]+$"))
  message(FATAL_ERROR "edictctl conformance exited with '${_rc}', expected a failure status")
endif()
