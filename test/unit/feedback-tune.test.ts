import { describe, expect, it } from "vitest";
import { APPROVAL_MARGIN, MIN_RATINGS, THRESHOLD_STEP, tunedThresholds } from "../../shared/feedback/tune.js";

const bounds = { standard: { min: 0.4, max: 0.5 }, deep: { min: 0.8, max: 0.9 } };
const current = { standard: 0.47, deep: 0.88 };
const ratings = (up: number, down: number) => ({ up, down });

describe("thresholds moved by feedback", () => {
  it("lower the standard threshold one step when light answers are rated clearly worse than standard ones", () => {
    const next = tunedThresholds({ "~light": ratings(12, 8), "~standard": ratings(18, 2) }, current, bounds);
    expect(next?.standard).toBeCloseTo(0.47 - THRESHOLD_STEP, 5);
    expect(next?.deep).toBe(0.88);
  });

  it("compare against the audit sample first: the same traffic, served one tier up", () => {
    // Standard's own traffic is rated worse, but light's traffic served by standard is rated better than light.
    const next = tunedThresholds({ "~light": ratings(14, 6), "~standard": ratings(10, 10), "~light>standard": ratings(19, 1) }, current, bounds);
    expect(next?.standard).toBeCloseTo(0.45, 5);
  });

  it("lower the deep threshold the same way", () => {
    expect(tunedThresholds({ "~standard": ratings(10, 10), "~deep": ratings(19, 1) }, current, bounds)).toEqual({ standard: 0.47, deep: 0.86 });
  });

  it("never go below the tenant's bound, nor move on too few ratings or a difference within the margin", () => {
    expect(tunedThresholds({ "~light": ratings(0, 30), "~standard": ratings(30, 0) }, { standard: 0.41, deep: 0.88 }, bounds)).toEqual({ standard: 0.4, deep: 0.88 });
    expect(tunedThresholds({ "~light": ratings(0, 30), "~standard": ratings(30, 0) }, { standard: 0.4, deep: 0.88 }, bounds)).toBeNull();
    expect(tunedThresholds({ "~light": ratings(0, MIN_RATINGS - 1), "~standard": ratings(30, 0) }, current, bounds)).toBeNull();
    const withinMargin = Math.round(20 * (0.9 - APPROVAL_MARGIN / 2));
    expect(tunedThresholds({ "~light": ratings(withinMargin, 20 - withinMargin), "~standard": ratings(18, 2) }, current, bounds)).toBeNull();
  });
});
