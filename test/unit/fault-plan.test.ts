import { describe, expect, it } from "vitest";
import { parseFaultPlan } from "../../src/core/fault-plan.js";

describe("parseFaultPlan", () => {
  it("is empty without SPEECHFLOW_FAULT_* variables: users never reach a seam by accident", () => {
    expect(parseFaultPlan({ PATH: "/usr/bin", HOME: "/home/u" })).toEqual({});
  });

  it("the fixed-cost stand-in: SPEECHFLOW_FAULT_FIXED_COST_MS, 0 included; nonsense is ignored", () => {
    expect(parseFaultPlan({ SPEECHFLOW_FAULT_FIXED_COST_MS: "200" })).toEqual({ fixedCostMs: 200 });
    expect(parseFaultPlan({ SPEECHFLOW_FAULT_FIXED_COST_MS: "0" })).toEqual({ fixedCostMs: 0 });
    expect(parseFaultPlan({ SPEECHFLOW_FAULT_FIXED_COST_MS: "" })).toEqual({});
    expect(parseFaultPlan({ SPEECHFLOW_FAULT_FIXED_COST_MS: "fast" })).toEqual({});
    expect(parseFaultPlan({ SPEECHFLOW_FAULT_FIXED_COST_MS: "-5" })).toEqual({});
  });
});
