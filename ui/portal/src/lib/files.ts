// What the portal checks about a chosen file before uploading it, against the rules the server
// sends with the case (its upload limit and the formats it can process). The server checks
// again (content, decoding, pixel limits); this only spares a student a long upload that
// cannot succeed, and names the limits the server really enforces.

import { t, ui, type Lang } from "./i18n.svelte";
import type { UploadRules } from "./types";

export type FileProblem =
  | { key: "file_empty" }
  | { key: "file_too_large"; size: number; limit: number }
  | { key: "file_not_image" }
  | { key: "file_unsupported_format" };

/** The file name's extension, lower case, without the dot ("" when it has none). */
function extension(name: string | undefined): string {
  const m = /\.([^./\\]+)$/.exec(name ?? "");
  return m ? m[1].toLowerCase() : "";
}

export function fileProblem(file: { size: number; type: string; name?: string }, rules: UploadRules): FileProblem | null {
  if (file.size === 0) return { key: "file_empty" };
  if (file.size > rules.max_upload_bytes) return { key: "file_too_large", size: file.size, limit: rules.max_upload_bytes };
  const type = file.type.toLowerCase();
  const ext = extension(file.name);
  // Either the reported type or the extension may vouch for the file: some phones report an
  // empty or unusual type ("image/jpg"), and the server decides by content anyway.
  const accepted = rules.accepted_formats.some((f) => f.mime === type || (ext !== "" && f.extensions.includes(ext)));
  if (accepted) return null;
  if (type !== "" && !type.startsWith("image/")) return { key: "file_not_image" };
  return { key: "file_unsupported_format" };
}

/** What to tell the student about a file the server would refuse, in the current language. */
export function fileProblemText(p: FileProblem, rules: UploadRules): string {
  switch (p.key) {
    case "file_empty":
      return t("file_empty");
    case "file_too_large":
      return t("file_too_large", { size: formatSize(p.size, Math.ceil), limit: formatSize(p.limit, Math.floor) });
    case "file_not_image":
    case "file_unsupported_format":
      return t(p.key, { formats: formatNames(rules, ui.lang) });
  }
}

/** "支持 JPEG 或 PNG 格式，每张不超过 20 MB。": the rules shown with the file pickers. */
export function uploadRulesText(rules: UploadRules): string {
  return t("file_rules", { formats: formatNames(rules, ui.lang), limit: formatSize(rules.max_upload_bytes, Math.floor) });
}

/** The `accept` attribute of a file input: the accepted media types and extensions. */
export function acceptAttribute(rules: UploadRules): string {
  return rules.accepted_formats.flatMap((f) => [f.mime, ...f.extensions.map((e) => `.${e}`)]).join(",");
}

/** "JPEG 或 PNG" / "JPEG or PNG": the accepted formats as a student reads them. */
export function formatNames(rules: UploadRules, lang: Lang): string {
  const names = rules.accepted_formats.map((f) => f.name);
  if (names.length <= 1) return names.join("");
  const [sep, or] = lang === "zh" ? ["、", " 或 "] : [", ", " or "];
  return `${names.slice(0, -1).join(sep)}${or}${names[names.length - 1]}`;
}

/**
 * A size as a student reads it, in units of 1024 as the server counts: "20 MB", "1.5 MB",
 * "400 KB" (whole numbers without ".0"). `round` picks the direction: a file too large rounds
 * up and a limit down, so a refused file never reads as within the limit.
 */
export function formatSize(bytes: number, round: (x: number) => number = Math.round): string {
  if (bytes >= 1024 * 1024) return `${round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  if (bytes >= 1024) return `${round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
