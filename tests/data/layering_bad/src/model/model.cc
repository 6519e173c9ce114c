#include "model/model.h"
#include "stats/stats.h"
#include <duckdb.h>
