// Reference values from scipy 1.10 (special.gammainc/gammaincc, stats.chi2.sf,
// special.kolmogorov) and, where noted, closed forms.

#include "stats/special.h"

#include <gtest/gtest.h>

#include <cmath>

namespace riskpipe::stats {
namespace {

TEST(RegularizedGamma, MatchesClosedFormForIntegerShape) {
  // P(2, 1) = 1 - 2/e.
  EXPECT_NEAR(RegularizedGammaP(2, 1), 1 - 2 / std::exp(1.0), 1e-13);
  EXPECT_NEAR(RegularizedGammaQ(2, 1), 2 / std::exp(1.0), 1e-13);
}

TEST(RegularizedGamma, MatchesReferenceOnBothSidesOfTheSwitch) {
  EXPECT_NEAR(RegularizedGammaQ(0.5, 2), 0.04550026389635857, 1e-12);  // continued fraction
  EXPECT_NEAR(RegularizedGammaQ(10, 3), 0.9988975118698845, 1e-12);    // series
}

TEST(RegularizedGamma, OutsideDomainIsNaN) {
  EXPECT_TRUE(std::isnan(RegularizedGammaP(0, 1)));
  EXPECT_TRUE(std::isnan(RegularizedGammaQ(1, -1)));
}

TEST(ChiSquareSurvival, GivesTheTextbookCriticalValue) {
  EXPECT_NEAR(ChiSquareSurvival(3.841458820694124, 1), 0.05, 1e-10);
  EXPECT_NEAR(ChiSquareSurvival(10, 4), 0.04042768199451279, 1e-12);
  EXPECT_NEAR(ChiSquareSurvival(200, 150), 0.003973185970821635, 1e-10);
  EXPECT_EQ(ChiSquareSurvival(0, 3), 1.0);
}

TEST(KolmogorovSurvival, MatchesReferenceInBothBranches) {
  EXPECT_NEAR(KolmogorovSurvival(1.0), 0.26999967167735456, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(1.36), 0.049485876755377876, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(0.5), 0.9639452436648751, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(0.3), 0.9999906941986655, 1e-12);
  EXPECT_EQ(KolmogorovSurvival(0), 1.0);
}

}  // namespace
}  // namespace riskpipe::stats
