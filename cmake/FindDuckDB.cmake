# Finds DuckDB's C library as unpacked by scripts/fetch_duckdb.sh (third_party/duckdb) or
# under DUCKDB_ROOT (cache or environment variable): <root>/include/duckdb.h and
# <root>/lib/libduckdb.so. Defines the imported target DuckDB::duckdb.

set(DUCKDB_ROOT "$ENV{DUCKDB_ROOT}" CACHE PATH "Folder holding include/duckdb.h and lib/libduckdb.so")
set(_duckdb_hints ${DUCKDB_ROOT} ${CMAKE_CURRENT_SOURCE_DIR}/third_party/duckdb)

find_path(DUCKDB_INCLUDE_DIR duckdb.h HINTS ${_duckdb_hints} PATH_SUFFIXES include NO_DEFAULT_PATH)
find_library(DUCKDB_LIBRARY NAMES duckdb HINTS ${_duckdb_hints} PATH_SUFFIXES lib NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DuckDB
  REQUIRED_VARS DUCKDB_LIBRARY DUCKDB_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "run scripts/setup.sh (or scripts/fetch_duckdb.sh), or set DUCKDB_ROOT")

if(DuckDB_FOUND AND NOT TARGET DuckDB::duckdb)
  add_library(DuckDB::duckdb SHARED IMPORTED)
  set_target_properties(DuckDB::duckdb PROPERTIES
    IMPORTED_LOCATION ${DUCKDB_LIBRARY}
    IMPORTED_SONAME libduckdb.so
    INTERFACE_INCLUDE_DIRECTORIES ${DUCKDB_INCLUDE_DIR})
endif()
