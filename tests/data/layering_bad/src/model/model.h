#pragma once
#include "core/core.h"
