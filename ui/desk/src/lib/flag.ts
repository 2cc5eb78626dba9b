// Why a flagged submission is flagged, as the banner and the record chip say it.
import type { FlagView } from "./bindings/FlagView";

export type Bilingual = { zh: string; en: string };

/** A flag without reasons (the core always sends them with a flag; this keeps the banner honest if not). */
export const UNKNOWN_FLAG: FlagView = { measures: [], face_mismatch: false, face_unchecked: false, reasons_known: false };

export const FLAG_TITLE: Bilingual = {
  zh: "已标记 · 学生多次未通过后仍提交",
  en: "Flagged: submitted anyway after repeated failures",
};

/**
 * One line per reason the student was allowed past, Chinese first as everywhere in the desk.
 * The face comparison comes first: an identity doubt weighs more than a photo defect.
 */
export function flagLines(flag: FlagView, faceMatchFailures: number): Bilingual[] {
  const lines: Bilingual[] = [];
  if (!flag.reasons_known) {
    lines.push({
      zh: "服务器未提供标记原因，请全面核对照片与身份。",
      en: "The server sent no reasons — check the photo and the identity throughout.",
    });
    return lines;
  }
  if (flag.face_mismatch) {
    const times = faceMatchFailures > 0;
    lines.push({
      zh: `人像比对${times ? `已连续 ${faceMatchFailures} 次` : "多次"}未通过：请重点核对本人与身份证是否一致。`,
      en: `Face vs ID card failed ${times ? `${faceMatchFailures} times` : "repeatedly"} — check identity carefully.`,
    });
  }
  if (flag.face_unchecked) {
    lines.push({
      zh: "人像比对未能进行（身份证或照片中未找到可比对的人像）：请人工核对本人与身份证是否一致。",
      en: "The face comparison could not run (no comparable face on the ID card or in the photo) — compare them yourself.",
    });
  }
  if (flag.measures.length > 0) {
    lines.push({
      zh: `照片检测多次未通过：${flag.measures.map((m) => m.label_zh).join("、")}。请对照原图人工判断。`,
      en: `Photo checks failed repeatedly: ${flag.measures.map((m) => m.label_en).join(", ")} — judge them on the original.`,
    });
  }
  return lines;
}

/** The record chip's tooltip: the reasons in one text. */
export function flagSummary(flag: FlagView | null, faceMatchFailures: number): string {
  if (!flag) return "";
  return flagLines(flag, faceMatchFailures)
    .map((l) => `${l.zh}\n${l.en}`)
    .join("\n");
}
