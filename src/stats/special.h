#pragma once
// Special functions behind the p-values of the distribution tests: the regularized incomplete
// gamma function (chi-square tail) and the Kolmogorov distribution (KS tail). Pure functions;
// thread-safe.

namespace riskpipe::stats {

// P(a, x) = γ(a, x) / Γ(a), the regularized lower incomplete gamma function, for a > 0 and
// x >= 0 (series for x < a + 1, Lentz's continued fraction otherwise; relative error about
// 1e-14). Returns NaN outside the domain.
double RegularizedGammaP(double a, double x);
// Q(a, x) = 1 - P(a, x), computed directly so small tails keep their precision.
double RegularizedGammaQ(double a, double x);

// Upper tail of the chi-square distribution with `df` degrees of freedom:
// P(X >= x) = Q(df / 2, x / 2). NaN when df <= 0.
double ChiSquareSurvival(double x, double df);

// Q_KS(λ) = 2 Σ_{j>=1} (-1)^{j-1} exp(-2 j² λ²), the asymptotic probability that the scaled
// KS statistic exceeds λ. For λ < 1.18 the equivalent theta-function form
// 1 - sqrt(2π)/λ Σ_{j>=1} exp(-(2j-1)² π² / (8 λ²)) is used, which converges fast there.
double KolmogorovSurvival(double lambda);

}  // namespace riskpipe::stats
