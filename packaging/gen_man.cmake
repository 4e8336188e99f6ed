# Writes a man page from a program's own `--help` output, so the two never disagree.
#   cmake -DPROGRAM=path -DNAME=edictctl -DSECTION=1 -DVERSION=0.1.0 -DSUMMARY="..."
#         [-DSUBCOMMANDS=ON] -DOUT=edictctl.1 -P gen_man.cmake
# The page: NAME (SUMMARY), SYNOPSIS + DESCRIPTION (`PROGRAM --help` verbatim) and, with
# SUBCOMMANDS, one subsection per command listed under "commands:" (`PROGRAM CMD --help`).
# Deterministic (no date), so the copy in docs/man/ can be checked for staleness.
foreach(_v PROGRAM NAME SECTION VERSION SUMMARY OUT)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "gen_man.cmake: ${_v} is not set")
  endif()
endforeach()

function(_help out_var)
  execute_process(COMMAND ${PROGRAM} ${ARGN} --help
    OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR _out STREQUAL "")
    message(FATAL_ERROR "gen_man.cmake: '${PROGRAM} ${ARGN} --help' failed (${_rc}): ${_err}")
  endif()
  set(${out_var} "${_out}" PARENT_SCOPE)
endfunction()

# Verbatim text as roff: escape backslashes and minus signs, protect leading . and '.
function(_roff_verbatim text out_var)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  set(${out_var} ".nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

string(TOUPPER "${NAME}" _upper)
_help(_main)
_roff_verbatim("${_main}" _main_roff)
string(REPLACE "-" "\\-" _name_roff "${NAME}")
set(_page ".\\\" Generated from `${NAME} --help` by packaging/gen_man.cmake. Do not edit.\n")
string(APPEND _page ".TH ${_upper} ${SECTION} \"\" \"edict ${VERSION}\" \"edict manual\"\n")
string(APPEND _page ".SH NAME\n${_name_roff} \\- ${SUMMARY}\n")
string(APPEND _page ".SH DESCRIPTION\n${_main_roff}")

if(SUBCOMMANDS)
  # Command names: the indented first words of the lines after "commands:".
  string(REGEX MATCH "commands:\n(  [^\n]*\n)+" _block "${_main}")
  string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" _cmds "${_block}")
  string(APPEND _page ".SH COMMANDS\n")
  foreach(_c ${_cmds})
    string(STRIP "${_c}" _c)
    _help(_sub ${_c})
    _roff_verbatim("${_sub}" _sub_roff)
    string(APPEND _page ".SS ${_c}\n${_sub_roff}")
  endforeach()
endif()
string(APPEND _page ".SH SEE ALSO\n")
if(NAME STREQUAL "edictctl")
  string(APPEND _page ".BR edict\\-agent (8)\n")
else()
  string(APPEND _page ".BR edictctl (1)\n")
endif()
file(WRITE "${OUT}.tmp" "${_page}")
file(RENAME "${OUT}.tmp" "${OUT}")
