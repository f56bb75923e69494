/**
 * Tail areas of the standard normal distribution, for the p-values of the rank tests behind the
 * reports' trends. No normal CDF is among the installed packages (@stdlib's ttest packages bring
 * the t distribution only, and an erfc merely as their own dependency, which we must not lean
 * on), so erfc is computed here with a published approximation whose error is small relative to
 * the result everywhere: a p-value of 1e-12 is as trustworthy as one of 0.3.
 */

/**
 * The complementary error function, by the Chebyshev fit `erfcc` of Press, Teukolsky,
 * Vetterling and Flannery, Numerical Recipes in C, 2nd ed. (1992), section 6.2, whose
 * fractional error is below 1.2e-7 for every x (1.07e-7 at worst against Python's math.erfc
 * over [-6, 26]). Seven significant digits are more than a report's p-value needs.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const tail =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? tail : 2 - tail;
}

/**
 * P(|Z| >= |z|) for a standard normal Z: the two-sided p-value of a z statistic. Capped at 1,
 * which the fit overshoots by 3e-8 at z = 0.
 */
export function twoSidedNormalP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** Φ⁻¹(0.975): the z that leaves 2.5 % in each tail, for 95 % confidence intervals. */
export const Z_95 = 1.959963984540054;
