import { describe, expect, it } from "vitest";
import { flagLines, flagSummary } from "../lib/flag";

const sharpness = { id: "sharpness", label_zh: "清晰度", label_en: "Sharpness" };
const headwear = { id: "headwear", label_zh: "帽子或头饰", label_en: "Hat or headwear" };

describe("flag reasons", () => {
  it("names the face comparison first, then each failed check by its labels", () => {
    const lines = flagLines({ measures: [sharpness, headwear], face_mismatch: true, face_unchecked: false, reasons_known: true }, 4);
    expect(lines).toEqual([
      { zh: "人像比对已连续 4 次未通过：请重点核对本人与身份证是否一致。", en: "Face vs ID card failed 4 times — check identity carefully." },
      { zh: "照片检测多次未通过：清晰度、帽子或头饰。请对照原图人工判断。", en: "Photo checks failed repeatedly: Sharpness, Hat or headwear — judge them on the original." },
    ]);
  });

  it("only says what was flagged", () => {
    const checks = flagLines({ measures: [headwear], face_mismatch: false, face_unchecked: false, reasons_known: true }, 0);
    expect(checks).toHaveLength(1);
    expect(checks[0]!.zh).toContain("帽子或头饰");
    const face = flagLines({ measures: [], face_mismatch: true, face_unchecked: false, reasons_known: true }, 0);
    expect(face).toEqual([{ zh: "人像比对多次未通过：请重点核对本人与身份证是否一致。", en: "Face vs ID card failed repeatedly — check identity carefully." }]);
  });

  it("asks for a comparison by hand when the automatic one could not run", () => {
    const lines = flagLines({ measures: [], face_mismatch: false, face_unchecked: true, reasons_known: true }, 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.zh).toContain("人像比对未能进行");
    expect(lines[0]!.en).toContain("could not run");
  });

  it("does not guess reasons the server did not send", () => {
    const lines = flagLines({ measures: [], face_mismatch: false, face_unchecked: false, reasons_known: false }, 3);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.zh).toContain("未提供标记原因");
    expect(lines[0]!.zh).not.toContain("人像比对");
  });

  it("summarises for a tooltip, and nothing without a flag", () => {
    expect(flagSummary(null, 0)).toBe("");
    expect(flagSummary({ measures: [sharpness], face_mismatch: false, face_unchecked: false, reasons_known: true }, 0)).toBe(
      "照片检测多次未通过：清晰度。请对照原图人工判断。\nPhoto checks failed repeatedly: Sharpness — judge them on the original.",
    );
  });
});
