namespace Tunebook.Tuning.Quantization;

/// <summary>
/// The standard normal distribution's CDF and its inverse (the quantile function, SciPy's norm.ppf), in
/// double precision. Used to derive the NF4 code table from its definition rather than copy constants.
/// </summary>
public static class NormalDistribution
{
    /// <summary>Φ(x) = P(Z ≤ x) for Z ~ N(0, 1).</summary>
    public static double Cdf(double x) => x >= 0 ? 0.5 + 0.5 * Erf(x / Math.Sqrt(2)) : 0.5 - 0.5 * Erf(-x / Math.Sqrt(2));

    /// <summary>φ(x), the density.</summary>
    public static double Pdf(double x) => Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    /// <summary>
    /// The x with Φ(x) = p, for 0 &lt; p &lt; 1. Newton's method from 0 on Φ, which is accurate to a few
    /// ulps for the central quantiles NF4 needs (|x| ≲ 4).
    /// </summary>
    public static double InverseCdf(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "the normal quantile needs 0 < p < 1");
        if (p < 0.5) return -InverseCdf(1 - p);
        double x = 0;
        for (int k = 0; k < 100; k++)
        {
            double step = (Cdf(x) - p) / Pdf(x);
            // Newton overshoots from the flat centre for extreme p; damp the first steps.
            if (Math.Abs(step) > 1) step = Math.Sign(step);
            x -= step;
            if (Math.Abs(step) < 1e-16 * Math.Max(1, Math.Abs(x))) break;
        }
        return x;
    }

    /// <summary>
    /// erf(z) for z ≥ 0 by the series erf(z) = 2/√π · e^(−z²) · Σ 2ⁿ z^(2n+1) / (1·3·…·(2n+1)), whose
    /// terms are all positive (no cancellation); converges for every z used here (z ≤ 6).
    /// </summary>
    static double Erf(double z)
    {
        if (z > 6) return 1;
        double term = z, sum = z;
        for (int n = 1; n < 500; n++)
        {
            term *= 2 * z * z / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z) * sum;
    }
}
