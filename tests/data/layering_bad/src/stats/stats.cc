#include "stats/stats.h"
#include "model/model.h"
