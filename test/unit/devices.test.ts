import { describe, expect, it } from "vitest";
import { deviceEnv, gpusToDeviceSpec, parseDevices, planWorkers } from "../../src/engine/devices.js";

describe("devices", () => {
  it("plans --workers CPU processes, or one process per listed GPU", () => {
    expect(planWorkers("cpu", 3)).toHaveLength(3);
    expect(planWorkers("cuda:0,cuda:2", 8).map((s) => s.device)).toEqual([
      { kind: "cuda", index: 0 },
      { kind: "cuda", index: 2 },
    ]);
    expect(deviceEnv(parseDevices("cuda:2")[0]!)).toEqual({ CUDA_VISIBLE_DEVICES: "2" });
    expect(deviceEnv(parseDevices("cpu")[0]!)).toEqual({});
  });

  it("turns --gpus into a device list from what nvidia-smi reports", () => {
    expect(gpusToDeviceSpec("all", () => [0, 1, 2])).toBe("cuda:0,cuda:1,cuda:2");
    expect(gpusToDeviceSpec("2", () => [0, 1, 2])).toBe("cuda:0,cuda:1");
    expect(() => gpusToDeviceSpec("all", () => [])).toThrow(/no NVIDIA GPU found/);
    expect(() => gpusToDeviceSpec("4", () => [0])).toThrow(/only 1 GPU\(s\) found/);
    expect(() => gpusToDeviceSpec("many", () => [0])).toThrow(/takes "all" or a count/);
  });
});
