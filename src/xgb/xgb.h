#pragma once
// XGBoost through its C API; the only code in riskpipe that includes xgboost/c_api.h.
// This first part reports the library version; boosters and matrices join it with training.

#include <string>

namespace riskpipe::xgb {

// "1.7.4": the XGBoost library riskpipe runs with.
std::string LibraryVersion();

}  // namespace riskpipe::xgb
