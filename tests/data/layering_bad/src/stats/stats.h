#pragma once
#include "core/core.h"
int Stats();
